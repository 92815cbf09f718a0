"""Speed of the AdEx family: neurodata's numba simulator vs the same model in Brian2, side by side.

1. One simulation, N = 6500 inputs, T = 10 s: Brian2 2.9 (cython target, its own venv with
   numpy<2.4 at .bench-venv/brian2, compile time excluded) against neurodata.adex.simulate
   (JIT warm-up excluded; median of repeats). Prints the ratio (target >= 1000x).
2. The whole default AdEx pipeline (its three stages, LocalCluster included), wall time (target < 60 s).

Run: .venv/bin/python benchmarks/adex_vs_brian2.py [--skip-brian2] [--skip-pipeline]

The Julia stream beside numpy's: benchmarks/adex_streams.py.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BRIAN_VENV = REPO / ".bench-venv" / "brian2"
N, T, WE_NS, SEED = 6500, 10.0, 0.015, 0


def brian2_python() -> Path:
    """Create the Brian2 venv once (Brian2 2.9 needs numpy<2.4, so it stays out of the main env)."""
    python = BRIAN_VENV / "bin" / "python"
    if not (BRIAN_VENV / ".installed").exists():
        subprocess.run([sys.executable, "-m", "venv", str(BRIAN_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "brian2==2.9.0", "numpy<2.4", "cython", "setuptools"],
            check=True,
        )
        (BRIAN_VENV / ".installed").touch()
    return python


def run_brian2(repeats: int) -> list[dict]:
    python = brian2_python()
    results = []
    for _ in range(repeats):
        out = subprocess.run(
            [str(python), str(HERE / "_adex_brian2_model.py"), str(N), str(T), str(WE_NS), str(SEED)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def run_neurodata(repeats: int) -> tuple[list[float], float]:
    from neurodata.adex import simulate

    simulate(N, 0.01, WE_NS, SEED)  # JIT compile / cache load
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = simulate(N, T, WE_NS, SEED)
        times.append(time.perf_counter() - start)
    return times, result.output_rate


def run_pipeline() -> float:
    """Wall time of both default AdEx stages as dvc runs them (fresh processes, LocalCluster)."""
    env = {**os.environ, "NEURODATA_PROGRESS": "never"}
    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        for stage in ("adex_we_sweep", "adex_rate_match", "adex_expectation"):
            subprocess.run([str(bin_dir / "neurodata"), "run", stage, "--data-dir", tmp], cwd=REPO, env=env, check=True, capture_output=True)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-brian2", action="store_true", help="no Brian2 run (it needs its own venv)")
    parser.add_argument("--skip-pipeline", action="store_true")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; one simulation N={N}, T={T} s, we={WE_NS * 1000:g} pS, seed {SEED}")
    if not args.skip_brian2:
        brian = run_brian2(args.repeats)
        ours, our_rate = run_neurodata(max(args.repeats, 10))
        brian_run = statistics.median(r["run_s"] for r in brian)
        our_run = statistics.median(ours)
        print(f"Brian2 2.9 (cython): compile {statistics.median(r['compile_s'] for r in brian):.1f} s (excluded), "
              f"run {brian_run:.2f} s (median of {len(brian)}), output {brian[0]['rate_Hz']:.2f} Hz")  # fmt: skip
        print(f"neurodata (numba):   run {our_run * 1e3:.2f} ms (median of {len(ours)}), output {our_rate:.2f} Hz")
        ratio = brian_run / our_run
        print(f"speed-up neurodata vs Brian2: {ratio:,.0f}x (target >= 1000x): {'PASS' if ratio >= 1000 else 'FAIL'}")
    if not args.skip_pipeline:
        wall = run_pipeline()
        print(f"default AdEx pipeline (adex_we_sweep + adex_rate_match + adex_expectation): {wall:.1f} s wall (target < 60 s): "
              f"{'PASS' if wall < 60 else 'FAIL'}")  # fmt: skip


if __name__ == "__main__":
    main()
