"""DVC stage of the BrainGrid generator: simulate the growth network, write the HDF5 and a summary.

``braingrid_simulation`` writes two outputs:

* ``data/braingrid_simulation.h5``: BrainGrid's HDF5 layout (spec §1.6), checked against the
  checklist of spec §4.5 before it is moved into place; its root attributes carry the
  provenance (package version, stage, code hash, stage params, seed) and the
  generator's own burst check;
* ``data/braingrid_simulation.zarr``: a labelled summary (radius and rate per epoch and
  neuron, synapse counts, neuron table) validated against ``schemas/braingrid_simulation.yaml``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .._exceptions import ParamError, SchemaViolation
from .._manifest import file_sha256
from ..params import Interval, Nullable, Options, check_params
from ._checklist import burst_check, check_failures
from ._growth import GrowthParams
from ._hdf5_layout import DT_S, check_braingrid_h5, write_braingrid_h5
from ._network import SCHEDULES, GrowthSimulation, simulate_growth_network

__all__ = ["SIM_STAGES", "SIMULATION_SPEC", "simulate", "simulation_summary"]

ARTIFACT = "braingrid_simulation"
H5_NAME = "braingrid_simulation.h5"

SIMULATION_SPEC = {
    "width": Interval(int, 2, 1000),
    "schedule": Options(list(SCHEDULES)),
    "epoch_s": Interval(int, 1, None),
    "simulated_epochs": Interval(int, 1, None),
    "analytic_epochs": Interval(int, 0, None, default=0),
    "rho": Nullable(Interval(float, 0, None, closed="neither"), default=None),
    "seed": Interval(int, 0, 2**32 - 1),
    "burst_min_per_neuron": Interval(float, 0, None, closed="neither", default=1.0),
    "mean_isi_steps": Nullable(Interval(float, 0, None, closed="neither"), default=None),
    "min_bursts": Interval(int, 1, None, default=1),
    "compression": Options([None, "gzip"], default=None),
}
"""Parameters of stage ``braingrid_simulation`` (see docs/braingrid.md, "Generator")."""


def simulation_summary(sim: GrowthSimulation, check: Mapping[str, Any]) -> xr.Dataset:
    """The labelled summary of a growth run (the ``braingrid_simulation`` artifact).

    Parameters
    ----------
    sim : GrowthSimulation
    check : mapping
        Output of :func:`~neurodata.braingrid._checklist.burst_check`, stored as attrs.

    Returns
    -------
    xarray.Dataset
        Dims (epoch, neuron): ``radius`` [grid units] and ``rate`` [Hz] (epoch 0 = start);
        ``n_synapses`` and ``coupled`` per epoch; per neuron ``x``, ``y``, ``neuron_type``,
        ``starter``, ``threshold`` [V], ``intrinsic_rate`` [Hz].
    """
    nr = sim.neurons
    n = nr.xloc.shape[0]
    epochs = np.arange(sim.n_epochs + 1, dtype=np.int64)
    coupled = epochs > sim.analytic_epochs

    def a(long_name: str, units: str | None = None) -> dict[str, str]:
        return {"long_name": long_name, **({"units": units} if units else {})}

    ds = xr.Dataset(
        {
            "radius": (("epoch", "neuron"), sim.radii_history.astype(np.float32),
                       a("connection radius after the epoch's growth (row 0: start radius)", "grid units")),
            "rate": (("epoch", "neuron"), sim.rates_history.astype(np.float32),
                     a("firing rate during the epoch: its spikes in the HDF5 file / Tsim", "Hz")),
            "n_synapses": ("epoch", sim.n_synapses.astype(np.int64),
                           a("synapses in existence after the epoch's growth step")),
            "coupled": ("epoch", coupled, a("epoch simulated with synaptic coupling (false: row 0 and the "
                                            "pre-onset epochs of schedule pregrowth, starters alone)")),
            "intrinsic_rate": ("neuron", sim.intrinsic_rates.astype(np.float64),
                               a("mean rate over the uncoupled epochs (schedule pregrowth; 0 otherwise)", "Hz")),
        },
        coords={
            "epoch": ("epoch", epochs, a("growth epoch (0 = initial state)")),
            "neuron": ("neuron", np.arange(n, dtype=np.int64), a("neuron index")),
            "x": ("neuron", nr.xloc.astype(np.int32), a("grid column", "grid units")),
            "y": ("neuron", nr.yloc.astype(np.int32), a("grid row", "grid units")),
            "neuron_type": ("neuron", np.where(nr.is_inh, 1, 2).astype(np.int32),
                            a("BrainGrid neuron type (1 = inhibitory, 2 = excitatory)")),
            "starter": ("neuron", nr.is_starter.astype(bool), a("endogenously active (starter) neuron")),
            "threshold": ("neuron", nr.vthresh.astype(np.float32), a("firing threshold", "V")),
        },
        attrs={
            "title": "BrainGrid growth network: radii, rates and connectivity per epoch",
            "epoch_s": float(sim.epoch_s),
            "analytic_epochs": int(sim.analytic_epochs),
            "width": int(nr.width),
            "h5_file": H5_NAME,
            **{f"burst_check_{k}": v for k, v in check.items()},
        },
    )
    return ds


def simulate(params: Mapping[str, Any], *, data_dir: Path, scheduler: str | None = None) -> list[Path]:
    """Stage ``braingrid_simulation``: run the growth network, write the HDF5 and its summary.

    Fails (``neurodata.SchemaViolation``, nothing written) when the file fails any item of the
    checklist of spec §4.5: items 1-5 (:func:`check_braingrid_h5`), items 6 and 7 (``_checklist``:
    at least ``min_bursts`` bursts found with the original analysis' meanISI rule, each with the
    windows' history, their medians within ``ITEM7_BOUNDS``).
    """
    from ..progress import progress
    from ..store import atomic_output, provenance, write_artifact

    p = check_params(params, SIMULATION_SPEC, stage=ARTIFACT)
    if p["schedule"] == "accelerated" and p["analytic_epochs"]:
        msg = (f"The 'analytic_epochs' parameter of stage {ARTIFACT} must be 0 with schedule 'accelerated' "
               f"(every epoch is coupled). Got {p['analytic_epochs']} instead.")
        raise ParamError(msg)
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
    prov = provenance(ARTIFACT, params=p, seeds={"seed": p["seed"]})
    attrs = {key: prov[key] for key in ("neurodata_version", "stage", "code_sha256", "stage_params", "seeds") if key in prov}
    attrs.update({
        "generator": "neurodata.braingrid.simulate_growth_network",
        "schedule": p["schedule"], "width": p["width"], "seed": p["seed"], "rho": rho,
        "firstCoupledStep": sim.analytic_epochs * round(sim.epoch_s / DT_S),
        "burstCheck": json.dumps(check),
    })
    record = sim.to_record(attrs)
    dest = data_dir / H5_NAME
    with atomic_output(dest) as tmp:
        write_braingrid_h5(tmp, record, compression=p["compression"])
        check_braingrid_h5(tmp)
        summary = simulation_summary(sim, check)
        summary.attrs["h5_sha256"] = file_sha256(tmp)
        # the summary validates and lands first; the checked HDF5 follows by rename
        store = write_artifact(summary, ARTIFACT, params=p, seeds={"seed": p["seed"]}, data_dir=data_dir)
    return [dest, store]


SIM_STAGES = {ARTIFACT: simulate}
"""The generator's stages; merged into ``neurodata.braingrid.stages.STAGES``."""
