"""Progress bars on a terminal, silence elsewhere (logs, CI, dvc repro piped to a file)."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from ._options import get_options

__all__ = ["progress", "show_progress"]

T = TypeVar("T")


def show_progress() -> bool:
    """Whether to draw progress: option ``progress`` ("auto" = only when stderr is a terminal)."""
    mode = get_options()["progress"]
    return mode == "always" or (mode == "auto" and sys.stderr.isatty())


def progress(iterable: Iterable[T], *, total: int | None = None, desc: str | None = None, **kwargs: Any) -> Iterator[T]:
    """Wrap *iterable* in a tqdm bar when :func:`show_progress`, else return it unchanged."""
    if not show_progress():
        yield from iterable
        return
    from tqdm.auto import tqdm

    yield from tqdm(iterable, total=total, desc=desc, leave=False, **kwargs)
