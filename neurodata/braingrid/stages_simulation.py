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
from ._growth import GrowthParams
from ._hdf5_layout import DT_S, check_braingrid_h5, write_braingrid_h5
from ._network import SCHEDULES, GrowthSimulation, detect_avalanche_bursts, simulate_growth_network

__all__ = ["SIM_STAGES", "SIMULATION_SPEC", "burst_check", "simulate", "simulation_summary"]

ARTIFACT = "braingrid_simulation"
H5_NAME = "braingrid_simulation.h5"

SIMULATION_SPEC = {
    "width": Interval(int, 2, 1000),
    "schedule": Options(list(SCHEDULES)),
    "epoch_s": Interval(int, 1, None),
    "simulated_epochs": Interval(int, 1, None),
    "analytic_epochs": Interval(int, 0, None, default=0),
    "intrinsic_s": Interval(float, 0, None, closed="neither", default=100.0),
    "rho": Nullable(Interval(float, 0, None, closed="neither"), default=None),
    "seed": Interval(int, 0, 2**32 - 1),
    "burst_min_per_neuron": Interval(float, 0, None, closed="neither", default=1.0),
    "mean_isi_steps": Nullable(Interval(float, 0, None, closed="neither"), default=None),
    "min_bursts": Interval(int, 1, None, default=1),
    "compression": Options([None, "gzip"], default=None),
}
"""Parameters of stage ``braingrid_simulation`` (see docs/braingrid.md, "Generator")."""


def burst_check(
    sim: GrowthSimulation, *, burst_min_per_neuron: float = 1.0, mean_isi_steps: float | None = None
) -> dict[str, Any]:
    """The generator's burst self-check (spec §4.5 items 6-7) over the simulated epochs.

    Runs the avalanche detector with the small-grid scaling of spec §4.4: ``burst_min =
    burst_min_per_neuron * N`` and ``meanISI`` = simulated steps / spikes (the analytic epochs
    of schedule (b) hold no spikes and are left out of meanISI), or *mean_isi_steps* when
    given. At N = 10 000 the bursting network fires more than one spike per step, so the
    computed meanISI falls below 1 step and no two distinct steps can join an avalanche; the
    original run's meanISI of ~1-1.5 steps was diluted by ~97 quiet pre-onset epochs. Give
    ``mean_isi_steps = 1.5`` there (avalanche = run of consecutive occupied steps).

    Item 6 is counted as ``n_bursts_with_history``: bursts whose StartT (a spike step by
    construction) is preceded by at least ``gap + max(w)`` spikes, with Lundvall's gap of 2000
    spikes scaled to N (``2000 * N / 10000``) and the largest window w = 500.

    Returns
    -------
    dict
        ``n_bursts``, ``n_bursts_with_history``, ``burst_min``, ``mean_isi_steps``, and medians
        of the burst size per neuron, width [ms] and quiet inter-burst interval [s] (NaN
        without bursts), plus ``first_burst_step`` (-1 without bursts).
    """
    n = sim.neurons.xloc.shape[0]
    simulated_steps = (sim.n_epochs - sim.analytic_epochs) * round(sim.epoch_s / DT_S)
    burst_min = burst_min_per_neuron * n
    b = detect_avalanche_bursts(sim.spike_steps, simulated_steps, burst_min=burst_min, mean_isi=mean_isi_steps)
    nb = int(b["start_step"].size)
    history = round(2000 * n / 10_000) + 500
    before = np.searchsorted(sim.spike_steps, b["start_step"], side="left")  # spikes strictly before StartT

    def med(x: np.ndarray) -> float:
        return float(np.median(x)) if x.size else float("nan")

    return {
        "n_bursts": nb,
        "n_bursts_with_history": int(np.count_nonzero(before >= history)),
        "burst_min": float(burst_min),
        "mean_isi_steps": float(b["mean_isi"]),
        "median_spikes_per_neuron": med(b["total_spikes"] / n),
        "median_width_ms": med(b["width_steps"] * DT_S * 1e3),
        "median_ibi_s": med(b["ibi_steps"][1:] * DT_S),
        "first_burst_step": int(b["start_step"][0]) if nb else -1,
    }


def simulation_summary(sim: GrowthSimulation, check: Mapping[str, Any]) -> xr.Dataset:
    """The labelled summary of a growth run (the ``braingrid_simulation`` artifact).

    Parameters
    ----------
    sim : GrowthSimulation
    check : mapping
        Output of :func:`burst_check`, stored as attrs.

    Returns
    -------
    xarray.Dataset
        Dims (epoch, neuron): ``radius`` [grid units] and ``rate`` [Hz] (epoch 0 = start);
        ``n_synapses`` and ``simulated`` per epoch; per neuron ``x``, ``y``, ``neuron_type``,
        ``starter``, ``threshold`` [V], ``intrinsic_rate`` [Hz].
    """
    nr = sim.neurons
    n = nr.xloc.shape[0]
    epochs = np.arange(sim.n_epochs + 1, dtype=np.int64)
    simulated = epochs > sim.analytic_epochs

    def a(long_name: str, units: str | None = None) -> dict[str, str]:
        return {"long_name": long_name, **({"units": units} if units else {})}

    ds = xr.Dataset(
        {
            "radius": (("epoch", "neuron"), sim.radii_history.astype(np.float32),
                       a("connection radius after the epoch's growth (row 0: start radius)", "grid units")),
            "rate": (("epoch", "neuron"), sim.rates_history.astype(np.float32),
                     a("firing rate during the epoch (analytic epochs: intrinsic rate)", "Hz")),
            "n_synapses": ("epoch", sim.n_synapses.astype(np.int64),
                           a("synapses in existence after the epoch's growth step")),
            "simulated": ("epoch", simulated, a("epoch simulated (true) or grown in closed form (false)")),
            "intrinsic_rate": ("neuron", sim.intrinsic_rates.astype(np.float64),
                               a("rate of the unconnected network (schedule pregrowth; 0 otherwise)", "Hz")),
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

    Fails (``neurodata.SchemaViolation``, nothing written) when the generator's burst check
    finds fewer than ``min_bursts`` bursts or the file fails the layout checklist.
    """
    from ..progress import progress
    from ..store import atomic_output, provenance, write_artifact

    p = check_params(params, SIMULATION_SPEC, stage=ARTIFACT)
    if p["schedule"] == "accelerated" and p["analytic_epochs"]:
        msg = (f"The 'analytic_epochs' parameter of stage {ARTIFACT} must be 0 with schedule 'accelerated' "
               f"(every epoch is simulated). Got {p['analytic_epochs']} instead.")
        raise ParamError(msg)
    rho = p["rho"] if p["rho"] is not None else 0.01 / p["epoch_s"]
    bar = iter(progress(range(p["simulated_epochs"]), total=p["simulated_epochs"], desc="braingrid epochs"))
    sim = simulate_growth_network(
        p["width"], schedule=p["schedule"], epoch_s=float(p["epoch_s"]), simulated_epochs=p["simulated_epochs"],
        analytic_epochs=p["analytic_epochs"], intrinsic_s=p["intrinsic_s"], seed=p["seed"],
        growth=GrowthParams(rho=rho), on_epoch=lambda done, total: next(bar, None))
    for _ in bar:  # close the progress bar
        pass
    check = burst_check(sim, burst_min_per_neuron=p["burst_min_per_neuron"], mean_isi_steps=p["mean_isi_steps"])
    if check["n_bursts"] < p["min_bursts"]:
        msg = (f"Stage {ARTIFACT}: the avalanche detector (burst_min = {check['burst_min']:g} spikes, meanISI = "
               f"{check['mean_isi_steps']:.1f} steps) found {check['n_bursts']} bursts in the simulated epochs, "
               f"expected at least min_bursts = {p['min_bursts']}. Simulate more epochs or raise analytic_epochs "
               "so that the non-starter radii reach the burst onset (about 1.3 grid units at W = 50). "
               "Nothing was written.")
        raise SchemaViolation(msg)

    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    prov = provenance(ARTIFACT, params=p, seeds={"seed": p["seed"]})
    attrs = {key: prov[key] for key in ("neurodata_version", "stage", "code_sha256", "stage_params", "seeds") if key in prov}
    attrs.update({
        "generator": "neurodata.braingrid.simulate_growth_network",
        "schedule": p["schedule"], "width": p["width"], "seed": p["seed"], "rho": rho,
        "intrinsicSeconds": p["intrinsic_s"] if p["schedule"] == "pregrowth" else 0.0,
        "firstSimulatedStep": sim.analytic_epochs * round(sim.epoch_s / DT_S),
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
