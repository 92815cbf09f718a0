"""The whole tiny build (``dvc repro -P``) on fresh clones: numba's cache cold and warm, with and
without the fork server's warmer, side by side in one run.

For each variant a fresh clone of this checkout's HEAD gets params.yaml set to the tiny profile
(committed, as ``neurodata profile tiny`` would have it) and runs ``dvc repro -P`` with an empty
numba cache (the kernels are cached beside their sources, so a fresh clone is cold); then
each clone runs ``dvc repro -P -f`` twice (cache warm; the second with the server warm too). A pure-Python loop
is timed before and after as the machine's speed of the moment: on a shared 2-core VM it varies
by up to 2x within an hour, so compare the ratios, and the loop, before the seconds.

Run: ``python benchmarks/tiny_build.py`` (about 8 minutes on 2 cores). The numbers it printed are
in docs/developing.md and the closing notes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def python_loop_s() -> float:
    start = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - start


def tiny_clone(dest: Path) -> Path:
    subprocess.run(["git", "clone", "-q", str(REPO), str(dest)], check=True)
    from neurodata.params import merge_profile

    params = merge_profile(yaml.safe_load((dest / "params.yaml").read_text()),
                           yaml.safe_load((dest / "profiles" / "tiny.yaml").read_text()))
    (dest / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    subprocess.run(["git", "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qam", "tiny profile"], cwd=dest, check=True)
    return dest


def repro(clone: Path, servers: Path, *extra: str, warm: bool = True) -> float:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(clone), "DVC_NO_ANALYTICS": "1",
           "NEURODATA_FORKSERVER_DIR": str(servers), "NEURODATA_FORKSERVER_WARM": "1" if warm else "0",
           "NEURODATA_PROGRESS": "never"}
    env.pop("NUMBA_CACHE_DIR", None)
    start = time.perf_counter()
    subprocess.run(["dvc", "repro", "-P", *extra], cwd=clone, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def stop_servers(servers: Path) -> None:
    for pidfile in servers.glob("*/*.pid"):
        try:
            os.kill(int(pidfile.read_text()), 15)
        except (OSError, ValueError):
            pass


def main() -> None:
    before = python_loop_s()
    root = Path(tempfile.mkdtemp(prefix="tiny-build-"))
    try:
        results = {}
        runs = {name: (tiny_clone(root / name.replace(" ", "_")), root / f"fs_{int(warm)}", warm)
                for name, warm in (("warmer", True), ("no warmer", False))}
        for name, (clone, servers, warm) in runs.items():
            results[f"cold, {name}"] = repro(clone, servers, warm=warm)
            stop_servers(servers)
        for name, (clone, servers, warm) in runs.items():
            results[f"warm (-f), {name}"] = repro(clone, servers, "-f", warm=warm)
            results[f"warm (-f) again, {name}"] = repro(clone, servers, "-f", warm=warm)
            stop_servers(servers)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    after = python_loop_s()
    print(f"machine speed: 10M-iteration Python loop {before:.2f} s before, {after:.2f} s after")
    for name, seconds in results.items():
        print(f"{name:>26s}: {seconds:6.1f} s")
    print(f"cold: without / with the warmer {results['cold, no warmer'] / results['cold, warmer']:.2f}x; "
          f"warm: with / without it {results['warm (-f) again, warmer'] / results['warm (-f) again, no warmer']:.2f}x")


if __name__ == "__main__":
    main()
