"""The intake 2 catalog of a neurodata registry (``catalog/catalog.yaml``) and the readers it uses.

A registry is a git + DVC repository of neurodata: this checkout, another checkout, or a remote
repository (a path or URL) read at any revision, as ``dvc.api`` reads it. The catalog's
parameters are checked: an unknown one is an error listing the valid ones, and the allowed
values of keyed parameters (``window``, ``bin_size``, ...) come from what the registry's
``params.yaml`` builds (``metadata.parameter_options`` in the catalog names where).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from intake.readers.entry import Catalog
from intake.readers.readers import BaseReader

from . import _options
from ._exceptions import ParamError, UnknownArtifact, UnknownName
from ._paths import catalog_root, is_checkout, load_yaml, project_root

__all__ = [
    "ArtifactReader",
    "NeurodataCatalog",
    "catalog_path",
    "catalog_root",
    "check_entry",
    "entry_artifact",
    "entry_names",
    "open_entry_artifact",
    "open_catalog",
]

CATALOG_FILE = "catalog/catalog.yaml"


def catalog_path(start: str | Path | None = None) -> Path:
    """``catalog/catalog.yaml`` of the registry at or above *start* (default: working directory).

    Parameters
    ----------
    start : path, optional
        Where to start looking.
    """
    return Path(project_root(start, required=True)) / CATALOG_FILE  # type: ignore[arg-type]


def _unknown_entry(cat: Catalog, name: object) -> UnknownArtifact:
    known = sorted(cat.entries)
    near = difflib.get_close_matches(str(name), known, n=3, cutoff=0.6)
    hint = f" Did you mean {' or '.join(map(repr, near))}?" if near else ""
    msg = f"Unknown artifact {name!r}: no catalog entry of that name.{hint} Entries: {known}."
    return UnknownArtifact(msg)


def check_entry(cat: Catalog, name: str) -> Any:
    """The catalog entry (reader description) *name*; else :class:`neurodata.UnknownArtifact`
    naming the nearest entries.

    Parameters
    ----------
    cat : intake Catalog
    name : str
        An entry name.
    """
    if name not in cat.entries:
        raise _unknown_entry(cat, name)
    return cat.entries[name]


def parameter_options(cat: Catalog, params: Mapping[str, Any]) -> dict[str, list[Any]]:
    """The allowed values of the catalog's keyed parameters, read from the registry's params.

    The catalog's ``metadata.parameter_options`` maps each parameter to ``"<section>.<key>"``
    (a list in params.yaml) or ``"<section>.<key>[i]"`` (the i-th item of each of its items).
    """
    options = {}
    for name, where in ((cat.metadata or {}).get("parameter_options") or {}).items():
        match = re.fullmatch(r"(\w+)\.(\w+)(?:\[(\d+)\])?", where)
        if match is None:
            continue
        section, key, index = match.groups()
        values = (params.get(section) or {}).get(key)
        if isinstance(values, list):
            options[name] = sorted({v[int(index)] if index is not None else v for v in values})
    return options


class NeurodataCatalog(Catalog):
    """intake's Catalog, with errors that name the nearest entries and check every parameter.

    ``registry_params`` (the registry's params.yaml, set by :func:`open_catalog`) gives the
    allowed values of keyed parameters such as ``window``.
    """

    registry_params: Mapping[str, Any] = {}

    def __getitem__(self, item: str) -> Any:
        if isinstance(item, str) and item not in self.aliases and item not in self.entries and item not in self.data:
            raise _unknown_entry(self, item)
        return super().__getitem__(item)

    def __getattr__(self, item: str) -> Any:
        if item.startswith("_"):
            raise AttributeError(item)
        return self[item]

    def __call__(self, **kwargs: Any) -> NeurodataCatalog:
        valid = sorted(k for k in self.user_parameters if k.isidentifier() and not k.isupper())
        unknown = sorted(set(kwargs) - set(valid))
        if unknown:
            msg = f"Unknown catalog parameter(s) {unknown}. Valid parameters: {valid}."
            raise ParamError(msg)
        allowed = parameter_options(self, self.registry_params)
        for name, value in kwargs.items():
            if name in allowed and value not in allowed[name]:
                msg = (f"The catalog parameter {name!r} must be one of {allowed[name]} (what this registry's "
                       f"params.yaml builds). Got {value!r} instead.")
                raise ParamError(msg)
        new = super().__call__(**kwargs)
        new.__class__ = NeurodataCatalog
        new.registry_params = self.registry_params
        return new


def open_catalog(path: str | Path | None = None, *, repo: str | Path | None = None, rev: str | None = None,
                 **params: Any) -> NeurodataCatalog:
    """Open the intake catalog of a neurodata registry.

    Parameters
    ----------
    path : path, optional
        A catalog file, or any folder inside a checkout (default: the working directory,
        falling back to the checkout neurodata was installed from, then to the catalog an
        installed wheel carries).
    repo : str or path, optional
        A neurodata registry to read from anywhere: a git URL or the path of a repository
        (as ``dvc.api``); its catalog and its artifacts are read at *rev*.
    rev : str, optional
        A git revision (tag, branch, commit): read the artifacts as built at it (through DVC,
        from the local cache or the registry's remote).
    **params
        Catalog parameters, e.g. ``window=50`` or ``bin_size=20``.

    Examples
    --------
    >>> import neurodata
    >>> cat = neurodata.open_catalog()
    >>> "adex_we_sweep" in cat.entries
    True
    """
    if repo is not None:
        from dvc.api import DVCFileSystem

        fs = DVCFileSystem(str(repo), rev=rev or None)
        cat = Catalog.from_dict(load_yaml(fs.read_text(CATALOG_FILE)))
        registry_params = load_yaml(fs.read_text("params.yaml")) or {}
        cat.user_parameters["CATALOG_DIR"] = ""
        defaults = {"repo": str(repo), "rev": rev or ""}
    else:
        file = Path(path) if path is not None and Path(path).is_file() else catalog_path(path)
        cat = Catalog.from_yaml_file(str(file))
        params_file = file.parent.parent / "params.yaml"
        registry_params = load_yaml(params_file.read_text()) if params_file.is_file() else {}
        defaults = {"rev": rev} if rev else {}
    cat.__class__ = NeurodataCatalog
    cat.registry_params = registry_params
    params = {**defaults, **params}
    return cat(**params) if params else cat


def entry_artifact(cat: Catalog, name: str) -> str:
    """The artifact catalog entry *name* reads (``burst_windows_tree`` -> ``burst_windows``).

    Parameters
    ----------
    cat : intake Catalog
    name : str
        An entry name; else :class:`neurodata.UnknownArtifact`.
    """
    entry = check_entry(cat, name)
    if "artifact" in entry.kwargs:
        return str(entry.kwargs["artifact"])
    match = re.search(r"data\((\w+)\)", str(entry.kwargs.get("args", "")))
    if match and match.group(1) in cat.data:
        url = str(cat.data[match.group(1)].kwargs.get("url", ""))
        if url.startswith("neurodata://"):
            return url.removeprefix("neurodata://")
    return name


def entry_names(cat: Any) -> list[str]:
    """Names of the catalog's entries, in file order.

    Parameters
    ----------
    cat : intake Catalog
    """
    return list(cat.entries)


def _local_path(url: str) -> Path:
    parsed = urlparse(url)
    return Path(parsed.path if parsed.scheme in ("file", "") else url)


def open_entry_artifact(artifact: str, *, revision: str, registry: str, catalog_dir: str | None, **kwargs: Any) -> Any:
    """Open *artifact* of a catalog's registry: another repository, a revision, or the working tree.

    Parameters
    ----------
    artifact : str
    revision : str
        Git revision; empty: the working tree.
    registry : str
        Another registry (git URL or path); empty: the catalog's own.
    catalog_dir : str or None
        The catalog's folder (``{CATALOG_DIR}``).
    **kwargs
        As for :func:`neurodata.open_artifact`.
    """
    from .store import open_artifact

    if registry or revision:
        return open_artifact(artifact, rev=revision or None, repo=registry or catalog_root(catalog_dir), **kwargs)
    return open_artifact(artifact, data_dir=_options.data_dir(catalog_root(catalog_dir)), **kwargs)


class ArtifactReader(BaseReader):
    """Reads a neurodata artifact: a Dataset, or one node of a DataTree, or the whole DataTree.

    Reads go through :func:`neurodata.open_artifact`: every chunk is checked against the
    store's manifest, and a handle never mixes two builds.

    Parameters (catalog kwargs)
    ---------------------------
    artifact : str
        Artifact name (``data/<artifact>.zarr``).
    revision : str
        Git revision to read at through DVC; empty reads the working tree. (Not named
        ``rev``: intake 2 drops a reader kwarg that shares a catalog parameter's name.)
    registry : str
        Another registry (git URL or path) to read from (catalog parameter ``repo``; a kwarg
        named like a catalog parameter would be dropped by intake 2); empty: the catalog's own.
    catalog_dir : str
        ``{CATALOG_DIR}``; the checkout is its parent.
    node : str, optional
        For a DataTree, the child node to return as a Dataset (e.g. ``window_{window}``).
    """

    output_instance = "xarray:Dataset"
    imports = {"xarray", "zarr"}

    def _read(self, artifact: str, revision: str = "", registry: str = "", catalog_dir: str | None = None,
              node: str | None = None, chunks: Any = None, **kwargs: Any) -> Any:
        obj = open_entry_artifact(artifact, revision=revision, registry=registry, catalog_dir=catalog_dir,
                    **({} if chunks is None else {"chunks": chunks}))
        if node not in (None, ""):
            if node not in obj.children:
                msg = f"Artifact {artifact!r} has no node {node!r}. Nodes: {sorted(obj.children)}."
                raise UnknownName(msg)
            obj = obj[node].to_dataset()
        return obj
