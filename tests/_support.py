"""Helpers the tests share: copies of the checkout, the venv's tools, a built tiny pipeline."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def copy_checkout(dest: Path) -> None:
    """Tracked and untracked-but-not-ignored files of this checkout (no built data, no venv)."""
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO, capture_output=True, check=True
    ).stdout.decode().split("\0")
    for name in filter(None, files):
        src = REPO / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)


def pipeline_stages(root: Path) -> dict[str, dict]:
    """The stages of every pipelines/<family>/dvc.yaml of *root*, as written (name -> body)."""
    import yaml

    return {name: body for path in sorted(root.glob("pipelines/*/dvc.yaml"))
            for name, body in yaml.safe_load(path.read_text())["stages"].items()}


def lock_stages(root: Path) -> dict[str, dict]:
    """The stages of every pipelines/<family>/dvc.lock of *root* (name -> DVC's record)."""
    import yaml

    return {name: body for path in sorted(root.glob("pipelines/*/dvc.lock"))
            for name, body in yaml.safe_load(path.read_text())["stages"].items()}


def lock_texts(root: Path) -> dict[str, str]:
    return {path.parent.name: path.read_text() for path in sorted(root.glob("pipelines/*/dvc.lock"))}


def tool_env(**extra: str) -> dict[str, str]:
    """Environment for the venv's command-line tools (neurodata, dvc) run by the tests."""
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "NEURODATA_PROGRESS": "never",
           "DVC_NO_ANALYTICS": "1", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t", **extra}  # fmt: skip
    env.pop("NEURODATA_DATA_DIR", None)
    return env


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def dask_cluster(n_workers: int = 2):
    """``dask scheduler`` and *n_workers* ``dask worker`` processes on 127.0.0.1 (no nannies, so a
    worker's PID is the worker; no dashboards); yields (address, worker processes), stops them after."""
    bin_dir = Path(sys.executable).parent
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    common = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": tool_env()}
    scheduler = subprocess.Popen([str(bin_dir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                  "--no-dashboard"], **common)
    workers = [subprocess.Popen([str(bin_dir / "dask"), "worker", address, "--host", "127.0.0.1", "--nthreads", "1",
                                 "--no-nanny", "--no-dashboard", "--name", f"worker-{i}"], **common)
               for i in range(n_workers)]
    try:
        from distributed import Client

        with Client(address, timeout=120) as client:
            client.wait_for_workers(n_workers, timeout=120)
        yield address, workers
    finally:
        for proc in [*workers, scheduler]:
            proc.terminate()
        for proc in [*workers, scheduler]:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def run_tool(cmd: list[str], cwd: Path, env: dict[str, str], *, ok: bool = True):
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if ok:
        assert result.returncode == 0, f"{' '.join(cmd)} exited {result.returncode}:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result


def stop_fork_servers(folder: Path) -> None:
    """Stop (SIGTERM, then wait) every fork server whose socket lives under *folder*."""
    import signal
    import time

    for pidfile in folder.glob("*/*.pid"):
        with contextlib.suppress(ValueError, OSError):
            pid = int(pidfile.read_text())
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 30
            while alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)


def parent_pid(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def alive(pid: int) -> bool:
    """Whether process *pid* runs (a zombie, dead but not yet reaped, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@contextlib.contextmanager
def fork_server_env(**extra: str):
    """tool_env() with `neurodata run`'s fork server on, its socket in a private folder (a short
    path: a Unix socket's path is limited to 107 bytes); its server is stopped on exit."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="ndfs-"))
    try:
        yield tool_env(NEURODATA_FORKSERVER="1", NEURODATA_FORKSERVER_DIR=str(folder), **extra)
    finally:
        stop_fork_servers(folder)
        shutil.rmtree(folder, ignore_errors=True)


def warmup_report(checkout: Path) -> Path:
    """Where build_tiny_checkout lists kernel signatures missing from the warm-up (beside the checkout)."""
    return checkout.parent / f"{checkout.name}.warmup-report.txt"


def build_tiny_checkout(dest: Path, scheduler: str, *, fork_server: bool = True) -> Path:
    """A copy of the checkout, committed, with the whole pipeline built on the tiny profile (a DVC experiment).

    With *fork_server*, stages start from `neurodata run`'s fork server (the default outside the
    tests); without it, each stage is a fresh interpreter."""
    copy_checkout(dest)
    # the server's warmer compiles the kernels ahead; every kernel a stage compiles beyond its
    # family's warm-up list is written to warmup_report(dest) (test_forkserver.py checks it is empty)
    with fork_server_env(NEURODATA_SCHEDULER=scheduler, NEURODATA_FORKSERVER_WARM="1",
                         NEURODATA_WARMUP_REPORT=str(warmup_report(dest))) as env:
        if not fork_server:
            env["NEURODATA_FORKSERVER"] = "0"
        run_tool(["git", "init", "-q"], dest, env)
        run_tool(["git", "add", "-A"], dest, env)
        run_tool(["git", "commit", "-qm", "checkout"], dest, env)
        run_tool(["neurodata", "profile", "tiny"], dest, env)  # dvc exp run -P -S ...: the whole pipeline, tiny profile
    return dest


def profile_params(profile: str) -> dict:
    """params.yaml, with profiles/<profile>.yaml merged in unless *profile* is "default"."""
    from neurodata._paths import load_yaml
    from neurodata.params import merge_profile

    params = load_yaml((REPO / "params.yaml").read_text())
    if profile != "default":
        params = merge_profile(params, load_yaml((REPO / "profiles" / f"{profile}.yaml").read_text()))
    return params
