"""Spatial bins of a morphology: per-section bins of about equal size, their names and adjacency.

Re-implements from its behavioural spec (not its code) the binning part of ISF's
``data_base.db_initializers.prepare_ANN_batches``. Names are ``"<section>/<bin>"``; bin 1 of
a section starts at the section's soma distance ``min_``; the soma is the single bin
``"<soma>/0"``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._morphology import SOMA, Morphology

__all__ = [
    "bin_adjacency_in_section",
    "bin_index",
    "bin_soma_distances",
    "neighbouring_spatial_bins",
    "section_bin_size",
    "section_distances",
    "spatial_bin_adjacency",
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
        raise ValueError(msg)
    if not np.isfinite(bin_size_goal) or bin_size_goal <= 0:
        msg = f"section_bin_size: 'bin_size_goal' must be a float in the range (0, inf) µm. Got {bin_size_goal!r} instead."
        raise ValueError(msg)
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
    ValueError
        If any value lies `tolerance` or more outside the range (the message names the first
        such value and its position); ISF raised a bare RuntimeError.
    """
    if int(n_bins) < 1:
        msg = f"bin_index: 'n_bins' must be an int >= 1. Got {n_bins!r} instead."
        raise ValueError(msg)
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
        raise ValueError(msg)
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
        raise ValueError(msg)
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


def bin_adjacency_in_section(cell: Any, section_id: int, section_distances_df: pd.DataFrame) -> dict[str, list[str]]:
    """Neighbours of every bin of one section, and of the bins it touches in other sections.

    ISF ``get_bin_adjacency_map_in_section``. Consecutive bins of the section are neighbours;
    the first bin is a neighbour of the parent's bin that contains the section's start; each
    child's first bin is a neighbour of the bin of this section containing the child's
    start; sections that start in the last bin of the same (non-soma) parent, i.e. daughters
    of one branch point, are neighbours of each other. Every pair is listed both ways.

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
        From `section_distances`.

    Returns
    -------
    dict of str to list of str
    """
    sdf = section_distances_df
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
                    if c != sec and _attach_bin(sdf, p, c) == pbin:
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
        raise ValueError(msg)
    msg = f"{func}: 'bin_id' must be '<section>/<bin>' with a section in 0..{len(sdf) - 1}. Got {bin_id!r} instead."
    raise ValueError(msg)


def neighbouring_spatial_bins(cell: Any, bin_id: str, section_distances_df: pd.DataFrame) -> list[str]:
    """All spatial bins adjacent to `bin_id` (ISF ``get_neighboring_spatial_bins``).

    Works for the soma bin ``'0/0'`` and for first-order sections (ISF raised there).

    Parameters
    ----------
    cell : Morphology or mapping
        See `bin_adjacency_in_section`.
    bin_id : str
        ``'<section>/<bin>'``.
    section_distances_df : DataFrame
        From `section_distances`.

    Returns
    -------
    list of str
        Sorted by (section, bin).

    Raises
    ------
    ValueError
        If `bin_id` is malformed or names a bin that does not exist.
    """
    s, _ = _parse_bin(bin_id, section_distances_df, "neighbouring_spatial_bins")
    return bin_adjacency_in_section(cell, s, section_distances_df).get(str(bin_id), [])


def spatial_bin_adjacency(cell: Any, section_distances_df: pd.DataFrame) -> list[tuple[str, str]]:
    """Every adjacent pair of spatial bins of the cell, each once as ``(a, b)`` with a < b."""
    pairs: set[tuple[str, str]] = set()
    for sec in range(len(section_distances_df)):
        for a, nbs in bin_adjacency_in_section(cell, sec, section_distances_df).items():
            for b in nbs:
                pairs.add(tuple(sorted((a, b), key=_bin_sort_key)))
    return sorted(pairs, key=lambda ab: (_bin_sort_key(ab[0]), _bin_sort_key(ab[1])))


def spatial_bin_table(section_distances_df: pd.DataFrame) -> pd.DataFrame:
    """One row per spatial bin: name, section, bin, label, start, end and centre soma distance (µm)."""
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
