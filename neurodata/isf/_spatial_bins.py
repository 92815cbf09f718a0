"""Spatial bins of a morphology: per-section bins of about equal size, their names and adjacency.

Re-implements from its behavioural spec (not its code) the binning part of ISF's
``data_base.db_initializers.prepare_ANN_batches``. Names are ``"<section>/<bin>"``; bin 1 of
a section starts at the section's soma distance ``min_``; the soma is the single bin
``"<soma>/0"``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .._exceptions import ParamError
from ._morphology import SOMA, Morphology

__all__ = [
    "SIBLING_RULES",
    "SpatialBins",
    "as_section_distances",
    "bin_adjacency_in_section",
    "bin_index",
    "bin_soma_distances",
    "neighbouring_spatial_bins",
    "section_bin_size",
    "section_distances",
    "section_distances_from_bins",
    "spatial_bin_adjacency",
    "spatial_bins_of",
    "spatial_bin_names",
    "spatial_bin_table",
]


def section_bin_size(length: float, bin_size_goal: float = 50.0) -> tuple[float, int]:
    """Bin width and bin count that split a section into equal bins closest to a goal width.

    ISF ``get_binsize``. With ``n = length / bin_size_goal``, the candidates are
    ``max(floor(n), 1)`` and ``ceil(n)`` bins; the one whose width is nearer the goal wins,
    ties go to more bins.

    Bug fixed: ISF returned ``(nan, 0)`` for a zero-length section, which then had no bin and
    lost its synapses; here it is one bin of width 0.

    Parameters
    ----------
    length : float
        Section length in µm, >= 0.
    bin_size_goal : float, default 50.0
        Desired bin width in µm, > 0.

    Returns
    -------
    bin_size : float
        Width of each bin in µm.
    n_bins : int
        Number of bins (>= 1).
    """
    if not np.isfinite(length) or length < 0:
        msg = f"section_bin_size: 'length' must be a finite length >= 0 µm. Got {length!r} instead."
        raise ParamError(msg)
    if not np.isfinite(bin_size_goal) or bin_size_goal <= 0:
        msg = f"section_bin_size: 'bin_size_goal' must be a float in the range (0, inf) µm. Got {bin_size_goal!r} instead."
        raise ParamError(msg)
    if length == 0:
        return 0.0, 1
    n = length / bin_size_goal
    lower = max(int(np.floor(n)), 1)
    upper = max(int(np.ceil(n)), 1)
    if abs(bin_size_goal - length / lower) < abs(bin_size_goal - length / upper):
        return float(length / lower), lower
    return float(length / upper), upper


def bin_index(value: Any, bin_min: float, bin_max: float, n_bins: int, tolerance: float = 0.1) -> Any:
    """1-based index of the equal-width bin of ``[bin_min, bin_max]`` that holds each value.

    ISF ``get_bin``: edges ``linspace(bin_min, bin_max, n_bins + 1)`` with the outer edges
    widened by `tolerance`; intervals are right-open (a value on an interior edge goes to the
    upper bin) and ``bin_max`` itself is in bin ``n_bins``.

    Parameters
    ----------
    value : float or array-like of shape (n,)
        Soma distances in µm.
    bin_min, bin_max : float
        Range of the section in µm.
    n_bins : int
        Number of bins (>= 1).
    tolerance : float, default 0.1
        How far (µm) a value may lie outside ``[bin_min, bin_max]`` and still be binned.

    Returns
    -------
    int or ndarray of int64, shape (n,)
        Bin indices in ``1..n_bins``.

    Raises
    ------
    neurodata.ParamError
        If any value lies `tolerance` or more outside the range (the message names the first
        such value and its position); ISF raised a bare RuntimeError.
    """
    if int(n_bins) < 1:
        msg = f"bin_index: 'n_bins' must be an int >= 1. Got {n_bins!r} instead."
        raise ParamError(msg)
    arr = np.asarray(value, dtype=np.float64)
    edges = np.linspace(bin_min, bin_max, int(n_bins) + 1)
    edges[0] = bin_min - tolerance
    edges[-1] = bin_max + tolerance
    bad = (arr >= edges[-1]) | (arr <= edges[0]) | ~np.isfinite(arr)
    if np.any(bad):
        flat = np.atleast_1d(arr)
        pos = int(np.flatnonzero(np.atleast_1d(bad))[0])
        msg = (
            f"bin_index: value {float(flat[pos]):g} (position {pos}) lies outside the range "
            f"[{float(bin_min):g}, {float(bin_max):g}] µm widened by the tolerance {float(tolerance):g} µm."
        )
        raise ParamError(msg)
    out = np.digitize(arr, edges)
    return int(out) if out.ndim == 0 else out.astype(np.int64)


def section_distances(morphology: Morphology, bin_size_goal: float = 50.0) -> pd.DataFrame:
    """Soma-distance range and bins of every section (ISF ``get_section_distances_df``).

    Bug fixed: ISF ignored the bin size (always 50 µm); `bin_size_goal` is honoured here.

    Parameters
    ----------
    morphology : Morphology
        The cell.
    bin_size_goal : float, default 50.0
        Desired bin width in µm (see `section_bin_size`).

    Returns
    -------
    DataFrame indexed by section ID (0..n_sections-1)
        Columns ``label`` (str), ``min_`` and ``max_`` (µm, float64), ``n_bins`` (int64; 1 for
        the soma, which ISF marked with the string ``'Soma'``) and ``binsize`` (µm; NaN for
        the soma).
    """
    lo, hi = morphology.section_distances()
    n_bins = np.ones(morphology.n_sections, dtype=np.int64)
    size = np.full(morphology.n_sections, np.nan)
    for i in range(morphology.n_sections):
        if morphology.label[i] != SOMA:
            size[i], n_bins[i] = section_bin_size(hi[i] - lo[i], bin_size_goal)
    frame = pd.DataFrame(
        {"label": np.asarray(morphology.label, dtype=object), "min_": lo, "max_": hi, "n_bins": n_bins, "binsize": size}
    )
    frame.index.name = "section_ID"
    return frame


def as_section_distances(section_distances_df: pd.DataFrame) -> pd.DataFrame:
    """A section table in this package's form, from ours or from ISF's ``get_section_distances_df``.

    ISF's table has no ``label`` column and marks the soma row with the string ``'Soma'`` in
    ``n_bins`` and ``binsize`` (object columns); ours has a ``label`` column, ``n_bins = 1``
    and ``binsize = NaN`` for the soma. Both are accepted by every function taking a section
    table; this converts ISF's form (non-soma labels become None; a zero-length section's
    ``n_bins = 0`` becomes one bin of width 0, spec §6.12).

    Parameters
    ----------
    section_distances_df : DataFrame
        Rows in section-ID order (index 0..n-1), columns ``min_``, ``max_`` (µm), ``n_bins``,
        ``binsize`` and optionally ``label``.

    Returns
    -------
    DataFrame
        Columns ``label``, ``min_``, ``max_``, ``n_bins`` (int64), ``binsize`` (float64).

    Raises
    ------
    neurodata.ParamError
        For missing columns, an index other than 0..n-1, or a bad ``n_bins`` entry.
    """
    sdf = section_distances_df
    if "label" in sdf.columns and sdf["n_bins"].dtype.kind in "iu" and sdf["binsize"].dtype.kind == "f":
        return sdf
    missing = [c for c in ("min_", "max_", "n_bins", "binsize") if c not in sdf.columns]
    if missing:
        msg = f"section table: columns {missing} are missing; expected min_, max_, n_bins, binsize (ISF's get_section_distances_df)."
        raise ParamError(msg)
    if not np.array_equal(np.asarray(sdf.index), np.arange(len(sdf))):
        msg = "section table: the index must be the section IDs 0..n-1 in order (ISF's RangeIndex)."
        raise ParamError(msg)
    soma = (sdf["n_bins"].astype(str) == SOMA).to_numpy()
    if "label" in sdf.columns:
        soma |= (sdf["label"].astype(str) == SOMA).to_numpy()
        label = np.where(soma, SOMA, sdf["label"].to_numpy(dtype=object))
    else:
        label = np.where(soma, SOMA, None)
    try:
        n_bins = np.array([1 if s else int(v) for s, v in zip(soma, sdf["n_bins"], strict=True)], dtype=np.int64)
        size = np.array([np.nan if s else float(v) for s, v in zip(soma, sdf["binsize"], strict=True)], dtype=np.float64)
    except (TypeError, ValueError):
        msg = f"section table: 'n_bins' must be an int (or 'Soma' for the soma). Got {sdf['n_bins'].tolist()[:8]} instead."
        raise ParamError(msg) from None
    zero = ~soma & (n_bins == 0)
    n_bins[zero] = 1
    size[zero] = 0.0
    out = pd.DataFrame({"label": label.astype(object), "min_": sdf["min_"].to_numpy(dtype=np.float64),
                        "max_": sdf["max_"].to_numpy(dtype=np.float64), "n_bins": n_bins, "binsize": size})
    out.index.name = "section_ID"
    return out


def _is_soma(sdf: pd.DataFrame, section_id: int) -> bool:
    return str(sdf["label"].iloc[section_id]) == SOMA


def spatial_bin_names(section_distances_df: pd.DataFrame) -> list[str]:
    """Names of all spatial bins in section order: ``'s/0'`` for the soma, ``'s/1'..'s/n'`` else.

    ISF ``get_spatial_bin_names``. This order is the ``spatial_bin`` axis of the ANN batches.

    Parameters
    ----------
    section_distances_df : DataFrame
        From `section_distances`.

    Returns
    -------
    list of str, length n_spatial_bins
    """
    section_distances_df = as_section_distances(section_distances_df)
    names: list[str] = []
    for sec in range(len(section_distances_df)):
        if _is_soma(section_distances_df, sec):
            names.append(f"{sec}/0")
        else:
            names.extend(f"{sec}/{k}" for k in range(1, int(section_distances_df["n_bins"].iloc[sec]) + 1))
    return names


def bin_soma_distances(section_id: int, section_distances_df: pd.DataFrame) -> list[float]:
    """Soma distance (µm) of the centre of every bin of one section.

    ISF ``get_bin_soma_distances_in_section``. Bugs fixed: ISF meant centres but returned left
    edges (``int(i + 0.5) == i``), and raised TypeError for the soma; the soma's single bin is
    at 0 µm here.

    Parameters
    ----------
    section_id : int
        Row of `section_distances_df`.
    section_distances_df : DataFrame
        From `section_distances`.

    Returns
    -------
    list of float, length n_bins of the section
    """
    section_distances_df = as_section_distances(section_distances_df)
    sec = _check_section(section_id, section_distances_df, "bin_soma_distances")
    if _is_soma(section_distances_df, sec):
        return [0.0]
    row = section_distances_df.iloc[sec]
    n = int(row["n_bins"])
    width = (row["max_"] - row["min_"]) / n
    return [float(row["min_"] + (i + 0.5) * width) for i in range(n)]


def _check_section(section_id: Any, sdf: pd.DataFrame, func: str) -> int:
    try:
        sec = int(section_id)
    except (TypeError, ValueError):
        sec = -1
    if not 0 <= sec < len(sdf):
        msg = f"{func}: 'section_id' must be a section index in 0..{len(sdf) - 1}. Got {section_id!r} instead."
        raise ParamError(msg)
    return sec


def _adjacency_map(cell: Any) -> Mapping[int, Mapping[str, Sequence[int]]]:
    if isinstance(cell, Mapping):
        return cell
    if hasattr(cell, "section_adjacency"):
        return cell.section_adjacency()
    if hasattr(cell, "get_section_adjacancy_map"):  # ISF's Cell spells it so
        return cell.get_section_adjacancy_map()
    msg = (
        f"'cell' must be a Morphology, an ISF-like cell with get_section_adjacancy_map(), or a "
        f"mapping {{section: {{'parents': [...], 'children': [...]}}}}. Got {type(cell).__name__} instead."
    )
    raise TypeError(msg)


def _attach_bin(sdf: pd.DataFrame, parent: int, child: int) -> str:
    """Name of the bin of `parent` that contains the start of `child`."""
    if _is_soma(sdf, parent):
        return f"{parent}/0"
    row = sdf.iloc[parent]
    d = min(max(float(sdf["min_"].iloc[child]), row["min_"]), row["max_"])
    return f"{parent}/{bin_index(d, row['min_'], row['max_'], int(row['n_bins']), tolerance=1e-9)}"


#: ``"branch_point"`` (default): daughters starting in the last bin of the same parent are
#: neighbours of each other. ``"isf"``: ISF's rule, asymmetric: a section starting in its
#: parent's last bin is a neighbour of every other child of the parent, also of obliques
#: attached part-way along it (which in turn do not list it).
SIBLING_RULES = ("branch_point", "isf")


def bin_adjacency_in_section(cell: Any, section_id: int, section_distances_df: pd.DataFrame,
                             sibling_rule: str = "branch_point") -> dict[str, list[str]]:
    """Neighbours of every bin of one section, and of the bins it touches in other sections.

    ISF ``get_bin_adjacency_map_in_section``. Consecutive bins of the section are neighbours;
    the first bin is a neighbour of the parent's bin that contains the section's start; each
    child's first bin is a neighbour of the bin of this section containing the child's
    start; and a section starting in the last bin of a (non-soma) parent is a neighbour of
    its siblings: of those also starting in that last bin (``sibling_rule="branch_point"``,
    the daughters of one branch point), or of every other child of the parent
    (``sibling_rule="isf"``, ISF's rule; see `SIBLING_RULES`). Every pair is listed both ways.

    Bugs fixed: ISF raised TypeError for the soma and for sections attached to the soma; it
    chose the parent bin by nearest *left edge*, which can be the bin after the attach point;
    and it listed duplicates. Lists are sorted and unique here.

    Parameters
    ----------
    cell : Morphology or mapping
        Gives the section adjacency ``{i: {'parents': [...], 'children': [...]}}``.
    section_id : int
        Section whose bins are queried.
    section_distances_df : DataFrame
        From `section_distances` (or ISF's form, see `as_section_distances`).
    sibling_rule : {"branch_point", "isf"}, default "branch_point"

    Returns
    -------
    dict of str to list of str
    """
    if sibling_rule not in SIBLING_RULES:
        msg = f"bin_adjacency_in_section: 'sibling_rule' must be one of {list(SIBLING_RULES)}. Got {sibling_rule!r} instead."
        raise ParamError(msg)
    sdf = as_section_distances(section_distances_df)
    sec = _check_section(section_id, sdf, "bin_adjacency_in_section")
    adj = _adjacency_map(cell)
    pairs: set[tuple[str, str]] = set()
    if _is_soma(sdf, sec):
        for c in adj[sec]["children"]:
            pairs.add((f"{sec}/0", f"{c}/1"))
    else:
        n = int(sdf["n_bins"].iloc[sec])
        pairs.update((f"{sec}/{k}", f"{sec}/{k + 1}") for k in range(1, n))
        for p in adj[sec]["parents"]:
            pbin = _attach_bin(sdf, p, sec)
            pairs.add((f"{sec}/1", pbin))
            if not _is_soma(sdf, p) and pbin == f"{p}/{int(sdf['n_bins'].iloc[p])}":
                for c in adj[p]["children"]:
                    if c != sec and (sibling_rule == "isf" or _attach_bin(sdf, p, c) == pbin):
                        pairs.add((f"{sec}/1", f"{c}/1"))
        for c in adj[sec]["children"]:
            pairs.add((f"{c}/1", _attach_bin(sdf, sec, c)))
    out: dict[str, set[str]] = {}
    for a, b in pairs:
        out.setdefault(a, set()).add(b)
        out.setdefault(b, set()).add(a)
    return {k: sorted(v, key=_bin_sort_key) for k, v in sorted(out.items(), key=lambda kv: _bin_sort_key(kv[0]))}


def _bin_sort_key(name: str) -> tuple[int, int]:
    s, b = name.split("/")
    return int(s), int(b)


def _parse_bin(bin_id: str, sdf: pd.DataFrame, func: str) -> tuple[int, int]:
    try:
        s, b = (int(x) for x in str(bin_id).split("/"))
    except ValueError:
        s, b = -1, -1
    if 0 <= s < len(sdf):
        valid = (0, 0) if _is_soma(sdf, s) else (1, int(sdf["n_bins"].iloc[s]))
        if valid[0] <= b <= valid[1]:
            return s, b
        msg = f"{func}: bin {bin_id!r} does not exist; section {s} has bins {valid[0]}..{valid[1]}."
        raise ParamError(msg)
    msg = f"{func}: 'bin_id' must be '<section>/<bin>' with a section in 0..{len(sdf) - 1}. Got {bin_id!r} instead."
    raise ParamError(msg)


def neighbouring_spatial_bins(cell: Any, bin_id: str, section_distances_df: pd.DataFrame,
                              sibling_rule: str = "branch_point") -> list[str]:
    """All spatial bins adjacent to `bin_id` (ISF ``get_neighboring_spatial_bins``).

    Works for the soma bin ``'0/0'`` and for first-order sections (ISF raised there).

    Parameters
    ----------
    cell : Morphology or mapping
        See `bin_adjacency_in_section`.
    bin_id : str
        ``'<section>/<bin>'``.
    section_distances_df : DataFrame
        From `section_distances` (or ISF's form).
    sibling_rule : {"branch_point", "isf"}, default "branch_point"
        See `bin_adjacency_in_section`.

    Returns
    -------
    list of str
        Sorted by (section, bin).

    Raises
    ------
    neurodata.ParamError
        If `bin_id` is malformed or names a bin that does not exist.
    """
    sdf = as_section_distances(section_distances_df)
    s, _ = _parse_bin(bin_id, sdf, "neighbouring_spatial_bins")
    return bin_adjacency_in_section(cell, s, sdf, sibling_rule).get(str(bin_id), [])


def spatial_bin_adjacency(cell: Any, section_distances_df: pd.DataFrame,
                          sibling_rule: str = "branch_point") -> list[tuple[str, str]]:
    """Every adjacent pair of spatial bins of the cell, each once as ``(a, b)`` with a < b.

    With ``sibling_rule="isf"`` this is the union of ISF's per-section maps (a pair listed
    by either of its sections).

    Parameters
    ----------
    cell : Morphology, ISF-like cell or mapping
        See `bin_adjacency_in_section`.
    section_distances_df : DataFrame
        From `section_distances` (or ISF's form).
    sibling_rule : {"branch_point", "isf"}, default "branch_point"
        See `bin_adjacency_in_section`.
    """
    section_distances_df = as_section_distances(section_distances_df)
    pairs: set[tuple[str, str]] = set()
    for sec in range(len(section_distances_df)):
        for a, nbs in bin_adjacency_in_section(cell, sec, section_distances_df, sibling_rule).items():
            for b in nbs:
                pairs.add(tuple(sorted((a, b), key=_bin_sort_key)))
    return sorted(pairs, key=lambda ab: (_bin_sort_key(ab[0]), _bin_sort_key(ab[1])))


def spatial_bin_table(section_distances_df: pd.DataFrame) -> pd.DataFrame:
    """One row per spatial bin: name, section, bin, label, start, end and centre soma distance (µm).

    Parameters
    ----------
    section_distances_df : DataFrame
        From `section_distances` (or ISF's form).
    """
    section_distances_df = as_section_distances(section_distances_df)
    rows = []
    for sec in range(len(section_distances_df)):
        row = section_distances_df.iloc[sec]
        if _is_soma(section_distances_df, sec):
            rows.append((f"{sec}/0", sec, 0, row["label"], 0.0, 0.0, 0.0))
            continue
        n = int(row["n_bins"])
        w = (row["max_"] - row["min_"]) / n
        for k in range(n):
            lo = row["min_"] + k * w
            rows.append((f"{sec}/{k + 1}", sec, k + 1, row["label"], lo, lo + w, lo + 0.5 * w))
    return pd.DataFrame(rows, columns=["name", "section", "bin", "label", "start", "end", "centre"])


@dataclass(frozen=True)
class SpatialBins:
    """The spatial bins of a cell (what the ``isf_spatial_bins`` artifact holds).

    Attributes
    ----------
    section_distances : DataFrame
        From `section_distances`: one row per section.
    table : DataFrame
        From `spatial_bin_table`: one row per bin, in the order of `names`.
    names : list of str
        ``'<section>/<bin>'``, in `spatial_bin_names` order.
    adjacency : ndarray of int64, shape (n_pairs, 2)
        Positions (in `names`) of every adjacent pair (`spatial_bin_adjacency`).
    point_bin : ndarray of int64, shape (n_points,)
        Position of the bin holding each 3D point of the morphology.
    """

    section_distances: pd.DataFrame
    table: pd.DataFrame
    names: list[str]
    adjacency: np.ndarray
    point_bin: np.ndarray


def spatial_bins_of(morphology: Morphology, bin_size_goal: float = 50.0) -> SpatialBins:
    """Bins of every section of *morphology*, their adjacency and the bin of every 3D point.

    Parameters
    ----------
    morphology : Morphology
    bin_size_goal : float, default 50.0
        Goal width of the bins (µm, ISF's default).

    Returns
    -------
    SpatialBins
    """
    # assign_spatial_bins lives with the activation binning, which builds on this module
    from ._activation import assign_spatial_bins

    sdf = section_distances(morphology, bin_size_goal)
    names = spatial_bin_names(sdf)
    position = {name: i for i, name in enumerate(names)}
    pairs = spatial_bin_adjacency(morphology, sdf)
    adjacency = np.array([(position[a], position[b]) for a, b in pairs], dtype=np.int64).reshape(len(pairs), 2)
    _, point_bin = assign_spatial_bins(morphology.point_section, morphology.point_soma_distance(), sdf, tolerance=1e-6)
    return SpatialBins(section_distances=sdf, table=spatial_bin_table(sdf), names=names, adjacency=adjacency,
                       point_bin=point_bin)


def section_distances_from_bins(bins: xr.Dataset) -> pd.DataFrame:
    """The section table (`section_distances`' form) stored in an ``isf_spatial_bins`` Dataset.

    Parameters
    ----------
    bins : Dataset
        An ``isf_spatial_bins`` artifact (or its ``section_*`` variables).

    Returns
    -------
    DataFrame indexed by ``section_ID``
        Columns ``label``, ``min_``, ``max_`` (µm), ``n_bins``, ``binsize`` (µm, NaN for the soma).
    """
    frame = pd.DataFrame({
        "label": np.asarray(bins["section_label"].values).astype(object),
        "min_": np.asarray(bins["section_min_distance"].values, dtype=np.float64),
        "max_": np.asarray(bins["section_max_distance"].values, dtype=np.float64),
        "n_bins": np.asarray(bins["section_n_bins"].values, dtype=np.int64),
        "binsize": np.asarray(bins["section_bin_size"].values, dtype=np.float64),
    })
    frame.index.name = "section_ID"
    return frame
