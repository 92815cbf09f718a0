"""`neurodata run` through its fork server: the same bytes, exit codes and signals as a fresh
process, no stale code, and a stage that dies with its command (real SIGKILLs by PID)."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from _support import alive, copy_checkout, fork_server_env, profile_params, run_tool, warmup_report

pytestmark = pytest.mark.slow

def params_file(folder: Path, **overrides: dict) -> Path:
    """params.yaml with the tiny profile's sections (and *overrides*) merged in."""
    params = profile_params("tiny")
    for section, values in overrides.items():
        params[section] = {**params[section], **values}
    path = folder / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    return path


def tree_hashes(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def server_pid(folder: Path) -> int:
    """The pid of the one server under *folder* (waiting for the first command to start it)."""
    pidfile = wait_for(lambda: next(folder.glob("*/*.pid"), None), "the fork server to start")
    return wait_for(lambda: pidfile.read_text().strip(), "the server's pid file") and int(pidfile.read_text())


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def wait_for(predicate, what: str, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


@pytest.fixture(scope="module")
def server_env():
    with fork_server_env(NEURODATA_SCHEDULER="synchronous") as env:
        yield env


def servers(env: dict) -> Path:
    return Path(env["NEURODATA_FORKSERVER_DIR"])


def test_a_stage_run_by_the_server_writes_the_same_bytes_and_output(server_env, tmp_path):
    params = params_file(tmp_path)
    served, fresh = tmp_path / "served" / "data", tmp_path / "fresh" / "data"
    a = run_tool(["neurodata", "run", "adex_we_sweep", "--params", str(params), "--data-dir", str(served)], tmp_path, server_env)
    b = run_tool(["neurodata", "run", "adex_we_sweep", "--params", str(params), "--data-dir", str(fresh)], tmp_path,
                 {**server_env, "NEURODATA_FORKSERVER": "0"})
    assert alive(server_pid(servers(server_env)))  # a server ran the first, and outlives it
    assert tree_hashes(served.parent) == tree_hashes(fresh.parent)  # data, metrics and plot tables alike
    strip = lambda out: [line.replace(str(served.parent), "").replace(str(fresh.parent), "") for line in out.splitlines()[:-1]]  # noqa: E731
    assert strip(a.stdout) == strip(b.stdout) and a.stdout.splitlines()[-1].startswith("adex_we_sweep: done in")


def test_errors_keep_their_exit_codes_and_messages(server_env, tmp_path):
    bad = params_file(tmp_path, adex_we_sweep={"N": "abc"})
    failed = run_tool(["neurodata", "run", "adex_we_sweep", "--params", str(bad), "--data-dir", str(tmp_path / "data")],
                      tmp_path, server_env, ok=False)
    assert failed.returncode == 2  # a ParamError, as without the server
    assert failed.stderr.startswith("neurodata run: error: ParamError: The 'N' parameter of stage adex_we_sweep")
    unknown = run_tool(["neurodata", "run", "no_such_stage"], tmp_path, server_env, ok=False)
    assert unknown.returncode == 1 and "no_such_stage" in unknown.stderr
    assert not (tmp_path / "data").exists()


def test_the_child_gets_the_commands_environment_and_folder(server_env, tmp_path):
    """NEURODATA_DATA_DIR and the working directory are the client's, not the server's."""
    params = params_file(tmp_path)
    env = {**server_env, "NEURODATA_DATA_DIR": str(tmp_path / "from_env")}
    run_tool(["neurodata", "run", "adex_rate_match", "--params", "params.yaml"], tmp_path, env)  # relative to cwd
    assert (tmp_path / "from_env" / "adex_rate_match.zarr" / "zarr.json").is_file()
    assert params.is_file()


def test_killing_the_command_kills_its_stage_and_writes_nothing(server_env, tmp_path):
    """kill -9 of `neurodata run` (what DVC does to a stage it stops): the forked stage dies with it."""
    long_run = params_file(tmp_path, braingrid_simulation={"width": 50, "analytic_epochs": 84, "simulated_epochs": 76})
    data = tmp_path / "data"
    client = subprocess.Popen(["neurodata", "run", "braingrid_simulation", "--params", str(long_run), "--data-dir", str(data)],
                              cwd=tmp_path, env=server_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = server_pid(servers(server_env))
    stage = wait_for(lambda: [c for c in children(server) if alive(c)], "the forked stage")[0]
    os.kill(client.pid, signal.SIGKILL)  # kill -9 by PID
    assert client.wait(timeout=60) == -signal.SIGKILL
    wait_for(lambda: not alive(stage), "the stage to die with its command", timeout=60)
    assert not (data / "braingrid_simulation.zarr").exists() and not (data / "braingrid_simulation.h5").exists()


def test_a_command_killed_before_it_read_its_stages_pid_still_takes_the_stage_with_it(server_env, tmp_path):
    """A client that dies with the child's pid message unread resets the connection (ECONNRESET):
    the server must take that as the client's death, kill the stage and keep serving (it used to
    die of the error, leaving the stage running as an orphan)."""
    import socket
    import sys

    from neurodata.cli._forkserver import _send

    run_tool(["neurodata", "run", "no_such_stage"], tmp_path, server_env, ok=False)  # the server is up
    server = server_pid(servers(server_env))
    long_run = params_file(tmp_path, braingrid_simulation={"width": 50, "analytic_epochs": 84, "simulated_epochs": 76})
    argv = ["run", "braingrid_simulation", "--params", str(long_run), "--data-dir", str(tmp_path / "data")]
    devnull = os.open(os.devnull, os.O_RDWR)
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.connect(str(next(servers(server_env).glob("*/*.sock"))))
    _send(client, {"argv": argv, "env": server_env, "cwd": str(tmp_path), "path": sys.path, "umask": 0o022},
          fds=(devnull, devnull, devnull))
    os.close(devnull)
    stage = wait_for(lambda: [c for c in children(server) if alive(c)], "the forked stage")[0]
    wait_for(lambda: client.recv(1, socket.MSG_PEEK), "the stage's pid message")  # there, and left unread
    client.close()
    wait_for(lambda: not alive(stage), "the stage to die with its command", timeout=60)
    assert alive(server)
    assert run_tool(["neurodata", "run", "no_such_stage"], tmp_path, server_env, ok=False).returncode == 1
    assert server_pid(servers(server_env)) == server  # the same server answered


def test_a_stage_killed_by_a_signal_kills_its_command_by_the_same_signal(server_env, tmp_path):
    long_run = params_file(tmp_path, braingrid_simulation={"width": 50, "analytic_epochs": 84, "simulated_epochs": 76})
    client = subprocess.Popen(["neurodata", "run", "braingrid_simulation", "--params", str(long_run), "--data-dir",
                               str(tmp_path / "data")], cwd=tmp_path, env=server_env, stdout=subprocess.DEVNULL)
    server = server_pid(servers(server_env))
    stage = wait_for(lambda: [c for c in children(server) if alive(c)], "the forked stage")[0]
    os.kill(stage, signal.SIGKILL)
    assert client.wait(timeout=60) == -signal.SIGKILL  # dvc repro sees a stage killed by SIGKILL, as before


def test_a_stage_reports_its_exit_status_itself_while_the_server_is_stopped(server_env, tmp_path):
    """The child sends the command its exit status (the server may be busy importing
    PRELOAD_LATER then): with the server stopped by SIGSTOP once the stage is forked, the command
    still ends with the stage's code. The stage waits on a FIFO as its params file meanwhile."""
    fifo = tmp_path / "params.yaml"
    os.mkfifo(fifo)
    client = subprocess.Popen(["neurodata", "run", "adex_we_sweep", "--params", str(fifo), "--data-dir",
                               str(tmp_path / "data")], cwd=tmp_path, env=server_env, stderr=subprocess.PIPE, text=True)
    server = server_pid(servers(server_env))
    wait_for(lambda: [c for c in children(server) if alive(c)], "the forked stage")
    os.kill(server, signal.SIGSTOP)
    try:
        writer = wait_for(lambda: _open_for_writing(fifo), "the stage to open its params file")
        with os.fdopen(writer, "w") as fh:
            fh.write("[a list, not a mapping]\n")
        assert client.wait(timeout=60) == 2  # the ParamError's code, from the stage itself
        assert "ParamError" in client.stderr.read()
    finally:
        os.kill(server, signal.SIGCONT)
        if client.poll() is None:
            client.kill()


def _open_for_writing(fifo: Path) -> int | None:
    try:
        return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:  # ENXIO: no reader yet
        return None


def test_edited_code_takes_effect_on_the_next_run(tmp_path):
    """The server imports no neurodata module for its children: an edit is seen at once."""
    copy_checkout(tmp_path / "checkout")
    run_py = tmp_path / "checkout" / "neurodata" / "cli" / "run.py"
    with fork_server_env(PYTHONPATH=str(tmp_path / "checkout")) as env:
        params = params_file(tmp_path)
        cmd = ["neurodata", "run", "adex_rate_match", "--params", str(params), "--data-dir", str(tmp_path / "data")]
        first = run_tool(cmd, tmp_path, env).stdout
        assert "done in" in first and server_pid(servers(env))
        run_py.write_text(run_py.read_text().replace(': done in ', ': finished in '))
        second = run_tool(cmd, tmp_path, env).stdout
        assert "finished in" in second and "done in" not in second
        assert len(list(servers(env).glob("*/*.sock"))) == 1  # the same server ran both


def test_concurrent_commands_start_one_server_and_it_stops_when_idle(tmp_path):
    with fork_server_env(NEURODATA_FORKSERVER_IDLE="2") as env:
        params = params_file(tmp_path)
        procs = [subprocess.Popen(["neurodata", "run", "adex_rate_match", "--params", str(params), "--data-dir",
                                   str(tmp_path / f"data{i}")], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL)
                 for i in range(3)]
        assert [p.wait(timeout=300) for p in procs] == [0, 0, 0]
        assert len(list(servers(env).glob("*/*.pid"))) == 1
        pid = server_pid(servers(env))
        wait_for(lambda: not alive(pid), "the idle server to exit", timeout=120)
        assert not list(servers(env).glob("*/*.sock"))  # it removed its socket


def _cached_kernels(cache: Path) -> set[str]:
    return {p.name.split("-")[0] for p in cache.rglob("*.nbi")}  # <module>.<kernel>-<line>.py311.nbi


def _expected(family: str) -> set[str]:
    from neurodata.cli._warmup import SIGNATURES

    return {f"{k.partition(':')[0].rpartition('.')[2]}.{k.partition(':')[2]}" for k in SIGNATURES[family]}


def test_the_warmer_compiles_other_families_kernels_into_numbas_cache_then_serves(tmp_path):
    """A fresh numba cache and an adex stage: the server's warmer compiles gfr's kernels too (no
    stage asked for them), and the stage and the warmer met at the adex lock. Done, the warmer
    imports the rest (PRELOAD_LATER) and takes the server's place; the first server exits."""
    cache = tmp_path / "numba_cache"
    with fork_server_env(NEURODATA_FORKSERVER_WARM="adex,gfr", NUMBA_CACHE_DIR=str(cache)) as env:
        params = params_file(tmp_path)
        run_tool(["neurodata", "run", "adex_rate_match", "--params", str(params), "--data-dir", str(tmp_path / "data")],
                 tmp_path, env)
        first = server_pid(servers(env))
        warmer = [c for c in children(first) if alive(c) and os.getsid(c) == c]
        assert _expected("adex") <= _cached_kernels(cache)
        wait_for(lambda: _expected("gfr") <= _cached_kernels(cache), "the warmer to compile gfr's kernels", timeout=300)
        assert list(servers(env).glob("*/*.adex.lock")) and list(servers(env).glob("*/*.gfr.lock"))
        pidfile = next(servers(env).glob("*/*.pid"))
        taken_over = wait_for(lambda: (pid := _pid_in(pidfile)) not in (None, first) and pid, "the warmer to take over", timeout=300)
        assert taken_over == warmer[0]
        wait_for(lambda: not alive(first), "the replaced server to exit")
        run_tool(["neurodata", "run", "adex_rate_match", "--params", str(params), "--data-dir", str(tmp_path / "data2")],
                 tmp_path, env)
        assert alive(warmer[0]) and len(list(servers(env).glob("*/*.sock"))) == 1


def _pid_in(pidfile: Path) -> int | None:
    try:
        return int(pidfile.read_text())
    except (OSError, ValueError):  # being written
        return None


def test_a_warmer_killed_mid_compile_leaves_the_stage_to_compile_for_itself(tmp_path):
    """kill -9 of the warmer (by PID) while it holds the isf lock: the lock goes with it, and an
    isf stage compiles its kernels itself and writes the same bytes as without a server."""
    cache = tmp_path / "numba_cache"
    params = params_file(tmp_path)
    with fork_server_env(NEURODATA_FORKSERVER_WARM="isf", NUMBA_CACHE_DIR=str(cache)) as env:
        run_tool(["neurodata", "run", "no_such_stage"], tmp_path, env, ok=False)  # starts the server, and the warmer
        server = server_pid(servers(env))
        warmer = [c for c in children(server) if alive(c) and os.getsid(c) == c]
        assert len(warmer) == 1, "the warmer should still be compiling ISF's kernels"
        os.kill(warmer[0], signal.SIGKILL)
        wait_for(lambda: not alive(warmer[0]) or warmer[0] not in children(server), "the warmer to die")
        assert not _expected("isf") <= _cached_kernels(cache)  # it died before finishing
        run_tool(["neurodata", "run", "isf_simrun", "--params", str(params), "--data-dir", str(tmp_path / "served" / "data")],
                 tmp_path, env)
    run_tool(["neurodata", "run", "isf_simrun", "--params", str(params), "--data-dir", str(tmp_path / "fresh" / "data")],
             tmp_path, {**env, "NEURODATA_FORKSERVER": "0"})
    assert tree_hashes(tmp_path / "served") == tree_hashes(tmp_path / "fresh")


def test_the_warm_up_list_covers_every_kernel_call_of_the_tiny_build(tiny_checkout):
    """build_tiny_checkout runs every stage through the server with NEURODATA_WARMUP_REPORT: a kernel
    signature a stage compiled beyond its family's SIGNATURES entry is listed there."""
    report = warmup_report(tiny_checkout)
    missed = report.read_text() if report.exists() else ""
    assert missed == "", f"add these to neurodata/cli/_warmup.py SIGNATURES:\n{missed}"


def test_one_server_per_environment_survives_a_build_writing_into_the_checkout(tmp_path, monkeypatch):
    """The server's key follows `pip install` (a site-packages folder's mtime), not a stage
    creating data/ in a checkout on sys.path: a cold build used to start a second server there."""
    from neurodata.cli import _forkserver

    checkout, site = tmp_path / "checkout", tmp_path / "lib" / "site-packages"
    checkout.mkdir()
    site.mkdir(parents=True)
    monkeypatch.setattr("sys.path", [str(checkout), str(site)])
    key = _forkserver._key()
    (checkout / "data").mkdir()
    os.utime(checkout, ns=(time.time_ns() + 10**9,) * 2)
    assert _forkserver._key() == key
    (site / "newpkg-1.0.dist-info").mkdir()
    os.utime(site, ns=(time.time_ns() + 2 * 10**9,) * 2)
    assert _forkserver._key() != key


def test_a_stage_that_dies_before_reporting_its_pid_gives_its_status_to_the_command():
    """The server reaps a child killed before it sent its pid and sends the status at once: the
    command takes that first message as the status (it used to fail with KeyError 'pid', exit 1)."""
    import socket

    from neurodata.cli._forkserver import _send, _wait_for_child

    command, server = socket.socketpair()
    with command, server:
        _send(server, {"signal": signal.SIGKILL})
        assert _wait_for_child(command) == {"signal": signal.SIGKILL}
    command, server = socket.socketpair()
    with command:
        server.close()  # the server went away before forking
        assert _wait_for_child(command) is None
