"""A registry shared through a real S3-compatible remote (moto's server, started here on
127.0.0.1), and read from an installed wheel, outside any checkout, at two tagged versions."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from _support import REPO, run_tool, tool_env

pytestmark = pytest.mark.slow  # uses the tiny pipeline build

BUCKET = "neurodata-registry"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    """moto's S3 server on a free loopback port, with an empty bucket; stopped afterwards."""
    port = free_port()
    server = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url, timeout=1)
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                pytest.fail("moto's S3 server did not start")
            time.sleep(0.2)
    import boto3

    boto3.client("s3", endpoint_url=url, **{k.lower(): v for k, v in CREDENTIALS.items() if k != "AWS_DEFAULT_REGION"},
                 region_name="us-east-1").create_bucket(Bucket=BUCKET)
    yield url
    server.terminate()
    server.wait(timeout=30)


def tree_hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def registry(tiny_checkout, s3_endpoint, tmp_path_factory):
    """A git + DVC registry with two tags, v1 (the tiny build) and v2 (adex_we_sweep with more w_e),
    pushed to the S3 remote; the remote (no secret) in .dvc/config, the credentials in .dvc/config.local."""
    repo = tmp_path_factory.mktemp("registry") / "repo"
    shutil.copytree(tiny_checkout, repo, symlinks=True)
    env = tool_env(NEURODATA_SCHEDULER="synchronous")
    run_tool(["dvc", "remote", "add", "-d", "store", f"s3://{BUCKET}/neurodata"], repo, env)
    run_tool(["dvc", "remote", "modify", "store", "endpointurl", s3_endpoint], repo, env)
    run_tool(["dvc", "remote", "modify", "--local", "store", "access_key_id", CREDENTIALS["AWS_ACCESS_KEY_ID"]], repo, env)
    run_tool(["dvc", "remote", "modify", "--local", "store", "secret_access_key", CREDENTIALS["AWS_SECRET_ACCESS_KEY"]], repo, env)
    assert "secret" not in (repo / ".dvc" / "config").read_text()
    run_tool(["git", "add", "-A"], repo, env)
    run_tool(["git", "commit", "-qm", "v1"], repo, env)
    run_tool(["git", "tag", "v1"], repo, env)
    run_tool(["dvc", "push"], repo, env)
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["adex_we_sweep"]["we"] = [0.0, 50.0, 100.0, 150.0, 200.0]
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run_tool(["dvc", "repro", "pipelines/adex/dvc.yaml:adex_we_sweep"], repo, env)
    run_tool(["git", "add", "-A"], repo, env)
    run_tool(["git", "commit", "-qm", "v2: more w_e"], repo, env)
    run_tool(["git", "tag", "v2"], repo, env)
    run_tool(["dvc", "push"], repo, env)
    return repo


def test_a_fresh_clone_pulls_byte_identical_artifacts_and_is_up_to_date(registry, tmp_path):
    clone = tmp_path / "clone"
    env = tool_env(**CREDENTIALS)  # a clone has no .dvc/config.local: credentials from the environment
    run_tool(["git", "clone", "-q", str(registry), str(clone)], tmp_path, env)
    assert not (clone / "data").exists()
    run_tool(["dvc", "pull", "--allow-missing"], clone, env)  # what the README's `make data` does first
    assert tree_hashes(clone / "data") == tree_hashes(registry / "data")
    assert "Data and pipelines are up to date" in run_tool(["dvc", "status"], clone, env).stdout
    repro = run_tool(["dvc", "repro", "--all-pipelines"], clone, env).stdout  # ... and then builds only what is missing: nothing
    assert "Running stage" not in repro


def test_dvc_compares_the_metrics_of_two_versions(registry):
    diff = run_tool(["dvc", "metrics", "diff", "v1", "v2", "--json"], registry, tool_env()).stdout
    changed = yaml.safe_load(diff)["metrics/adex_we_sweep.json"]
    assert "mean_rate_Hz.200pS" in changed and changed["mean_rate_Hz.200pS"]["old"] is None
    assert "metrics/ei_rates.json" not in yaml.safe_load(diff)  # unchanged stages show no difference


WHEEL_SCRIPT = """
import json, sys
import neurodata
repo = sys.argv[1]
assert "site-packages" not in neurodata.__file__ and "wheel" in neurodata.__file__, neurodata.__file__
v1 = neurodata.open_artifact("adex_we_sweep", repo=repo, rev="v1")
cat = neurodata.open_catalog(repo=repo, rev="v2")
v2 = cat.adex_we_sweep.read()
windows = cat(window=5).burst_windows.read()
try:
    neurodata.open_catalog(repo=repo, rev="v2", window=7)
except neurodata.ParamError as exc:
    bad_window = str(exc)
print(json.dumps({"v1": v1.sizes["we"], "v2": v2.sizes["we"], "v2_rates_ok": bool((v2.output_rate.values >= 0).all()),
                  "windows": windows.sizes["sample"], "bad_window": bad_window,
                  "contracts": len(neurodata.store.known_artifacts())}))
"""


@pytest.fixture(scope="module")
def wheel_site(tmp_path_factory):
    """neurodata installed from its wheel (not editable) into a folder of its own."""
    dist = tmp_path_factory.mktemp("dist")
    site = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(REPO)], check=True,
                   capture_output=True)
    wheel = next(dist.glob("neurodata-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
                   check=True, capture_output=True)
    return site


@pytest.mark.parametrize("as_url", [False, True])
def test_an_installed_wheel_reads_any_version_straight_from_the_remote(registry, wheel_site, tmp_path, as_url):
    shutil.rmtree(registry / ".dvc" / "cache", ignore_errors=True)  # nothing local: every byte comes from S3
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "read.py").write_text(textwrap.dedent(WHEEL_SCRIPT))
    env = tool_env(PYTHONPATH=str(wheel_site), **CREDENTIALS)
    repo = registry.as_uri() if as_url else str(registry)
    out = run_tool([sys.executable, "read.py", repo], outside, env).stdout
    result = yaml.safe_load(out.strip().splitlines()[-1])
    assert result["v1"] == 4 and result["v2"] == 5 and result["v2_rates_ok"]
    assert result["windows"] > 0 and result["contracts"] >= 16  # the wheel carries the contracts
    assert "must be one of [5, 10, 50]" in result["bad_window"]  # the tiny profile's windows, from the registry
    assert not (outside / "data").exists()
