"""Pre-burst and non-burst spike windows (Lundvall's ``get_training_data``, spec 3.2).

For each burst onset (the first spike, in (time step, neuron) order, whose time step equals a
burst's StartT, and whose preceding spike is not itself at a StartT), the pre-burst window is
the *w* spikes just before the onset (label 1) and the non-burst window the *w* spikes ending
*gap* spikes before it (label 0). An onset is kept only if its *gap* preceding spikes span at
least ``min_gap_steps`` steps, which drops bursts that follow too closely on the previous one.
The seed compares the same number, 2000, to both, but they are different quantities: the gap
is a spike count (about 1 s of background at N = 10 000, scaled to N with
:func:`scaled_gap`), the span criterion a time, 2000 steps = 0.2 s, which only Δt changes.

Fixes of the seed's quirks (spec 3.2):

* (a) the seed trims the spatial non-burst array with ``index+1:n`` instead of ``index:n``,
  adding one all-zero non-burst row to every ``space_{w}.csv``: not reproduced, both kinds
  have exactly one pre-burst and one non-burst sample per kept onset;
* (b) the seed does not check ``i - w - gap >= 0``: for an onset with ``i < gap`` its span
  check reads ``spikes[i - gap]`` from the end of the array and fails (the onset is dropped),
  and for ``gap <= i < gap + w`` the empty non-burst slice cannot be assigned (the notebook
  stops). Here both are dropped, decided per window size as the seed's loop over sizes does
  (``n_dropped_early`` of each node): a small window keeps early onsets a large one cannot;
* (c) spikes sharing a time step were in pandas' unstable quicksort order; here they follow
  the stable (time step, neuron) order of the spike table, so windows are reproducible. As in
  the seed, the onset is the first spike of its step, so a pre-burst window holds only
  spikes of strictly earlier steps.

The unseeded ``np.random.shuffle`` of the seed is replaced by a seeded ``split``
(train/val/test), drawn either per *culture* (``split_by="culture"``: whole cultures go to one
split, the fractions apply to cultures, so no culture's activity leaks from train into test)
or per *burst* (``split_by="burst"``, within cultures: over the onsets kept by the span check,
the single-culture behaviour). Either way a burst's pre-burst and non-burst samples share a
split and a burst has the same split at every window size that uses it. In an ensemble, each
culture's onsets, gaps and windows are taken within its own spikes only. Samples are ordered
by culture, burst, then label (1 before 0); shuffle when loading.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .._exceptions import ParamError, SchemaViolation
from ..seeds import rng
from ._artifacts import windows_tree
from ._bursts import ORIGINAL_N, culture_slices
from ._hdf5_layout import DT_S

__all__ = [
    "SPLITS",
    "SPLIT_BY",
    "culture_splits",
    "burst_onsets",
    "burst_windows",
    "original_min_gap_steps",
    "scaled_gap",
    "window_frames",
    "window_width",
]

#: Names of the splits, in the order of their fractions.
SPLITS = ("train", "val", "test")
#: What a split draws: whole cultures, or bursts (within cultures).
SPLIT_BY = ("culture", "burst")
#: The seed's gap in spikes, meant for N = 10 000 (about 1 s of background there).
ORIGINAL_GAP = 2000
#: The seed's span criterion: the gap's spikes must span at least 2000 steps of 1e-4 s (0.2 s).
ORIGINAL_MIN_GAP_STEPS = 2000
ORIGINAL_DT_S = DT_S


def scaled_gap(n_neurons: int, gap: int = ORIGINAL_GAP, reference_n: int = ORIGINAL_N) -> int:
    """The gap scaled to network size, ``round(gap * N / reference_n)`` (spec 4.4), at least 1.

    Parameters
    ----------
    n_neurons : int
        Network size N.
    gap : int, default 2000
        The gap [spikes] at *reference_n* neurons.
    reference_n : int, default 10 000
        The network size the gap is meant for.
    """
    return max(1, round(gap * n_neurons / reference_n))


def original_min_gap_steps(dt_s: float = ORIGINAL_DT_S) -> int:
    """The seed's span criterion, 2000 steps of 1e-4 s (0.2 s), in steps of *dt_s* seconds.

    Parameters
    ----------
    dt_s : float, default 1e-4
        Seconds per step of the run [s], > 0.
    """
    if not dt_s > 0:
        msg = f"dt_s must be a positive step in seconds; got {dt_s!r}."
        raise ParamError(msg)
    return max(1, round(ORIGINAL_MIN_GAP_STEPS * ORIGINAL_DT_S / dt_s))


def burst_onsets(time_step: np.ndarray, start_steps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Spike indices of the burst onsets, as the seed's mask-transition scan finds them.

    Parameters
    ----------
    time_step : ndarray of shape (n_spikes,), sorted
        Spike time steps of the spike table.
    start_steps : ndarray of shape (n_bursts,)
        Burst StartT values (time steps).

    Returns
    -------
    onset : ndarray of shape (n_onsets,), int64
        Index i of the first spike of each StartT step, where ``i >= 1`` and spike i - 1 is not
        at any StartT (the seed's ``not mask[i-1] and mask[i]``).
    burst : ndarray of shape (n_onsets,), int64
        Index into *start_steps* of each onset. StartT values that are no spike time are
        skipped, as in the seed.
    """
    ts = np.asarray(time_step)
    starts = np.asarray(start_steps).astype(ts.dtype, copy=False)
    order = np.argsort(starts, kind="stable")
    idx = np.searchsorted(ts, starts[order], side="left")
    inside = idx < ts.size
    hit = np.zeros(order.size, dtype=bool)
    hit[inside] = ts[idx[inside]] == starts[order][inside]
    hit &= idx >= 1
    idx, burst = idx[hit], order[hit]
    prev_in_starts = np.isin(ts[idx - 1], starts)
    keep = ~prev_in_starts
    # Two StartT equal to each other give the same onset once.
    onset, first = np.unique(idx[keep], return_index=True)
    return onset.astype(np.int64), burst[keep][first].astype(np.int64)


def bursts_of_detector(detector: np.ndarray, wanted: str) -> np.ndarray:
    """Indices of the bursts of one detector in a burst table.

    Parameters
    ----------
    detector : ndarray of shape (n_bursts,), str
        The burst table's ``detector`` coordinate.
    wanted : str
        The detector whose bursts define the onsets (``burst_windows.detector``).

    Raises
    ------
    neurodata.ParamError
        The table holds no burst of *wanted* (it was not among ``braingrid_bursts.detectors``).
    """
    detector = np.asarray(detector).astype(object)
    chosen = np.flatnonzero(detector == wanted)
    if chosen.size == 0:
        msg = (f"The 'detector' parameter of stage burst_windows must name a detector with bursts in braingrid_bursts "
               f"({sorted(set(detector.tolist()))}; add it to braingrid_bursts.detectors). Got {wanted!r} instead.")
        raise ParamError(msg)
    return chosen


def window_width(temporal: np.ndarray) -> np.ndarray:
    """Width of temporal windows: last step offset minus first (in steps), shape (n_samples,).

    Parameters
    ----------
    temporal : ndarray of shape (n_samples, w), int
        A window node's ``temporal`` offsets [steps].
    """
    return np.asarray(temporal)[:, -1] - np.asarray(temporal)[:, 0]


def _split_sizes(n_bursts: int, fractions: Sequence[float]) -> np.ndarray:
    """Bursts per split: rounded cumulative fractions, then at least one burst in every split
    with a non-zero fraction when there are enough bursts (train first, then test, then val)."""
    frac = np.asarray(fractions, dtype=float) / float(np.sum(fractions))
    bounds = np.round(np.cumsum(frac) * n_bursts).astype(int)
    sizes = np.diff(np.r_[0, bounds])
    for k in (0, 2, 1):
        if sizes[k] == 0 and frac[k] > 0:
            donor = int(np.argmax(sizes))
            if sizes[donor] <= 1 and k == 2 and sizes[1] > 0:
                donor = 1  # with two bursts, a test burst is worth more than a val burst
            if sizes[donor] > 1 or (k == 0 and sizes[donor] > 0) or (k == 2 and donor == 1 and sizes[1] > 0):
                sizes[donor] -= 1
                sizes[k] += 1
    return sizes


def _assign_splits(n_bursts: int, fractions: Sequence[float], seed: int) -> np.ndarray:
    """Seeded split label per burst: a random permutation cut into the sizes of :func:`_split_sizes`."""
    perm = rng(seed).permutation(n_bursts)
    labels = np.empty(n_bursts, dtype=object)
    for name, part in zip(SPLITS, np.split(perm, np.cumsum(_split_sizes(n_bursts, fractions))[:-1]), strict=True):
        labels[part] = name
    return labels


def culture_splits(cultures: Sequence[int], fractions: Sequence[float], seed: int) -> dict[int, str]:
    """The split of each culture when whole cultures are split (``split_by="culture"``).

    The fractions apply to cultures (rounded, each split with a non-zero fraction gets at least
    one culture); which cultures go where is a seeded permutation (``neurodata.seeds.rng(seed)``).

    Parameters
    ----------
    cultures : sequence of int
        The ensemble's cultures, ascending.
    fractions : sequence of 3 floats
        Train, val and test fractions.
    seed : int
        The split's seed.

    Raises
    ------
    neurodata.ParamError
        Fewer cultures than splits with a non-zero fraction (3 with val and test).
    """
    cultures = [int(c) for c in cultures]
    needed = int(np.count_nonzero(np.asarray(fractions, dtype=float) > 0))
    if len(cultures) < needed:
        msg = (f"The 'split' parameter of stage burst_windows must be 'burst' (within cultures) when the ensemble has "
               f"fewer cultures than splits with a non-zero fraction ({needed}; split_fractions = {list(fractions)}). "
               f"Got 'culture' instead, with {len(cultures)} culture(s): raise braingrid_simulation.n_cultures.")
        raise ParamError(msg)
    return dict(zip(cultures, _assign_splits(len(cultures), fractions, seed).tolist(), strict=True))


def burst_windows(
    time_step: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    neuron: np.ndarray,
    start_steps: np.ndarray,
    *,
    windows: Sequence[int] = (5, 10, 50, 100, 500),
    gap: int = ORIGINAL_GAP,
    min_gap_steps: int | None = None,
    dt_s: float = ORIGINAL_DT_S,
    split_fractions: Sequence[float] = (0.7, 0.15, 0.15),
    seed: int = 0,
    burst_index: np.ndarray | None = None,
    culture: np.ndarray | None = None,
    start_culture: np.ndarray | None = None,
    split_by: str = "burst",
) -> xr.DataTree:
    """Labelled pre-burst / non-burst windows, one DataTree node per window size.

    Parameters
    ----------
    time_step : ndarray of shape (n_spikes,), sorted
        Spike time steps (spike table order).
    x, y : ndarray of shape (n_spikes,)
        Grid coordinates of each spike's neuron.
    neuron : ndarray of shape (n_spikes,)
        Neuron id of each spike.
    start_steps : ndarray of shape (n_bursts,)
        Burst StartT values (time steps).
    windows : sequence of int, default (5, 10, 50, 100, 500)
        Window sizes in spikes.
    gap : int, default 2000
        Spikes between the end of the non-burst window and the onset (scale it to N with
        :func:`scaled_gap`).
    min_gap_steps : int, optional
        The *gap* spikes before an onset must span at least this many steps (default: the
        seed's 2000 steps of 1e-4 s, :func:`original_min_gap_steps` of *dt_s*; not scaled
        with *gap*).
    dt_s : float, default 1e-4
        Seconds per step of *time_step*.
    split_fractions : sequence of 3 floats, default (0.7, 0.15, 0.15)
        Fractions of bursts in train, val and test.
    seed : int, default 0
        Seed of the split.
    burst_index : ndarray of shape (n_bursts,), optional
        Index of each StartT in the burst table (default: 0..n_bursts-1).
    culture : ndarray of shape (n_spikes,), optional
        Culture of each spike, non-decreasing (the spike table's order); default: one culture, 0.
    start_culture : ndarray of shape (n_bursts,), optional
        Culture of each burst (default: all 0).
    split_by : {"burst", "culture"}, default "burst"
        Draw the split per burst (within cultures) or per culture (:func:`culture_splits`).

    Returns
    -------
    xarray.DataTree
        Root attrs describe the parameters and the onsets; node ``window_{w}`` has dims
        (sample, position) with ``temporal (int64 step offsets from the window's first spike), ``x``, ``y``
        (int16), ``neuron`` (int32), and per sample ``label`` (1 pre-burst, 0 non-burst),
        ``burst`` (index in the burst table), ``culture``, ``onset_step``, ``start_step`` (first
        spike of the window) and ``split``; its attrs count the onsets it uses and those too
        early for it.

    Raises
    ------
    ValueError
        No burst onset is usable at some window size (none of the StartT are spike times, or
        all are too early or too close to the previous burst).
    """
    ts = np.asarray(time_step)
    windows = [int(w) for w in windows]
    if not windows or min(windows) < 1:
        msg = f"windows must be a non-empty list of positive spike counts; got {windows}."
        raise ParamError(msg)
    if len(split_fractions) != 3 or min(split_fractions) < 0 or sum(split_fractions) <= 0:
        msg = f"split_fractions must be 3 non-negative fractions (train, val, test); got {list(split_fractions)}."
        raise ParamError(msg)
    gap = int(gap)
    min_gap_steps = original_min_gap_steps(dt_s) if min_gap_steps is None else int(min_gap_steps)
    starts = np.asarray(start_steps)
    burst_index = np.arange(starts.size, dtype=np.int64) if burst_index is None else np.asarray(burst_index, dtype=np.int64)
    culture = np.zeros(ts.size, dtype=np.int64) if culture is None else np.asarray(culture, dtype=np.int64)
    start_culture = (np.zeros(starts.size, dtype=np.int64) if start_culture is None
                     else np.asarray(start_culture, dtype=np.int64))
    if split_by not in SPLIT_BY:
        msg = f"split_by must be one of {list(SPLIT_BY)}. Got {split_by!r} instead."
        raise ParamError(msg)
    if culture.shape != ts.shape or start_culture.shape != starts.shape:
        msg = (f"culture must have one entry per spike ({ts.shape}) and start_culture one per burst ({starts.shape}); "
               f"got {culture.shape} and {start_culture.shape}.")
        raise ParamError(msg)
    # onsets per culture, as indices into the whole table; `lo` is the culture's first spike
    parts = []
    for c, rows in culture_slices(culture):
        of_c = np.flatnonzero(start_culture == c)
        f, fb = burst_onsets(ts[rows], starts[of_c])
        parts.append((f + rows.start, of_c[fb], np.full(f.size, rows.start, dtype=np.int64), np.full(f.size, c)))
    found, found_burst, found_lo, found_culture = (np.concatenate([p[k] for p in parts]).astype(np.int64)
                                                   if parts else np.zeros(0, np.int64) for k in range(4))
    # the span check needs the spike `gap` before the onset (the seed's wrapped index fails it)
    before_gap = found - found_lo < gap
    onset, which, lo, onset_culture = (a[~before_gap] for a in (found, found_burst, found_lo, found_culture))
    span_ok = (ts[onset].astype(np.int64) - ts[onset - gap].astype(np.int64)) >= min_gap_steps
    onset, which, lo, onset_culture = (a[span_ok] for a in (onset, which, lo, onset_culture))
    if split_by == "burst":
        split_of_onset = _assign_splits(onset.size, split_fractions, seed)
    else:
        split_of = culture_splits([c for c, _ in culture_slices(culture)], split_fractions, seed)
        split_of_onset = np.array([split_of[int(c)] for c in onset_culture], dtype=object)
    usable = {w: onset - gap - w >= lo for w in windows}
    empty = [w for w in windows if not usable[w].any()]
    if empty:
        msg = (
            f"No usable burst onset for window size(s) {empty}: {starts.size} bursts, {found.size} StartT found among "
            f"the {ts.size} spike times, {int(before_gap.sum())} with fewer than gap = {gap} spikes before them, "
            f"{int((~span_ok).sum())} whose {gap} preceding spikes span < min_gap_steps = {min_gap_steps} steps, "
            f"{int(onset.size - usable[empty[0]].sum())} too early for gap + {empty[0]} spikes."
        )
        raise SchemaViolation(msg)
    root_attrs = {
        "gap_spikes": gap,
        "min_gap_steps": min_gap_steps,
        "windows": ",".join(str(w) for w in windows),
        "split_seed": int(seed),
        "split_fractions": ",".join(str(float(f)) for f in split_fractions),
        "split_by": split_by,
        "n_cultures": len(parts),
        "n_bursts": int(starts.size),
        "n_onsets_found": int(found.size),
        "n_dropped_before_gap": int(before_gap.sum()),
        "n_dropped_close": int((~span_ok).sum()),
        "n_onsets_used": int(max(usable[w].sum() for w in windows)),
    }
    nodes: dict[int, dict[str, Any]] = {}
    for w in windows:
        onset_w, which_w, split_w = onset[usable[w]], which[usable[w]], split_of_onset[usable[w]]
        culture_w = onset_culture[usable[w]]
        # Sample order: burst by burst, pre-burst (label 1) then non-burst (label 0).
        label = np.tile(np.array([1, 0], dtype=np.int8), onset_w.size)
        first = np.repeat(onset_w, 2) - w - np.tile(np.array([0, gap]), onset_w.size)
        idx = first[:, None] + np.arange(w)[None, :]
        t_win = ts[idx].astype(np.int64)
        nodes[w] = {
            "values": {
                "temporal": t_win - t_win[:, :1],
                "x": np.asarray(x)[idx].astype(np.int16),
                "y": np.asarray(y)[idx].astype(np.int16),
                "neuron": np.asarray(neuron)[idx].astype(np.int32),
                "label": label,
                "burst": np.repeat(burst_index[which_w], 2),
                "culture": np.repeat(culture_w, 2),
                "onset_step": np.repeat(ts[onset_w].astype(np.int64), 2),
                "start_step": t_win[:, 0],
                "split": np.repeat(split_w, 2),
            },
            "attrs": {"window": w, "gap_spikes": gap, "n_onsets_used": int(onset_w.size), "split_by": split_by,
                      "n_dropped_early": int(onset.size - onset_w.size)},
        }
    return windows_tree(root_attrs, nodes)


def window_frames(node: xr.Dataset) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One window node in the seed's CSV layouts: ``temp_{w}.csv`` and ``space_{w}.csv``.

    Parameters
    ----------
    node : xarray.Dataset
        One ``window_{w}`` node of the ``burst_windows`` artifact.

    Returns
    -------
    temp : DataFrame of shape (n_samples, w + 1)
        w step offsets, then the label.
    space : DataFrame of shape (n_samples, 2 w + 1)
        Interleaved x0, y0, x1, y1, ..., then the label.

    Write with ``frame.to_csv(path, header=False, index=False)`` (integers, no header, as the
    seed's ``np.savetxt`` files once read back as integers). Rows follow the node's sample
    order (the seed shuffled them unseeded).
    """
    temporal = np.asarray(node["temporal"].values, dtype=np.int64)
    label = np.asarray(node["label"].values, dtype=np.int64)[:, None]
    xs = np.asarray(node["x"].values, dtype=np.int64)
    ys = np.asarray(node["y"].values, dtype=np.int64)
    space = np.empty((xs.shape[0], 2 * xs.shape[1]), dtype=np.int64)
    space[:, 0::2] = xs
    space[:, 1::2] = ys
    return pd.DataFrame(np.hstack([temporal, label])), pd.DataFrame(np.hstack([space, label]))
