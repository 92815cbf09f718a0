"""Research scale on a real dask cluster: GFR fits and ISF trial batches across workers.

Starts ``dask scheduler`` and 1, then 2, ``dask worker`` processes on 127.0.0.1 (one thread
each, no nanny), builds the stages through ``NEURODATA_SCHEDULER`` and prints:

* GFR: seconds per fitted cell and the projected wall time of the seed profile's 2000 cells,
  per worker count (``--cells``, default 200, cells fitted across the workers);
* ISF: ``--trials`` trials (default 1000), and half as many, of ``ann_batches`` in batches across
  the workers, and each worker's peak resident memory beside its resident memory once it has
  imported the stage's code (its baseline) and the size of one batch: memory bounded by one
  batch means the peak above the baseline does not grow with the number of trials.

Run: ``python benchmarks/cluster_scale.py [--cells 200] [--trials 1000] [--workers 1 2]``.
It takes tens of minutes on 2 cores; the numbers it printed are in the closing notes and
docs/gfr.md / docs/isf.md.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import yaml

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    """A scheduler and *n* single-threaded workers on 127.0.0.1; samples each worker's RSS."""

    def __init__(self, n_workers: int) -> None:
        self.address = f"tcp://127.0.0.1:{free_port()}"
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        port = self.address.rsplit(":", 1)[1]
        self.scheduler = subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", port,
                                           "--no-dashboard"], **quiet)
        self.workers = [subprocess.Popen([str(BIN / "dask"), "worker", self.address, "--host", "127.0.0.1", "--nthreads",
                                          "1", "--no-nanny", "--no-dashboard", "--memory-limit", "0"], **quiet)
                        for _ in range(n_workers)]
        from distributed import Client

        with Client(self.address, timeout=120) as client:
            client.wait_for_workers(n_workers, timeout=120)
            client.run(_import_stage_code)
        self.baseline = {w.pid: psutil.Process(w.pid).memory_info().rss for w in self.workers}
        self.peak = dict.fromkeys((w.pid for w in self.workers), 0)
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            for pid in self.peak:
                try:
                    self.peak[pid] = max(self.peak[pid], psutil.Process(pid).memory_info().rss)
                except psutil.NoSuchProcess:
                    pass
            time.sleep(0.05)

    def reset_peaks(self) -> None:
        self.peak = dict.fromkeys(self.peak, 0)

    def close(self) -> None:
        self._stop.set()
        for proc in [*self.workers, self.scheduler]:
            proc.terminate()
            proc.wait(timeout=30)


def _import_stage_code() -> None:
    """What a worker imports for its first task (so the baseline is a worker ready to work)."""
    import neurodata.gfr.stages
    import neurodata.isf.stages
    import neurodata.runner  # noqa: F401


def run_stage(stage: str, params_file: Path, data_dir: Path, scheduler: str) -> float:
    start = time.perf_counter()
    subprocess.run([str(BIN / "neurodata"), "run", stage, "--params", str(params_file), "--data-dir", str(data_dir),
                    "--scheduler", scheduler], cwd=REPO, check=True, capture_output=True,
                   env={**os.environ, "NEURODATA_PROGRESS": "never"})
    return time.perf_counter() - start


def params_with(overrides: dict[str, dict], folder: Path) -> Path:
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    for section, values in overrides.items():
        params[section].update(values)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    return path


def gfr(cells: int, workers: list[int], folder: Path) -> dict:
    params = params_with({"gfr_cells": {"n_cells": cells, "cells_per_task": 8},
                          "gfr_params": {"cells_per_task": 8}}, folder)
    data = folder / "gfr"
    run_stage("gfr_cells", params, data, "synchronous")
    run_stage("gfr_binned", params, data, "synchronous")
    out = {}
    for n in workers:
        cluster = Cluster(n)
        try:
            wall = run_stage("gfr_params", params, data, cluster.address)
        finally:
            cluster.close()
        per_cell = wall / cells
        out[n] = {"wall_s": round(wall, 1), "s_per_cell": round(per_cell, 3),
                  "projected_2000_cells_h": round(per_cell * 2000 / 3600, 2)}
        print(f"gfr_params, {cells} cells, {n} worker(s): {wall:.0f} s, {per_cell:.2f} s per cell; "
              f"2000 cells: {per_cell * 2000 / 3600:.2f} h", flush=True)
    return out


def isf(trials: int, workers: list[int], folder: Path) -> dict:
    import xarray as xr

    batch = 100
    out: dict = {}
    for n_trials in (trials // 2, trials):
        params = params_with({"isf_simrun": {"n_trials": n_trials}, "isf_ann_batches": {"batch_size": batch}},
                             folder / f"isf{n_trials}")
        data = folder / f"isf{n_trials}"
        t0 = time.perf_counter()
        run_stage("isf_simrun", params, data, "auto")
        simrun_s = time.perf_counter() - t0
        run_stage("isf_spatial_bins", params, data, "synchronous")
        out[n_trials] = {"isf_simrun_s": round(simrun_s, 1)}
        print(f"isf_simrun, {n_trials} trials: {simrun_s:.0f} s", flush=True)
        for n in workers:
            cluster = Cluster(n)
            try:
                cluster.reset_peaks()
                wall = run_stage("isf_ann_batches", params, data, cluster.address)
                rows = sorted((cluster.peak[pid], cluster.baseline[pid]) for pid in cluster.peak)
            finally:
                cluster.close()
            with xr.open_zarr(data / "ann_batches.zarr") as ds:
                batch_bytes = sum(v.dtype.itemsize * v.size // ds.sizes["trial"] * batch
                                  for v in ds.data_vars.values() if "trial" in v.dims)
            mib = lambda b: round(b / 2**20)  # noqa: E731
            out[n_trials][n] = {"wall_s": round(wall, 1), "peak_rss_MiB": [mib(p) for p, _ in rows],
                                "baseline_rss_MiB": [mib(b) for _, b in rows],
                                "peak_above_baseline_MiB": [mib(p - b) for p, b in rows],
                                "one_batch_MiB": round(batch_bytes / 2**20, 1)}
            print(f"isf_ann_batches, {n_trials} trials in batches of {batch}, {n} worker(s): {wall:.0f} s; worker RSS "
                  f"peak {[mib(p) for p, _ in rows]} MiB, baseline {[mib(b) for _, b in rows]} MiB (imports done), "
                  f"peak above baseline {[mib(p - b) for p, b in rows]} MiB; one output batch "
                  f"{batch_bytes / 2**20:.1f} MiB", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=200)
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--only", choices=["gfr", "isf"], default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        if args.only in (None, "gfr"):
            results["gfr"] = gfr(args.cells, args.workers, Path(tmp))
        if args.only in (None, "isf"):
            results["isf"] = isf(args.trials, args.workers, Path(tmp))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
