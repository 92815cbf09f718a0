"""DVC stage of the BrainGrid generator: simulate an ensemble of cultures, write their HDF5 files and a summary.

``braingrid_simulation`` writes two outputs:

* ``data/braingrid_cultures/`` (:data:`H5_DIR`): one BrainGrid-layout HDF5 file (spec §1.6) per
  culture, ``culture_000.h5``, ``culture_001.h5``, ... (:func:`culture_h5`, the one home of the
  name), each checked against the checklist of spec §4.5 before the folder is moved into
  place; their root attributes carry the provenance (package version, stage, code hash, stage
  params, seed, culture) and the generator's own burst check;
* ``data/braingrid_simulation.zarr``: a labelled summary (radius and rate per culture, epoch
  and neuron, synapse counts, neuron table, bursts per culture) validated against
  ``schemas/braingrid_simulation.yaml``.

Each culture is one task of :func:`neurodata.runner.run_sweep` (seed ``seed``, streams
:func:`~._network.culture_stream`), so a cluster runs cultures in parallel; a task depends on
its culture index only, never on the scheduler or on the other cultures.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import numpy as np

from .._exceptions import SchemaViolation
from .._manifest import file_sha256
from .._pipeline import stage
from ..params import Interval, Nullable, Options, Rule
from ..runner import run_sweep
from ..seeds import seed_record
from ..store import atomic_output, load_artifact, provenance, write_artifact
from ._artifacts import simulation_dataset
from ._checklist import burst_check, check_failures
from ._growth import GrowthParams
from ._hdf5_layout import DT_S
from ._network import SCHEDULES, simulate_growth_network
from ._summaries import simulation_metrics
from .hdf5 import check_braingrid_h5, write_braingrid_h5

__all__ = ["FOREIGN_H5", "H5_DIR", "SIMULATION_RULES", "SIMULATION_SPEC", "culture_file", "culture_h5", "simulate",
           "simulate_culture"]

ARTIFACT = "braingrid_simulation"
H5_DIR = "braingrid_cultures"
"""The generator's folder of HDF5 files, relative to the data folder (dvc.yaml names it too)."""
FOREIGN_H5 = "braingrid_simulation.h5"
"""A single BrainGrid file put in the data folder by hand (a BrainGrid run), read as one culture
by ``braingrid_spikes`` when the generator's summary is not built."""


def culture_file(culture: int) -> str:
    """The name of one culture's HDF5 file in :data:`H5_DIR` (``culture_007.h5``): its one home.

    Parameters
    ----------
    culture : int
        The culture's index, 0 <= culture < 1000.
    """
    return f"culture_{int(culture):03d}.h5"


def culture_h5(culture: int) -> str:
    """The HDF5 file of one culture, relative to the data folder (``braingrid_cultures/culture_007.h5``).

    Parameters
    ----------
    culture : int
        The culture's index, 0 <= culture < 1000.
    """
    return f"{H5_DIR}/{culture_file(culture)}"


SIMULATION_SPEC = {
    "width": Interval(int, 2, 1000),
    "schedule": Options(list(SCHEDULES)),
    "epoch_s": Interval(int, 1, None),
    "simulated_epochs": Interval(int, 1, None),
    "analytic_epochs": Interval(int, 0, None),
    "rho": Nullable(Interval(float, 0, None, closed="neither")),
    "seed": Interval(int, 0, 2**32 - 1),
    "n_cultures": Interval(int, 1, 1000),
    "burst_min_per_neuron": Interval(float, 0, None, closed="neither"),
    "mean_isi_steps": Nullable(Interval(float, 0, None, closed="neither")),
    "min_bursts": Interval(int, 1, None),
    "compression": Options([None, "gzip"]),
}
"""Parameters of stage ``braingrid_simulation`` (see docs/braingrid.md, "Generator")."""
SIMULATION_RULES = (
    Rule("analytic_epochs == 0", when="schedule == 'accelerated'", param="analytic_epochs",
         must="be 0 with schedule 'accelerated' (every epoch is coupled)"),
)


def _metrics(data_dir: Path) -> dict[str, Any]:
    return simulation_metrics(load_artifact(ARTIFACT, data_dir=data_dir))


def simulate_culture(culture: int, *, p: dict[str, Any], folder: str, attrs: dict[str, Any]) -> dict[str, Any]:
    """One culture of the ensemble: simulate it, write and check its HDF5 file in *folder*.

    A dask task of :func:`simulate` (picklable through ``functools.partial``); its result depends
    on *culture* and the params only.

    Parameters
    ----------
    culture : int
        The culture's index (its seed streams, :func:`~._network.culture_stream`).
    p : dict
        The stage's checked params.
    folder : str
        The (temporary) folder of the ensemble's files; the culture's is ``culture_file(culture)``.
    attrs : dict
        Root attributes of the file (provenance), the culture's own added.

    Returns
    -------
    dict
        ``check`` (the burst check of spec §4.5 items 6-7), ``sha256`` of the file, and the
        summary's arrays: ``radius``, ``rate`` (epochs + 1, N) float32, ``n_synapses``,
        ``intrinsic_rate``, ``threshold``, ``x``, ``y``, ``is_inh``, ``starter``, ``analytic_epochs``.
    """
    rho = p["rho"] if p["rho"] is not None else 0.01 / p["epoch_s"]
    sim = simulate_growth_network(
        p["width"], schedule=p["schedule"], epoch_s=float(p["epoch_s"]), simulated_epochs=p["simulated_epochs"],
        analytic_epochs=p["analytic_epochs"], seed=p["seed"], culture=culture, growth=GrowthParams(rho=rho))
    check = burst_check(sim.spike_steps, n_steps=sim.n_epochs * round(sim.epoch_s / DT_S), n_neurons=p["width"] ** 2,
                        starter=sim.neurons.is_starter, rates=sim.rates_history,
                        first_coupled_epoch=sim.analytic_epochs + 1, dt_s=DT_S,
                        burst_min_per_neuron=p["burst_min_per_neuron"], mean_isi_steps=p["mean_isi_steps"])
    path = Path(folder) / culture_file(culture)
    file_attrs = {**attrs, "culture": int(culture), "rho": rho, "burstCheck": json.dumps(check),
                  "firstCoupledStep": sim.analytic_epochs * round(sim.epoch_s / DT_S)}
    write_braingrid_h5(path, sim.to_record(file_attrs), compression=p["compression"])
    check_braingrid_h5(path)
    nr = sim.neurons
    return {
        "check": check, "sha256": file_sha256(path), "analytic_epochs": sim.analytic_epochs, "epoch_s": sim.epoch_s,
        "radius": sim.radii_history.astype(np.float32), "rate": sim.rates_history.astype(np.float32),
        "n_synapses": sim.n_synapses.astype(np.int64), "intrinsic_rate": sim.intrinsic_rates.astype(np.float64),
        "threshold": nr.vthresh.astype(np.float32), "x": nr.xloc.astype(np.int32), "y": nr.yloc.astype(np.int32),
        "is_inh": nr.is_inh.astype(bool), "starter": nr.is_starter.astype(bool), "width": int(nr.width),
    }


@stage(ARTIFACT, spec=SIMULATION_SPEC, rules=SIMULATION_RULES, metrics=_metrics)
def simulate(p: dict[str, Any], *, data_dir: Path, scheduler: str | None = None) -> list[Path]:
    """Stage ``braingrid_simulation``: run ``n_cultures`` growth networks, write their HDF5 files and a summary.

    Fails (``neurodata.SchemaViolation``, nothing written) when a culture's file fails any item
    of the checklist of spec §4.5: items 1-5 (:func:`check_braingrid_h5`), items 6 and 7
    (``_checklist``: at least ``min_bursts`` bursts **in every culture** by the original
    analysis' meanISI rule, each with the windows' history, their medians within ``ITEM7_BOUNDS``).
    """
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    seeds = seed_record(p, "seed")
    prov = provenance(ARTIFACT, params=p, seeds=seeds)
    attrs = {key: prov[key] for key in ("neurodata_version", "stage", "code_sha256", "stage_params", "seeds") if key in prov}
    attrs.update({"generator": "neurodata.braingrid.simulate_growth_network", "schedule": p["schedule"],
                  "width": p["width"], "seed": p["seed"], "n_cultures": p["n_cultures"]})
    dest = data_dir / H5_DIR
    with atomic_output(dest) as tmp:
        tmp.mkdir()
        task = functools.partial(simulate_culture, p=p, folder=str(tmp), attrs=attrs)
        runs = run_sweep(task, range(p["n_cultures"]), scheduler=scheduler, desc="braingrid cultures", threads=True)
        failures = [f"culture {c}: {msg}" for c, run in enumerate(runs) for msg in check_failures(run["check"], p["min_bursts"])]
        if failures:
            msg = (f"Stage {ARTIFACT}: the run fails the checklist of spec §4.5: {'; '.join(failures)}. "
                   "Simulate more epochs, or raise analytic_epochs so that the non-starter radii reach the burst "
                   "onset (about 1.3 grid units at W = 50). Nothing was written.")
            raise SchemaViolation(msg)
        summary = simulation_dataset(runs, [culture_h5(c) for c in range(p["n_cultures"])])
        # the summary validates and lands first; the checked HDF5 folder follows by rename
        store = write_artifact(summary, ARTIFACT, params=p, seeds=seeds, data_dir=data_dir)
    return [dest, store]
