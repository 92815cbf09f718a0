"""One ANN batch from a simrun's arrays: the 4D activation counts and the soma targets.

This is the fast path of ISF's ``init`` (``save_SA_batch`` + ``save_VT_batch`` +
``save_st_and_ISI``, spec §1.23): it works on the arrays of the ``isf_simrun`` store of one
batch of trials (never the whole table), assigns spatial bins per row with
`assign_spatial_bins`, counts with the numba kernel `accumulate_activations`, and builds the
targets with `max_per_ms`, `ap_array` and `isi_array`: at the soma (``VT_ALL``, ``AP_SOMA``,
``ISI_SOMA``) and at the distal dendrite (``VT_DEND``, ``AP_DEND``, ``ISI_DEND``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._exceptions import ParamError, SchemaViolation
from ._activation import assign_spatial_bins, classify_celltypes, time_bin_edges
from ._kernels import accumulate_activations
from ._spatial_bins import spatial_bin_names
from ._spikes import ap_array, isi_array
from ._voltage import max_per_ms

__all__ = [
    "AnnBatch",
    "accumulate_batch_rows",
    "ann_batch_from_rows",
    "batch_rows",
    "check_window",
    "dendrite_targets",
    "make_ann_batch",
    "ms_block_starts",
    "point_sampled_voltage",
    "soma_targets",
]


@dataclass(frozen=True)
class AnnBatch:
    """Arrays of one batch of trials.

    Attributes
    ----------
    synapse_activation : float32 (n_trials, 2, n_spatial_bins, n_time_bins)
        Counts (or summed weights, nS) per trial, EXC/INH, spatial bin, temporal bin.
    vt_max_per_ms : float32 (n_trials, n_ms)
        Maximum soma voltage in each ms of ``[min_time, max_time)`` (mV).
    ap : bool (n_trials, n_time_bins)
        A soma spike in the temporal bin.
    isi : float32 (n_trials, n_time_bins)
        ms since the last soma spike at the start of the bin (fill value if none).
    n_outside : int64 (n_trials,)
        Activation times outside ``[min_time, max_time]`` (ignored).
    vt_soma : float32 (n_trials, n_ms)
        Soma voltage at the start of each ms (mV; ISF's point-sampled ``VT_ALL``).
    vt_dend_max_per_ms, ap_dend, isi_dend : optional
        The distal dendrite's maximum voltage per ms (float32 mV), spike (−30 mV) in the bin
        (bool) and ms since its last spike (float32), shaped like the soma targets; None when
        no dendritic recording was given.
    """

    synapse_activation: np.ndarray
    vt_max_per_ms: np.ndarray
    ap: np.ndarray
    isi: np.ndarray
    n_outside: np.ndarray
    vt_soma: np.ndarray | None = None
    vt_dend_max_per_ms: np.ndarray | None = None
    ap_dend: np.ndarray | None = None
    isi_dend: np.ndarray | None = None


def _type_codes(synapse_type: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Integer codes of the synapse types and the names they index.

    Rows come in runs of one type (ISF sorts by trial, type, ID), so only run starts are
    turned into Python strings.
    """
    n = len(synapse_type)
    if n == 0:
        return np.zeros(0, dtype=np.int64), []
    start = np.flatnonzero(np.r_[True, synapse_type[1:] != synapse_type[:-1]])
    run_names = [str(v) for v in synapse_type[start]]
    uniques = sorted(set(run_names))
    index = {u: i for i, u in enumerate(uniques)}
    run_codes = np.array([index[v] for v in run_names], dtype=np.int64)
    return np.repeat(run_codes, np.diff(np.r_[start, n])), uniques


def accumulate_batch_rows(
    out: np.ndarray,
    n_outside: np.ndarray,
    *,
    row_trial: np.ndarray,
    section_ID: np.ndarray,
    soma_distance: np.ndarray,
    synapse_type: np.ndarray,
    synapse_ID: np.ndarray,
    activation_times: np.ndarray,
    trial_names: Sequence[str],
    section_distances_df: pd.DataFrame,
    edges: np.ndarray,
    synapse_type_names: Sequence[str] | None = None,
    excitatory_celltypes: Sequence[str],
    inhibitory_celltypes: Sequence[str] | None,
    synaptic_weights: Mapping[str, float] | None = None,
    tolerance: float = 0.1,
) -> None:
    """Add some activation-table rows of a batch into its 4D array (in place).

    Rows may come in any number of pieces (the stage feeds a batch in pieces of at most
    2**17 rows, so memory stays at one output batch plus one piece).

    Parameters
    ----------
    out : float32 (n_trials, 2, n_spatial_bins, n_time_bins)
        Accumulated in place.
    n_outside : int64 (n_trials,)
        Incremented by the activation times outside ``[edges[0], edges[-1]]``.
    row_trial : int64 (n_rows,)
        Position of each row's trial in the batch.
    section_ID, soma_distance, synapse_type, synapse_ID : (n_rows,)
        ISF table columns (µm for distances).
    activation_times : float64 (n_rows, n_slots)
        ms, NaN-padded.
    trial_names : sequence of str
        sim_trial_index of the batch's trials (error messages).
    section_distances_df : DataFrame
    edges : float64 (n_time_bins + 1,)
        From `time_bin_edges`.
    synapse_type_names : sequence of str, optional
        When given, `synapse_type` holds integer codes into it (the simrun's
        ``synapse_type_code``), which avoids decoding one string per row.
    excitatory_celltypes, inhibitory_celltypes : sequence of str
        See `classify_celltypes` (``inhibitory_celltypes`` None: ISF's rule).
    synaptic_weights : mapping of str to float, optional
        Weighted counts when given (nS per synapse type).
    tolerance : float, default 0.1
        µm, see `assign_spatial_bins`.
    """
    st = np.asarray(synapse_type)
    if synapse_type_names is not None:
        codes, uniques = st.astype(np.int64), [str(u) for u in synapse_type_names]
    else:
        codes, uniques = _type_codes(st)

    def describe(i: int) -> str:
        return f"{uniques[codes[i]]} #{int(synapse_ID[i])} (sim_trial_index {trial_names[int(row_trial[i])]!r})"

    _, position = assign_spatial_bins(section_ID, soma_distance, section_distances_df, tolerance, describe_row=describe)
    ei = classify_celltypes(np.asarray(uniques, dtype=object), excitatory_celltypes, inhibitory_celltypes)[codes]
    if synaptic_weights:
        missing = sorted(set(uniques) - set(synaptic_weights))
        if missing:
            msg = f"no synaptic weight for synapse types {missing}; weights are given for {sorted(synaptic_weights)}."
            raise ParamError(msg)
        weight = np.asarray([synaptic_weights[u] for u in uniques], dtype=np.float64)[codes]
    else:
        weight = np.ones(len(st))
    times = np.ascontiguousarray(activation_times, dtype=np.float64)
    trial = np.asarray(row_trial, dtype=np.int64)
    if times.size:
        accumulate_activations(out, trial, ei.astype(np.int64), position, weight, times, edges)
        outside_row = ((times < edges[0]) | (times > edges[-1])).sum(axis=1)
        n_outside += np.bincount(trial, weights=outside_row, minlength=len(n_outside)).astype(np.int64)


def _sample_window(voltage: np.ndarray, min_time: float, max_time: float, dt_ms: float, t0_ms: float) -> np.ndarray:
    """Samples of ``[min_time, max_time)`` of traces sampled every `dt_ms` from `t0_ms`, by absolute time."""
    i0 = int(round((min_time - t0_ms) / dt_ms))
    i1 = int(round((max_time - t0_ms) / dt_ms))
    v = np.asarray(voltage)
    if i0 < 0 or i1 > v.shape[-1]:
        msg = (f"the voltage traces cover [{t0_ms:g}, {t0_ms + v.shape[-1] * dt_ms:g}) ms; the window "
               f"[{min_time:g}, {max_time:g}) ms does not fit in them.")
        raise ParamError(msg)
    return v[..., i0:i1]


def soma_targets(
    soma_voltage: np.ndarray,
    spike_times: np.ndarray,
    *,
    min_time: float,
    max_time: float,
    bin_size: float,
    dt_ms: float,
    isi_fill: float = 1000.0,
    t0_ms: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Max soma voltage per ms (float32 mV), AP (bool) and ISI (float32 ms) of a batch.

    The voltage is sliced by absolute time (ISF sliced by position, spec §6.10); `t0_ms` is
    the time of the first sample (ISF's older simruns start at 100 ms).

    Parameters
    ----------
    soma_voltage : ndarray, shape (n_trials, n_samples)
        mV sampled every `dt_ms` from `t0_ms`.
    spike_times : ndarray of float64, shape (n_trials, n_spikes)
        ms, NaN-padded.
    min_time, max_time, bin_size : float
        The window and its temporal bin (ms).
    dt_ms, t0_ms : float
        Sampling step and time of the first sample (ms).
    isi_fill : float, default 1000.0
        ISI where no spike precedes (ms).
    """
    vt_max = max_per_ms(_sample_window(soma_voltage, min_time, max_time, dt_ms, t0_ms), dt_ms).astype(np.float32)
    ap = ap_array(spike_times, min_time, max_time, bin_size)
    isi = isi_array(spike_times, min_time, max_time, fillna=isi_fill, step=bin_size).astype(np.float32)
    return vt_max, ap, isi


def point_sampled_voltage(voltage: np.ndarray, *, min_time: float, max_time: float, dt_ms: float,
                          t0_ms: float = 0.0) -> np.ndarray:
    """The voltage at the start of every ms of ``[min_time, max_time)`` (ISF's ``VT_ALL``).

    ISF took every 40th column (``vt.iloc[:, ::40]``) and sliced the result by position, which
    lines up with absolute ms only for traces starting at 0 (spec §1.23); here the window is
    taken by absolute time.

    Parameters
    ----------
    voltage : ndarray, shape (n_trials, n_samples)
        mV sampled every `dt_ms` from `t0_ms`.
    min_time, max_time, dt_ms, t0_ms : float
        ms; ``1 / dt_ms`` must be a whole number.

    Returns
    -------
    ndarray of float32, shape (n_trials, ceil(max_time - min_time))
    """
    per_ms = int(round(1.0 / dt_ms))
    if per_ms < 1 or abs(per_ms * dt_ms - 1.0) > 1e-9:
        msg = f"point_sampled_voltage: 'dt_ms' must divide 1 ms into a whole number of samples. Got {dt_ms!r} instead."
        raise ParamError(msg)
    return np.asarray(_sample_window(voltage, min_time, max_time, dt_ms, t0_ms)[:, ::per_ms], dtype=np.float32)


def dendrite_targets(
    dendrite_voltage: np.ndarray,
    dendrite_spike_times: np.ndarray,
    *,
    min_time: float,
    max_time: float,
    bin_size: float,
    dt_ms: float,
    isi_fill: float = 1000.0,
    t0_ms: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distal dendrite's targets (ISF's ``VT_DEND``, ``AP_DEND``, ``ISI_DEND``).

    Parameters
    ----------
    dendrite_voltage : ndarray, shape (n_trials, n_samples)
        mV at the distal recording site, sampled every `dt_ms` from `t0_ms`.
    dendrite_spike_times : ndarray, shape (n_trials, n_spikes)
        ms, NaN-padded: upward crossings of −30 mV (ISF's ``dendritic_spike_times``).
    min_time, max_time, bin_size, dt_ms, t0_ms, isi_fill : float
        ms.

    Returns
    -------
    vt_dend_max_per_ms : float32 (n_trials, n_ms)
        Maximum dendritic voltage in each ms (mV).
    ap_dend : bool (n_trials, n_time_bins)
    isi_dend : float32 (n_trials, n_time_bins)
    """
    return soma_targets(dendrite_voltage, dendrite_spike_times, min_time=min_time, max_time=max_time,
                        bin_size=bin_size, dt_ms=dt_ms, isi_fill=isi_fill, t0_ms=t0_ms)


def make_ann_batch(
    *,
    row_trial: np.ndarray,
    section_ID: np.ndarray,
    soma_distance: np.ndarray,
    synapse_type: np.ndarray,
    synapse_ID: np.ndarray,
    activation_times: np.ndarray,
    soma_voltage: np.ndarray,
    spike_times: np.ndarray,
    trial_names: Sequence[str],
    section_distances_df: pd.DataFrame,
    min_time: float,
    max_time: float,
    bin_size: float,
    dt_ms: float,
    excitatory_celltypes: Sequence[str],
    inhibitory_celltypes: Sequence[str] | None,
    synaptic_weights: Mapping[str, float] | None = None,
    tolerance: float = 0.1,
    isi_fill: float = 1000.0,
    dendrite_voltage: np.ndarray | None = None,
    dendrite_spike_times: np.ndarray | None = None,
    t0_ms: float = 0.0,
) -> AnnBatch:
    """Build one batch from the arrays of its trials.

    Parameters
    ----------
    row_trial : int64 (n_rows,)
        Position of each activation-table row's trial in the batch (0..n_trials-1).
    section_ID, soma_distance, synapse_type, synapse_ID : (n_rows,)
        The ISF table columns of the batch's rows (µm for distances).
    activation_times : float64 (n_rows, n_slots)
        ms, NaN-padded.
    soma_voltage : (n_trials, n_samples)
        mV sampled every `dt_ms` from 0 ms.
    spike_times : float64 (n_trials, n_spikes)
        ms, NaN-padded.
    trial_names : sequence of str
        sim_trial_index of each trial (for error messages).
    section_distances_df : DataFrame
        From `section_distances`.
    min_time, max_time, bin_size, dt_ms : float
        ms.
    excitatory_celltypes, inhibitory_celltypes : sequence of str
        See `classify_celltypes`.
    synaptic_weights : mapping of str to float, optional
        Weighted counts when given (nS per synapse type).
    tolerance : float
        µm, see `assign_spatial_bins`.
    isi_fill : float
        ms, ISI where no spike precedes.
    dendrite_voltage : (n_trials, n_samples), optional
        mV at the distal recording site, sampled like `soma_voltage`.
    dendrite_spike_times : float64 (n_trials, n_spikes), optional
        ms, NaN-padded (−30 mV crossings); required with `dendrite_voltage`.
    t0_ms : float
        Time of the first voltage sample (ms).

    Returns
    -------
    AnnBatch
    """
    piece = {"row_trial": row_trial, "section_ID": section_ID, "soma_distance": soma_distance,
             "synapse_type": synapse_type, "synapse_ID": synapse_ID, "activation_times": activation_times}
    return ann_batch_from_rows(
        [piece], soma_voltage=soma_voltage, spike_times=spike_times, trial_names=trial_names,
        section_distances_df=section_distances_df, min_time=min_time, max_time=max_time, bin_size=bin_size,
        dt_ms=dt_ms, excitatory_celltypes=excitatory_celltypes, inhibitory_celltypes=inhibitory_celltypes,
        synaptic_weights=synaptic_weights, tolerance=tolerance, isi_fill=isi_fill, dendrite_voltage=dendrite_voltage,
        dendrite_spike_times=dendrite_spike_times, t0_ms=t0_ms,
    )


def ann_batch_from_rows(
    row_pieces: Iterable[Mapping[str, np.ndarray]],
    *,
    soma_voltage: np.ndarray,
    spike_times: np.ndarray,
    trial_names: Sequence[str],
    section_distances_df: pd.DataFrame,
    min_time: float,
    max_time: float,
    bin_size: float,
    dt_ms: float,
    excitatory_celltypes: Sequence[str],
    inhibitory_celltypes: Sequence[str] | None,
    synapse_type_names: Sequence[str] | None = None,
    synaptic_weights: Mapping[str, float] | None = None,
    tolerance: float = 0.1,
    isi_fill: float = 1000.0,
    dendrite_voltage: np.ndarray | None = None,
    dendrite_spike_times: np.ndarray | None = None,
    t0_ms: float = 0.0,
) -> AnnBatch:
    """One batch from its activation-table rows, given in pieces, and its trials' recordings.

    The rows are binned piece by piece (`accumulate_batch_rows`), so memory stays at one
    output batch plus one piece whatever the number of rows (the ``isf_ann_batches`` stage
    reads a batch's rows from the simrun in pieces of ``2**17``).

    Parameters
    ----------
    row_pieces : iterable of mapping of str to ndarray
        Each with the columns ``row_trial`` (int64, position of the row's trial in the
        batch), ``section_ID``, ``soma_distance`` (µm), ``synapse_type``, ``synapse_ID``
        (n_rows,) and ``activation_times`` (float64 (n_rows, n_slots), ms, NaN-padded).
    soma_voltage : ndarray, shape (n_trials, n_samples)
        mV sampled every `dt_ms` from `t0_ms`.
    spike_times : ndarray of float64, shape (n_trials, n_spikes)
        ms, NaN-padded.
    trial_names : sequence of str
        sim_trial_index of each trial (error messages); sets n_trials.
    section_distances_df : DataFrame
        From `section_distances`.
    min_time, max_time, bin_size, dt_ms : float
        ms.
    excitatory_celltypes, inhibitory_celltypes : sequence of str
        See `classify_celltypes`.
    synapse_type_names : sequence of str, optional
        When given, the pieces' ``synapse_type`` are integer codes into it.
    synaptic_weights : mapping of str to float, optional
        Weighted counts when given (nS per synapse type).
    tolerance : float
        µm, see `assign_spatial_bins`.
    isi_fill : float
        ms, ISI where no spike precedes.
    dendrite_voltage : ndarray, shape (n_trials, n_samples), optional
        mV at the distal recording site, sampled like `soma_voltage`.
    dendrite_spike_times : ndarray of float64, shape (n_trials, n_spikes), optional
        ms, NaN-padded (−30 mV crossings); required with `dendrite_voltage`.
    t0_ms : float
        Time of the first voltage sample (ms).

    Returns
    -------
    AnnBatch
    """
    if dendrite_voltage is not None and dendrite_spike_times is None:
        msg = "make_ann_batch: 'dendrite_spike_times' is needed with 'dendrite_voltage' (the −30 mV crossings)."
        raise ParamError(msg)
    edges = time_bin_edges(min_time, max_time, bin_size)
    n_trials = len(trial_names)
    n_bins = len(spatial_bin_names(section_distances_df))
    out = np.zeros((n_trials, 2, n_bins, len(edges) - 1), dtype=np.float32)
    n_outside = np.zeros(n_trials, dtype=np.int64)
    for piece in row_pieces:
        accumulate_batch_rows(
            out, n_outside, row_trial=piece["row_trial"], section_ID=piece["section_ID"],
            soma_distance=piece["soma_distance"], synapse_type=piece["synapse_type"], synapse_ID=piece["synapse_ID"],
            activation_times=piece["activation_times"], trial_names=trial_names, section_distances_df=section_distances_df,
            edges=edges, synapse_type_names=synapse_type_names, excitatory_celltypes=excitatory_celltypes,
            inhibitory_celltypes=inhibitory_celltypes, synaptic_weights=synaptic_weights, tolerance=tolerance,
        )
    window = {"min_time": min_time, "max_time": max_time, "dt_ms": dt_ms, "t0_ms": t0_ms}
    vt_max, ap, isi = soma_targets(soma_voltage, spike_times, bin_size=bin_size, isi_fill=isi_fill, **window)
    vt_soma = point_sampled_voltage(soma_voltage, **window)
    if dendrite_voltage is None:
        return AnnBatch(out, vt_max, ap, isi, n_outside, vt_soma)
    vt_dend, ap_dend, isi_dend = dendrite_targets(dendrite_voltage, dendrite_spike_times, bin_size=bin_size,
                                                  isi_fill=isi_fill, **window)
    return AnnBatch(out, vt_max, ap, isi, n_outside, vt_soma, vt_dend, ap_dend, isi_dend)


def batch_rows(row_start: np.ndarray, row_count: np.ndarray, trial_names: Sequence[str]) -> tuple[int, int, np.ndarray]:
    """The activation-table rows of a batch of consecutive trials of a simrun.

    Parameters
    ----------
    row_start, row_count : ndarray of int64, shape (n_trials,)
        The simrun's ``sa_row_start`` and ``sa_row_count`` of the batch's trials.
    trial_names : sequence of str
        Their sim_trial_index (error messages).

    Returns
    -------
    lo, hi : int
        The batch's rows are ``[lo, hi)``.
    row_trial : ndarray of int64, shape (hi - lo,)
        Position of each row's trial in the batch.

    Raises
    ------
    neurodata.SchemaViolation
        If the trials' rows are not contiguous (the simrun's table is sorted by trial).
    """
    start = np.asarray(row_start, dtype=np.int64)
    count = np.asarray(row_count, dtype=np.int64)
    if len(start) > 1 and np.any(np.diff(start) != count[:-1]):
        msg = (f"isf_simrun: the activation rows of trials {trial_names[0]}..{trial_names[-1]} are not contiguous "
               "(sa_row_start, sa_row_count); the table must be sorted by trial: rebuild the simrun.")
        raise SchemaViolation(msg)
    lo = int(start[0]) if len(start) else 0
    return lo, lo + int(count.sum()), np.repeat(np.arange(len(start), dtype=np.int64), count)


def ms_block_starts(min_time: float, max_time: float, dt_ms: float) -> np.ndarray:
    """Start (ms) of every 1 ms block of ``[min_time, max_time)``: the ``time_ms`` axis of the voltage targets.

    Parameters
    ----------
    min_time, max_time : float
        The window (ms).
    dt_ms : float
        Voltage sampling step (ms); 1 / dt_ms must be whole.

    Returns
    -------
    ndarray of float64, shape (n_ms,)
        One per block of `max_per_ms` (a partial last block included).
    """
    per_ms = int(round(1.0 / dt_ms))
    n_samples = int(round((max_time - min_time) / dt_ms))
    return min_time + np.arange(-(-n_samples // per_ms), dtype=np.float64)


def check_window(min_time: float, max_time: float, bin_size: float, t_stop_ms: float) -> np.ndarray:
    """The temporal bin edges of an ANN window, checked against the simrun's trial length.

    Parameters
    ----------
    min_time, max_time, bin_size : float
        The window and its bin width (ms).
    t_stop_ms : float
        Length of the simrun's trials (ms).

    Returns
    -------
    ndarray of float64, shape (n_time_bins + 1,)
        From `time_bin_edges`.

    Raises
    ------
    neurodata.ParamError
        If the window reaches past the trials.
    """
    if max_time > t_stop_ms:
        msg = (f"The window [min_time_ms, max_time_ms] = [{min_time!r}, {max_time!r}] ms reaches past the simrun's "
               f"trials: max_time_ms must be <= t_stop_ms of the simrun = {t_stop_ms!r} ms. Got {max_time!r} instead.")
        raise ParamError(msg)
    return time_bin_edges(min_time, max_time, bin_size)
