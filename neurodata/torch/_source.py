"""Where an :class:`~neurodata.torch.ArtifactDataset` reads from: a picklable recipe, opened in each process.

A DataLoader worker must not use a store handle (or a dask thread pool) opened by its parent:
a forked child inherits them half-alive, and a spawned child receives the dataset pickled.
So the dataset keeps this recipe, not the handle, and opens it again in every process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import xarray as xr

from .._exceptions import ParamError

__all__ = ["Source", "catalog_source", "pick_node"]


@dataclass(frozen=True)
class Source:
    """How to open one artifact (or one node of it) again in any process.

    Parameters
    ----------
    artifact : str or None
        Artifact name, opened with :func:`neurodata.store.open_artifact`.
    path : str or None
        Or the path of a Zarr store.
    node : str or None
        Child node of a DataTree artifact (e.g. ``"window_50"``).
    data_dir : str or None
        Absolute folder of built artifacts, resolved in the process that made the dataset
        (options set there with ``neurodata.set_options`` do not reach a spawned worker).
    rev, repo : str or None
        Git revision (and repository) to read the artifact at, through DVC.
    select : dict or None
        Indexers applied with ``.sel`` after opening (as a catalog entry's ``select``).
    """

    artifact: str | None = None
    path: str | None = None
    node: str | None = None
    data_dir: str | None = None
    rev: str | None = None
    repo: str | None = None
    select: dict[str, Any] | None = field(default=None, hash=False)

    @property
    def label(self) -> str:
        """Name of the artifact (or store) for messages."""
        name = self.artifact if self.artifact is not None else str(self.path)
        return f"{name}/{self.node}" if self.node else name

    def open(self) -> xr.Dataset:
        """Open lazily (dask-backed); a DataTree gives the Dataset of :attr:`node`."""
        if self.artifact is not None:
            from ..store import open_artifact

            obj = open_artifact(self.artifact, data_dir=self.data_dir, rev=self.rev, repo=self.repo)
        else:
            obj = _open_path(str(self.path))
        ds = pick_node(obj, self.node, self.label.split("/", 1)[0])
        return ds.sel(**self.select) if self.select else ds


def _open_path(path: str) -> xr.Dataset | xr.DataTree:
    import zarr

    try:
        group = zarr.open_group(path, mode="r")
    except FileNotFoundError as err:
        msg = f"The 'source' parameter of ArtifactDataset names the store {path}, which does not exist."
        raise ParamError(msg) from err
    if any(True for _ in group.group_keys()):
        return xr.open_datatree(path, engine="zarr", chunks={})
    return xr.open_zarr(path, chunks={})


def pick_node(obj: xr.Dataset | xr.DataTree, node: str | None, name: str) -> xr.Dataset:
    """The Dataset of *obj*: itself, or its child *node* when *obj* is a DataTree."""
    if isinstance(obj, xr.Dataset):
        if node is not None:
            msg = f"The 'node' parameter of ArtifactDataset is {node!r}, but {name} is a Dataset, not a tree of nodes."
            raise ParamError(msg)
        return obj
    nodes = sorted(obj.children)
    if node is None:
        if nodes:
            msg = (f"The 'node' parameter of ArtifactDataset must name one node of {name}, a tree with nodes "
                   f"{nodes}. Got None instead.")
            raise ParamError(msg)
        return obj.to_dataset()
    if node not in obj.children:
        msg = f"The 'node' parameter of ArtifactDataset must be one of {nodes} for {name}. Got {node!r} instead."
        raise ParamError(msg)
    return obj[node].to_dataset()


def catalog_source(entry: str, catalog: Any = None, **params: Any) -> Source:
    """The :class:`Source` a catalog entry reads, with its parameters (``window=50``, ``rev=...``) applied.

    Parameters
    ----------
    entry : str
        Entry name, e.g. ``"burst_windows"``.
    catalog : intake catalog, path or None
        An opened catalog, a catalog file or a folder of a checkout (default: this checkout's).
    **params
        Catalog user parameters.
    """
    from .. import _options
    from ..catalog import ArtifactReader, open_catalog

    cat = catalog if hasattr(catalog, "entries") else open_catalog(catalog)
    if params:
        cat = cat(**params)
    if entry not in cat.entries:
        msg = (f"The 'entry' parameter of ArtifactDataset.from_catalog must be one of {sorted(cat.entries)}. "
               f"Got {entry!r} instead.")
        raise ParamError(msg)
    reader = getattr(cat, entry)
    if not isinstance(reader, ArtifactReader):
        msg = (f"Catalog entry {entry!r} is read by {type(reader).__name__}, not by an ArtifactReader, so it is not "
               f"an xarray artifact ArtifactDataset can serve.")
        raise ParamError(msg)
    kw = reader.kwargs
    catalog_dir = kw.get("catalog_dir")
    root = Path(urlparse(catalog_dir).path).parent if catalog_dir else None
    rev = kw.get("revision") or None
    if rev:
        data_dir = None
    else:  # as ArtifactReader resolves it, but now, in this process
        configured = _options.get_options()["data_dir"]
        data_dir = str(Path(configured).resolve()) if configured else str((root or Path.cwd()) / "data")
    return Source(artifact=kw["artifact"], node=kw.get("node") or None, data_dir=data_dir, rev=rev,
                  repo=str(root) if (rev and root) else None, select=kw.get("select") or None)
