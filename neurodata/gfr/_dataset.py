"""The GFR parameter dataset: DataTree keyed by (bin_size, activation_bin_size), the original JSON layout, the loader.

``to_json`` / ``df_from_json`` / ``load_gfr_model`` follow ``utils.py`` of the original release
so that code written for ``model/gfr_dataset.json`` runs unchanged.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .._exceptions import UnknownName

__all__ = ["DF_COLUMNS", "RELEASE_KEYS", "count_table", "df_from_json", "first_included_cell", "key_of_node",
           "keys_of", "load_gfr_model", "node_name", "params_of", "to_json"]

#: the six (bin_size, activation_bin_size) keys of the published release (``model/gfr_dataset.json``),
#: in the order ``utils.df_from_json`` builds them; the keys a build fits are params.yaml's
#: ``gfr_params.keys``
RELEASE_KEYS = ((10, 20), (10, 100), (20, 20), (20, 100), (50, 100), (100, 100))
#: columns of each DataFrame of ``df_from_json``, in order
DF_COLUMNS = ("cell_id", "cre-line", "bin_size", "actv_bin_size", "val_evr", "test_evr", "train_loss", "test_loss",
              "params")


def node_name(bin_size: int, activation_bin_size: int) -> str:
    """DataTree node of a key, e.g. ``bin_10_actv_20``."""
    return f"bin_{int(bin_size)}_actv_{int(activation_bin_size)}"


def key_of_node(name: str) -> tuple[int, int]:
    """Inverse of :func:`node_name`."""
    parts = name.split("_")
    return int(parts[1]), int(parts[3])


def keys_of(dataset: Any) -> list[tuple[int, int]]:
    """The (bin_size, activation_bin_size) keys of a ``gfr_params`` tree or a :func:`df_from_json` dict.

    The release's keys first, in its order, then any others in increasing order.

    Parameters
    ----------
    dataset : xarray.DataTree or dict
        The ``gfr_params`` artifact, or ``{key: DataFrame}``.

    Examples
    --------
    >>> keys_of({(30, 100): None, (100, 100): None, (10, 20): None})
    [(10, 20), (100, 100), (30, 100)]
    """
    found = [key_of_node(n) for n in dataset.children if n.startswith("bin_")] if isinstance(dataset, xr.DataTree) \
        else [tuple(int(v) for v in k) for k in dataset]
    return [k for k in RELEASE_KEYS if k in found] + sorted(k for k in found if k not in RELEASE_KEYS)


def params_of(node: xr.Dataset, index: int) -> dict[str, Any]:
    """Released-layout parameters of the cell at position *index* of a key's node.

    Returns
    -------
    dict
        ``{"a": [[...]], "b": [[...]], "ds": [...], "bin_size": int, "g": {"max_current": [sigma],
        "max_firing_rate": [gamma], "poly_coeff": [[...]], "b": [b], "bin_size": int}}``.
    """
    row = node.isel(cell=index)
    return {
        "a": [[float(v) for v in np.asarray(row["a"].values)]],
        "b": [[float(v) for v in np.asarray(row["b"].values)]],
        "ds": [float(v) for v in np.asarray(node["ds"].values)],
        "bin_size": int(node.attrs["bin_size"]),
        "g": {
            "max_current": [float(row["max_current"].values)],
            "max_firing_rate": [float(row["max_firing_rate"].values)],
            "poly_coeff": [[float(v) for v in np.asarray(row["poly_coeff"].values)]],
            "b": [float(row["g_b"].values)],
            "bin_size": int(node.attrs["activation_bin_size"]),
        },
    }


def _finite_or_none(value: Any) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def to_json(tree: xr.DataTree, path: str | Path | None = None) -> list[dict[str, Any]]:
    """Export the included cells of every key as the original ``model/gfr_dataset.json`` records.

    Parameters
    ----------
    tree : xarray.DataTree
        The ``gfr_params`` artifact.
    path : path, optional
        Also write the records there as one JSON array.

    Returns
    -------
    list of dict
        One record per (included cell, key), the keys in the order of :func:`keys_of` (the
        release's order), the fields in the original order: ``cell_id``,
        ``cre-line``, ``bin_size``, ``actv_bin_size``, ``val_evr``, ``test_evr``, ``train_loss``,
        ``test_loss``, ``params``.

    Notes
    -----
    Human cells have no cre-line; the original wrote pandas' NaN (not strict JSON). Here it
    is ``null``, which pandas reads back as missing too.
    """
    records = []
    for key in keys_of(tree):
        node = tree[node_name(*key)].to_dataset(inherit=False).load()
        for i in np.flatnonzero(np.asarray(node["included"].values)):
            line = str(node["cre_line"].values[i])
            records.append({
                "cell_id": int(node["cell"].values[i]),
                "cre-line": line if line else None,
                "bin_size": int(key[0]),
                "actv_bin_size": int(key[1]),
                "val_evr": _finite_or_none(node["val_evr"].values[i]),
                "test_evr": _finite_or_none(node["test_evr"].values[i]),
                "train_loss": _finite_or_none(node["train_loss"].values[i]),
                "test_loss": _finite_or_none(node["test_loss"].values[i]),
                "params": params_of(node, int(i)),
            })
    if path is not None:
        Path(path).write_text(json.dumps(records))
    return records


def df_from_json(json_list: list[Mapping[str, Any]]) -> dict[tuple[int, int], pd.DataFrame]:
    """Records of :func:`to_json` (or the original file) as ``{(bin_size, actv_bin_size): DataFrame}``.

    Parameters
    ----------
    json_list : list of dict
        Records as in ``model/gfr_dataset.json``.

    Returns
    -------
    dict
        The six keys of the release, in its order (as the original), then any other key of the
        records in increasing order; each a DataFrame with the columns :data:`DF_COLUMNS`.

    Raises
    ------
    neurodata.UnknownName
        For a record with a field outside :data:`DF_COLUMNS` (a ``KeyError`` too).
    """
    rows: dict[tuple[int, int], list] = {k: [] for k in RELEASE_KEYS}
    for rec in json_list:
        extra = sorted(set(rec) - set(DF_COLUMNS))
        if extra:
            msg = f"Record of cell {rec.get('cell_id')!r} has unknown field(s) {extra}. Expected only {list(DF_COLUMNS)}."
            raise UnknownName(msg)
        rows.setdefault((int(rec["bin_size"]), int(rec["actv_bin_size"])), []).append([rec.get(c) for c in DF_COLUMNS])
    return {k: pd.DataFrame(rows[k], columns=list(DF_COLUMNS)) for k in keys_of(rows)}


def first_included_cell(tree: Any, bin_size: int, activation_bin_size: int) -> int:
    """The specimen id of the first cell a key's selection kept (0 when none or no such key).

    Parameters
    ----------
    tree : xarray.DataTree
        The ``gfr_params`` artifact.
    bin_size, activation_bin_size : int
        The key [ms].
    """
    name = node_name(bin_size, activation_bin_size)
    if name not in tree.children:
        return 0
    node = tree[name].to_dataset(inherit=False)
    included = np.flatnonzero(np.asarray(node["included"].values))
    return int(node["cell"].values[included[0]]) if included.size else 0


def load_gfr_model(dataset: Any, cell_id: int, bin_size: int, activation_bin_size: int) -> Any:
    """The fitted GFR module of one cell and key.

    Parameters
    ----------
    dataset : dict of DataFrame or xarray.DataTree
        ``df_from_json(...)`` output (as the original), or the ``gfr_params`` artifact (then
        only included cells can be loaded, as from the released file).
    cell_id : int
        Specimen id.
    bin_size, activation_bin_size : int
        The key, in ms.

    Returns
    -------
    GFR
        With ``freeze_g=True``; ``model.get_params()`` gives the stored parameters.

    Raises
    ------
    neurodata.UnknownName
        For a key that is not in *dataset* (the available keys are listed) or a cell that is
        not in that key (the original raised ``Exception("Cell id not found")``; UnknownName
        is a ``KeyError``, an Exception too).
    """
    from ._model import GFR

    key = (int(bin_size), int(activation_bin_size))
    keys = keys_of(dataset)
    if key not in keys:
        msg = f"No GFR models for (bin_size, activation_bin_size) = {key}. Available keys: {keys}."
        raise UnknownName(msg)
    if isinstance(dataset, xr.DataTree):
        node = dataset[node_name(*key)].to_dataset(inherit=False)
        ids = np.asarray(node["cell"].values)
        hit = np.flatnonzero((ids == int(cell_id)) & np.asarray(node["included"].values))
        if hit.size == 0:
            msg = _cell_missing(cell_id, key, ids[np.asarray(node["included"].values)])
            raise UnknownName(msg)
        return GFR.from_params(params_of(node, int(hit[0])))
    df = dataset[key]
    match = df[df["cell_id"] == int(cell_id)]
    if match.empty:
        raise UnknownName(_cell_missing(cell_id, key, df["cell_id"].to_numpy()))
    return GFR.from_params(match["params"].iloc[0])


def _cell_missing(cell_id: Any, key: tuple[int, int], ids: np.ndarray) -> str:
    shown = ", ".join(str(int(i)) for i in ids[:10]) + (", ..." if ids.size > 10 else "")
    return f"Cell id not found: {cell_id!r} is not among the {ids.size} cells of key {key} (cell ids: {shown})."


def count_table(tree: xr.DataTree) -> pd.DataFrame:
    """Cells kept per key, as the release README's table: one row per key of a ``gfr_params`` tree.

    Parameters
    ----------
    tree : xarray.DataTree
        The ``gfr_params`` artifact.

    Returns
    -------
    pandas.DataFrame
        Rows in the order of :func:`keys_of`; columns ``bin_size``, ``activation_bin_size`` [ms],
        ``n_cells`` (included: the release criteria hold), ``n_fitted`` (a defined validation
        EVR) and ``n_candidates`` (cells of the population).
    """
    rows = []
    for key in keys_of(tree):
        node = tree[node_name(*key)].to_dataset(inherit=False)
        rows.append({"bin_size": key[0], "activation_bin_size": key[1],
                     "n_cells": int(np.asarray(node["included"].values).sum()),
                     "n_fitted": int(np.isfinite(np.asarray(node["val_evr"].values)).sum()),
                     "n_candidates": int(node.sizes["cell"])})
    return pd.DataFrame(rows, columns=["bin_size", "activation_bin_size", "n_cells", "n_fitted", "n_candidates"])
