"""Bursts per core-hour of the BrainGrid culture ensemble on a dask cluster, and the projected
wall time of a larger ensemble (issue 15, criterion 1).

Runs the stage ``braingrid_simulation`` itself (one dask task per culture) with the params of a
profile (default ``profiles/research.yaml`` merged over ``params.yaml``), ``n_cultures``
overridden, in a scratch data folder, on the scheduler of ``NEURODATA_SCHEDULER`` (``local``:
a LocalCluster of one worker process per core, at most 4). Prints the bursts found, the wall
time, the CPU seconds of this process and of its (reaped) worker processes, the bursts per
core-hour and the projected wall time of the profile's full ensemble on this machine's cores.

Usage::

    NEURODATA_SCHEDULER=local nice -n 10 .venv/bin/python benchmarks/braingrid_ensemble.py \\
        --cultures 10 --data-dir /tmp/bg-ensemble [--profile research] [--min-bursts 1]

``--min-bursts 1`` keeps the stage from failing on a culture with few bursts, so every culture's
cost is counted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

import yaml

import neurodata
from neurodata.braingrid.stages import STAGES

ROOT = Path(__file__).resolve().parents[1]


def _profile_params(profile: str) -> dict:
    over = yaml.safe_load((ROOT / "profiles" / f"{profile}.yaml").read_text()) or {}
    return dict(over.get("braingrid_simulation", {}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="research")
    parser.add_argument("--cultures", type=int, default=10)
    parser.add_argument("--min-bursts", type=int, default=1)
    parser.add_argument("--data-dir", required=True)
    args = parser.parse_args()
    over = _profile_params(args.profile)
    full = int(over.get("n_cultures", 1))
    over.update(n_cultures=args.cultures, min_bursts=args.min_bursts)
    p = neurodata.stage_params("braingrid_simulation", **over)
    scheduler = os.environ.get("NEURODATA_SCHEDULER", "local")
    wall0 = time.perf_counter()
    STAGES["braingrid_simulation"](p, data_dir=Path(args.data_dir), scheduler=scheduler)
    wall = time.perf_counter() - wall0
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
    summary = neurodata.load_artifact("braingrid_simulation", data_dir=args.data_dir)
    bursts = summary["n_bursts"].values
    cores = min(4, os.cpu_count() or 1)
    per_core_hour = bursts.sum() / (cpu / 3600)
    projected_cpu = cpu * full / args.cultures
    out = {
        "profile": args.profile, "scheduler": scheduler, "cultures": args.cultures, "width": p["width"],
        "epochs": p["analytic_epochs"] + p["simulated_epochs"], "bursts": int(bursts.sum()),
        "bursts_per_culture": bursts.tolist(), "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
        "cpu_s_workers": round(kids.ru_utime + kids.ru_stime, 1), "bursts_per_core_hour": round(per_core_hour, 1),
        "load_average": os.getloadavg(), "cores": cores, "profile_cultures": full,
        "projected_profile_bursts": round(bursts.mean() * full),
        "projected_profile_wall_h_at_this_rate": round(wall * full / args.cultures / 3600, 2),
        "projected_profile_wall_h_ideal": round(projected_cpu / cores / 3600, 2),
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
