"""Runtime options: one validated registry with environment-variable defaults.

Stage parameters live in params.yaml; these are only the knobs of *how* things run
(where data lives, which dask scheduler, whether to draw progress bars).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

_ENV = {
    "data_dir": "NEURODATA_DATA_DIR",
    "scheduler": "NEURODATA_SCHEDULER",
    "progress": "NEURODATA_PROGRESS",
}
_PROGRESS_CHOICES = ("auto", "always", "never")


def _check_scheduler(value: Any) -> bool:
    return isinstance(value, str) and (
        value in ("auto", "local", "synchronous") or value.startswith(("tcp://", "tls://", "inproc://", "ucx://"))
    )


_VALIDATORS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "data_dir": (lambda v: v is None or isinstance(v, str | os.PathLike), "a path or None"),
    "scheduler": (_check_scheduler, "'auto', 'local', 'synchronous' or a scheduler address such as 'tcp://host:8786'"),
    "progress": (lambda v: v in _PROGRESS_CHOICES, f"one of {_PROGRESS_CHOICES}"),
}

_OPTIONS: dict[str, Any] = {}


def _defaults() -> dict[str, Any]:
    return {
        "data_dir": os.environ.get(_ENV["data_dir"]) or None,
        "scheduler": os.environ.get(_ENV["scheduler"]) or "auto",
        "progress": os.environ.get(_ENV["progress"]) or "auto",
    }


def _validate(name: str, value: Any) -> None:
    if name not in _VALIDATORS:
        msg = f"argument name {name!r} is not in the set of valid options {sorted(_VALIDATORS)}"
        raise ValueError(msg)
    check, expected = _VALIDATORS[name]
    if not check(value):
        env = _ENV[name]
        msg = f"option {name!r} given an invalid value: {value!r}. Expected {expected} (environment variable {env})."
        raise ValueError(msg)


def get_options() -> dict[str, Any]:
    """Return the current runtime options (environment defaults overlaid by `set_options`)."""
    opts = _defaults()
    for name, value in opts.items():
        _validate(name, value)
    opts.update(_OPTIONS)
    return opts


def data_dir(root: Path | None = None) -> Path:
    """Folder of built artifacts: option ``data_dir``, else ``data/`` of the checkout (*root*, or
    the one at or above the working directory), else ``./data`` (an installed package's registry
    has no data of its own)."""
    configured = get_options()["data_dir"]
    if configured is not None:
        return Path(configured)
    from ._paths import is_checkout, project_root

    root = root if root is not None else project_root(required=False)
    return (root if is_checkout(root) else Path.cwd()) / "data"


class set_options:  # noqa: N801  (used as a function and as a context manager, like xarray's)
    """Set runtime options, for the session or within a ``with`` block.

    Parameters
    ----------
    data_dir : path or None
        Where artifacts are read and written (default: ``data/`` of the checkout).
    scheduler : {"auto", "local", "synchronous"} or str
        ``"auto"`` (default) runs small work in-process and starts a LocalCluster for large
        work (see :mod:`neurodata.runner`), ``"local"`` always starts a LocalCluster,
        ``"synchronous"`` runs tasks in-process, any other value is a dask scheduler address.
    progress : {"auto", "always", "never"}
        Progress bars on long work; ``"auto"`` draws them only on a terminal.

    Examples
    --------
    >>> import neurodata
    >>> with neurodata.set_options(scheduler="synchronous"):
    ...     neurodata.get_options()["scheduler"]
    'synchronous'
    """

    def __init__(self, **kwargs: Any) -> None:
        for name, value in kwargs.items():
            _validate(name, value)
        self._previous = dict(_OPTIONS)
        _OPTIONS.update(kwargs)

    def __enter__(self) -> set_options:
        return self

    def __exit__(self, *exc: object) -> None:
        _OPTIONS.clear()
        _OPTIONS.update(self._previous)

