"""DVC stages of the gfr family: record the cells, bin the sweeps, fit the GFR models.

Every stage has the same shape: ``@stage`` checks the params against the spec and rules (one
call, before any work), the science runs in dask tasks (``gfr_cells`` one per block of cells
through :func:`neurodata.runner.run_sweep`, ``gfr_params`` one per block through
:func:`neurodata.runner.write_batches`), and :mod:`._artifacts` labels the stores from their
contracts.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .._exceptions import ParamError
from .._pipeline import stage
from ..params import Boolean, Interval, ListOf, Rule
from ..runner import batches, run_sweep, write_batches
from ..seeds import seed_record
from ..store import ArtifactWriter, load_artifact, open_artifact, write_artifact
from ._artifacts import (as_str, binned_rows, binned_tree, cells_dataset, concat_recorded, params_piece,
                         params_template, sweep_table)
from ._calibration import calibration_metrics
from ._dataset import keys_of, node_name
from ._fit import FitConfig
from ._pipeline import fit_block
from ._population import make_population
from ._preprocess import bin_recordings
from ._simulate import record_cells
from ._summaries import cell_counts, key_summary

__all__ = ["BINNED_SPEC", "CELLS_SPEC", "PARAMS_RULES", "PARAMS_SPEC", "STAGES", "binned", "cells", "fit_params"]

_SEED = Interval(int, 0, 2**32 - 1)
_BATCH = Interval(int, 1, None)
_BIN_MS = Interval(int, 1, 1000)

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
    "cells_per_task": _BATCH,
}
BINNED_SPEC = {
    "bin_sizes": ListOf(_BIN_MS, unique=True, increasing=True),
}
PARAMS_SPEC = {
    "keys": ListOf(ListOf(_BIN_MS, min_len=2, max_len=2), unique=True),
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
    "cells_per_task": _BATCH,
}


def _activation_bins(p: Mapping[str, Any]) -> list[int]:
    return [a for a, _ in p["activation_degrees"]]


PARAMS_RULES = (
    Rule(lambda p: len(set(_activation_bins(p))) == len(p["activation_degrees"]), param="activation_degrees",
         must="give one degree per activation bin size (pairs [activation_bin_size, degree], bin sizes distinct)"),
    Rule(lambda p: all(ab in _activation_bins(p) for _, ab in p["keys"]), param="keys",
         must="pair every bin size with an activation bin size that activation_degrees gives a degree for "
              "(activation_degrees={activation_degrees})"),
    Rule(lambda p: all(ab >= bs for bs, ab in p["keys"]), param="keys",
         must="pair every bin size with an activation bin size at least as long ([bin_size, activation_bin_size] [ms])"),
)


def _keys(p: Mapping[str, Any]) -> list[tuple[int, int]]:
    return [(bs, ab) for bs, ab in p["keys"]]


def _bin_sizes(keys: Sequence[tuple[int, int]]) -> list[int]:
    return sorted({b for key in keys for b in key})


def _read(name: str, data_dir: Path, variables: Sequence[str], cell: np.ndarray | None = None, **kw: Any) -> Any:
    """Some variables and every coordinate of an artifact (of a DataTree: of its root), loaded; optionally
    at the cells *cell*."""
    obj = open_artifact(name, data_dir=data_dir, **kw)
    try:
        ds = obj.to_dataset(inherit=False) if isinstance(obj, xr.DataTree) else obj
        ds = ds.drop_vars([v for v in ds.data_vars if v not in variables])
        return (ds if cell is None else ds.sel(cell=cell)).load()
    finally:
        obj.close()


def _cells_metrics(data_dir: Path) -> dict[str, Any]:
    """Cells, sweeps per stimulus and spikes of ``gfr_cells``."""
    c = open_artifact("gfr_cells", data_dir=data_dir)
    try:
        return cell_counts(c["stimulus_name"].values, c["missing_noise"].values, c["cell_class"].values,
                           c["rheobase"].values, c.sizes["spike"])
    finally:
        c.close()


def _params_metrics(data_dir: Path) -> dict[str, Any]:
    """Per key: EVR medians and cell counts; the population's calibration figures against the release."""
    tree = load_artifact("gfr_params", data_dir=data_dir)
    nodes = {key: tree[node_name(*key)].to_dataset(inherit=False) for key in keys_of(tree)}
    ids = next(iter(nodes.values()))["cell"].values
    gamma = _read("gfr_binned", data_dir, ["max_firing_rate"], ids)["max_firing_rate"].values
    c = _read("gfr_cells", data_dir, ["rheobase", "input_resistance", "fi_slope"], ids)
    features = {f: c[f].values for f in ("rheobase", "input_resistance", "fi_slope")}
    figures = calibration_metrics(c["cell_class"].values, features, gamma,
                                  {key: node["included"].values for key, node in nodes.items()})
    return {"keys": {node_name(*key): key_summary(node["val_evr"].values, node["test_evr"].values, node["included"].values,
                                                  node["exclusion_reason"].values) for key, node in nodes.items()},
            "calibration": figures}


@stage("gfr_cells", spec=CELLS_SPEC, metrics=_cells_metrics)
def cells(p: dict[str, Any], *, data_dir: Path, scheduler: str | None = None) -> list[Path]:
    """Stage ``gfr_cells``: draw the population and record every sweep (one dask task per block of cells).

    A block's sweeps, spikes and cell count are known only once it ran, so the blocks come
    back to this process and the store is written whole.
    """
    pop = make_population(p["n_cells"], seed=p["seed"], human_fraction=p["human_fraction"],
                          missing_noise_fraction=p["missing_noise_fraction"], noise_cv=tuple(p["noise_cv"]))
    task = functools.partial(record_cells, seed=p["seed"], dt=p["dt"], n_noise_repeats=p["n_noise_repeats"],
                             n_ramp_repeats=p["n_ramp_repeats"], vt_jitter=p["vt_jitter"],
                             noise_seeds=tuple(p["noise_seeds"]))
    blocks = [pop.iloc[a:b] for a, b in batches(len(pop), p["cells_per_task"])]
    recorded = concat_recorded(run_sweep(task, blocks, scheduler=scheduler, desc="gfr cells"))
    ds = cells_dataset(recorded, dt=p["dt"], noise_seeds=p["noise_seeds"],
                       attrs={"title": "Synthetic Allen-like cells: AdEx neurons on Long Square, Ramp, Noise 1/2"})
    return [write_artifact(ds, "gfr_cells", params=p, seeds=seed_record(p, "seed", "noise_seeds"), data_dir=data_dir)]


@stage("gfr_binned", spec=BINNED_SPEC)
def binned(p: dict[str, Any], *, data_dir: Path, scheduler: str | None = None) -> list[Path]:
    """Stage ``gfr_binned``: onset-aligned binned current and rate per bin size, and gamma per cell."""
    recorded = load_artifact("gfr_cells", data_dir=data_dir, verify=True)
    table = sweep_table(recorded)
    dt = float(recorded.attrs["dt_ms"])
    out, gamma = bin_recordings(table, recorded["spike_sweep"].values, recorded["spike_time"].values,
                                recorded.sizes["cell"], bin_sizes=p["bin_sizes"], dt=dt,
                                noise_seeds=list(recorded.attrs["noise_seeds"]))
    tree = binned_tree(out, gamma, recorded, table, attrs={"title": "GFR training data: binned current and rate",
                                                           "dt_ms": dt})
    return [write_artifact(tree, "gfr_binned", params=p, data_dir=data_dir)]


def fit_rows(start: int, stop: int, *, data_dir: str, keys: list[tuple[int, int]], degrees: dict[int, int],
             config: FitConfig, seed: int, require_noise_sweeps: bool, n_epochs: int, min_val_evr: float,
             max_train_loss: float) -> dict[str, Any]:
    """One dask task of ``gfr_params``: read the binned sweeps of cells ``[start, stop)``, fit and select every key.

    Returns ``{node path: Dataset}`` with the block's rows of every key node (see
    :func:`neurodata.runner.write_batches`).
    """
    import dask
    import torch

    torch.set_num_threads(1)
    with dask.config.set(scheduler="synchronous"):   # read in this task, never through the cluster
        tree = open_artifact("gfr_binned", data_dir=data_dir)
        try:
            block = binned_rows(tree, start, stop, _bin_sizes(keys))
        finally:
            tree.close()
    reasons, fits = fit_block(block["sweep_cell"], block["names"], block["binned"], block["gamma"], block["specimen_ids"],
                              keys=keys, degrees=degrees, config=config, seed=seed,
                              require_noise_sweeps=require_noise_sweeps)
    return params_piece(keys, degrees, reasons, fits, n_epochs=n_epochs, min_val_evr=min_val_evr,
                        max_train_loss=max_train_loss)


@stage("gfr_params", spec=PARAMS_SPEC, rules=PARAMS_RULES, metrics=_params_metrics)
def fit_params(p: dict[str, Any], *, data_dir: Path, scheduler: str | None = None) -> list[Path]:
    """Stage ``gfr_params``: fit every key for every cell, screen, select (one dask task per block of cells)."""
    keys, degrees = _keys(p), dict(p["activation_degrees"])
    tree = open_artifact("gfr_binned", data_dir=data_dir, verify=True)
    try:
        built = sorted(int(name.removeprefix("bin_")) for name in tree.children)
        ids = np.asarray(tree.to_dataset(inherit=False)["cell"].values)
    finally:
        tree.close()
    labels = _read("gfr_cells", data_dir, [], ids, verify=True)
    missing = sorted(set(_bin_sizes(keys)) - set(built))
    if missing:  # the keys against the input artifact, which the spec's rules cannot see
        msg = (f"The 'keys' parameter of stage gfr_params needs bin sizes {missing} [ms] that gfr_binned was not built "
               f"with (its bins: {built}); add them to gfr_binned's bin_sizes and rebuild it. Got {p['keys']!r} instead.")
        raise ParamError(msg)
    template = params_template(keys, degrees, ids, as_str(labels["line_name"].values), as_str(labels["species"].values),
                               n_epochs=p["epochs"], attrs={"title": "GFR parameters per (bin_size, activation_bin_size)",
                                                            "min_val_evr": p["min_val_evr"],
                                                            "max_train_loss": p["max_train_loss"]})
    task = functools.partial(fit_rows, data_dir=str(data_dir), keys=keys, degrees=degrees, config=FitConfig.from_params(p),
                             seed=p["seed"], require_noise_sweeps=p["require_noise_sweeps"], n_epochs=p["epochs"],
                             min_val_evr=p["min_val_evr"], max_train_loss=p["max_train_loss"])
    with ArtifactWriter("gfr_params", params=p, seeds=seed_record(p, "seed"), data_dir=data_dir) as writer:
        return [write_batches(writer, template, "cell", task, batch_size=p["cells_per_task"], scheduler=scheduler,
                              desc="gfr fits")]


STAGES = {s.name: s for s in (cells, binned, fit_params)}
