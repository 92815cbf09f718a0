"""Atomic replacement of files and folders in the data folder.

A writer fills a temporary path beside the destination, ``.<name>.tmp-<pid>-<random>``, and
then swaps it into place:

* a folder replaces a folder with one ``renameat2(RENAME_EXCHANGE)`` (Linux): at every instant
  the destination holds a complete version, the old or the new one; the old version, now at
  the temporary path, is deleted afterwards;
* a file replaces a file with one ``rename`` (atomic on POSIX);
* where the exchange is not available, the old version is first renamed to
  ``.<name>.old-<pid>-<random>``; a kill between the two renames is repaired by the next
  writer or reader (:func:`recover`), which moves the old version back.

Temporary paths carry the writer's PID, so the next write removes those of writers that
died (``kill -9``) and leaves those of writers still running alone.
"""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_output", "clean_stale_temporaries", "recover", "replace", "temporary_path"]

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def temporary_path(dest: Path) -> Path:
    """A fresh temporary path beside *dest* that names this process."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    return dest.parent / f".{dest.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _writer_pid(path: Path, dest: Path) -> int | None:
    for kind in ("tmp", "old"):
        prefix = f".{dest.name}.{kind}-"
        if path.name.startswith(prefix):
            pid = path.name[len(prefix) :].split("-", 1)[0]
            return int(pid) if pid.isdigit() else None
    return None


def recover(dest: Path) -> None:
    """Undo a replacement interrupted between its two renames: if *dest* is missing and an
    old version set aside by a dead writer exists, move it back."""
    if dest.exists():
        return
    for old in sorted(dest.parent.glob(f".{dest.name}.old-*")):
        pid = _writer_pid(old, dest)
        if pid is not None and not _pid_alive(pid):
            try:
                os.rename(old, dest)
            except OSError:
                continue
            return


def clean_stale_temporaries(dest: Path) -> list[Path]:
    """Remove the temporary and set-aside paths of *dest* whose writer is no longer running;
    return them."""
    recover(dest)
    removed = []
    for path in sorted(dest.parent.glob(f".{dest.name}.*-*")):
        pid = _writer_pid(path, dest)
        if pid is None or pid == os.getpid() or _pid_alive(pid):
            continue
        remove(path)
        removed.append(path)
    return removed


def remove(path: Path) -> None:
    """Delete a file or folder (no error if it is already gone)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _libc_renameat2() -> object | None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


_RENAMEAT2 = _libc_renameat2()


def exchange(a: Path, b: Path) -> bool:
    """Swap the paths *a* and *b* in one atomic step; False where the system cannot."""
    if _RENAMEAT2 is None:
        return False
    if _RENAMEAT2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:  # type: ignore[operator]
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(a))


def replace(tmp: Path, dest: Path) -> None:
    """Move *tmp* (a complete new version) to *dest*, never leaving *dest* without a version."""
    recover(dest)
    if not dest.exists() or not (tmp.is_dir() and dest.is_dir()):
        if dest.is_dir() and not tmp.is_dir():
            remove(dest)  # a folder replaced by a file: no atomic way; rare (a changed output kind)
        os.replace(tmp, dest)  # files (and a first folder) are replaced atomically by rename
        return
    if exchange(tmp, dest):
        remove(tmp)  # the old version, now at the temporary path
        return
    old = dest.parent / f".{dest.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    os.rename(dest, old)
    os.rename(tmp, dest)  # a kill before this line is repaired by recover()
    remove(old)


@contextmanager
def atomic_output(dest: str | Path) -> Iterator[Path]:
    """A temporary path beside *dest* to write a non-Zarr output (HDF5, CSV, a folder of files);
    moved into place when the block succeeds, removed if it raises, so a failed stage never
    leaves a half-written file and keeps the previous one.

    Parameters
    ----------
    dest : path
        The output's final path.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> dest = pathlib.Path(tempfile.mkdtemp()) / "table.csv"
    >>> with atomic_output(dest) as tmp:
    ...     _ = tmp.write_text("a,b\\n1,2\\n")
    >>> dest.read_text()
    'a,b\\n1,2\\n'
    """
    dest = Path(dest)
    clean_stale_temporaries(dest)
    tmp = temporary_path(dest)
    try:
        yield tmp
        replace(tmp, dest)
    except BaseException:
        remove(tmp)
        raise
