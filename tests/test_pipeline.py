"""End to end: the whole DVC pipeline on the tiny profile, bit-reproducible, and safe to fail."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from _support import (
    build_tiny_checkout,
    dask_cluster,
    fork_server_env,
    lock_stages,
    lock_texts,
    parent_pid,
    pipeline_stages,
    run_tool,
    tool_env,
)

import neurodata


def lock_outs(checkout: Path) -> dict[str, str]:
    """Every output's DVC hash in the pipelines' locks."""
    lock = lock_stages(checkout)
    return {out["path"]: out["md5"] for stage in lock.values() for out in stage["outs"]}


@pytest.mark.slow
def test_dvc_repro_of_the_whole_pipeline_on_the_tiny_profile(tiny_checkout):
    env = tool_env()
    assert set(lock_stages(tiny_checkout)) == set(pipeline_stages(tiny_checkout))
    validated = run_tool(["neurodata", "validate", "--deep"], tiny_checkout, env).stdout
    assert "0 problem(s)" in validated and "not built" not in validated
    assert " no " not in run_tool(["neurodata", "list"], tiny_checkout, env).stdout
    assert "up to date" in run_tool(["dvc", "status"], tiny_checkout, env).stdout
    before = lock_texts(tiny_checkout)
    assert "didn't change, skipping" in run_tool(["dvc", "repro", "--all-pipelines"], tiny_checkout, env).stdout
    assert lock_texts(tiny_checkout) == before


@pytest.mark.slow
def test_a_local_cluster_build_has_the_same_dvc_hashes_as_an_in_process_build(tiny_checkout, tmp_path):
    """Bit-reproducible: no clock, no commit, no scheduler in the bytes; every output's DVC hash agrees.
    The cluster (a scheduler and two workers on 127.0.0.1) serves every stage of the build, each
    stage a fresh `neurodata run` process (the shared build starts its stages from the fork server)."""
    with dask_cluster(2) as (address, _):
        again = build_tiny_checkout(tmp_path / "checkout", address, fork_server=False)
    assert lock_outs(again) == lock_outs(tiny_checkout)


def _damage_free_copy(tiny_checkout: Path, dest: Path) -> Path:
    import shutil

    shutil.copytree(tiny_checkout, dest, symlinks=True)
    return dest


@pytest.mark.slow
def test_a_stage_that_fails_or_is_killed_under_dvc_repro_keeps_the_previous_artifact(tiny_checkout, tmp_path):
    checkout = _damage_free_copy(tiny_checkout, tmp_path / "checkout")
    # the stages start from `neurodata run`'s fork server: the killed writer is a forked child
    with fork_server_env(NEURODATA_SCHEDULER="synchronous") as env:
        before = neurodata.load_artifact("adex_we_sweep", data_dir=checkout / "data")
        params = yaml.safe_load((checkout / "params.yaml").read_text())

        params["adex_we_sweep"]["N"] = "abc"  # a bad param: the stage fails before any work
        (checkout / "params.yaml").write_text(yaml.safe_dump(params))
        failed = run_tool(["dvc", "repro", "pipelines/adex/dvc.yaml:adex_we_sweep"], checkout, env, ok=False)
        assert failed.returncode != 0 and "The 'N' parameter of stage adex_we_sweep" in failed.stdout + failed.stderr
        after = neurodata.load_artifact("adex_we_sweep", data_dir=checkout / "data")
        assert after.identical(before)

        params["adex_we_sweep"].update(N=1000, T=60.0)  # a long run, killed with SIGKILL while it writes
        (checkout / "params.yaml").write_text(yaml.safe_dump(params))
        repro = subprocess.Popen(["dvc", "repro", "pipelines/adex/dvc.yaml:adex_we_sweep"], cwd=checkout, env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True)
        data = checkout / "data"
        deadline = time.monotonic() + 120
        while not (temporaries := list(data.glob(".adex_we_sweep.zarr.tmp-*"))) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert temporaries, "the stage never started writing"
        writer_pid = int(temporaries[0].name.split(".tmp-")[1].split("-")[0])  # the stage's process
        server_pid = int(next(Path(env["NEURODATA_FORKSERVER_DIR"]).glob("*/*.pid")).read_text())
        assert parent_pid(writer_pid) == server_pid  # a child of the fork server, not the command dvc started
        os.kill(writer_pid, signal.SIGKILL)
        repro.communicate(timeout=120)
        assert repro.returncode != 0
        assert neurodata.load_artifact("adex_we_sweep", data_dir=data).identical(before)  # still the old version
        assert neurodata.verify_artifact("adex_we_sweep", data_dir=data) == []
