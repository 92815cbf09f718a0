"""The gfr artifacts as xarray objects (no I/O): ``gfr_cells``, ``gfr_binned``, ``gfr_params``.

Values only; ``units`` and ``long_name`` come from the contracts (:func:`neurodata.schemas.label`).
``gfr_params`` is written by parallel tasks: :func:`params_template` is the whole store before
they run, :func:`params_piece` the rows of one block of cells.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr

from ..schemas import label
from ._dataset import node_name
from ._pipeline import select
from ._simulate import RecordedCells

__all__ = ["as_str", "binned_rows", "binned_tree", "cells_dataset", "concat_recorded", "params_piece",
           "params_template", "sweep_table"]

#: population column -> gfr_cells variable, for the per-cell variables
_CELL_VARS = {
    "rheobase": "rheobase", "tau": "tau", "r_in": "input_resistance", "v_rest": "resting_potential",
    "fi_slope": "fi_slope", "C": "adex_C", "g_L": "adex_g_L", "E_L": "adex_E_L", "V_T": "adex_V_T",
    "Delta_T": "adex_Delta_T", "a": "adex_a", "tau_w": "adex_tau_w", "b_w": "adex_b_w", "V_r": "adex_V_r",
    "V_peak": "adex_V_peak", "t_ref": "adex_t_ref", "sigma_noise": "noise_sigma", "tau_noise": "noise_tau",
}
#: gfr_params per-cell variables of a key: name -> (dims after ``cell``, dtype)
_F, _I = np.dtype(np.float64), np.dtype(np.int64)
_FIT_VARS = {
    "a": (("timescale",), _F), "b": (("timescale",), _F), "poly_coeff": (("coeff",), _F), "g_b": ((), _F),
    "max_current": ((), _F), "max_firing_rate": ((), _F), "val_evr": ((), _F), "test_evr": ((), _F),
    "train_loss": ((), _F), "test_loss": ((), _F), "train_losses": (("epoch",), _F), "test_losses": (("epoch",), _F),
    "restart": ((), _I), "included": ((), np.dtype(np.bool_)), "exclusion_reason": ((), np.dtypes.StringDType()),
}


def _str(values: Any) -> np.ndarray:
    return np.asarray([str(v) for v in values], dtype=object)


def as_str(values: Any) -> np.ndarray:
    """Labels read back from Zarr (numpy StringDType) as an object array of str.

    Parameters
    ----------
    values : array-like
        Labels of any shape; flattened.
    """
    return _str(np.asarray(values).ravel())


def concat_recorded(parts: Sequence[RecordedCells]) -> RecordedCells:
    """Join per-block recordings, renumbering cells, sweeps and spikes.

    Parameters
    ----------
    parts : sequence of RecordedCells
        One recording per block of cells, in the population's order.
    """
    cells, sweeps, sp_sweep, sp_time = [], [], [], []
    n_cells = n_sweeps = 0
    for part in parts:
        cells.append(part.cells)
        sw = part.sweeps.copy()
        sw["cell"] += n_cells
        sweeps.append(sw)
        sp_sweep.append(part.spike_sweep + n_sweeps)
        sp_time.append(part.spike_time)
        n_cells += len(part.cells)
        n_sweeps += len(part.sweeps)
    return RecordedCells(pd.concat(cells, ignore_index=True), pd.concat(sweeps, ignore_index=True),
                         np.concatenate(sp_sweep).astype(np.int64), np.concatenate(sp_time))


def cells_dataset(rec: RecordedCells, *, dt: float, noise_seeds: Sequence[int], attrs: Mapping[str, Any]) -> xr.Dataset:
    """The ``gfr_cells`` Dataset: metadata per cell, recipe per sweep, spike times.

    Parameters
    ----------
    rec : RecordedCells
        The recorded population (:func:`concat_recorded` of the blocks).
    dt : float
        Sampling step [ms].
    noise_seeds : sequence of int
        Phase seeds of Noise 1 and Noise 2 (the waveforms are rebuilt from them).
    attrs : mapping
        Further dataset attrs (title).

    Returns
    -------
    xarray.Dataset
        Dims ``cell`` (coordinate = specimen id), ``sweep`` and ``spike``.
    """
    c, sw = rec.cells, rec.sweeps
    ids = c["specimen_id"].to_numpy(np.int64)
    is_ramp = (sw["stimulus_name"] == "Ramp").to_numpy()
    amplitude = sw["amplitude"].to_numpy(np.float64)
    data = {name: ("cell", c[col].to_numpy(np.float64)) for col, name in _CELL_VARS.items()}
    data.update({
        "missing_noise": ("cell", _str(c["missing_noise"])),
        "amplitude": ("sweep", np.where(is_ramp, np.nan, amplitude)),
        "ramp_slope": ("sweep", np.where(is_ramp, amplitude, np.nan)),
        "onset": ("sweep", sw["onset_ms"].to_numpy(np.float64)),
        "duration": ("sweep", sw["duration_ms"].to_numpy(np.float64)),
        "n_samples": ("sweep", sw["n_samples"].to_numpy(np.int64)),
        "spike_time": ("spike", rec.spike_time.astype(np.float64)),
        "spike_sweep": ("spike", rec.spike_sweep.astype(np.int64)),
    })
    coords = {
        "cell": ("cell", ids),
        "line_name": ("cell", _str(c["line_name"])),
        "species": ("cell", _str(c["species"])),
        "dendrite_type": ("cell", _str(c["dendrite_type"])),
        "cell_class": ("cell", _str(c["cell_class"])),
        "sweep": ("sweep", np.arange(len(sw), dtype=np.int64)),
        "sweep_cell": ("sweep", ids[sw["cell"].to_numpy()]),
        "stimulus_name": ("sweep", _str(sw["stimulus_name"])),
        "repeat": ("sweep", sw["repeat"].to_numpy(np.int64)),
    }
    ds = xr.Dataset(data, coords=coords, attrs={"dt_ms": float(dt), "sampling_rate_hz": 1000.0 / dt,
                                                "noise_seeds": [int(s) for s in noise_seeds], **attrs})
    return label(ds, "gfr_cells")


def sweep_table(ds: xr.Dataset) -> pd.DataFrame:
    """Per-sweep recipe of a ``gfr_cells`` Dataset (what :func:`bin_sweeps` takes).

    Parameters
    ----------
    ds : xarray.Dataset
        A ``gfr_cells`` Dataset.

    Returns
    -------
    pandas.DataFrame
        One row per sweep: ``cell`` (row of the cell), ``stimulus_name``, ``kind``,
        ``amplitude`` (pA; pA/ms for Ramp), ``onset_ms``, ``duration_ms``, ``n_samples``, ``repeat``.
    """
    from ._stimuli import KIND_CODES

    names = as_str(ds["stimulus_name"].values)
    amp = np.where(names == "Ramp", ds["ramp_slope"].values, ds["amplitude"].values)
    cell_pos = pd.Index(np.asarray(ds["cell"].values)).get_indexer(np.asarray(ds["sweep_cell"].values))
    return pd.DataFrame({"cell": cell_pos, "stimulus_name": names, "kind": [KIND_CODES[n] for n in names],
                         "amplitude": amp, "onset_ms": ds["onset"].values, "duration_ms": ds["duration"].values,
                         "n_samples": ds["n_samples"].values, "repeat": ds["repeat"].values})


def binned_tree(binned: Mapping[int, tuple[np.ndarray, np.ndarray, np.ndarray]], gamma: np.ndarray,
                cells: xr.Dataset, table: pd.DataFrame, attrs: Mapping[str, Any]) -> xr.DataTree:
    """The ``gfr_binned`` DataTree: root has gamma per cell, ``bin_<ms>`` nodes the binned sweeps.

    Parameters
    ----------
    binned : mapping
        ``{bin_ms: (current, rate, n_bins)}`` as :func:`bin_sweeps` returns (pA, spikes/ms).
    gamma : ndarray of shape (n_cells,)
        Maximal firing rate [spikes/ms].
    cells : xarray.Dataset
        The ``gfr_cells`` Dataset the sweeps come from.
    table : pandas.DataFrame
        Its :func:`sweep_table`.
    attrs : mapping
        Root attrs.
    """
    ids = np.asarray(cells["cell"].values)
    sweep_coords = {
        "sweep": ("sweep", np.arange(len(table), dtype=np.int64)),
        "sweep_cell": ("sweep", ids[table["cell"].to_numpy()]),
        "stimulus_name": ("sweep", _str(table["stimulus_name"])),
        "repeat": ("sweep", table["repeat"].to_numpy(np.int64)),
    }
    nodes = {"/": xr.Dataset({"max_firing_rate": ("cell", gamma.astype(np.float64))}, coords={"cell": ("cell", ids)},
                             attrs=dict(attrs))}
    for b, (cur, rate, n_bins) in binned.items():
        nodes[f"bin_{b}"] = xr.Dataset(
            {"current": (("sweep", "time_bin"), cur.astype(np.float32)),
             "rate": (("sweep", "time_bin"), rate.astype(np.float32)),
             "n_bins": ("sweep", n_bins.astype(np.int64))},
            coords={**sweep_coords, "time_bin": ("time_bin", np.arange(cur.shape[1], dtype=np.float64) * b)},
            attrs={"bin_size_ms": int(b)})
    return label(xr.DataTree.from_dict(nodes), "gfr_binned")


def _timescales(bin_size: int) -> np.ndarray:
    """tau [ms] of each decay coefficient of a key (0 for the memoryless one)."""
    from ._model import TAUS_MS

    return np.array([0.0] + [t for t in TAUS_MS if t >= bin_size])


def params_template(keys: Sequence[tuple[int, int]], degrees: Mapping[int, int], ids: np.ndarray, cre_line: np.ndarray,
                    species: np.ndarray, *, n_epochs: int, attrs: Mapping[str, Any]) -> xr.DataTree:
    """The ``gfr_params`` store before its tasks fill it: one ``bin_<dt>_actv_<dt'>`` node per key.

    Each node holds the per-cell variables (lazy, filled by :func:`params_piece`) and the
    key's decay coefficients ``ds``; the root lists the keys.

    Parameters
    ----------
    keys : sequence of (int, int)
        (bin_size, activation_bin_size) [ms].
    degrees : mapping
        Polynomial degree per activation bin size.
    ids, cre_line, species : ndarray of shape (n_cells,)
        Specimen ids (increasing), line names ('' for human cells) and donor species.
    n_epochs : int
        Epochs of every restart (the length of the loss curves).
    attrs : mapping
        Root attrs (title, selection thresholds).
    """
    from ._model import decay_coefficients

    n = ids.size
    nodes = {"/": xr.Dataset(coords={"key": ("key", np.array([node_name(*k) for k in keys], dtype=object)),
                                     "bin_size": ("key", np.array([k[0] for k in keys], np.int64)),
                                     "activation_bin_size": ("key", np.array([k[1] for k in keys], np.int64))},
                             attrs=dict(attrs))}
    for bs, ab in keys:
        taus = _timescales(bs)
        sizes = {"cell": n, "timescale": taus.size, "coeff": degrees[ab] + 1, "epoch": n_epochs}
        data = {}
        for name, (dims, dtype) in _FIT_VARS.items():
            shape = tuple(sizes[d] for d in ("cell", *dims))
            lazy = (da.from_array(np.full(shape, "", dtype=dtype), chunks=shape) if dtype.kind == "T"  # strings: no empty()
                    else da.empty(shape, dtype=dtype, chunks=shape))
            data[name] = (("cell", *dims), lazy)
        data["ds"] = ("timescale", decay_coefficients(bs).numpy().astype(np.float64))
        nodes[node_name(bs, ab)] = xr.Dataset(
            data,
            coords={"cell": ("cell", np.asarray(ids, np.int64)), "cre_line": ("cell", _str(cre_line)),
                    "species": ("cell", _str(species)), "timescale": ("timescale", taus),
                    "coeff": ("coeff", np.arange(sizes["coeff"], dtype=np.int64)),
                    "epoch": ("epoch", np.arange(n_epochs, dtype=np.int64))},
            attrs={"bin_size": int(bs), "activation_bin_size": int(ab), "degree": int(degrees[ab])})
    return label(xr.DataTree.from_dict(nodes), "gfr_params")


def params_piece(keys: Sequence[tuple[int, int]], degrees: Mapping[int, int], reasons: np.ndarray,
                 fits: Mapping[tuple[int, int], Mapping[str, np.ndarray] | None], *, n_epochs: int,
                 min_val_evr: float, max_train_loss: float) -> dict[str, xr.Dataset]:
    """The rows of one block of cells of every key node of ``gfr_params``, selection included.

    A cell the block did not fit (screened out, or no restart with a defined EVR) has NaN
    parameters and restart -1, written explicitly.

    Parameters
    ----------
    keys : sequence of (int, int)
        (bin_size, activation_bin_size) [ms].
    degrees : mapping
        Polynomial degree per activation bin size.
    reasons : ndarray of str, shape (n_cells,)
        Screening reasons of the block's cells ('' for fitted cells).
    fits : mapping
        ``{key: arrays of shape (n_cells, ...)}`` from :func:`fit_block` (None for a key no cell
        of the block was fitted for).
    n_epochs : int
        Length of the loss curves (the template's ``epoch``).
    min_val_evr, max_train_loss : float
        The release criteria (:func:`select`).

    Returns
    -------
    dict of str to xarray.Dataset
        ``{node path: rows}`` with dim ``cell`` of length n_cells.
    """
    n = np.asarray(reasons).size
    pieces = {}
    for bs, ab in keys:
        sizes = {"timescale": _timescales(bs).size, "coeff": degrees[ab] + 1, "epoch": n_epochs}
        f = fits.get((bs, ab))
        rows = {}
        for name, (dims, dtype) in _FIT_VARS.items():
            if name in ("included", "exclusion_reason"):
                continue
            values = np.full((n, *(sizes[d] for d in dims)), -1 if dtype.kind == "i" else np.nan, dtype=dtype)
            if f is not None:
                given = np.asarray(f[name])
                if "epoch" in dims:  # the loss curves of the block, as long as its longest restart
                    width = min(given.shape[1], n_epochs)
                    values[:, :width] = given[:, :width]
                else:
                    values[...] = given
            rows[name] = values
        included, why = select(rows["val_evr"], rows["train_loss"], reasons, min_val_evr=min_val_evr,
                               max_train_loss=max_train_loss)
        rows["included"], rows["exclusion_reason"] = included, _str(why)
        pieces[node_name(bs, ab)] = xr.Dataset({name: (("cell", *_FIT_VARS[name][0]), v) for name, v in rows.items()})
    return pieces


def binned_rows(tree: xr.DataTree, start: int, stop: int, bin_sizes: Sequence[int]) -> dict[str, Any]:
    """The binned sweeps of the cells ``[start, stop)`` of a ``gfr_binned`` tree, as :func:`fit_block` takes them.

    Parameters
    ----------
    tree : xarray.DataTree
        The ``gfr_binned`` artifact (lazy: only the block's sweeps are read).
    start, stop : int
        Cell positions (the root's ``cell`` order).
    bin_sizes : sequence of int
        The ``bin_<ms>`` nodes to read [ms].

    Returns
    -------
    dict
        ``sweep_cell`` (cell row within the block of each sweep), ``names`` (stimulus names),
        ``binned`` (``{bin_ms: (current, rate, n_bins)}``, float64, cut to the block's longest
        sweep), ``gamma`` [spikes/ms] and ``specimen_ids`` of the block's cells.
    """
    root = tree.to_dataset(inherit=False)
    ids = np.asarray(root["cell"].values)[start:stop]
    gamma = np.asarray(root["max_firing_rate"].values, np.float64)[start:stop]
    sweeps = tree[f"bin_{bin_sizes[0]}"].to_dataset(inherit=False)   # every node has the same sweeps
    sweep_cell_ids = np.asarray(sweeps["sweep_cell"].values)
    rows = np.flatnonzero(np.isin(sweep_cell_ids, ids))
    binned = {}
    for b in bin_sizes:
        node = tree[f"bin_{b}"].to_dataset(inherit=False).isel(sweep=rows)
        n_bins = np.asarray(node["n_bins"].values)
        node = node.isel(time_bin=slice(0, int(n_bins.max()) if n_bins.size else 0))
        binned[int(b)] = (np.asarray(node["current"].values, np.float64), np.asarray(node["rate"].values, np.float64),
                          n_bins)
    return {"sweep_cell": np.searchsorted(ids, sweep_cell_ids[rows]), "names": as_str(sweeps["stimulus_name"].values)[rows],
            "binned": binned, "gamma": gamma, "specimen_ids": ids}
