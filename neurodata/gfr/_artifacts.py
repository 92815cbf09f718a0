"""Labelled xarray forms of the gfr artifacts (no I/O): ``gfr_cells``, ``gfr_binned``, ``gfr_params``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ._dataset import node_name
from ._simulate import RecordedCells

__all__ = ["as_str", "binned_tree", "cells_dataset", "concat_recorded", "params_tree", "sweep_table"]

#: (population column, artifact variable, long_name, units) of the per-cell variables
_CELL_VARS = (
    ("rheobase", "rheobase", "rheobase: smallest 1 s Long Square step that fires (10 pA search)", "pA"),
    ("tau", "tau", "membrane time constant from a -50 pA step", "ms"),
    ("r_in", "input_resistance", "input resistance from a -50 pA step", "MOhm"),
    ("v_rest", "resting_potential", "resting membrane potential", "mV"),
    ("fi_slope", "fi_slope", "f-I slope over suprathreshold Long Square steps", "Hz/pA"),
    ("C", "adex_C", "AdEx membrane capacitance", "pF"),
    ("g_L", "adex_g_L", "AdEx leak conductance", "nS"),
    ("E_L", "adex_E_L", "AdEx leak reversal potential", "mV"),
    ("V_T", "adex_V_T", "AdEx threshold potential (mean over sweeps)", "mV"),
    ("Delta_T", "adex_Delta_T", "AdEx slope factor", "mV"),
    ("a", "adex_a", "AdEx subthreshold adaptation", "nS"),
    ("tau_w", "adex_tau_w", "AdEx adaptation time constant", "ms"),
    ("b_w", "adex_b_w", "AdEx spike-triggered adaptation", "pA"),
    ("V_r", "adex_V_r", "AdEx reset potential", "mV"),
    ("V_peak", "adex_V_peak", "AdEx spike detection potential", "mV"),
    ("t_ref", "adex_t_ref", "AdEx refractory period", "ms"),
    ("sigma_noise", "noise_sigma", "SD of the intrinsic Ornstein-Uhlenbeck current", "pA"),
    ("tau_noise", "noise_tau", "time constant of the intrinsic Ornstein-Uhlenbeck current", "ms"),
)


def _a(long_name: str, units: str | None = None) -> dict[str, str]:
    return {"long_name": long_name, **({"units": units} if units else {})}


def _str(values) -> np.ndarray:
    return np.asarray([str(v) for v in values], dtype=object)


def as_str(values) -> np.ndarray:
    """Labels read back from Zarr (numpy StringDType) as an object array of str."""
    return _str(np.asarray(values).ravel())


def concat_recorded(parts: list[RecordedCells]) -> RecordedCells:
    """Join per-block recordings, renumbering cells, sweeps and spikes."""
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


def cells_dataset(rec: RecordedCells, *, dt: float, noise_seeds: list[int], attrs: dict) -> xr.Dataset:
    """The ``gfr_cells`` Dataset: metadata per cell, recipe per sweep, spike times.

    Dims ``cell`` (coordinate = specimen id), ``sweep`` and ``spike``.
    """
    c, sw = rec.cells, rec.sweeps
    ids = c["specimen_id"].to_numpy(np.int64)
    is_ramp = (sw["stimulus_name"] == "Ramp").to_numpy()
    data = {
        col_out: ("cell", c[col].to_numpy(np.float64), _a(ln, u)) for col, col_out, ln, u in _CELL_VARS
    }
    data.update({
        "missing_noise": ("cell", _str(c["missing_noise"]),
                          _a("noise stimulus not recorded for this cell ('' = none)")),
        "amplitude": ("sweep", np.where(is_ramp, np.nan, sw["amplitude"].to_numpy(np.float64)),
                      _a("Long Square step amplitude, or the rheobase scaling a noise sweep (NaN for Ramp)", "pA")),
        "ramp_slope": ("sweep", np.where(is_ramp, sw["amplitude"].to_numpy(np.float64), np.nan),
                       _a("Ramp slope (NaN for other stimuli)", "pA/ms")),
        "onset": ("sweep", sw["onset_ms"].to_numpy(np.float64), _a("stimulus onset from sweep start", "ms")),
        "duration": ("sweep", sw["duration_ms"].to_numpy(np.float64), _a("step or ramp duration", "ms")),
        "n_samples": ("sweep", sw["n_samples"].to_numpy(np.int64), _a("recorded samples (sampling step dt_ms)")),
        "spike_time": ("spike", rec.spike_time.astype(np.float64), _a("spike time from sweep start", "s")),
        "spike_sweep": ("spike", rec.spike_sweep.astype(np.int64), _a("sweep of the spike")),
    })
    coords = {
        "cell": ("cell", ids, _a("specimen id (synthetic, outside the Allen range)")),
        "line_name": ("cell", _str(c["line_name"]), _a("transgenic line ('' for human cells)")),
        "species": ("cell", _str(c["species"]), _a("donor species")),
        "dendrite_type": ("cell", _str(c["dendrite_type"]), _a("dendrite type")),
        "cell_class": ("cell", _str(c["cell_class"]), _a("class archetype the cell was drawn from")),
        "sweep": ("sweep", np.arange(len(sw), dtype=np.int64), _a("sweep number")),
        "sweep_cell": ("sweep", ids[sw["cell"].to_numpy()], _a("specimen id of the sweep's cell")),
        "stimulus_name": ("sweep", _str(sw["stimulus_name"]), _a("Allen stimulus name")),
        "repeat": ("sweep", sw["repeat"].to_numpy(np.int64), _a("repeat number within the cell's stimulus")),
    }
    return xr.Dataset(data, coords=coords, attrs={"dt_ms": float(dt), "sampling_rate_hz": 1000.0 / dt,
                                                  "noise_seeds": list(map(int, noise_seeds)), **attrs})


def sweep_table(ds: xr.Dataset) -> pd.DataFrame:
    """Per-sweep recipe of a ``gfr_cells`` Dataset (what :func:`bin_sweeps` takes)."""
    from ._stimuli import KIND_CODES

    names = as_str(ds["stimulus_name"].values)
    amp = np.where(names == "Ramp", ds["ramp_slope"].values, ds["amplitude"].values)
    cell_pos = pd.Index(np.asarray(ds["cell"].values)).get_indexer(np.asarray(ds["sweep_cell"].values))
    return pd.DataFrame({"cell": cell_pos, "stimulus_name": names, "kind": [KIND_CODES[n] for n in names],
                         "amplitude": amp, "onset_ms": ds["onset"].values, "duration_ms": ds["duration"].values,
                         "n_samples": ds["n_samples"].values, "repeat": ds["repeat"].values})


def binned_tree(binned: dict[int, tuple], gamma: np.ndarray, cells: xr.Dataset, table: pd.DataFrame,
                attrs: dict) -> xr.DataTree:
    """The ``gfr_binned`` DataTree: root has gamma per cell, ``bin_<ms>`` nodes the binned sweeps."""
    ids = np.asarray(cells["cell"].values)
    sweep_coords = {
        "sweep": ("sweep", np.arange(len(table), dtype=np.int64), _a("sweep number (as in gfr_cells)")),
        "sweep_cell": ("sweep", ids[table["cell"].to_numpy()], _a("specimen id of the sweep's cell")),
        "stimulus_name": ("sweep", _str(table["stimulus_name"]), _a("Allen stimulus name")),
        "repeat": ("sweep", table["repeat"].to_numpy(np.int64), _a("repeat number within the cell's stimulus")),
    }
    nodes = {"/": xr.Dataset(
        {"max_firing_rate": ("cell", gamma.astype(np.float64),
                             _a("gamma: maximum of 1/ISI over all sweeps", "1/ms"))},
        coords={"cell": ("cell", ids, _a("specimen id"))}, attrs=attrs)}
    for b, (cur, rate, n_bins) in binned.items():
        nodes[f"bin_{b}"] = xr.Dataset(
            {"current": (("sweep", "time_bin"), cur.astype(np.float32), _a("mean injected current in the bin", "pA")),
             "rate": (("sweep", "time_bin"), rate.astype(np.float32), _a("spike count / bin width", "1/ms")),
             "n_bins": ("sweep", n_bins.astype(np.int64), _a("bins of the sweep (NaN beyond)"))},
            coords={**sweep_coords,
                    "time_bin": ("time_bin", np.arange(cur.shape[1], dtype=np.float64) * b,
                                 _a("bin start from the current onset", "ms"))},
            attrs={"bin_size_ms": int(b)})
    return xr.DataTree.from_dict(nodes)


def params_tree(keys: list[tuple[int, int]], degrees: dict[int, int], ids: np.ndarray, cre_line: np.ndarray,
                species: np.ndarray, fits: dict, reasons: np.ndarray, selection: dict, attrs: dict) -> xr.DataTree:
    """The ``gfr_params`` DataTree: one ``bin_<dt>_actv_<dt'>`` node per key plus a count table at the root.

    Parameters
    ----------
    keys : list of (int, int)
    degrees : dict
        Polynomial degree per activation bin size.
    ids, cre_line, species : ndarray of shape (n_cells,)
    fits : dict
        ``{key: arrays}`` from :func:`fit_block`, joined over blocks (None for a key nobody fitted).
    reasons : ndarray of str, shape (n_cells,)
        Screening reasons ('' for fitted cells).
    selection : dict
        ``min_val_evr`` and ``max_train_loss``.
    attrs : dict
        Root attrs.
    """
    from ._model import TAUS_MS, decay_coefficients
    from ._pipeline import select

    n = ids.size
    nodes = {}
    counts = []
    for key in keys:
        bs, ab = key
        ds_vals = decay_coefficients(bs).numpy().astype(np.float64)
        n_ts, n_coef = ds_vals.size, degrees[ab] + 1
        f = fits.get(key)
        if f is None:
            E = 1
            f = {"a": np.full((n, n_ts), np.nan), "b": np.full((n, n_ts), np.nan),
                 "poly_coeff": np.full((n, n_coef), np.nan), **{k: np.full(n, np.nan) for k in (
                     "g_b", "max_current", "max_firing_rate", "val_evr", "test_evr", "train_loss", "test_loss")},
                 "train_losses": np.full((n, E), np.nan), "test_losses": np.full((n, E), np.nan),
                 "restart": np.full(n, -1, np.int64)}
        included, why = select(f["val_evr"], f["train_loss"], reasons, **selection)
        taus = np.array([0.0] + [t for t in TAUS_MS if t >= bs])
        E = f["train_losses"].shape[1]
        cell_dims, ts, cf = ("cell",), ("cell", "timescale"), ("cell", "coeff")
        nodes[node_name(*key)] = xr.Dataset(
            {
                "a": (ts, f["a"], _a("alpha: input weight of each timescale (code convention, no dt)", "1")),
                "b": (ts, f["b"], _a("beta: rate-feedback weight of each timescale (x1000 in the update)", "pA ms")),
                "ds": ("timescale", ds_vals, _a("decay coefficient lambda = 1 - exp(-dt/tau)", "1")),
                "poly_coeff": (cf, f["poly_coeff"], _a("activation polynomial coefficients c_k (enter squared)", "1")),
                "g_b": (cell_dims, f["g_b"], _a("activation threshold current b", "pA")),
                "max_current": (cell_dims, f["max_current"], _a("sigma: activation current scale", "pA")),
                "max_firing_rate": (cell_dims, f["max_firing_rate"], _a("gamma: maximal firing rate", "1/ms")),
                "val_evr": (cell_dims, f["val_evr"], _a("explained variance ratio on Noise 1 (validation)", "1")),
                "test_evr": (cell_dims, f["test_evr"], _a("explained variance ratio on Noise 2 (test)", "1")),
                "train_loss": (cell_dims, f["train_loss"], _a("last-epoch training Poisson NLL per bin", "1")),
                "test_loss": (cell_dims, f["test_loss"], _a("last-epoch Noise 2 Poisson NLL per bin", "1")),
                "train_losses": (("cell", "epoch"), f["train_losses"], _a("training NLL per bin per epoch", "1")),
                "test_losses": (("cell", "epoch"), f["test_losses"], _a("Noise 2 NLL per bin per epoch", "1")),
                "restart": (cell_dims, f["restart"].astype(np.int64), _a("chosen restart (-1: not fitted)")),
                "included": (cell_dims, included, _a("passes the release criteria")),
                "exclusion_reason": (cell_dims, _str(why), _a("why the cell is excluded ('' if included)")),
            },
            coords={
                "cell": ("cell", ids.astype(np.int64), _a("specimen id")),
                "cre_line": ("cell", _str(cre_line), _a("cre-line (line_name; '' for human cells)")),
                "species": ("cell", _str(species), _a("donor species")),
                "timescale": ("timescale", taus, _a("filter timescale tau (0 = memoryless)", "ms")),
                "coeff": ("coeff", np.arange(n_coef, dtype=np.int64), _a("polynomial power k")),
                "epoch": ("epoch", np.arange(E, dtype=np.int64), _a("training epoch")),
            },
            attrs={"bin_size": int(bs), "activation_bin_size": int(ab), "degree": int(degrees[ab])},
        )
        counts.append((bs, ab, int(included.sum()), int(np.isfinite(f["val_evr"]).sum())))
    cnt = np.array(counts, dtype=np.int64).reshape(-1, 4)
    nodes["/"] = xr.Dataset(
        {"n_cells": ("key", cnt[:, 2], _a("cells satisfying the release criteria")),
         "n_fitted": ("key", cnt[:, 3], _a("cells fitted (defined validation EVR)")),
         "n_candidates": ("key", np.full(len(counts), n, np.int64), _a("cells in the population"))},
        coords={"key": ("key", np.array([node_name(*k[:2]) for k in counts], dtype=object), _a("node of the key")),
                "bin_size": ("key", cnt[:, 0], _a("model bin size", "ms")),
                "activation_bin_size": ("key", cnt[:, 1], _a("activation bin size", "ms"))},
        attrs=attrs)
    return xr.DataTree.from_dict(nodes)
