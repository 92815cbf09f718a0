"""The intake 2 catalog of the checkout (catalog/catalog.yaml) and the readers its entries use."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import difflib

from intake.readers.entry import Catalog
from intake.readers.readers import BaseReader

from . import _options
from ._exceptions import UnknownArtifact, UnknownName
from ._paths import is_checkout, project_root

__all__ = ["ArtifactReader", "NeurodataCatalog", "catalog_path", "check_entry", "entry_names", "open_catalog"]


def _unknown_entry(cat: Catalog, name: object) -> UnknownArtifact:
    known = sorted(cat.entries)
    near = difflib.get_close_matches(str(name), known, n=3, cutoff=0.6)
    hint = f" Did you mean {' or '.join(map(repr, near))}?" if near else ""
    msg = f"Unknown artifact {name!r}: no catalog entry of that name.{hint} Entries: {known}."
    return UnknownArtifact(msg)


def check_entry(cat: Catalog, name: str) -> object:
    """The catalog entry (reader description) *name*; else :class:`neurodata.UnknownArtifact`
    naming the nearest entries."""
    if name not in cat.entries:
        raise _unknown_entry(cat, name)
    return cat.entries[name]


class NeurodataCatalog(Catalog):
    """intake's Catalog, with errors that name the nearest entries instead of a bare KeyError."""

    def __getitem__(self, item: str) -> object:
        if isinstance(item, str) and item not in self.aliases and item not in self.entries and item not in self.data:
            raise _unknown_entry(self, item)
        return super().__getitem__(item)

    def __getattr__(self, item: str) -> object:
        if item.startswith("_"):
            raise AttributeError(item)
        return self[item]

    def __call__(self, **kwargs: object) -> NeurodataCatalog:
        new = super().__call__(**kwargs)
        new.__class__ = NeurodataCatalog
        return new


def catalog_path(start: str | Path | None = None) -> Path:
    """``catalog/catalog.yaml`` of the checkout at or above *start* (default: working directory)."""
    return Path(project_root(start, required=True)) / "catalog" / "catalog.yaml"  # type: ignore[arg-type]


def open_catalog(path: str | Path | None = None, **params: Any) -> Any:
    """Open the neurodata intake catalog.

    Parameters
    ----------
    path : path, optional
        A catalog file, or any folder inside a checkout (default: the working directory,
        falling back to the checkout neurodata was installed from).
    **params
        Catalog parameters, e.g. ``rev="v1"`` or ``window=50``.

    Examples
    --------
    >>> import neurodata
    >>> cat = neurodata.open_catalog()
    >>> "adex_we_sweep" in cat.entries
    True
    """
    import intake

    file = Path(path) if path is not None and Path(path).is_file() else catalog_path(path)
    cat = intake.from_yaml_file(str(file))
    cat.__class__ = NeurodataCatalog  # same state, friendlier lookups
    return cat(**params) if params else cat


def entry_names(cat: Any) -> list[str]:
    """Names of the catalog's entries, in file order."""
    return list(cat.entries)


def _local_path(url: str) -> Path:
    parsed = urlparse(url)
    return Path(parsed.path if parsed.scheme in ("file", "") else url)


class ArtifactReader(BaseReader):
    """Reads a neurodata artifact: a Dataset, or a DataTree for keyed artifacts.

    Parameters (catalog kwargs)
    ---------------------------
    artifact : str
        Artifact name (``data/<artifact>.zarr``).
    revision : str
        Git revision to read at through DVC; empty reads the working tree. (Not named
        ``rev``: intake 2 drops a reader kwarg that shares a catalog parameter's name.)
    catalog_dir : str
        ``{CATALOG_DIR}``; the checkout is its parent.
    select : dict, optional
        Indexers applied with ``.sel`` after opening (e.g. ``{"window": 50}``); for a
        DataTree, ``node`` picks one child node as a Dataset.
    """

    output_instance = "xarray:Dataset"
    imports = {"xarray", "zarr"}

    def _read(
        self,
        artifact: str,
        revision: str = "",
        catalog_dir: str | None = None,
        node: str | None = None,
        select: dict[str, Any] | None = None,
        chunks: Any = None,
        **kwargs: Any,
    ) -> Any:
        from .store import open_artifact

        root = _local_path(catalog_dir).parent if catalog_dir else Path(project_root(required=True))  # type: ignore[arg-type]
        if revision:
            obj = open_artifact(artifact, rev=revision, repo=root, chunks=chunks)
        else:
            configured = _options.get_options()["data_dir"]
            data_dir = configured or (root / "data" if is_checkout(root) else _options.data_dir())
            obj = open_artifact(artifact, data_dir=data_dir, chunks=chunks)
        if node not in (None, ""):
            if node not in obj.children:
                msg = f"Artifact {artifact!r} has no node {node!r}. Nodes: {sorted(obj.children)}."
                raise UnknownName(msg)
            obj = obj[node].to_dataset()
        if select:
            obj = obj.sel(**select)
        return obj
