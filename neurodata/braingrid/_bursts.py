"""Network-burst detectors of the BrainGrid analysis line (spec section 2).

Two detectors, both on the spike table (time steps of all spikes, sorted):

* **binned** (``getBinnedBurstInfo.m``, KS14 threshold): spikes per 10-ms bin divided by N;
  runs of bins at or above ``threshold`` (0.005 spikes/neuron/bin) form one burst.
* **avalanche** (``getAvalanches.m``, which wrote ``allBurst.csv``): rows T[k], C[k] of the
  distinct spike time steps and their spike counts; an avalanche is a run of rows closer than
  the network mean ISI; an avalanche with more than ``burst_min`` spikes (1e4 at N = 10 000)
  is a burst.

Row quirks of ``getAvalanches.m`` (spec 2.2), reproduced when ``quirks=True`` (the default, so
``StartT`` matches the labels Lundvall's windows were cut from) and fixed when False:

1. the avalanche starts one row *before* the row that triggered it (StartRow = i - 1), so its
   first row is the isolated spike step preceding the dense part;
2. after an avalanche ending at row j the scan resumes at j + 2, skipping row j + 1 as a
   trigger (partly compensated by quirk 1);
3. a row with more than one spike triggers an avalanche even when the next interval is long,
   and then the next row is included across that long interval;
4. the scan never considers the last interval as a trigger, and an avalanche never includes
   the last row;
5. MATLAB would fail (index 0) if the very first interval triggered; the start row is clamped
   to the first row here.

With ``quirks=False`` an avalanche is a maximal run of rows joined by intervals shorter than
the mean ISI, or a single row with more than one spike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from numba import njit

from .._exceptions import ParamError, SchemaViolation
from ._artifacts import bursts_dataset, concat_cultures

__all__ = [
    "DETECTORS",
    "ORIGINAL_BINNED_THRESHOLD",
    "ORIGINAL_BURST_MIN",
    "ORIGINAL_N",
    "allburst_frame",
    "avalanche_bursts",
    "binned_bursts",
    "burst_table",
    "culture_slices",
    "ensemble_burst_table",
    "inter_burst_intervals",
    "spike_time_counts",
]

#: The burst detectors (the order of the burst table).
DETECTORS = ("avalanche", "binned")
#: Network size the original absolute thresholds assume.
ORIGINAL_N = 10_000
#: Avalanche spikes above which an avalanche is a burst, at N = 10 000 (``getAvalanches.m``).
ORIGINAL_BURST_MIN = 10_000
#: Spikes per neuron per bin at or above which a bin is "bursting" (KS14, ``getBinnedBurstInfo.m``).
ORIGINAL_BINNED_THRESHOLD = 0.005

_FIELDS = (
    "start_step", "end_step", "width_steps", "n_spikes", "peak_step", "peak_count", "ibi_gap_steps", "ibi_peak_steps",
    "start_row", "end_row",
)  # fmt: skip


def spike_time_counts(time_step: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct spike time steps and their spike counts (``allSpikeTimeCount.csv``).

    Parameters
    ----------
    time_step : ndarray of shape (n_spikes,), integer, sorted ascending
        Spike time steps.

    Returns
    -------
    t : ndarray of shape (n_rows,), int64
        Distinct time steps, ascending.
    c : ndarray of shape (n_rows,), int64
        Number of spikes at each of them.
    """
    ts = np.asarray(time_step)
    if ts.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, ts[1:] != ts[:-1]])
    counts = np.diff(np.r_[starts, ts.size])
    return ts[starts].astype(np.int64), counts.astype(np.int64)


def inter_burst_intervals(
    start: np.ndarray, end: np.ndarray, peak: np.ndarray, *, first_spike: int
) -> dict[str, np.ndarray]:
    """The two inter-burst intervals of the original scripts, for bursts in time order [steps].

    Parameters
    ----------
    start, end, peak : ndarray of shape (n_bursts,), int
        First, last and peak step of each burst.
    first_spike : int
        Step of the run's first spike.

    Returns
    -------
    dict
        ``ibi_gap_steps``: the quiet gap ``start - previous end``, the first burst's from
        *first_spike* (``getAvalanches.m``: ``StartT - T[last]``, ``last`` starting at row 1);
        ``ibi_peak_steps``: ``peak - previous peak``, the first burst's from step 0
        (``getBinnedBurstInfo.m``'s Interval). Both int64, shape (n_bursts,).
    """
    start = np.asarray(start, dtype=np.int64)
    previous_end = np.r_[np.int64(first_spike), np.asarray(end, dtype=np.int64)[:-1]] if start.size else start
    return {"ibi_gap_steps": start - previous_end, "ibi_peak_steps": np.diff(np.r_[0, np.asarray(peak, dtype=np.int64)])}


@njit(cache=True)
def _record_avalanche(c, first, last, burst_min, out, nb):  # pragma: no cover - numba
    """Rows first..last form an avalanche; if it has more than *burst_min* spikes, store it
    as burst *nb* (first row, last row, spikes) and return the new burst count."""
    total = 0
    for k in range(first, last + 1):
        total += c[k]
    if total > burst_min:
        out[nb, 0] = first
        out[nb, 1] = last
        out[nb, 2] = total
        nb += 1
    return nb


@njit(cache=True)
def _avalanche_scan(t, c, mean_isi, burst_min, quirks, out):  # pragma: no cover - numba
    """Scan rows (t, c) for avalanches; write bursts as rows of ``out`` (start_row, end_row, spikes).

    Returns the number of bursts and the number of avalanches.
    """
    n_rows = t.size
    n_int = n_rows - 1  # intervals S[k] = t[k+1] - t[k], k = 0 .. n_int-1
    nb = 0
    na = 0
    if n_rows < 2:
        return nb, na
    if quirks:
        i = 0
        # MATLAB: i = 1 .. len(S)-1 (1-based), i.e. 0-based intervals 0 .. n_int-2
        while i < n_int - 1:
            if (t[i + 1] - t[i]) < mean_isi or c[i] > 1:
                j = i + 1
                while j < n_int - 1 and (t[j + 1] - t[j]) < mean_isi:
                    j += 1
                nb = _record_avalanche(c, max(i - 1, 0), j, burst_min, out, nb)
                na += 1
                i = j + 1
            i += 1
    else:
        i = 0
        while i < n_rows:
            j = i
            while j < n_int and (t[j + 1] - t[j]) < mean_isi:
                j += 1
            if j > i or c[i] > 1:
                nb = _record_avalanche(c, i, j, burst_min, out, nb)
                na += 1
            i = j + 1
    return nb, na


@njit(cache=True)
def _peaks(t, c, start_row, end_row, bin_steps, peak_step, peak_count):  # pragma: no cover - numba
    """Busiest bin of *bin_steps* (aligned to multiples of it) within each burst's rows."""
    for b in range(start_row.size):
        best = -1
        best_bin = -1
        cur_bin = -1
        cur = 0
        for k in range(start_row[b], end_row[b] + 1):
            kb = t[k] // bin_steps
            if kb != cur_bin:
                cur_bin = kb
                cur = 0
            cur += c[k]
            if cur > best:
                best = cur
                best_bin = cur_bin
        peak_step[b] = best_bin * bin_steps
        peak_count[b] = best


def avalanche_bursts(
    t: np.ndarray,
    c: np.ndarray,
    *,
    n_steps: int,
    burst_min: float = ORIGINAL_BURST_MIN,
    quirks: bool = True,
    bin_steps: int = 100,
    mean_isi: float | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """The avalanche detector that wrote ``allBurst.csv`` (spec 2.2).

    Parameters
    ----------
    t, c : ndarray of shape (n_rows,), int64
        Distinct spike time steps (ascending) and spike counts, from :func:`spike_time_counts`.
    n_steps : int
        Length of the run in steps (``len(spikesHistory) * 100``); mean ISI = n_steps / sum(c).
    burst_min : float, default 10 000
        An avalanche with more spikes than this is a burst.
    quirks : bool, default True
        Reproduce the row quirks of ``getAvalanches.m`` (module docstring); False fixes them.
    bin_steps : int, default 100
        Bin for the ``peak`` of a burst (10 ms).
    mean_isi : float, optional
        Use this inter-spike threshold [steps] instead of n_steps / spikes (the original's
        rule). Below 1 step no two steps can join an avalanche.

    Returns
    -------
    bursts : dict of ndarray of shape (n_bursts,)
        ``start_step``, ``end_step`` (StartT, EndT), ``width_steps`` (EndT - StartT + 1),
        ``n_spikes`` (TotalSpikes), ``peak_step``/``peak_count`` (busiest bin), the two
        inter-burst intervals of :func:`inter_burst_intervals` (``ibi_gap_steps`` is the
        script's IBI), ``start_row``/``end_row`` (0-based rows of the time-count table).
    info : dict
        ``mean_isi_steps`` and ``n_avalanches``.
    """
    t = np.ascontiguousarray(t, dtype=np.int64)
    c = np.ascontiguousarray(c, dtype=np.int64)
    total = int(c.sum())
    if mean_isi is None:
        mean_isi = float(n_steps) / total if total else float("inf")
    out = np.zeros((max(t.size, 1), 3), dtype=np.int64)
    nb, na = _avalanche_scan(t, c, mean_isi, float(burst_min), bool(quirks), out)
    start_row, end_row, n_spikes = (out[:nb, k].copy() for k in range(3))
    start = t[start_row]
    end = t[end_row]
    peak_step = np.zeros(nb, dtype=np.int64)
    peak_count = np.zeros(nb, dtype=np.int64)
    _peaks(t, c, start_row, end_row, int(bin_steps), peak_step, peak_count)
    bursts = {
        "start_step": start,
        "end_step": end,
        "width_steps": end - start + 1,
        "n_spikes": n_spikes,
        "peak_step": peak_step,
        "peak_count": peak_count,
        **inter_burst_intervals(start, end, peak_step, first_spike=int(t[0]) if t.size else 0),
        "start_row": start_row,
        "end_row": end_row,
    }
    return bursts, {"mean_isi_steps": mean_isi, "n_avalanches": int(na)}


def binned_bursts(
    time_step: np.ndarray,
    *,
    n_neurons: int,
    n_steps: int,
    threshold: float = ORIGINAL_BINNED_THRESHOLD,
    min_spikes: float = 0,
    bin_steps: int = 100,
) -> dict[str, np.ndarray]:
    """The binned KS14 detector (``getBinnedBurstInfo.m``, spec 2.1).

    Parameters
    ----------
    time_step : ndarray of shape (n_spikes,), integer
        Spike time steps (``spikesHistory`` is their histogram in 10-ms bins).
    n_neurons : int
        N; the bin rate is spikes / N.
    n_steps : int
        Length of the run in steps (sets the number of bins).
    threshold : float, default 0.005
        Spikes per neuron per bin at or above which a bin is bursting.
    min_spikes : float, default 0
        Keep only bursts with more spikes than this (0 = the original; the small-grid scaling of
        spec 4.4 uses N, because starters alone cross the per-bin threshold at small N).
    bin_steps : int, default 100

    Returns
    -------
    dict of ndarray of shape (n_bursts,)
        As :func:`avalanche_bursts`, in steps: ``start_step`` = first bin * bin_steps,
        ``end_step`` = (last bin + 1) * bin_steps - 1, ``width_steps`` = bins * bin_steps,
        ``peak_step``/``peak_count`` = first busiest bin and its spikes, the two intervals of
        :func:`inter_burst_intervals` (``ibi_peak_steps`` is the script's Interval);
        ``start_row``/``end_row`` are -1.
    """
    n_bins = max(int(np.ceil(n_steps / bin_steps)), 1)
    counts = np.bincount(np.asarray(time_step, dtype=np.int64) // bin_steps, minlength=n_bins)
    above = counts / float(n_neurons) >= threshold
    edges = np.diff(np.r_[0, above.astype(np.int8), 0])
    first = np.flatnonzero(edges == 1)
    last = np.flatnonzero(edges == -1) - 1
    cum = np.r_[0, np.cumsum(counts)]
    n_spikes = cum[last + 1] - cum[first]
    keep = n_spikes > min_spikes
    first, last, n_spikes = first[keep], last[keep], n_spikes[keep]
    peak_bin = np.array([f + int(np.argmax(counts[f : e + 1])) for f, e in zip(first, last, strict=True)], dtype=np.int64)
    peak_count = counts[peak_bin] if peak_bin.size else np.zeros(0, dtype=np.int64)
    ts = np.asarray(time_step)
    start, end = first * bin_steps, (last + 1) * bin_steps - 1
    return {
        "start_step": start,
        "end_step": end,
        "width_steps": (last - first + 1) * bin_steps,
        "n_spikes": n_spikes.astype(np.int64),
        "peak_step": peak_bin * bin_steps,
        "peak_count": peak_count.astype(np.int64),
        **inter_burst_intervals(start, end, peak_bin * bin_steps, first_spike=int(ts.min()) if ts.size else 0),
        "start_row": np.full(first.size, -1, dtype=np.int64),
        "end_row": np.full(first.size, -1, dtype=np.int64),
    }


def burst_table(
    time_step: np.ndarray,
    *,
    n_neurons: int,
    n_steps: int,
    detectors: Sequence[str] = DETECTORS,
    burst_min: float | None = None,
    binned_threshold: float = ORIGINAL_BINNED_THRESHOLD,
    binned_min_spikes: float | None = None,
    scale_to_n: bool = True,
    quirks: bool = True,
    bin_steps: int = 100,
    mean_isi_steps: float | None = None,
) -> xr.Dataset:
    """Bursts of both detectors as one table along dim ``burst``.

    Parameters
    ----------
    time_step : ndarray of shape (n_spikes,), integer, sorted
        Spike time steps of the spike table.
    n_neurons, n_steps : int
        Network size N and run length in steps (``len(spikesHistory) * 100``); the avalanche
        detector's meanISI is ``n_steps`` / spikes, as in the original.
    detectors : sequence of {"avalanche", "binned"}
    burst_min : float, optional
        Avalanche spikes above which an avalanche is a burst. Default: 10 000 (the original),
        times N / 10 000 when *scale_to_n* (spec 4.4: one spike per neuron).
    binned_threshold : float, default 0.005
        Spikes per neuron per bin (already per neuron, so not scaled).
    binned_min_spikes : float, optional
        Minimum spikes of a binned burst. Default: 0 (the original), or N when *scale_to_n*.
    scale_to_n : bool, default True
        Apply the small-grid scaling of spec 4.4 to the defaults above.
    quirks : bool, default True
        Reproduce ``getAvalanches.m``'s row quirks (see the module docstring).
    bin_steps : int, default 100
    mean_isi_steps : float, optional
        A fixed avalanche threshold [steps] instead of the computed mean ISI (see
        :func:`avalanche_bursts`).

    Returns
    -------
    xarray.Dataset
        Dim ``burst`` (avalanche bursts first, each detector in time order) with coords
        ``burst`` (0..n-1), ``detector`` (str) and ``burst_id`` (1-based ID within the
        detector, as in the CSV files), variables of :func:`avalanche_bursts`; the
        effective thresholds and the mean ISI in attrs.

    Raises
    ------
    ValueError
        A detector name is unknown, or no detector found any burst (the message gives the
        thresholds used).
    """
    unknown = sorted(set(detectors) - set(DETECTORS))
    if unknown or not detectors:
        msg = f"detectors must be a non-empty list drawn from ['avalanche', 'binned']; got {list(detectors)}."
        raise ParamError(msg)
    scale = n_neurons / ORIGINAL_N if scale_to_n else 1.0
    eff_burst_min = float(burst_min if burst_min is not None else ORIGINAL_BURST_MIN * scale)
    eff_binned_min = float(binned_min_spikes if binned_min_spikes is not None else (n_neurons if scale_to_n else 0))
    parts: list[dict[str, np.ndarray]] = []
    names: list[str] = []
    attrs: dict[str, object] = {
        "n_neurons": int(n_neurons),
        "n_steps": int(n_steps),
        "bin_steps": int(bin_steps),
        "scale_to_n": int(bool(scale_to_n)),
        "detectors": ",".join(detectors),
    }
    counts: dict[str, int] = {}
    for det in detectors:
        if det == "avalanche":
            t, c = spike_time_counts(time_step)
            found, info = avalanche_bursts(t, c, n_steps=n_steps, burst_min=eff_burst_min, quirks=quirks, bin_steps=bin_steps, mean_isi=mean_isi_steps)
            attrs.update(
                avalanche_burst_min=eff_burst_min,
                avalanche_mean_isi_steps=info["mean_isi_steps"],
                avalanche_n_avalanches=info["n_avalanches"],
                avalanche_quirks=int(bool(quirks)),
            )
        else:
            found = binned_bursts(
                time_step,
                n_neurons=n_neurons,
                n_steps=n_steps,
                threshold=binned_threshold,
                min_spikes=eff_binned_min,
                bin_steps=bin_steps,
            )
            attrs.update(binned_threshold=float(binned_threshold), binned_min_spikes=eff_binned_min)
        counts[det] = int(found["start_step"].size)
        parts.append(found)
        names.extend([det] * counts[det])
    if not names:
        thresholds = {k: v for k, v in attrs.items() if k.startswith(("avalanche_", "binned_"))}
        msg = (
            f"No bursts found in {np.asarray(time_step).size} spikes of {n_neurons} neurons over {n_steps} steps "
            f"by detectors {list(detectors)} with {thresholds}; the network may not burst yet (simulate longer) "
            "or the thresholds are too high for this network size (set scale_to_n: true)."
        )
        raise SchemaViolation(msg)
    data = {f: np.concatenate([p[f] for p in parts]).astype(np.int64) for f in _FIELDS}
    burst_id = np.concatenate([np.arange(1, counts[d] + 1, dtype=np.int64) for d in detectors])
    for det in detectors:
        attrs[f"n_bursts_{det}"] = counts[det]
    return bursts_dataset(data, names, burst_id, attrs)


def culture_slices(culture: np.ndarray) -> list[tuple[int, slice]]:
    """(culture, rows) of a table sorted by culture, in culture order.

    Parameters
    ----------
    culture : ndarray of shape (n,), integer, non-decreasing
        The table's ``culture`` coordinate.

    Examples
    --------
    >>> culture_slices(np.array([0, 0, 2, 2, 2]))
    [(0, slice(0, 2, None)), (2, slice(2, 5, None))]
    """
    culture = np.asarray(culture)
    if culture.size and np.any(np.diff(culture) < 0):
        msg = "The table must be sorted by culture (the spike table's order); got a culture coordinate that decreases."
        raise ParamError(msg)
    values, first = np.unique(culture, return_index=True)
    bounds = np.r_[first, culture.size]
    return [(int(v), slice(int(bounds[k]), int(bounds[k + 1]))) for k, v in enumerate(values)]


#: Attrs of :func:`burst_table` that differ between cultures (each culture's file has its own meanISI).
PER_CULTURE_ATTRS = ("avalanche_mean_isi_steps", "avalanche_n_avalanches")


def ensemble_burst_table(time_step: np.ndarray, culture: np.ndarray, **kwargs: Any) -> xr.Dataset:
    """:func:`burst_table` of every culture of a spike table, joined along ``burst``.

    Each culture is detected on its own spikes, as the original analysis treats one file: the
    avalanche detector's meanISI is the culture's steps / the culture's spikes.

    Parameters
    ----------
    time_step : ndarray of shape (n_spikes,), integer
        Spike time steps, sorted within each culture.
    culture : ndarray of shape (n_spikes,), integer, non-decreasing
        The culture of each spike.
    **kwargs
        :func:`burst_table`'s keywords (``n_neurons``, ``n_steps``, detectors, thresholds).

    Returns
    -------
    xarray.Dataset
        Rows ordered by culture, then as :func:`burst_table` (detector, then time); coordinate
        ``culture``; ``burst_id`` counts within (culture, detector). Attrs as
        :func:`burst_table`'s, with the burst counts summed and :data:`PER_CULTURE_ATTRS` as
        lists, one value per culture.

    Raises
    ------
    neurodata.SchemaViolation
        A culture has no burst (the message names it).
    """
    time_step = np.asarray(time_step)
    tables = []
    for c, rows in culture_slices(culture):
        try:
            table = burst_table(time_step[rows], **kwargs)
        except SchemaViolation as err:
            msg = f"Culture {c}: {err}"
            raise SchemaViolation(msg) from err
        tables.append(table.assign_coords(culture=("burst", np.full(table.sizes["burst"], c, dtype=np.int64))))
    if not tables:
        msg = "No spikes: the spike table has no culture to detect bursts in."
        raise SchemaViolation(msg)
    attrs = dict(tables[0].attrs)
    for key in attrs:
        if key.startswith("n_bursts_"):
            attrs[key] = int(sum(t.attrs[key] for t in tables))
    for key in PER_CULTURE_ATTRS:
        if key in attrs:
            attrs[key] = [t.attrs[key] for t in tables]
    attrs["n_cultures"] = len(tables)
    return concat_cultures(tables, "burst", artifact="braingrid_bursts", attrs=attrs)


ALLBURST_COLUMNS = ("ID", "StartRow", "EndRow", "StartT", "EndT", "Width", "TotalSpikes", "IBI")


def allburst_frame(bursts: xr.Dataset, detector: str = "avalanche") -> pd.DataFrame:
    """The bursts of *detector* in the column layout of ``allBurst.csv``.

    Columns ``ID, StartRow, EndRow, StartT, EndT, Width, TotalSpikes, IBI``; rows are
    1-based (MATLAB) as in the original; no rows when *detector* found no burst or did not
    run. A table with a ``culture`` coordinate (an ensemble) adds a last column ``Culture``:
    ``ID``, rows and steps count within each culture's file. Write with
    ``frame.to_csv(path, index=False)``.

    Parameters
    ----------
    bursts : xarray.Dataset
        The ``braingrid_bursts`` artifact (or :func:`burst_table`'s result).
    detector : {"avalanche", "binned"}, default "avalanche"
        Whose bursts (``allBurst.csv`` holds the avalanche detector's).
    """
    sel = np.asarray(bursts["detector"].values).astype(object) == detector
    columns = ALLBURST_COLUMNS + (("Culture",) if "culture" in bursts.coords else ())
    if not sel.any():  # the detector did not run (or found nothing): the layout, no rows
        return pd.DataFrame({column: np.array([], dtype=np.int64) for column in columns})
    b = bursts.isel(burst=np.flatnonzero(sel)).load()
    row_offset = 1 if detector == "avalanche" else 0
    frame = pd.DataFrame(
        {
            "ID": b["burst_id"].values,
            "StartRow": b["start_row"].values + row_offset,
            "EndRow": b["end_row"].values + row_offset,
            "StartT": b["start_step"].values,
            "EndT": b["end_step"].values,
            "Width": b["width_steps"].values,
            "TotalSpikes": b["n_spikes"].values,
            "IBI": b["ibi_gap_steps"].values,
        }
    )
    if "culture" in b.coords:
        frame["Culture"] = b["culture"].values
    return frame
