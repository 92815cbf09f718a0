"""A real distributed run: `dask scheduler` and two `dask worker` processes on 127.0.0.1, started
here; stages built through them are byte-identical to in-process builds, and a worker killed
with SIGKILL in the middle of a stage costs a retry, not the artifact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from _support import REPO, dask_cluster, tool_env

import neurodata
from neurodata._manifest import read_manifest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def cluster():
    """(scheduler address, the two worker processes)."""
    with dask_cluster(2) as running:
        yield running


def build(stage: str, params: dict, data_dir: Path, scheduler: str, tmp_path: Path) -> subprocess.Popen:
    params_file = tmp_path / f"{stage}-{data_dir.name}.yaml"
    params_file.write_text(yaml.safe_dump({stage: params}))
    return subprocess.Popen([str(BIN / "neurodata"), "run", stage, "--params", str(params_file), "--data-dir",
                             str(data_dir), "--scheduler", scheduler], cwd=REPO, env=tool_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def built(stage: str, params: dict, data_dir: Path, scheduler: str, tmp_path: Path) -> None:
    proc = build(stage, params, data_dir, scheduler, tmp_path)
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out


def tiny(stage: str) -> dict:
    params = yaml.safe_load((REPO / "params.yaml").read_text())[stage]
    return {**params, **(yaml.safe_load((REPO / "profiles" / "tiny.yaml").read_text()).get(stage) or {})}


def digest(data_dir: Path, artifact: str) -> str:
    return read_manifest(data_dir / f"{artifact}.zarr", artifact=artifact).digest


@pytest.mark.parametrize("stage", ["adex_we_sweep", "gfr_cells"])
def test_a_cluster_build_is_byte_identical_to_an_in_process_build(cluster, tmp_path, stage):
    address, _ = cluster
    params = tiny(stage)
    if stage == "gfr_cells":
        params["cells_per_task"] = 1  # one dask task per cell: the cells spread over both workers
    built(stage, params, tmp_path / "cluster", address, tmp_path)
    built(stage, params, tmp_path / "inprocess", "synchronous", tmp_path)
    assert digest(tmp_path / "cluster", stage) == digest(tmp_path / "inprocess", stage)


def test_a_two_culture_braingrid_ensemble_on_the_cluster_is_byte_identical(cluster, tmp_path):
    """One dask task per culture: the culture files and the summary do not depend on where they ran."""
    from neurodata.braingrid.stages_simulation import H5_DIR, culture_file

    address, _ = cluster
    params = tiny("braingrid_simulation")
    assert params["n_cultures"] == 2
    built("braingrid_simulation", params, tmp_path / "cluster", address, tmp_path)
    built("braingrid_simulation", params, tmp_path / "inprocess", "synchronous", tmp_path)
    assert digest(tmp_path / "cluster", "braingrid_simulation") == digest(tmp_path / "inprocess", "braingrid_simulation")
    files = sorted(p.name for p in (tmp_path / "cluster" / H5_DIR).iterdir())
    assert files == [culture_file(0), culture_file(1)]
    for name in files:
        assert (tmp_path / "cluster" / H5_DIR / name).read_bytes() == (tmp_path / "inprocess" / H5_DIR / name).read_bytes()


def test_a_worker_killed_mid_stage_costs_a_retry_not_the_artifact(cluster, tmp_path):
    address, workers = cluster
    params = {**tiny("adex_we_sweep"), "T": 4.0, "we": [0.0, 25.0, 50.0, 75.0, 100.0, 125.0, 150.0, 175.0]}
    proc = build("adex_we_sweep", params, tmp_path / "cluster", address, tmp_path)
    from distributed import Client

    with Client(address) as client:  # wait until both workers are busy with the stage's tasks
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            processing = client.processing()
            if sum(bool(tasks) for tasks in processing.values()) == 2:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the stage never kept both workers busy")
    victim = workers[0]
    os.kill(victim.pid, signal.SIGKILL)  # kill -9 of the worker process, in the middle of a task
    victim.wait(timeout=60)
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out  # the scheduler gave the lost tasks to the other worker
    built("adex_we_sweep", params, tmp_path / "inprocess", "synchronous", tmp_path)
    assert digest(tmp_path / "cluster", "adex_we_sweep") == digest(tmp_path / "inprocess", "adex_we_sweep")
    assert neurodata.verify_artifact("adex_we_sweep", data_dir=tmp_path / "cluster") == []
    assert not list((tmp_path / "cluster" / "adex_we_sweep.zarr").rglob("*.partial"))
