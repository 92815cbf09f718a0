"""DVC stages of the isf family: simrun -> spatial bins -> ANN batches.

Every stage has the one shape: ``@stage`` checks the params against the spec and its rules
(one call, before any work), the science runs (``_simrun``, ``_spatial_bins``,
``_ann_batches``), :mod:`._artifacts` labels the result from its contract, and the store
writes it. ``isf_ann_batches`` runs one task per batch of trials through
:func:`neurodata.runner.write_batches` (one Zarr chunk per batch).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .._pipeline import stage
from ..params import Boolean, Interval, ListOf, Rule, Text
from ..runner import write_batches
from ..seeds import seed_record
from ..store import ArtifactWriter, atomic_output, open_artifact, write_artifact
from ._metrics import ann_batches_metrics, simrun_metrics, spatial_bins_metrics
from ._ann_batches import ann_batch_from_rows, batch_rows, check_window, ms_block_starts
from ._artifacts import ann_batch_piece, ann_batches_template, simrun_dataset, spatial_bins_dataset
from ._landmarks import distal_recording_site
from ._simrun import cell_morphology, simulate_simrun, synaptic_weights
from ._spatial_bins import section_distances_from_bins, spatial_bins_of
from ._synapses import DEFAULT_CELL_TYPES

__all__ = ["ANN_RULES", "ANN_SPEC", "SIMRUN_RULES", "SIMRUN_SPEC", "SPATIAL_BINS_SPEC", "STAGES", "ann_batches",
           "simrun", "spatial_bins"]

_POS_FLOAT = Interval(float, 0, None, closed="neither")
_CELLTYPES = ListOf(Text(r"[A-Za-z0-9]+"), unique=True)
_MORPHOLOGY = ("n_basal_stems", "n_trunk_sections", "n_obliques", "tuft_levels")


def _whole(x: float) -> bool:
    return abs(x - round(x)) <= 1e-9 * max(1.0, abs(x))


def _disjoint(p: Mapping[str, Any]) -> bool:
    return not set(p["excitatory_celltypes"]) & set(p["inhibitory_celltypes"])


_DISJOINT = Rule(_disjoint, param="inhibitory_celltypes",
                 must="share no cell type with excitatory_celltypes = {excitatory_celltypes}")

SIMRUN_SPEC = {
    "seed": Interval(int, 0, 2**31 - 1),
    "n_trials": Interval(int, 1, None),
    "t_stop_ms": _POS_FLOAT,
    "dt_ms": Interval(float, 0, 1, closed="right"),
    "stimulus_time_ms": Interval(float, 0, None),
    "synapse_scale": _POS_FLOAT,
    "excitatory_celltypes": _CELLTYPES,
    "inhibitory_celltypes": _CELLTYPES,
    "n_basal_stems": Interval(int, 1, 20),
    "n_trunk_sections": Interval(int, 1, 20),
    "n_obliques": Interval(int, 0, 40),
    "tuft_levels": Interval(int, 0, 5),
}
SIMRUN_RULES = (
    Rule("stimulus_time_ms < t_stop_ms", param="stimulus_time_ms", must="be < t_stop_ms = {t_stop_ms} ms"),
    Rule(lambda p: _whole(1.0 / p["dt_ms"]), param="dt_ms",
         must="divide 1 ms into whole steps (the ANN targets are per ms)"),
    Rule(lambda p: _whole(p["t_stop_ms"] / p["dt_ms"]), param="t_stop_ms", must="be a whole number of dt_ms = {dt_ms} ms steps"),
    _DISJOINT,
    Rule(lambda p: set(DEFAULT_CELL_TYPES) <= set(p["excitatory_celltypes"]) | set(p["inhibitory_celltypes"]),
         param="excitatory_celltypes",
         must=("list, with inhibitory_celltypes = {inhibitory_celltypes}, every presynaptic cell type of the model "
               f"({', '.join(sorted(DEFAULT_CELL_TYPES))})")),
)
SPATIAL_BINS_SPEC = {"bin_size_um": _POS_FLOAT}
ANN_SPEC = {
    "min_time_ms": Interval(float, 0, None),
    "max_time_ms": _POS_FLOAT,
    "bin_size_ms": _POS_FLOAT,
    "batch_size": Interval(int, 1, None),
    "weighted": Boolean(),
    "excitatory_celltypes": _CELLTYPES,
    "inhibitory_celltypes": _CELLTYPES,
    "tolerance_um": Interval(float, 0, None),
    "isi_fill_ms": _POS_FLOAT,
}
ANN_RULES = (
    Rule("max_time_ms > min_time_ms", param="max_time_ms", must="be > min_time_ms = {min_time_ms} ms"),
    Rule(lambda p: _whole((p["max_time_ms"] - p["min_time_ms"]) / p["bin_size_ms"]), param="bin_size_ms",
         must="divide the window [min_time_ms, max_time_ms] = [{min_time_ms}, {max_time_ms}] ms into whole bins"),
    _DISJOINT,
)


def _write_text(path: Path, text: str) -> Path:
    with atomic_output(path) as tmp:
        tmp.write_text(text)
    return path


def _simrun_metrics(data_dir: Path) -> dict[str, Any]:
    with open_artifact("isf_simrun", data_dir=data_dir) as sim:
        return simrun_metrics(sim)


@stage("isf_simrun", spec=SIMRUN_SPEC, rules=SIMRUN_RULES, metrics=_simrun_metrics)
def simrun(p: dict[str, Any], *, data_dir: Path, scheduler: str | None = None) -> list[Path]:
    """Stage ``isf_simrun``: simulate the synthetic simrun; also write the morphology as SWC and hoc.

    One process: the trials share the warm-up (simulated once) and the numba kernel runs them
    in a loop; *scheduler* is unused.
    """
    result = simulate_simrun(
        seed=p["seed"], n_trials=p["n_trials"], t_stop_ms=p["t_stop_ms"], dt_ms=p["dt_ms"],
        stimulus_time_ms=p["stimulus_time_ms"], excitatory_celltypes=p["excitatory_celltypes"],
        inhibitory_celltypes=p["inhibitory_celltypes"], synapse_scale=p["synapse_scale"],
        morphology={k: p[k] for k in _MORPHOLOGY},
    )
    ds = simrun_dataset(result)
    rows, trials = 1 << 16, min(50, ds.sizes["trial"])
    encoding = {
        "soma_voltage": {"chunks": (trials, ds.sizes["time"])},
        "dendrite_voltage": {"chunks": (trials, 1, ds.sizes["time"])},
        "activation_times": {"chunks": (rows, ds.sizes["activation_slot"])},
        **{v: {"chunks": (rows,)} for v in ("sim_trial_index", "synapse_type", "synapse_type_code", "synapse_ID",
                                             "soma_distance", "section_ID", "section_pt_ID", "dendrite_label")},
    }
    path = write_artifact(ds, "isf_simrun", params=p, seeds=seed_record(p, "seed"), data_dir=data_dir, encoding=encoding)
    return [path, _write_text(Path(data_dir) / "isf_morphology.swc", result.morphology.to_swc()),
            _write_text(Path(data_dir) / "isf_morphology.hoc", result.morphology.to_hoc())]


def _spatial_bins_metrics(data_dir: Path) -> dict[str, Any]:
    with open_artifact("isf_spatial_bins", data_dir=data_dir) as bins:
        return spatial_bins_metrics(bins)


@stage("isf_spatial_bins", spec=SPATIAL_BINS_SPEC, metrics=_spatial_bins_metrics)
def spatial_bins(p: dict[str, Any], *, data_dir: Path, scheduler: str | None = None) -> list[Path]:
    """Stage ``isf_spatial_bins``: bins of every section of the simrun's cell, and their adjacency."""
    with open_artifact("isf_simrun", data_dir=data_dir, verify=True) as sim:
        morph = cell_morphology(sim[["section_label", "section_parent", "section_parent_x", "point_section",
                                     "point_x", "point_y", "point_z", "point_diameter"]].load())
    ds = spatial_bins_dataset(morph, spatial_bins_of(morph, p["bin_size_um"]), p["bin_size_um"])
    return [write_artifact(ds, "isf_spatial_bins", params=p, data_dir=data_dir)]


ROWS_PER_PIECE = 1 << 17
"""Activation-table rows read and binned at once (memory: one output batch plus one piece)."""
_ROW_COLUMNS = ("section_ID", "soma_distance", "synapse_type_code", "synapse_ID", "activation_times")


def _row_pieces(sim: xr.Dataset, lo: int, hi: int, row_trial: np.ndarray) -> Iterator[dict[str, np.ndarray]]:
    """The rows ``[lo, hi)`` of the simrun's activation table, read ``ROWS_PER_PIECE`` at a time."""
    for a in range(lo, hi, ROWS_PER_PIECE):
        z = min(a + ROWS_PER_PIECE, hi)
        piece = sim[list(_ROW_COLUMNS)].isel(sa_row=slice(a, z))
        rows = {name: np.asarray(var.values) for name, var in piece.data_vars.items()}
        rows["synapse_type"] = rows.pop("synapse_type_code")
        yield {**rows, "row_trial": row_trial[a - lo:z - lo]}


def _ann_batch_task(start: int, stop: int, *, data_dir: str, batch_size: int, site: int,
                    options: Mapping[str, Any]) -> xr.Dataset:
    """Trials ``[start, stop)`` of ``ann_batches``, read from the simrun (one task of the stage)."""
    with open_artifact("isf_simrun", data_dir=data_dir, chunks=None) as sim:
        trials = slice(start, stop)
        names = [str(t) for t in sim["trial"].values[trials]]
        lo, hi, row_trial = batch_rows(sim["sa_row_start"].values[trials], sim["sa_row_count"].values[trials], names)
        batch = ann_batch_from_rows(
            _row_pieces(sim, lo, hi, row_trial), trial_names=names,
            synapse_type_names=[str(t) for t in sim["synapse_type_name"].values],
            soma_voltage=np.asarray(sim["soma_voltage"].isel(trial=trials).values),
            spike_times=np.asarray(sim["spike_times"].isel(trial=trials).values),
            dendrite_voltage=np.asarray(sim["dendrite_voltage"].isel(trial=trials, rec_site=site).values),
            dendrite_spike_times=np.asarray(sim["dendrite_spike_times"].isel(trial=trials, rec_site=site).values),
            dt_ms=float(sim.attrs["dt_ms"]), **options,
        )
    return ann_batch_piece(batch, start // batch_size)


def _ann_batches_metrics(data_dir: Path) -> dict[str, Any]:
    with open_artifact("ann_batches", data_dir=data_dir) as ann:
        return ann_batches_metrics(ann)


@stage("isf_ann_batches", spec=ANN_SPEC, rules=ANN_RULES, metrics=_ann_batches_metrics)
def ann_batches(p: dict[str, Any], *, data_dir: Path, scheduler: str | None = None) -> list[Path]:
    """Stage ``isf_ann_batches``: the 4D activation array and the targets, one task and chunk per batch of trials."""
    with open_artifact("isf_simrun", data_dir=data_dir, verify=True) as sim:
        edges = check_window(p["min_time_ms"], p["max_time_ms"], p["bin_size_ms"], float(sim.attrs["t_stop_ms"]))
        trials = np.asarray(sim["trial"].values)
        sites = [str(x) for x in sim["rec_site"].values]
        site = sites.index(distal_recording_site(sites))
        site_distance = float(sim["rec_site_soma_distance"].values[site])
        time_ms = ms_block_starts(p["min_time_ms"], p["max_time_ms"], float(sim.attrs["dt_ms"]))
        weights = synaptic_weights(sim[["celltype_weight", "celltype_is_excitatory"]].load()) if p["weighted"] else None
    with open_artifact("isf_spatial_bins", data_dir=data_dir, verify=True) as bins:
        bins = bins.load()
    batch_size = min(p["batch_size"], len(trials))
    template = ann_batches_template(
        trials, bins, edges, time_ms, dendrite_site=sites[site], dendrite_soma_distance=site_distance,
        attrs={"min_time_ms": p["min_time_ms"], "max_time_ms": p["max_time_ms"], "bin_size_ms": p["bin_size_ms"],
               "batch_size": batch_size, "weighted": int(p["weighted"]), "isi_fill_ms": p["isi_fill_ms"],
               "bin_size_goal_um": float(bins.attrs["bin_size_goal_um"])},
    )
    options = {"min_time": p["min_time_ms"], "max_time": p["max_time_ms"], "bin_size": p["bin_size_ms"],
               "excitatory_celltypes": p["excitatory_celltypes"], "inhibitory_celltypes": p["inhibitory_celltypes"],
               "section_distances_df": section_distances_from_bins(bins), "synaptic_weights": weights,
               "tolerance": p["tolerance_um"], "isi_fill": p["isi_fill_ms"]}
    task = functools.partial(_ann_batch_task, data_dir=str(data_dir), batch_size=batch_size, site=site, options=options)
    with ArtifactWriter("ann_batches", params=p, data_dir=data_dir) as writer:
        return [write_batches(writer, template, "trial", task, batch_size=batch_size, scheduler=scheduler,
                              desc="isf ann batches", validate_in_batches=True)]


STAGES = {s.name: s for s in (simrun, spatial_bins, ann_batches)}
