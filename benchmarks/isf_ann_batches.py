"""ANN-batch preparation: neurodata's ``isf_ann_batches`` stage vs ISF's original pandas approach.

Side by side in one run, on the same synthetic simrun (default 1000 trials, 10 050 synapses,
300 ms, built with the ``isf_simrun`` stage):

* **neurodata**: the whole ``isf_ann_batches`` stage (read each batch's rows from the simrun
  Zarr store, bin with the numba kernel, AP/ISI/max-Vm targets, region-write one chunk per
  batch, validate, commit), single process (``scheduler="synchronous"``);
* **reference**: ``benchmarks/_isf_reference.py``, a faithful pandas re-implementation of
  ISF's ``save_SA_batch`` per batch (``augment...`` grouping by section, then a
  ``groupby([sti, EI, bin]).apply(np.histogram)``); its table is read from the same store
  *outside* the timing, so the reference is timed on compute only (favouring it).

Both produce the synapse-activation array; the script checks they are equal batch by batch.
Peak memory (``tracemalloc``, numpy buffers included) is measured in a second, untimed pass:
the stage's peak is compared with the size of one batch and of the whole array.

Usage::

    nice -n 10 .venv/bin/python benchmarks/isf_ann_batches.py [--n-trials 1000] [--batch-size 100]
        [--data-dir DIR]   # reuse a simrun built there (e.g. data/ after the seed profile)

Timings on a shared machine: the load average is printed next to them.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _isf_reference as isf_reference  # noqa: E402

from neurodata.isf import make_ann_batch, section_distances_from_bins, synapse_activation_frame  # noqa: E402
from neurodata.isf.stages import STAGES  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _params() -> dict:
    with (ROOT / "params.yaml").open() as fh:
        return yaml.safe_load(fh)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-trials", type=int, default=1000)
    ap.add_argument("--batch-size", type=int, default=100)
    ap.add_argument("--data-dir", type=Path, default=None)
    args = ap.parse_args()
    params = _params()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="isf_bench_"))
    sim_path = data_dir / "isf_simrun.zarr"
    if not (sim_path / "zarr.json").is_file() or xr.open_zarr(sim_path).sizes["trial"] < args.n_trials:
        t0 = time.perf_counter()
        STAGES["isf_simrun"](dict(params["isf_simrun"], n_trials=args.n_trials), data_dir=data_dir, scheduler="synchronous")
        print(f"built the simrun ({args.n_trials} trials) in {time.perf_counter() - t0:.1f} s (not compared)")
    STAGES["isf_spatial_bins"](params["isf_spatial_bins"], data_dir=data_dir, scheduler="synchronous")
    sim = xr.open_zarr(sim_path)
    bins = xr.open_zarr(data_dir / "isf_spatial_bins.zarr").load()
    n_trials = sim.sizes["trial"]
    print(f"simrun: {n_trials} trials, {sim.attrs['n_synapses']} synapses, {sim.sizes['sa_row']} activation rows, "
          f"{sim.sizes['spatial_bin'] if 'spatial_bin' in sim.sizes else bins.sizes['spatial_bin']} spatial bins")
    p = dict(params["isf_ann_batches"], batch_size=args.batch_size, weighted=False)
    t_max = float(p["max_time_ms"])

    # neurodata: the whole stage, timed
    t0 = time.perf_counter()
    STAGES["isf_ann_batches"](p, data_dir=data_dir, scheduler="synchronous")
    t_ours = time.perf_counter() - t0
    ann = xr.open_zarr(data_dir / "ann_batches.zarr")

    # reference, per batch, compute only
    sdf = section_distances_from_bins(bins)
    names = [str(b) for b in bins["spatial_bin"].values]
    trials = [str(t) for t in sim["trial"].values]
    t_ref = t_mem = 0.0
    equal = True
    for start in range(0, n_trials, args.batch_size):
        stop = min(start + args.batch_size, n_trials)
        frame = synapse_activation_frame(sim, trials=slice(start, stop))
        part = sim.isel(trial=slice(start, stop))
        vm, st = part["soma_voltage"].values, part["spike_times"].values
        t0 = time.perf_counter()
        ref = isf_reference.reference_batch(frame, trials[start:stop], sdf, names, p["excitatory_celltypes"], 0, t_max)
        t_ref += time.perf_counter() - t0
        # neurodata's fast path on the same preloaded table (compute only, targets included)
        t0 = time.perf_counter()
        mem = make_ann_batch(
            row_trial=pd.Index(trials[start:stop]).get_indexer(frame.index), section_ID=frame["section_ID"].to_numpy(),
            soma_distance=frame["soma_distance"].to_numpy(), synapse_type=frame["synapse_type"].to_numpy(),
            synapse_ID=frame["synapse_ID"].to_numpy(), activation_times=frame[[c for c in frame.columns if c.isdigit()]].to_numpy(),
            soma_voltage=vm, spike_times=st, trial_names=trials[start:stop], section_distances_df=sdf,
            min_time=0.0, max_time=t_max, bin_size=1.0, dt_ms=float(sim.attrs["dt_ms"]),
            excitatory_celltypes=p["excitatory_celltypes"], inhibitory_celltypes=p["inhibitory_celltypes"],
        )
        t_mem += time.perf_counter() - t0
        ours = ann["synapse_activation"].isel(trial=slice(start, stop)).values
        equal &= bool(np.array_equal(ours, ref)) and bool(np.array_equal(mem.synapse_activation, ref))
    load = os.getloadavg()[0]
    print(f"\nneurodata stage   : {t_ours:8.2f} s  ({1e3 * t_ours / n_trials:.2f} ms/trial, incl. Zarr I/O, targets, validation)")
    print(f"ISF-style pandas  : {t_ref:8.2f} s  ({1e3 * t_ref / n_trials:.2f} ms/trial, compute only)")
    print(f"neurodata compute : {t_mem:8.2f} s  ({1e3 * t_mem / n_trials:.2f} ms/trial, same preloaded tables, targets included)")
    print(f"speed-up          : {t_ref / t_ours:8.1f} x whole stage, {t_ref / t_mem:.1f} x compute vs compute;"
          f"   arrays equal: {equal}   (load average {load:.1f} on {os.cpu_count()} cores)")

    # memory, untimed second pass
    tracemalloc.start()
    STAGES["isf_ann_batches"](p, data_dir=data_dir, scheduler="synchronous")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    n_bins, n_time = ann.sizes["spatial_bin"], ann.sizes["time"]
    one_batch = args.batch_size * 2 * n_bins * n_time * 4
    whole = n_trials * 2 * n_bins * n_time * 4
    print(f"\npeak traced memory of the stage: {peak / 2**20:.1f} MiB; one batch of the float32 array: "
          f"{one_batch / 2**20:.1f} MiB; whole array: {whole / 2**20:.1f} MiB (peak / batch = {peak / one_batch:.2f})")
    frame = synapse_activation_frame(sim, trials=slice(0, args.batch_size))
    tracemalloc.start()
    isf_reference.reference_batch(frame, trials[: args.batch_size], sdf, names, p["excitatory_celltypes"], 0, t_max)
    _, peak_ref = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"peak traced memory of one reference batch (table preloaded): {peak_ref / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
