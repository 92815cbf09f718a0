"""The ``isf_simrun`` generator: seconds per simulated trial of the active L5PT model.

Side by side in one run, on the same cell, synapses and activations (default params.yaml,
``--n-trials`` trials of 300 ms):

* **active**: the default model (Hay et al. 2011 channels on soma, AIS and dendrites);
* **passive dendrites**: the same kernel with every dendritic channel removed (soma and AIS
  unchanged), the cost of the solver, synapses and axosomatic channels alone;
* **stage**: the whole ``isf_simrun`` stage (placement, activations, simulation, spike
  detection, the ISF table, validation and the Zarr write) with the active model.

Times are CPU seconds of this process (``time.process_time``, less sensitive to other load
than wall time) and wall seconds; the warm-up (500 ms, simulated once per run) is included.

Usage::

    nice -n 10 .venv/bin/python benchmarks/isf_simrun.py [--n-trials 50]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import yaml

from neurodata.isf import (
    Biophysics,
    DEFAULT_CELL_TYPES,
    activation_times,
    make_l5pt_morphology,
    place_synapses,
    simulate_cell_voltage,
)
from neurodata.isf._simrun import ACTIVITY_STREAM, SYNAPSE_STREAM
from neurodata.isf.stages import STAGES
from neurodata.seeds import rng

ROOT = Path(__file__).resolve().parents[1]


def _timed(fn):
    c0, w0 = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - c0, time.perf_counter() - w0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-trials", type=int, default=50)
    args = ap.parse_args()
    p = yaml.safe_load((ROOT / "params.yaml").read_text())["isf_simrun"]
    n, t_stop = args.n_trials, float(p["t_stop_ms"])
    morph = make_l5pt_morphology(seed=p["seed"], **{k: p[k] for k in ("n_basal_stems", "n_trunk_sections", "n_obliques", "tuft_levels")})
    syn = place_synapses(morph, DEFAULT_CELL_TYPES, excitatory_celltypes=p["excitatory_celltypes"],
                         inhibitory_celltypes=p["inhibitory_celltypes"], rng=rng(p["seed"], *SYNAPSE_STREAM))
    tr, sy, t = activation_times(syn, DEFAULT_CELL_TYPES, n_trials=n, t_stop_ms=t_stop,
                                 stimulus_time_ms=p["stimulus_time_ms"], rng=rng(p["seed"], *ACTIVITY_STREAM))
    rows = {}
    for label, bio in (("active", Biophysics()), ("passive dendrites", Biophysics(active_dendrites=False))):
        simulate_cell_voltage(morph, syn, tr[tr == 0], sy[tr == 0], t[tr == 0], n_trials=1, t_stop_ms=5.0, bio=bio)  # compile
        rows[label] = _timed(lambda bio=bio: simulate_cell_voltage(morph, syn, tr, sy, t, n_trials=n, t_stop_ms=t_stop,
                                                                   dt_ms=p["dt_ms"], bio=bio, record=[(23, 0.95), (21, 0.6)]))
    with tempfile.TemporaryDirectory(prefix="isf_simrun_bench_") as tmp:
        rows["stage"] = _timed(lambda: STAGES["isf_simrun"](dict(p, n_trials=n), data_dir=Path(tmp), scheduler="synchronous"))
    print(f"isf_simrun: {n} trials of {t_stop:g} ms, {len(syn)} synapses, {len(tr)} activations "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    for label, (cpu, wall) in rows.items():
        print(f"  {label:18s} {cpu / n:7.3f} s/trial CPU  {wall / n:7.3f} s/trial wall")
    ratio = rows["active"][0] / rows["passive dendrites"][0]
    print(f"  active / passive dendrites (CPU): {ratio:.2f}x")


if __name__ == "__main__":
    main()
