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

__all__ = ["DF_COLUMNS", "df_from_json", "key_of_node", "load_gfr_model", "node_name", "params_of", "to_json"]

#: the six keys of the release, in the order ``utils.df_from_json`` builds them
KEYS = ((10, 20), (10, 100), (20, 20), (20, 100), (50, 100), (100, 100))
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


def _available(dataset: Any) -> list[tuple[int, int]]:
    if isinstance(dataset, xr.DataTree):
        found = [key_of_node(n) for n in dataset.children if n.startswith("bin_")]
        return [k for k in KEYS if k in found] + sorted(k for k in found if k not in KEYS)
    return list(dataset.keys())


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
        One record per (included cell, key), keys in the original order: ``cell_id``,
        ``cre-line``, ``bin_size``, ``actv_bin_size``, ``val_evr``, ``test_evr``, ``train_loss``,
        ``test_loss``, ``params``.

    Notes
    -----
    Human cells have no cre-line; the original wrote pandas' NaN (not strict JSON). Here it
    is ``null``, which pandas reads back as missing too.
    """
    records = []
    for key in [k for k in KEYS if node_name(*k) in tree.children]:
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
        The six keys of the release, in its order, each a DataFrame with the columns
        :data:`DF_COLUMNS`.

    Raises
    ------
    KeyError
        For a record with a key outside :data:`DF_COLUMNS` or a (bin_size, actv_bin_size) pair
        outside the six keys (the available keys are listed).
    """
    rows: dict[tuple[int, int], list] = {k: [] for k in KEYS}
    for rec in json_list:
        extra = sorted(set(rec) - set(DF_COLUMNS))
        if extra:
            msg = f"Record of cell {rec.get('cell_id')!r} has unknown key(s) {extra}. Expected only {list(DF_COLUMNS)}."
            raise KeyError(msg)
        key = (int(rec["bin_size"]), int(rec["actv_bin_size"]))
        if key not in rows:
            msg = f"Record of cell {rec.get('cell_id')!r} has key {key}, which is not one of {list(rows)}."
            raise KeyError(msg)
        rows[key].append([rec.get(c) for c in DF_COLUMNS])
    return {k: pd.DataFrame(v, columns=list(DF_COLUMNS)) for k, v in rows.items()}


def first_included_cell(tree: Any, bin_size: int, activation_bin_size: int) -> int:
    """The specimen id of the first cell a key's selection kept (0 when none or no such key).

    Parameters
    ----------
    tree : xarray.DataTree
        The ``gfr_params`` artifact.
    bin_size, activation_bin_size : int
        The key [ms].
    """
    import numpy as np

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
    KeyError
        For a key that is not in *dataset* (the available keys are listed) or a cell that is
        not in that key (the original raised ``Exception("Cell id not found")``; KeyError is
        an Exception too).
    """
    from ._model import GFR

    key = (int(bin_size), int(activation_bin_size))
    keys = _available(dataset)
    if key not in keys:
        msg = f"No GFR models for (bin_size, activation_bin_size) = {key}. Available keys: {keys}."
        raise KeyError(msg)
    if isinstance(dataset, xr.DataTree):
        node = dataset[node_name(*key)].to_dataset(inherit=False)
        ids = np.asarray(node["cell"].values)
        hit = np.flatnonzero((ids == int(cell_id)) & np.asarray(node["included"].values))
        if hit.size == 0:
            msg = _cell_missing(cell_id, key, ids[np.asarray(node["included"].values)])
            raise KeyError(msg)
        return GFR.from_params(params_of(node, int(hit[0])))
    df = dataset[key]
    match = df[df["cell_id"] == int(cell_id)]
    if match.empty:
        raise KeyError(_cell_missing(cell_id, key, df["cell_id"].to_numpy()))
    return GFR.from_params(match["params"].iloc[0])


def _cell_missing(cell_id: Any, key: tuple[int, int], ids: np.ndarray) -> str:
    shown = ", ".join(str(int(i)) for i in ids[:10]) + (", ..." if ids.size > 10 else "")
    return f"Cell id not found: {cell_id!r} is not among the {ids.size} cells of key {key} (cell ids: {shown})."
