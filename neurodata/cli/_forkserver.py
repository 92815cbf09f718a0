"""A fork server for ``neurodata run``: stages start from an interpreter that has already imported
numpy, xarray, dask, zarr, numba and friends.

A stage's own work on the tiny profile takes a second or two, but a fresh interpreter spends
3-5 s importing the scientific stack first; ``dvc repro`` starts one per stage. So the command
``neurodata run`` is a thin client: it hands its arguments, environment, working directory and
its stdin/stdout/stderr (the file descriptors themselves, over a Unix socket) to a server process
that holds the imports, and the server forks a child that runs the stage exactly as the command
would have. The client waits and exits with the child's status; a child killed by a signal makes
the client die by the same signal, so ``dvc repro`` and scripts see what they saw before.

What keeps this safe:

* **No stale code.** The server imports only third-party packages. Each child drops every
  ``neurodata`` module the server imported for itself and imports the package afresh from the
  client's ``sys.path``, so an edited source file takes effect on the next run, as without the
  server.
* **One server per environment.** The socket's name hashes the interpreter, the client's
  ``sys.path`` (with the modification times of its site-packages, which ``pip install`` changes) and the
  environment variables read at import time (``PYTHON*``, ``DASK_*``, ``NUMBA_*``, thread counts),
  so a client never meets a server whose imports differ from what it would have imported itself.
* **Kill semantics.** The child runs in its own process group. If the client dies (``kill -9``,
  or DVC stopping the stage), the server kills the child's whole group at once; SIGINT, SIGTERM
  and SIGHUP sent to the client are forwarded to the group.
* **It goes away.** The server exits after ``NEURODATA_FORKSERVER_IDLE`` seconds (default 120)
  without clients, or as soon as its socket file is removed or replaced.
* **Kernels compile ahead.** As soon as it has imported numba, the server forks a *warmer* that
  compiles the families' numba kernels into numba's cache while the first stages run, and each
  child compiles (or loads) its family's kernels under a lock shared with the warmer, so none is
  compiled twice (see :mod:`neurodata.cli._warmup`). The warmer then imports what the server
  left for later (:data:`PRELOAD_LATER`) and takes its place (:func:`serve`), so the first
  stages start after the common imports only. ``NEURODATA_FORKSERVER_WARM=0`` turns this off;
  a comma-separated list of families warms only those.

``NEURODATA_FORKSERVER=0`` runs every stage in the command's own process, as before; so does any
failure to reach or start a server (the stage then pays the imports, nothing else changes).
Only ``neurodata run`` uses the server: the other subcommands are quick or interactive.
"""

from __future__ import annotations

import array
import contextlib
import fcntl
import hashlib
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

__all__ = ["enabled", "run_in_server", "serve", "socket_path", "stop_server"]

PRELOAD = (
    "numpy", "scipy.special", "scipy.stats", "scipy.optimize", "scipy.signal", "scipy.sparse", "pandas",
    "xarray", "dask.array", "distributed", "zarr", "numcodecs", "numba", "pandera", "pandera.xarray", "h5py", "yaml",
    "importlib.metadata",
)
"""What the server imports before it serves (what every stage imports, measured; missing ones are skipped)."""

PRELOAD_LATER = ("sklearn.tree", "sklearn.ensemble", "torch", "torch._dynamo", "tabulate")
"""What a few stages need (BrainGrid's baselines, GFR's fits): 5.5 s of imports (tabulate: once
torch._dynamo is imported, its exit hook imports it in every stage, 45 ms). A server without
a warmer imports them before it serves; with one, the warmer imports them once its kernels are
compiled and takes the server's place (see :func:`serve`), so no stage waits for them."""

_IMPORT_TIME_ENV = ("PYTHON", "DASK_", "NUMBA_", "OMP_", "MKL_", "OPENBLAS_", "NUMEXPR_", "ZARR_", "HDF5_")
_FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_START_TIMEOUT_S = 120.0
_HEADER = struct.Struct("!I")
_MAX_SOCKET_PATH = 107  # bytes in sockaddr_un.sun_path, less the terminating NUL
_OFF = ("0", "false", "no", "off", "")  # values of NEURODATA_FORKSERVER(_WARM) that turn it off
_WARM_PREFIX: str | None = None  # set in a server with a warmer: its kernel locks are <prefix>.<family>.lock


def enabled() -> bool:
    """Whether ``neurodata run`` hands stages to the fork server (``NEURODATA_FORKSERVER``, default on)."""
    return os.environ.get("NEURODATA_FORKSERVER", "1").strip().lower() not in _OFF


def _runtime_dir() -> Path:
    base = os.environ.get("NEURODATA_FORKSERVER_DIR") or os.environ.get("XDG_RUNTIME_DIR") or "/tmp"
    path = Path(base) / f"neurodata-forkserver-{os.getuid()}"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _key() -> str:
    """What the server's imports depend on: interpreter, import path (and its package folders' mtimes), env.

    Only ``site-packages`` folders count their modification time (``pip install`` changes it):
    a checkout on the path changes its own whenever a stage creates ``data/`` or ``metrics/``,
    which would start a second server in the middle of a first build.
    """
    mtimes = []
    for entry in sys.path:
        if Path(entry).name in ("site-packages", "dist-packages"):
            with contextlib.suppress(OSError):
                mtimes.append((entry, os.stat(entry).st_mtime_ns))
    env = sorted((k, v) for k, v in os.environ.items() if k.startswith(_IMPORT_TIME_ENV) or k in ("HOME", "NEURODATA_FORKSERVER_WARM"))
    blob = json.dumps([sys.executable, sys.version, sys.path, mtimes, env])
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def socket_path() -> Path:
    """The socket of the server that matches this process's interpreter, import path and env."""
    return _runtime_dir() / f"{_key()}.sock"


# -- framing: a 4-byte length, then JSON ------------------------------------------------------------

def _send(sock: socket.socket, message: object, fds: Sequence[int] = ()) -> None:
    data = json.dumps(message).encode()
    payload = _HEADER.pack(len(data)) + data
    if fds:
        sock.sendmsg([payload], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
    else:
        sock.sendall(payload)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("the peer closed the connection")
        buf += chunk
    return buf


def _recv(sock: socket.socket, nfds: int = 0) -> tuple[object, list[int]]:
    fds: list[int] = []
    if nfds:
        data, fds, _flags, _addr = socket.recv_fds(sock, _HEADER.size, nfds)
        if not data:
            raise ConnectionError("the peer closed the connection")
        data += _recv_exact(sock, _HEADER.size - len(data))
    else:
        data = _recv_exact(sock, _HEADER.size)
    (length,) = _HEADER.unpack(data)
    return json.loads(_recv_exact(sock, length)), fds


# -- client -----------------------------------------------------------------------------------------

def _connect(path: Path) -> socket.socket | None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
    except OSError:
        sock.close()
        return None
    return sock


def _start_server(path: Path) -> socket.socket | None:
    """Connect to the server at *path*, starting it first if none answers (one starter at a time)."""
    with open(path.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (sock := _connect(path)) is not None:
            return sock
        boot = "import sys, json; sys.path[:] = json.loads(sys.argv[1]); from neurodata.cli._forkserver import serve; serve(sys.argv[2])"
        log = open(path.with_suffix(".log"), "ab")  # noqa: SIM115 - handed to the server
        server = subprocess.Popen(
            [sys.executable, "-c", boot, json.dumps(sys.path), str(path)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, close_fds=True,
        )
        log.close()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline and server.poll() is None:
            if (sock := _connect(path)) is not None:
                return sock
            time.sleep(0.02)
        return None


def run_in_server(argv: Sequence[str]) -> int | None:
    """Run ``neurodata *argv*`` in a child of the fork server; its exit code, or None if no server.

    None means nothing ran (no server could be reached or started): the caller runs the command
    itself. A child killed by a signal makes this process die by the same signal.
    """
    path = socket_path()
    if len(os.fsencode(path)) > _MAX_SOCKET_PATH:
        return None  # a Unix socket cannot live there (NEURODATA_FORKSERVER_DIR is too deep)
    folder = os.stat(path.parent)
    if folder.st_uid != os.getuid() or folder.st_mode & 0o077:
        return None  # a folder others can write to (or not ours): never hand our stdio to its socket
    sock = _connect(path) or _start_server(path)
    if sock is None:
        return None
    with sock:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        request = {"argv": list(argv), "env": dict(os.environ), "cwd": os.getcwd(), "path": sys.path,
                   "umask": _umask()}
        try:
            _send(sock, request, fds=(0, 1, 2))
        except OSError:
            return None  # the server went away before forking: nothing ran
        status = _wait_for_child(sock)
        if status is None:
            return None
    if "signal" in status:  # type: ignore[operator]
        signum = int(status["signal"])  # type: ignore[index]
        if signum != signal.SIGKILL:
            signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return 128 + signum  # a signal that does not kill (should not happen)
    return int(status["exit"])  # type: ignore[index]


def _wait_for_child(sock: socket.socket) -> dict | None:
    """The child's exit status, ``{"exit": code}`` or ``{"signal": signum}``, forwarding SIGINT,
    SIGTERM and SIGHUP to its group meanwhile; None if the server went away before forking."""
    try:
        reply, _ = _recv(sock)  # sent by the child itself, once it leads its own process group
    except (OSError, ConnectionError):
        return None
    if "pid" not in reply:  # type: ignore[operator]
        return reply  # type: ignore[return-value]  # the child died before it could report: the server sent its status
    pgid = int(reply["pid"])  # type: ignore[index]

    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signum)

    for signum in _FORWARDED:
        signal.signal(signum, forward)
    try:
        status, _ = _recv(sock)
    except (OSError, ConnectionError):  # the server died, so nobody can report the child: stop it
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        status = {"signal": signal.SIGKILL}
    return status  # type: ignore[return-value]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def stop_server() -> bool:
    """Stop the server that matches this environment (if any); whether one was running."""
    path = socket_path()
    try:
        pid = int(path.with_suffix(".pid").read_text())
    except (OSError, ValueError):
        return False
    with contextlib.suppress(OSError):
        path.unlink()
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    return True


# -- server -----------------------------------------------------------------------------------------

def _drop_neurodata_modules() -> None:
    """Forget the server's own neurodata modules (this one): whoever imports next imports afresh."""
    for name in [m for m in sys.modules if m == "neurodata" or m.startswith("neurodata.")]:
        del sys.modules[name]


def _preload(modules: Sequence[str]) -> None:
    import importlib

    for name in modules:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    with contextlib.suppress(Exception):
        # numba sets its compiler up (typing and lowering registries, the JIT's runtime) on the
        # first compile; done here once, it saves each child 0.2-0.3 s of loading its kernels
        import numba

        numba.njit("int64(int64)")(lambda x: x + 1)
    _drop_neurodata_modules()


def _warm_families() -> list[str] | None:
    """The families the warmer compiles (``NEURODATA_FORKSERVER_WARM``), or None for no warmer."""
    value = os.environ.get("NEURODATA_FORKSERVER_WARM", "1").strip().lower()
    if value in _OFF:
        return None
    from ._warmup import SIGNATURES

    return list(SIGNATURES) if value in ("1", "true", "yes", "on", "all") else [f.strip() for f in value.split(",")]


def _start_warmer(prefix: str, families: list[str], path: Path) -> None:
    """Fork the warmer (numba imported, nothing else yet): it compiles *families*' kernels, then
    imports everything a server imports and takes over serving on *path*."""
    import numba  # noqa: F401  # the one import the warmer needs; the rest of the preload goes on meanwhile

    server = os.getpid()
    with contextlib.suppress(OSError):
        if os.fork() == 0:
            code = 1
            try:
                os.setsid()
                _drop_neurodata_modules()
                from neurodata.cli._warmup import warm

                warm(prefix, families)
                _preload(PRELOAD + PRELOAD_LATER)
                if os.getppid() == server and path.exists():  # not if the server was stopped or idled out
                    _serve(path)
                code = 0
            except BaseException:
                import traceback

                traceback.print_exc()  # to the server's log; the server it forked from goes on serving
            finally:
                os._exit(code)


def serve(path_str: str) -> None:
    """Run the fork server on the Unix socket *path_str* until it idles out or its socket goes.

    With a warmer (``NEURODATA_FORKSERVER_WARM``), the server imports :data:`PRELOAD` only and
    serves at once; the warmer, its kernels compiled, imports :data:`PRELOAD_LATER` too (on the
    core the stages leave free) and publishes its own socket in this one's place: this server
    finishes its stages and exits, the warmer serves from then on. Without a warmer the server
    imports both before it serves.
    """
    global _WARM_PREFIX
    path = Path(path_str)
    families = _warm_families()
    if families:
        _WARM_PREFIX = str(path.with_suffix(""))
        _start_warmer(_WARM_PREFIX, families, path)
        _preload(PRELOAD)
    else:
        _preload(PRELOAD + PRELOAD_LATER)
    _serve(path)


def _serve(path: Path) -> None:
    """Publish a socket at *path* and serve on it until idle or replaced."""
    idle_s = float(os.environ.get("NEURODATA_FORKSERVER_IDLE", "120"))
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    listener.bind(str(tmp))
    listener.listen(64)
    os.replace(tmp, path)  # publish only once listening
    inode = os.stat(path).st_ino
    path.with_suffix(".pid").write_text(str(os.getpid()))

    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    children: dict[int, socket.socket] = {}  # child pid -> its client's connection
    last_active = time.monotonic()
    try:
        while True:
            readable, _, _ = select.select([listener, wake_r, *children.values()], [], [], 1.0)
            if wake_r in readable:
                with contextlib.suppress(BlockingIOError):
                    os.read(wake_r, 4096)
            _reap(children)
            for pid, conn in list(children.items()):
                if conn in readable and _client_gone(conn):  # the client died: so does its stage
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(pid, signal.SIGKILL)
            if listener in readable:
                conn, _ = listener.accept()
                try:
                    _fork_child(conn, listener, children, (wake_r, wake_w))
                except OSError:  # no fork (out of memory, process limit): the client runs the stage itself
                    conn.close()
            if children:
                last_active = time.monotonic()
            elif time.monotonic() - last_active > idle_s or not _still_published(path, inode):
                return
    finally:
        with contextlib.suppress(OSError):
            if _still_published(path, inode):
                path.unlink()
                path.with_suffix(".pid").unlink()


def _client_gone(conn: socket.socket) -> bool:
    """Whether the client at the other end of *conn* has gone. A client killed before it read the
    child's pid message resets the connection (ECONNRESET), which is a death too, not an error of
    the server: raised, it used to end the server and leave the stage running as an orphan."""
    try:
        return conn.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def _still_published(path: Path, inode: int) -> bool:
    try:
        return os.stat(path).st_ino == inode
    except OSError:
        return False


def _reap(children: dict[int, socket.socket]) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        conn = children.pop(pid, None)
        if conn is None:
            continue
        message = {"signal": os.WTERMSIG(status)} if os.WIFSIGNALED(status) else {"exit": os.waitstatus_to_exitcode(status)}
        with contextlib.suppress(OSError):
            _send(conn, message)
        conn.close()


def _fork_child(conn: socket.socket, listener: socket.socket, children: dict[int, socket.socket],
                wake: tuple[int, int]) -> None:
    try:
        request, fds = _recv(conn, nfds=3)
    except (OSError, ConnectionError, ValueError):
        conn.close()
        return
    if len(fds) != 3:
        for fd in fds:
            os.close(fd)
        conn.close()
        return
    try:
        pid = os.fork()
    except OSError:
        for fd in fds:
            os.close(fd)
        raise
    if pid == 0:  # the child: become the command the client would have run
        code = 1
        try:
            os.setpgid(0, 0)  # its own group, so that the whole stage can be killed at once
            _send(conn, {"pid": os.getpid()})
            listener.close()
            for other in children.values():
                other.close()
            for fd in wake:
                os.close(fd)
            code = _run_child(request, fds)  # type: ignore[arg-type]
        except BaseException:
            import traceback

            traceback.print_exc()  # before the client's stderr is in place: to the server's log
        finally:
            with contextlib.suppress(BaseException):
                # the exit status, from the child itself, at once (the server may be busy forking
                # another child, or stopped); it reports a death by a signal, which leaves no time for this
                _send(conn, {"exit": code})
            os._exit(code)
    with contextlib.suppress(OSError):
        os.setpgid(pid, pid)  # also done by the child: whichever runs first, the group exists before any kill
    for fd in fds:
        os.close(fd)
    children[pid] = conn


def _compile_stage_kernels(argv: Sequence[str]) -> dict[str, set[str]] | None:
    """In a server with a warmer: compile (or load) the stage's family's kernels under the family's
    lock, waiting for the warmer if it holds it; the kernels held afterwards, or None."""
    if _WARM_PREFIX is None:
        return None
    from neurodata import _registry
    from neurodata._exceptions import NeurodataError

    from . import build_parser
    from ._warmup import compile_family, family_lock, kernel_signatures

    try:
        args = build_parser().parse_args(argv)
        family = _registry.stage_module(args.stage).split(".")[1] if args.command == "run" else None
    except (SystemExit, NeurodataError):
        return None  # main reports the bad command line
    if family is not None:
        try:
            with family_lock(_WARM_PREFIX, family):
                compile_family(family)
        except Exception as exc:  # never fail a stage for its warm-up: it compiles what it calls itself
            print(f"neurodata: compiling {family}'s kernels ahead failed ({type(exc).__name__}: {exc}); "
                  "the stage compiles them itself", file=sys.stderr)
    return kernel_signatures()


def _report_uncovered_kernels(before: dict[str, set[str]] | None) -> None:
    """Append the kernel signatures the stage compiled beyond its family's warm-up to the file
    ``NEURODATA_WARMUP_REPORT`` names (tests: the warm-up list must cover every stage)."""
    report = os.environ.get("NEURODATA_WARMUP_REPORT")
    if before is None or not report:
        return
    from ._warmup import kernel_signatures

    missed = [f"{kernel}: {text}" for kernel, texts in sorted(kernel_signatures().items())
              for text in sorted(texts - before.get(kernel, set()))]
    if missed:
        with open(report, "a") as fh:
            fh.write("".join(f"{line}\n" for line in missed))


def _run_child(request: dict, fds: list[int]) -> int:
    signal.set_wakeup_fd(-1)
    for signum in (signal.SIGCHLD, signal.SIGTERM, *_FORWARDED):
        signal.signal(signum, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    sys.stdin = open(0, closefd=False)  # noqa: SIM115
    sys.stdout = open(1, "w", closefd=False, buffering=1 if os.isatty(1) else -1)  # noqa: SIM115
    sys.stderr = open(2, "w", closefd=False, buffering=1, errors="backslashreplace")  # noqa: SIM115
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    os.umask(int(request["umask"]))
    sys.path[:] = request["path"]
    sys.argv = ["neurodata", *request["argv"]]
    try:
        from neurodata.cli import main

        compiled = _compile_stage_kernels(request["argv"])
        code = main(request["argv"], forkserver=False)
        _report_uncovered_kernels(compiled)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except KeyboardInterrupt:
        code = 128 + signal.SIGINT
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    import atexit
    import threading

    with contextlib.suppress(Exception):
        threading._shutdown()  # type: ignore[attr-defined]  # join non-daemon threads, as at exit
        atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    return int(code)
