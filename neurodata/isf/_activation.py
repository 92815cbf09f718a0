"""Synapse activations binned in space (spatial bins) and time: ISF's 4D activation array."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from .._exceptions import ParamError
from ._kernels import accumulate_activations
from ._morphology import SOMA
from ._spatial_bins import as_section_distances
from ._spikes import check_time_range
from ._synapses import celltype_of

__all__ = [
    "EI_LABELS",
    "assign_spatial_bins",
    "augment_with_spatial_bins",
    "classify_celltypes",
    "synapse_activation_array",
    "temporal_binning",
    "time_bin_edges",
]

EI_LABELS = ("EXC", "INH")
_SA_COLUMNS = ("synapse_type", "synapse_ID", "soma_distance", "section_ID")


def time_bin_edges(min_time: float, max_time: float, bin_size: float) -> np.ndarray:
    """Edges ``min_time, min_time + bin_size, ..., max_time`` (ms) of the temporal bins.

    Parameters
    ----------
    min_time, max_time : float
        The window (ms).
    bin_size : float
        Width of a temporal bin (ms).

    Raises
    ------
    neurodata.ParamError
        Unless ``min_time < max_time`` and ``max_time - min_time`` is a whole number of
        `bin_size` (ISF's ``np.arange(min, max + bin, bin)`` silently overshot ``max_time``).
    """
    check_time_range(min_time, max_time, bin_size, step_name="bin_size")
    n = (max_time - min_time) / bin_size
    if abs(n - round(n)) > 1e-9 * max(1.0, n):
        msg = (
            f"'bin_size' ({bin_size!r} ms) must divide max_time - min_time = {max_time - min_time!r} ms "
            f"into whole bins; choose e.g. {(max_time - min_time) / max(1, round(n))!r}."
        )
        raise ParamError(msg)
    edges = min_time + np.arange(int(round(n)) + 1) * bin_size
    edges[-1] = max_time
    return edges


def classify_celltypes(
    synapse_type: np.ndarray,
    excitatory_celltypes: Sequence[str],
    inhibitory_celltypes: Sequence[str] | None = None,
) -> np.ndarray:
    """0 (EXC) or 1 (INH) for every synapse type, from its cell type ``type.split('_')[0]``.

    Parameters
    ----------
    synapse_type : array of str, shape (n,)
    excitatory_celltypes : sequence of str
    inhibitory_celltypes : sequence of str, optional
        When given, a cell type in neither list is an error; when None, ISF's rule applies:
        everything not excitatory is inhibitory.

    Returns
    -------
    ndarray of int64, shape (n,)

    Raises
    ------
    neurodata.ParamError
        Naming the unknown cell types, the synapse types they came from and both lists.
    """
    types = pd.Series(np.asarray(synapse_type, dtype=object))
    codes, uniques = pd.factorize(types)
    ct = celltype_of(np.asarray(uniques, dtype=object)) if len(uniques) else np.zeros(0, dtype=object)
    exc = set(excitatory_celltypes)
    is_inh = np.array([c not in exc for c in ct], dtype=np.int64)
    if inhibitory_celltypes is not None:
        inh = set(inhibitory_celltypes)
        unknown = [(c, str(u)) for c, u in zip(ct, uniques, strict=True) if c not in exc and c not in inh]
        if unknown:
            msg = (
                f"unknown cell type(s) {sorted({c for c, _ in unknown})} (synapse types "
                f"{sorted({u for _, u in unknown})[:5]}): expected one of excitatory_celltypes "
                f"{sorted(exc)} or inhibitory_celltypes {sorted(inh)}."
            )
            raise ParamError(msg)
    return is_inh[codes] if len(codes) else np.zeros(0, dtype=np.int64)


def assign_spatial_bins(
    section_id: np.ndarray,
    soma_distance: np.ndarray,
    section_distances_df: pd.DataFrame,
    tolerance: float = 0.1,
    *,
    describe_row: Callable[[int], str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Spatial bin of every synapse (vectorised ISF ``get_bin`` per section).

    Parameters
    ----------
    section_id : ndarray of int, shape (n,)
    soma_distance : ndarray of float, shape (n,)
        µm.
    section_distances_df : DataFrame
        From `section_distances`.
    tolerance : float, default 0.1
        µm a synapse may lie outside its section's ``[min_, max_]``.
    describe_row : callable, optional
        ``describe_row(i) -> str`` names row i in error messages.

    Returns
    -------
    branch_bin : ndarray of int64, shape (n,)
        0 on the soma, else 1..n_bins of the section.
    position : ndarray of int64, shape (n,)
        Index of the bin in ``spatial_bin_names(section_distances_df)``.

    Raises
    ------
    neurodata.ParamError
        For a section ID that is not in the table, or a synapse outside its section's range
        by `tolerance` or more; the message names the synapse.
    """
    sdf = as_section_distances(section_distances_df)
    sec = np.asarray(section_id, dtype=np.int64)
    dist = np.asarray(soma_distance, dtype=np.float64)
    describe = describe_row or (lambda i: f"row {i}")
    n_sec = len(sdf)
    bad = np.flatnonzero((sec < 0) | (sec >= n_sec))
    if bad.size:
        i = int(bad[0])
        msg = f"synapse {describe(i)}: section_ID {int(sec[i])} is not a section of the cell (0..{n_sec - 1})."
        raise ParamError(msg)
    lo = sdf["min_"].to_numpy(dtype=np.float64)
    hi = sdf["max_"].to_numpy(dtype=np.float64)
    nb = sdf["n_bins"].to_numpy(dtype=np.int64)
    soma = (sdf["label"].astype(str) == SOMA).to_numpy()
    n_names = np.where(soma, 1, nb)
    offset = np.concatenate([[0], np.cumsum(n_names)[:-1]])
    s_lo, s_hi, s_n = lo[sec], hi[sec], nb[sec]
    outside = (dist <= s_lo - tolerance) | (dist >= s_hi + tolerance) | ~np.isfinite(dist)
    outside &= ~soma[sec]
    if np.any(outside):
        i = int(np.flatnonzero(outside)[0])
        msg = (
            f"synapse {describe(i)}: soma_distance {float(dist[i]):g} µm lies outside its section {int(sec[i])} "
            f"range [{float(s_lo[i]):g}, {float(s_hi[i]):g}] µm by more than the tolerance {float(tolerance):g} µm "
            f"({int(outside.sum())} synapse row(s) affected); check the section_ID or raise the tolerance."
        )
        raise ParamError(msg)
    # bin k of [lo, hi] split in n equal parts, edges as np.linspace; right-open, hi in bin n
    width = np.where(s_n > 0, (s_hi - s_lo) / np.maximum(s_n, 1), 0.0)
    k = np.where(width > 0, np.floor((dist - s_lo) / np.where(width > 0, width, 1.0)), 0).astype(np.int64)
    k = np.clip(k, 0, np.maximum(s_n - 1, 0))
    # correct round-off against linspace edges (ISF uses np.digitize on them)
    left = s_lo + k * width
    right = np.where(k + 1 >= s_n, np.inf, s_lo + (k + 1) * width)
    k = np.where((dist < left) & (k > 0), k - 1, np.where(dist >= right, k + 1, k))
    branch = np.where(soma[sec], 0, k + 1).astype(np.int64)
    position = offset[sec] + np.where(soma[sec], 0, k)
    return branch, position.astype(np.int64)


def augment_with_spatial_bins(
    sa: pd.DataFrame,
    section_distances_df: pd.DataFrame,
    synaptic_weights: Mapping[str, float] | None = None,
    excitatory_celltypes: Sequence[str] = (),
    inhibitory_celltypes: Sequence[str] | None = None,
    tolerance: float = 0.1,
) -> pd.DataFrame:
    """Add spatial-bin, cell-type and EXC/INH columns to an ISF synapse-activation table.

    ISF ``augment_synapse_activation_df_with_branch_bin``. Adds ``branch_bin`` (0 on the soma,
    else 1-based), ``section/branch_bin`` (``'4/2'``), ``celltype`` (``'L5tt'`` from
    ``'L5tt_C2'``), ``EI`` (``'EXC'``/``'INH'``) and, with weights, ``syn_weight``. Rows keep
    their order within a trial index (stable sort by index, then synapse type and ID).

    Bugs fixed: the weighted path raised NameError in ISF (``syn_weights`` undefined); here
    `synaptic_weights` maps every synapse type to its weight. A synapse outside its section
    raised a bare RuntimeError; here the ParamError names the synapse.

    Parameters
    ----------
    sa : DataFrame indexed by sim_trial_index
        Columns ``synapse_type``, ``synapse_ID``, ``soma_distance`` (µm), ``section_ID`` and
        activation-time columns.
    section_distances_df : DataFrame
        From `section_distances`.
    synaptic_weights : mapping of str to float, optional
        Weight per synapse type (as from `synaptic_weights`).
    excitatory_celltypes : sequence of str
    inhibitory_celltypes : sequence of str, optional
        See `classify_celltypes`.
    tolerance : float, default 0.1
        µm (see `assign_spatial_bins`).

    Returns
    -------
    DataFrame
        A new frame; the input is not modified.
    """
    missing = [c for c in _SA_COLUMNS if c not in sa.columns]
    if missing:
        msg = f"augment_with_spatial_bins: 'sa' lacks columns {missing}; expected at least {list(_SA_COLUMNS)}."
        raise ParamError(msg)
    out = sa.copy()
    st = out["synapse_type"].to_numpy(dtype=object)
    sid = out["synapse_ID"].to_numpy()
    idx = out.index.to_numpy()

    def describe(i: int) -> str:
        return f"{st[i]} #{sid[i]} (sim_trial_index {idx[i]!r})"

    branch, _ = assign_spatial_bins(out["section_ID"].to_numpy(), out["soma_distance"].to_numpy(),
                                    section_distances_df, tolerance, describe_row=describe)
    out["branch_bin"] = branch
    out["section/branch_bin"] = [f"{s}/{b}" for s, b in zip(out["section_ID"].to_numpy(), branch, strict=True)]
    out["celltype"] = celltype_of(st) if len(st) else np.zeros(0, dtype=object)
    ei = classify_celltypes(st, excitatory_celltypes, inhibitory_celltypes)
    out["EI"] = np.asarray(EI_LABELS, dtype=object)[ei] if len(ei) else np.zeros(0, dtype=object)
    if synaptic_weights:
        unknown = sorted(set(st.tolist()) - set(synaptic_weights))
        if unknown:
            msg = f"augment_with_spatial_bins: no synaptic weight for synapse types {unknown}; 'synaptic_weights' has {sorted(synaptic_weights)}."
            raise ParamError(msg)
        out["syn_weight"] = out["synapse_type"].map(synaptic_weights).astype(np.float64)
    order = np.lexsort((sid, st.astype(str), np.asarray(idx, dtype=str)))
    return out.iloc[order]


def _activation_columns(frame: pd.DataFrame) -> list:
    cols = []
    for c in frame.columns:
        try:
            int(c)
        except (TypeError, ValueError):
            continue
        cols.append(c)
    return cols


def temporal_binning(
    sa_augmented: pd.DataFrame,
    min_time: float,
    max_time: float,
    bin_size: float,
    use_weights: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Histogram of all activation times of a (sub)table (ISF ``temporal_binning_augmented_sa``).

    Bins are ``[e_k, e_k+1)``, the last one closed at `max_time`; times outside
    ``[min_time, max_time]`` are ignored; a synapse firing twice in a bin counts twice.

    Parameters
    ----------
    sa_augmented : DataFrame
        Activation-time columns are those whose name converts to int (``'0'`` or ``0``).
    min_time, max_time, bin_size : float
        ms; see `time_bin_edges`.
    use_weights : bool, default False
        Weight each activation by its row's ``syn_weight``.

    Returns
    -------
    edges : ndarray of float64, shape (n_bins + 1,)
    counts : ndarray, shape (n_bins,)
        int64, or float64 when weighted.
    """
    edges = time_bin_edges(min_time, max_time, bin_size)
    times = sa_augmented[_activation_columns(sa_augmented)].to_numpy(dtype=np.float64)
    if use_weights:
        if "syn_weight" not in sa_augmented.columns:
            msg = "temporal_binning: use_weights=True needs a 'syn_weight' column (augment_with_spatial_bins with synaptic_weights)."
            raise ParamError(msg)
        w = np.repeat(sa_augmented["syn_weight"].to_numpy(dtype=np.float64)[:, None], times.shape[1], axis=1)
    keep = ~np.isnan(times)
    counts, _ = np.histogram(times[keep], bins=edges, weights=w[keep] if use_weights else None)
    return edges, counts


def synapse_activation_array(
    sa_augmented: pd.DataFrame,
    selected_stis: Sequence[str] | None = None,
    spatial_bin_names: Sequence[str] | None = None,
    min_time: float = 0.0,
    max_time: float = 600.0,
    bin_size: float = 1.0,
    use_weights: bool = False,
    dtype: type = np.float32,
) -> np.ndarray:
    """The 4D activation array (trial, EXC/INH, spatial bin, time bin).

    ISF ``get_synapse_activation_array_weighted``. Axis 0 follows `selected_stis`, axis 1 is
    ``['EXC', 'INH']``, axis 2 follows `spatial_bin_names`, axis 3 the temporal bins of
    `time_bin_edges`. A selected trial without rows (empty trial) is all zeros; rows of
    unselected trials or of bins not in `spatial_bin_names` are left out; activation times
    outside ``[min_time, max_time]`` are ignored.

    Bugs fixed: ISF ignored `bin_size` (always 1 ms), failed on an empty table and on
    ``None`` arguments, and could not apply weights.

    Parameters
    ----------
    sa_augmented : DataFrame
        From `augment_with_spatial_bins`.
    selected_stis : sequence of str, optional
        Default: the table's trial indices in sorted order.
    spatial_bin_names : sequence of str, optional
        Default: the bins that occur in the table, sorted by (section, bin).
    min_time, max_time, bin_size : float
        ms.
    use_weights : bool, default False
        Sum ``syn_weight`` (nS) instead of counting.
    dtype : numpy dtype, default float32

    Returns
    -------
    ndarray of shape (n_trials, 2, n_spatial_bins, n_time_bins)
    """
    edges = time_bin_edges(min_time, max_time, bin_size)
    if selected_stis is None:
        selected_stis = sorted(pd.unique(sa_augmented.index.astype(str)))
    if spatial_bin_names is None:
        spatial_bin_names = sorted(pd.unique(sa_augmented["section/branch_bin"]),
                                   key=lambda n: tuple(int(x) for x in str(n).split("/")))
    out = np.zeros((len(selected_stis), 2, len(spatial_bin_names), len(edges) - 1), dtype=dtype)
    if len(sa_augmented) == 0:
        return out
    trial = pd.Index(list(selected_stis)).get_indexer(sa_augmented.index.astype(object)).astype(np.int64)
    spatial = pd.Index(list(spatial_bin_names)).get_indexer(sa_augmented["section/branch_bin"].to_numpy(dtype=object)).astype(np.int64)
    ei = pd.Index(list(EI_LABELS)).get_indexer(sa_augmented["EI"].to_numpy(dtype=object)).astype(np.int64)
    if use_weights:
        if "syn_weight" not in sa_augmented.columns:
            msg = "synapse_activation_array: use_weights=True needs a 'syn_weight' column."
            raise ParamError(msg)
        weight = sa_augmented["syn_weight"].to_numpy(dtype=np.float64)
    else:
        weight = np.ones(len(sa_augmented))
    times = np.ascontiguousarray(sa_augmented[_activation_columns(sa_augmented)].to_numpy(dtype=np.float64))
    if times.shape[1] == 0:
        return out
    accumulate_activations(out, trial, ei, spatial, weight, times, edges)
    return out

