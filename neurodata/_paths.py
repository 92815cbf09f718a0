"""Where the checkout is: the folder holding catalog/catalog.yaml, params.yaml and dvc.yaml."""

from __future__ import annotations

from pathlib import Path

_MARKERS = ("catalog/catalog.yaml", "dvc.yaml")


def project_root(start: str | Path | None = None, *, required: bool = True) -> Path | None:
    """Return the nearest folder at or above *start* (default: the working directory) that holds
    a neurodata checkout, or, failing that, the checkout this package was installed from."""
    candidates = [Path(start or Path.cwd()).resolve()]
    candidates.append(Path(__file__).resolve().parent.parent)
    for first in candidates:
        for folder in (first, *first.parents):
            if all((folder / m).is_file() for m in _MARKERS):
                return folder
    if required:
        msg = (
            f"No neurodata checkout found at or above {candidates[0]} (looked for {' and '.join(_MARKERS)}). "
            "Run from inside the repository or pass the path explicitly."
        )
        raise FileNotFoundError(msg)
    return None
