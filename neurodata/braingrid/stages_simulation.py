"""DVC stage of the BrainGrid generator: simulate the growth network, write the HDF5 and a summary.

``braingrid_simulation`` writes two outputs:

* ``data/braingrid_simulation.h5`` (:data:`H5_FILE`): BrainGrid's HDF5 layout (spec §1.6),
  checked against the checklist of spec §4.5 before it is moved into place; its root
  attributes carry the provenance (package version, stage, code hash, stage params, seed)
  and the generator's own burst check;
* ``data/braingrid_simulation.zarr``: a labelled summary (radius and rate per epoch and
  neuron, synapse counts, neuron table) validated against ``schemas/braingrid_simulation.yaml``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .._exceptions import SchemaViolation
from .._manifest import file_sha256
from .._pipeline import stage
from ..params import Interval, Nullable, Options, Rule
from ..seeds import seed_record
from ..store import atomic_output, load_artifact, provenance, write_artifact
from ._artifacts import simulation_dataset
from ._checklist import burst_check, check_failures
from ._growth import GrowthParams
from ._hdf5_layout import DT_S
from ._network import SCHEDULES, simulate_growth_network
from ._summaries import simulation_metrics
from .hdf5 import check_braingrid_h5, write_braingrid_h5

__all__ = ["H5_FILE", "SIMULATION_RULES", "SIMULATION_SPEC", "simulate"]

ARTIFACT = "braingrid_simulation"
H5_FILE = "braingrid_simulation.h5"
"""The generator's HDF5 file, relative to the data folder (its one home; dvc.yaml names it too)."""

SIMULATION_SPEC = {
    "width": Interval(int, 2, 1000),
    "schedule": Options(list(SCHEDULES)),
    "epoch_s": Interval(int, 1, None),
    "simulated_epochs": Interval(int, 1, None),
    "analytic_epochs": Interval(int, 0, None),
    "rho": Nullable(Interval(float, 0, None, closed="neither")),
    "seed": Interval(int, 0, 2**32 - 1),
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


@stage(ARTIFACT, spec=SIMULATION_SPEC, rules=SIMULATION_RULES, metrics=_metrics)
def simulate(p: dict[str, Any], *, data_dir: Path, scheduler: str | None = None) -> list[Path]:
    """Stage ``braingrid_simulation``: run the growth network, write the HDF5 and its summary.

    Fails (``neurodata.SchemaViolation``, nothing written) when the file fails any item of the
    checklist of spec §4.5: items 1-5 (:func:`check_braingrid_h5`), items 6 and 7 (``_checklist``:
    at least ``min_bursts`` bursts found with the original analysis' meanISI rule, each with the
    windows' history, their medians within ``ITEM7_BOUNDS``).
    """
    from ..progress import progress

    rho = p["rho"] if p["rho"] is not None else 0.01 / p["epoch_s"]
    n_epochs = p["simulated_epochs"] + (p["analytic_epochs"] if p["schedule"] == "pregrowth" else 0)
    bar = iter(progress(range(n_epochs), total=n_epochs, desc="braingrid epochs"))
    sim = simulate_growth_network(
        p["width"], schedule=p["schedule"], epoch_s=float(p["epoch_s"]), simulated_epochs=p["simulated_epochs"],
        analytic_epochs=p["analytic_epochs"], seed=p["seed"],
        growth=GrowthParams(rho=rho), on_epoch=lambda done, total: next(bar, None))
    for _ in bar:  # close the progress bar
        pass
    check = burst_check(sim.spike_steps, n_steps=sim.n_epochs * round(sim.epoch_s / DT_S), n_neurons=p["width"] ** 2,
                        starter=sim.neurons.is_starter, rates=sim.rates_history,
                        first_coupled_epoch=sim.analytic_epochs + 1, dt_s=DT_S,
                        burst_min_per_neuron=p["burst_min_per_neuron"], mean_isi_steps=p["mean_isi_steps"])
    failures = check_failures(check, p["min_bursts"])
    if failures:
        msg = (f"Stage {ARTIFACT}: the run fails the checklist of spec §4.5: {'; '.join(failures)}. "
               "Simulate more epochs, or raise analytic_epochs so that the non-starter radii reach the burst "
               "onset (about 1.3 grid units at W = 50). Nothing was written.")
        raise SchemaViolation(msg)

    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    seeds = seed_record(p, "seed")
    prov = provenance(ARTIFACT, params=p, seeds=seeds)
    attrs = {key: prov[key] for key in ("neurodata_version", "stage", "code_sha256", "stage_params", "seeds") if key in prov}
    attrs.update({
        "generator": "neurodata.braingrid.simulate_growth_network",
        "schedule": p["schedule"], "width": p["width"], "seed": p["seed"], "rho": rho,
        "firstCoupledStep": sim.analytic_epochs * round(sim.epoch_s / DT_S),
        "burstCheck": json.dumps(check),
    })
    dest = data_dir / H5_FILE
    with atomic_output(dest) as tmp:
        write_braingrid_h5(tmp, sim.to_record(attrs), compression=p["compression"])
        check_braingrid_h5(tmp)
        summary = simulation_dataset(sim, check, H5_FILE)
        summary.attrs["h5_sha256"] = file_sha256(tmp)
        # the summary validates and lands first; the checked HDF5 follows by rename
        store = write_artifact(summary, ARTIFACT, params=p, seeds=seeds, data_dir=data_dir)
    return [dest, store]
