"""Where the registry is: the folder holding catalog/catalog.yaml, params.yaml, pipelines/ and schemas/.

Three places, in order: a checkout at or above the working directory; the checkout this
package was installed from (an editable install); the copies of the registry files an
installed wheel carries (``neurodata/_registry_data``: catalog, contracts, default params, no
data). Only a checkout has a ``data/`` folder of its own (:func:`is_checkout`).
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

_MARKERS = ("catalog/catalog.yaml", "params.yaml")
PACKAGED = Path(__file__).resolve().parent / "_registry_data"


def _holds_registry(folder: Path) -> bool:
    return all((folder / m).is_file() for m in _MARKERS)


def project_root(start: str | Path | None = None, *, required: bool = True) -> Path | None:
    """The nearest folder at or above *start* (default: the working directory) that holds a
    neurodata checkout; else the checkout this package was installed from; else the registry
    files packaged in the wheel."""
    candidates = [Path(start or Path.cwd()).resolve(), Path(__file__).resolve().parent.parent]
    for first in candidates:
        for folder in (first, *first.parents):
            if _holds_registry(folder):
                return folder
    if _holds_registry(PACKAGED):
        return PACKAGED
    if required:
        msg = (
            f"No neurodata checkout found at or above {candidates[0]} (looked for {' and '.join(_MARKERS)}), "
            "and this installation carries no registry files. Run from inside the repository, pass repo=, "
            "or install neurodata from a wheel."
        )
        raise FileNotFoundError(msg)
    return None


def catalog_root(catalog_dir: str | None) -> Path:
    """The registry a catalog folder belongs to; without one, this registry.

    Parameters
    ----------
    catalog_dir : str or None
        The catalog's folder as intake passes it (``{CATALOG_DIR}``): a path or a ``file://`` URL.
    """
    from urllib.parse import urlparse

    if not catalog_dir:
        return Path(project_root(required=True))  # type: ignore[arg-type]
    parsed = urlparse(catalog_dir)
    return Path(parsed.path if parsed.scheme in ("file", "") else catalog_dir).parent


def is_checkout(root: Path | None) -> bool:
    """Whether *root* is a working checkout (with a data folder of its own), not the packaged registry."""
    return root is not None and Path(root).resolve() != PACKAGED.resolve()


def load_yaml(source: str | bytes | IO[Any]) -> Any:
    """Parse the registry's YAML (params, pipelines, contracts, catalog) as ``yaml.safe_load``
    does, with libyaml's C parser when PyYAML has it: 13x faster on these files, which every
    stage reads (the five pipelines, params.yaml and its contracts)."""
    import yaml

    return yaml.load(source, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - a safe loader
