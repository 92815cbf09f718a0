"""DVC stages of the gfr family: simulate the cells, bin the sweeps, fit the GFR models (per cell block)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .._exceptions import ParamError
from ..params import Boolean, Interval, ListOf, check_params
from ..runner import run_sweep
from ..store import load_artifact, open_artifact, write_artifact
from ._artifacts import as_str, binned_tree, cells_dataset, concat_recorded, params_tree, sweep_table
from ._fit import FitConfig
from ._pipeline import KEYS, fit_block
from ._population import make_population
from ._preprocess import bin_sweeps, max_firing_rate
from ._simulate import record_cells
from ._stimuli import noise_layout

__all__ = ["STAGES", "binned", "cells", "fit_params"]

_SEED = Interval(int, 0, 2**32 - 1)
_BLOCK = Interval(int, 1, None)

CELLS_SPEC = {
    "n_cells": Interval(int, 1, None),
    "seed": _SEED,
    "dt": Interval(float, 0, 0.5, closed="right"),
    "human_fraction": Interval(float, 0, 1),
    "missing_noise_fraction": Interval(float, 0, 1),
    "noise_cv": ListOf(Interval(float, 0, 2, closed="right"), min_len=2, max_len=2, increasing=True),
    "n_noise_repeats": Interval(int, 2, 4),
    "n_ramp_repeats": Interval(int, 1, 3),
    "vt_jitter": Interval(float, 0, 5),
    "noise_seeds": ListOf(_SEED, min_len=2, max_len=2, unique=True),
    "cells_per_task": _BLOCK,
}
BINNED_SPEC = {
    "bin_sizes": ListOf(Interval(int, 1, 1000), unique=True, increasing=True),
}
PARAMS_SPEC = {
    "keys": ListOf(ListOf(Interval(int, 1, 1000), min_len=2, max_len=2), unique=True),
    "activation_degrees": ListOf(ListOf(Interval(int, 0, 1000), min_len=2, max_len=2), unique=True),
    "activation_epochs": Interval(int, 1, None),
    "activation_repeats": Interval(int, 1, None),
    "activation_lr": Interval(float, 0, None, closed="neither"),
    "restart_lrs": ListOf(Interval(float, 0, None, closed="neither")),
    "epochs": Interval(int, 1, None),
    "min_val_evr": Interval(float, None, None),
    "max_train_loss": Interval(float, None, None),
    "require_noise_sweeps": Boolean(),
    "seed": _SEED,
    "cells_per_task": _BLOCK,
}


def _blocks(n: int, size: int) -> list[tuple[int, int]]:
    return [(i, min(n, i + size)) for i in range(0, n, size)]


def cells(params: Mapping[str, Any], *, data_dir: Path, scheduler: str | None = None) -> list[Path]:
    """Stage ``gfr_cells``: draw the population and record every sweep (one dask task per cell block)."""
    p = check_params(params, CELLS_SPEC, stage="gfr_cells")
    pop = make_population(p["n_cells"], seed=p["seed"], human_fraction=p["human_fraction"],
                          missing_noise_fraction=p["missing_noise_fraction"], noise_cv=tuple(p["noise_cv"]))
    task = functools.partial(record_cells, seed=p["seed"], dt=p["dt"], n_noise_repeats=p["n_noise_repeats"],
                             n_ramp_repeats=p["n_ramp_repeats"], vt_jitter=p["vt_jitter"],
                             noise_seeds=tuple(p["noise_seeds"]))
    parts = run_sweep(task, [pop.iloc[a:b] for a, b in _blocks(len(pop), p["cells_per_task"])],
                      scheduler=scheduler, desc="gfr cells")
    rec = concat_recorded(parts)
    ds = cells_dataset(rec, dt=p["dt"], noise_seeds=p["noise_seeds"],
                       attrs={"title": "Synthetic Allen-like cells: AdEx neurons on Long Square, Ramp, Noise 1/2"})
    return [write_artifact(ds, "gfr_cells", params=p, seeds={"seed": p["seed"], "noise_seeds": p["noise_seeds"]},
                           data_dir=data_dir)]


def binned(params: Mapping[str, Any], *, data_dir: Path, scheduler: str | None = None) -> list[Path]:
    """Stage ``gfr_binned``: onset-aligned binned current and rate per bin size, and gamma per cell."""
    p = check_params(params, BINNED_SPEC, stage="gfr_binned")
    ds = load_artifact("gfr_cells", data_dir=data_dir, verify=True)
    table = sweep_table(ds)
    dt = float(ds.attrs["dt_ms"])
    waves = np.stack([noise_layout(int(s), dt=dt) for s in ds.attrs["noise_seeds"]])
    spike_sweep = ds["spike_sweep"].values
    spike_time = ds["spike_time"].values
    out = bin_sweeps(table["kind"].to_numpy(), table["amplitude"].to_numpy(), table["onset_ms"].to_numpy(),
                     table["duration_ms"].to_numpy(), table["n_samples"].to_numpy(), spike_sweep, spike_time,
                     bin_sizes=p["bin_sizes"], dt=dt, noise_waveforms=waves)
    gamma = max_firing_rate(spike_sweep, spike_time, table["cell"].to_numpy(), ds.sizes["cell"])
    tree = binned_tree(out, gamma, ds, table, attrs={"title": "GFR training data: binned current and rate",
                                                     "dt_ms": dt})
    return [write_artifact(tree, "gfr_binned", params=p, data_dir=data_dir)]


def _check_keys(p: dict[str, Any]) -> tuple[list[tuple[int, int]], dict[int, int]]:
    keys = [tuple(k) for k in p["keys"]]
    degrees = {int(a): int(d) for a, d in p["activation_degrees"]}
    for bs, ab in keys:
        if bs not in (10, 20, 50, 100) or ab not in degrees or ab < bs:
            msg = (f"The 'keys' parameter of stage gfr_params has the pair [{bs}, {ab}]. Expected bin sizes in "
                   f"[10, 20, 50, 100], activation bin sizes among 'activation_degrees' {sorted(degrees)} and "
                   f"activation bin >= bin, e.g. {[list(k) for k in KEYS]}.")
            raise ParamError(msg)
    return keys, degrees


def fit_cell_block(bounds: tuple[int, int], *, data_dir: str, keys: list[tuple[int, int]], degrees: dict[int, int],
                   config: FitConfig, seed: int, require_noise_sweeps: bool) -> tuple[np.ndarray, dict]:
    """One dask task: read the binned sweeps of cells ``[start, stop)`` and fit every key."""
    import dask
    import torch

    torch.set_num_threads(1)
    with dask.config.set(scheduler="synchronous"):   # read in this task, never through the cluster
        return _fit_cell_block(bounds, data_dir=data_dir, keys=keys, degrees=degrees, config=config, seed=seed,
                               require_noise_sweeps=require_noise_sweeps)


def _fit_cell_block(bounds: tuple[int, int], *, data_dir: str, keys: list[tuple[int, int]], degrees: dict[int, int],
                    config: FitConfig, seed: int, require_noise_sweeps: bool) -> tuple[np.ndarray, dict]:
    tree = open_artifact("gfr_binned", data_dir=data_dir)
    root = tree.to_dataset(inherit=False)
    ids = np.asarray(root["cell"].values)[bounds[0]: bounds[1]]
    gamma = np.asarray(root["max_firing_rate"].values)[bounds[0]: bounds[1]]
    first = tree[next(iter(tree.children))].to_dataset(inherit=False)
    sweep_cell_ids = np.asarray(first["sweep_cell"].values)
    rows = np.flatnonzero(np.isin(sweep_cell_ids, ids))
    names = as_str(first["stimulus_name"].values)[rows]
    sweep_cell = np.searchsorted(ids, sweep_cell_ids[rows]) if ids.size else rows
    needed = sorted({k[0] for k in keys} | {k[1] for k in keys})
    binned_block = {}
    for b in needed:
        node = tree[f"bin_{b}"].to_dataset(inherit=False).isel(sweep=rows)
        n_bins = np.asarray(node["n_bins"].values)
        width = int(n_bins.max()) if n_bins.size else 0
        binned_block[b] = (np.asarray(node["current"].values[:, :width], np.float64),
                           np.asarray(node["rate"].values[:, :width], np.float64), n_bins)
    tree.close()
    return fit_block(sweep_cell, names, binned_block, gamma, ids, keys=keys, degrees=degrees, config=config,
                     seed=seed, require_noise_sweeps=require_noise_sweeps)


def fit_params(params: Mapping[str, Any], *, data_dir: Path, scheduler: str | None = None) -> list[Path]:
    """Stage ``gfr_params``: fit every key for every cell (one dask task per cell block), screen, select."""
    p = check_params(params, PARAMS_SPEC, stage="gfr_params")
    keys, degrees = _check_keys(p)
    config = FitConfig(activation_epochs=p["activation_epochs"], activation_repeats=p["activation_repeats"],
                       activation_lr=p["activation_lr"], hparams=[(lr, p["epochs"]) for lr in p["restart_lrs"]])
    cells_ds = load_artifact("gfr_cells", data_dir=data_dir, verify=True)
    binned_root = open_artifact("gfr_binned", data_dir=data_dir, verify=True)
    ids = np.asarray(binned_root["cell"].values)
    binned_root.close()
    if ids.size and np.any(np.diff(ids) <= 0):
        msg = "gfr_binned: cell ids must be sorted increasingly (as gfr_cells writes them)."
        raise ValueError(msg)
    task = functools.partial(fit_cell_block, data_dir=str(data_dir), keys=keys, degrees=degrees, config=config,
                             seed=p["seed"], require_noise_sweeps=p["require_noise_sweeps"])
    parts = run_sweep(task, _blocks(ids.size, p["cells_per_task"]), scheduler=scheduler, desc="gfr fits")
    reasons = np.concatenate([r for r, _ in parts])
    fits = {}
    for key in keys:
        blocks = [f[key] for _, f in parts]
        if all(b is None for b in blocks):
            fits[key] = None
            continue
        template = next(b for b in blocks if b is not None)
        joined = {}
        for name, arr in template.items():
            if name == "ds":
                joined[name] = arr
                continue
            pieces = []
            for (a, b), blk in zip(_blocks(ids.size, p["cells_per_task"]), blocks, strict=True):
                if blk is None:
                    fill = -1 if arr.dtype.kind == "i" else np.nan
                    pieces.append(np.full((b - a, *arr.shape[1:]), fill, dtype=arr.dtype))
                else:
                    pieces.append(blk[name])
            joined[name] = np.concatenate(pieces)
        fits[key] = joined
    tree = params_tree(keys, degrees, ids, as_str(cells_ds["line_name"].values),
                       as_str(cells_ds["species"].values), fits, reasons,
                       {"min_val_evr": p["min_val_evr"], "max_train_loss": p["max_train_loss"]},
                       attrs={"title": "GFR parameters per (bin_size, activation_bin_size)",
                              "min_val_evr": p["min_val_evr"], "max_train_loss": p["max_train_loss"]})
    return [write_artifact(tree, "gfr_params", params=p, seeds={"seed": p["seed"]}, data_dir=data_dir)]


STAGES = {"gfr_cells": cells, "gfr_binned": binned, "gfr_params": fit_params}
