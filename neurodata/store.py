"""The artifact store: atomic, validated, provenanced, verifiable Zarr v3 stores under ``data/``.

Writing goes to a temporary folder beside the destination (``data/.<name>.zarr.tmp-<pid>-*``),
which is validated against the artifact's contract, given provenance attrs, consolidated
metadata and a manifest of every file (size and CRC-32C), and only then swapped into place in
one atomic step (:mod:`neurodata._atomic`): at every instant a complete version exists.

Reading goes through :class:`neurodata._verified_store.VerifiedStore`: a missing or damaged
chunk is :class:`neurodata.ArtifactCorrupt`, never fill values, and a handle opened before a
rebuild keeps reading its own build or raises :class:`neurodata.StaleArtifact`.

Nothing in the bytes depends on the wall clock or the git commit: the provenance records the
hash of the code the stage ran and its params, so the same code and params give byte-identical
stores (and stable DVC hashes); the commit is in DVC's own records (``dvc.lock`` in git).
"""

from __future__ import annotations

import difflib
import functools
import json
import math
import os
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from . import _options
from ._atomic import atomic_output, clean_stale_temporaries, recover, remove, replace, temporary_path
from ._exceptions import ArtifactCorrupt, ArtifactNotBuilt, UnknownArtifact
from ._manifest import verify_store, write_manifest
from ._paths import catalog_root, project_root
from ._version import __version__

__all__ = [
    "ArtifactWriter",
    "artifact_path",
    "atomic_output",
    "build_hint",
    "check_artifact_name",
    "default_encoding",
    "is_built",
    "known_artifacts",
    "load_artifact",
    "open_artifact",
    "provenance",
    "store_size",
    "verify_artifact",
    "write_artifact",
]

ZSTD_LEVEL = 3
SHARD_THRESHOLD_BYTES = 8 * 2**20  # arrays above this are sharded: few files for DVC to hash
TARGET_CHUNK_BYTES = 4 * 2**20
MAX_SHARD_BYTES = 512 * 2**20
_NAME = re.compile(r"[a-z][a-z0-9_]*")
_STORED_CHUNKS: Any = object()  # open_artifact's default: dask arrays in the stored chunks

warnings.filterwarnings("ignore", message="Consolidated metadata is currently not part", category=UserWarning)


# --------------------------------------------------------------------------------------
# names


def known_artifacts() -> list[str]:
    """Every artifact name: one per contract in ``schemas/``.

    Returns
    -------
    list of str
        Sorted artifact names.
    """
    from .schemas import contracts_dir

    return sorted(p.stem for p in contracts_dir().glob("*.yaml"))


def check_artifact_name(name: str) -> str:
    """Return *name* if it is an artifact; else raise :class:`neurodata.UnknownArtifact` with
    the nearest names (a name is never a path: it cannot leave the data folder).

    Parameters
    ----------
    name : str
        A name to check against :func:`known_artifacts`.
    """
    known = known_artifacts()
    if isinstance(name, str) and _NAME.fullmatch(name) and name in known:
        return name
    near = difflib.get_close_matches(str(name), known, n=3, cutoff=0.6)
    hint = f" Did you mean {' or '.join(map(repr, near))}?" if near else ""
    msg = f"Unknown artifact {name!r}.{hint} Artifacts: {known}."
    raise UnknownArtifact(msg)


def artifact_path(name: str, data_dir: str | Path | None = None) -> Path:
    """Path of the Zarr store of artifact *name*: ``<data_dir>/<name>.zarr``.

    Parameters
    ----------
    name : str
        An artifact name (a lowercase identifier; never a path).
    data_dir : path, optional
        Default: option ``data_dir``.
    """
    if not (isinstance(name, str) and _NAME.fullmatch(name)):
        msg = f"Artifact names are lowercase identifiers such as 'adex_we_sweep'. Got {name!r}."
        raise UnknownArtifact(msg)
    return Path(data_dir if data_dir is not None else _options.data_dir()) / f"{name}.zarr"


def is_built(name: str, data_dir: str | Path | None = None) -> bool:
    """Whether artifact *name* has a store (``zarr.json`` at its root).

    Parameters
    ----------
    name : str
        An artifact name.
    data_dir : path, optional
        Default: option ``data_dir``.
    """
    path = artifact_path(name, data_dir)
    recover(path)
    return (path / "zarr.json").is_file()


def build_hint(name: str) -> str:
    """How to build artifact *name*: the stage (of its family's dvc.yaml) that writes it.

    Parameters
    ----------
    name : str
        An artifact name.
    """
    from ._pipeline import declared_stages, producer

    stage = producer(name)
    if stage is None:
        return "build it with `dvc repro -P`"
    return f"build it with `dvc repro {declared_stages()[stage].dvc_target}` (or `neurodata run {stage}`)"


def _not_built(name: str, where: Path | str) -> ArtifactNotBuilt:
    msg = f"Artifact {name!r} is not built: {where} does not exist; {build_hint(name)}."
    return ArtifactNotBuilt(msg)


# --------------------------------------------------------------------------------------
# provenance


@functools.cache
def _stage_code(stage: str) -> str | None:
    from . import _registry
    from ._code import code_digest, import_closure

    try:
        module = _registry.stage_module(stage)
    except KeyError:
        return None
    return code_digest(import_closure(module))


def provenance(name: str, *, params: Mapping[str, Any], seeds: Any) -> dict[str, Any]:
    """The provenance attrs every artifact carries: a deterministic function of code and params.

    ``artifact``, ``neurodata_version``, ``stage`` and ``code_sha256`` (the SHA-256 of the
    source files the stage that builds it imports, see :mod:`neurodata._code`; absent for an
    artifact no stage of ``dvc.yaml`` writes), ``stage_params`` and ``seeds`` as JSON,
    ``schema`` and ``schema_version``. No wall-clock time and no git commit: the same code and
    params give byte-identical stores.

    Parameters
    ----------
    name : str
        The artifact.
    params : mapping
        The stage's checked parameters.
    seeds : mapping or None
        The seeding parameters and their values (:func:`neurodata.seeds.seed_record`).
    """
    from ._pipeline import producer
    from .schemas import load_contract

    _check_seed_record(seeds)
    contract = load_contract(name)
    attrs: dict[str, Any] = {"artifact": name, "neurodata_version": __version__}
    stage = producer(name)
    code = _stage_code(stage) if stage else None
    if stage and code:
        attrs.update(stage=stage, code_sha256=code)
    attrs.update(
        stage_params=json.dumps(params, sort_keys=True, default=_json_default),
        seeds=json.dumps(seeds, default=_json_default),
        schema=f"schemas/{name}.yaml",
        schema_version=contract.version,
    )
    return attrs


def _check_seed_record(seeds: Any) -> None:
    """Provenance seeds have one shape: None, or a mapping of parameter names to ints or lists of ints."""
    ok = seeds is None or (isinstance(seeds, Mapping) and all(
        isinstance(k, str) and (isinstance(v, int | np.integer) or (isinstance(v, list) and all(isinstance(x, int | np.integer) for x in v)))
        for k, v in seeds.items()))
    if not ok:
        msg = f"seeds must be None or a mapping of seed parameter names to ints or lists of ints (neurodata.seeds.seed_record). Got {seeds!r}."
        raise TypeError(msg)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    msg = f"Cannot record {value!r} of type {type(value).__name__} as JSON provenance."
    raise TypeError(msg)


# --------------------------------------------------------------------------------------
# encoding


def _auto_chunks(shape: tuple[int, ...], itemsize: int) -> tuple[int, ...]:
    """Split along the leading dims until a chunk is at most TARGET_CHUNK_BYTES."""
    chunks = list(shape) or []
    for axis in range(len(chunks)):
        size = math.prod(chunks) * itemsize
        if size <= TARGET_CHUNK_BYTES:
            break
        rest = math.prod(chunks[axis + 1 :]) * itemsize
        chunks[axis] = max(1, TARGET_CHUNK_BYTES // max(rest, 1))
    return tuple(max(1, c) for c in chunks)


def _shards(shape: tuple[int, ...], chunks: tuple[int, ...], itemsize: int) -> tuple[int, ...] | None:
    """Shard shape covering the whole array (capped at MAX_SHARD_BYTES along the first dim)."""
    if not shape:
        return None
    shards = [math.ceil(s / c) * c if s else c for s, c in zip(shape, chunks, strict=True)]
    while math.prod(shards) * itemsize > MAX_SHARD_BYTES and shards[0] > chunks[0]:
        shards[0] = max(chunks[0], (shards[0] // chunks[0] // 2) * chunks[0])
    return tuple(shards)


def default_encoding(
    ds: xr.Dataset, overrides: Mapping[str, Mapping[str, Any]] | None = None, *, shard: bool = True
) -> dict[str, dict[str, Any]]:
    """Explicit chunks, checksummed Zstd compression and (for large arrays) sharding for every variable.

    Parameters
    ----------
    ds : xarray.Dataset
    overrides : mapping of variable name to encoding, optional
        e.g. ``{"counts": {"chunks": (64, 2, 100, 600)}}``; a given ``chunks`` is used as is.
    shard : bool, default True
        Shard arrays above 8 MiB into one file (or a few). Must be False for stores that
        parallel tasks fill region by region, where each task must own whole chunk files.
    """
    from zarr.codecs import ZstdCodec

    overrides = overrides or {}
    encoding: dict[str, dict[str, Any]] = {}
    for name, var in ds.variables.items():
        enc: dict[str, Any] = {}
        itemsize = var.dtype.itemsize if var.dtype.kind not in "OUT" else 16
        shape = tuple(var.shape)
        chunks = tuple(overrides.get(name, {}).get("chunks") or _auto_chunks(shape, itemsize))
        chunks = tuple(min(c, s) if s else c for c, s in zip(chunks, shape, strict=True))
        if shape:
            enc["chunks"] = chunks
        enc["compressors"] = (ZstdCodec(level=ZSTD_LEVEL, checksum=True),)  # damage is an error on read
        nbytes = math.prod(shape) * itemsize
        if shard and shape and var.dtype.kind not in "OUT" and nbytes > SHARD_THRESHOLD_BYTES:
            shards = _shards(shape, chunks, itemsize)
            if shards is not None and shards != chunks:
                enc["shards"] = shards
        enc.update({k: v for k, v in overrides.get(name, {}).items() if k != "chunks"})
        encoding[str(name)] = enc
    return encoding


def _tree_encoding(
    tree: xr.DataTree, overrides: Mapping[str, Mapping[str, Any]] | None, *, shard: bool = True
) -> dict[str, dict[str, dict[str, Any]]]:
    """Per-node encodings; *overrides* keys may be ``"<node path>/<variable>"`` or ``"<variable>"``."""
    overrides = overrides or {}
    encoding = {}
    for node in tree.subtree:
        path = node.path
        ds = node.to_dataset(inherit=False)
        if not ds.variables:
            continue
        node_over = {}
        for name in ds.variables:
            key = f"{path.rstrip('/')}/{name}".lstrip("/")
            if key in overrides:
                node_over[str(name)] = overrides[key]
            elif str(name) in overrides:
                node_over[str(name)] = overrides[str(name)]
        encoding[path] = default_encoding(ds, node_over, shard=shard)
    return encoding


# --------------------------------------------------------------------------------------
# writing


def _finish(path: Path, attrs: Mapping[str, Any]) -> None:
    """Stamp the provenance, consolidate the metadata, write the manifest (in that order:
    the manifest covers the final metadata). Partial chunk files that a task killed while
    writing left behind (zarr writes ``<chunk>.<uuid>.partial``, then renames) are removed
    first: the task that was retried wrote the chunk itself."""
    import zarr

    for partial in Path(path).rglob("*.partial"):
        partial.unlink(missing_ok=True)

    group = zarr.open_group(str(path), mode="r+")
    group.attrs.update(dict(attrs))
    zarr.consolidate_metadata(str(path))
    write_manifest(path)


def write_artifact(
    obj: xr.Dataset | xr.DataTree,
    name: str,
    *,
    params: Mapping[str, Any],
    seeds: Any = None,
    data_dir: str | Path | None = None,
    encoding: Mapping[str, Mapping[str, Any]] | None = None,
) -> Path:
    """Validate *obj* against ``schemas/<name>.yaml`` and write it atomically with provenance.

    Parameters
    ----------
    obj : xarray.Dataset or xarray.DataTree
        The labelled artifact.
    name : str
        Artifact name; the store is ``<data_dir>/<name>.zarr``.
    params : mapping
        The stage parameters that produced it (recorded as JSON).
    seeds : int, list or mapping, optional
        Random seed(s) used (recorded as JSON).
    data_dir : path, optional
        Default: option ``data_dir`` (``data/`` of the checkout).
    encoding : mapping, optional
        Per-variable overrides of :func:`default_encoding` (for a DataTree, keys may be
        ``"<node>/<variable>"``).

    Returns
    -------
    Path of the store.

    Raises
    ------
    neurodata.SchemaViolation
        Before anything is written, if *obj* breaks its contract.
    """
    from .schemas import validate

    validate(obj, name)
    dest = artifact_path(name, data_dir)
    attrs = provenance(name, params=params, seeds=seeds)
    clean_stale_temporaries(dest)
    tmp = temporary_path(dest)
    try:
        if isinstance(obj, xr.DataTree):
            obj.to_zarr(tmp, mode="w", consolidated=False, zarr_format=3, encoding=_tree_encoding(obj, encoding))
        else:
            obj.to_zarr(tmp, mode="w", consolidated=False, zarr_format=3, encoding=default_encoding(obj, encoding))
        _finish(tmp, attrs)
        replace(tmp, dest)
    except BaseException:
        remove(tmp)
        raise
    return dest


class ArtifactWriter:
    """An artifact filled piece by piece (e.g. one region per parallel task), committed at once.

    Examples
    --------
    >>> with ArtifactWriter("adex_we_sweep", params=p, seeds=s) as writer:  # doctest: +SKIP
    ...     writer.write_template(template, encoding={"median_vm": {"chunks": (1, 10)}})
    ...     run tasks that call ``ds.to_zarr(writer.path, region=..., mode="r+")``
    ...     writer.commit()
    """

    def __init__(
        self,
        name: str,
        *,
        params: Mapping[str, Any],
        seeds: Any = None,
        data_dir: str | Path | None = None,
    ) -> None:
        self.name = name
        self.params = params
        self.seeds = seeds
        self.dest = artifact_path(name, data_dir)
        clean_stale_temporaries(self.dest)
        self.path = temporary_path(self.dest)
        self._committed = False

    def write_template(
        self, template: xr.Dataset | xr.DataTree, encoding: Mapping[str, Mapping[str, Any]] | None = None
    ) -> None:
        """Write coordinates and metadata; data variables are left for region writes.

        Chunks along the dimension tasks split on must hold exactly one task's slice
        (region writes that share a chunk lose data), so no sharding is applied here.
        """
        if isinstance(template, xr.DataTree):
            enc = _tree_encoding(template, encoding, shard=False)
        else:
            enc = default_encoding(template, encoding, shard=False)
        template.to_zarr(self.path, mode="w", compute=False, consolidated=False, zarr_format=3, encoding=enc)

    def commit(self, *, validate_slices: tuple[str, int] | None = None) -> Path:
        """Validate the filled store (values included), stamp provenance, consolidate, swap in.

        Parameters
        ----------
        validate_slices : (dim, size), optional
            Validate *size* entries along *dim* at a time (e.g. one batch of trials), so that
            memory stays bounded by a slice; see :func:`neurodata.schemas.validate`.
        """
        from .schemas import validate

        filled = _open_store(str(self.path), chunks={}, consolidated=False)
        try:
            validate(filled, self.name, slices=validate_slices)
        finally:
            filled.close()
        _finish(self.path, provenance(self.name, params=self.params, seeds=self.seeds))
        replace(self.path, self.dest)
        self._committed = True
        return self.dest

    def __enter__(self) -> ArtifactWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._committed:
            remove(self.path)


# --------------------------------------------------------------------------------------
# reading


def _is_tree(store: Any, consolidated: bool = True) -> bool:
    import zarr

    group = zarr.open_group(store, mode="r", use_consolidated=consolidated)
    return any(True for _ in group.group_keys())


def _open_store(store: Any, *, chunks: Any, consolidated: bool) -> xr.Dataset | xr.DataTree:
    if _is_tree(store, consolidated):
        return xr.open_datatree(store, engine="zarr", chunks=chunks, consolidated=consolidated)
    return xr.open_zarr(store, chunks=chunks, consolidated=consolidated)


def verify_artifact(name: str, *, data_dir: str | Path | None = None, deep: bool = True) -> list[str]:
    """Compare the store of *name* with its manifest; return one line per problem (empty: intact).

    Parameters
    ----------
    name : str
        An artifact name.
    data_dir : path, optional
        Default: option ``data_dir``.
    deep : bool, default True
        Check every chunk's CRC-32C; False checks presence and sizes of chunks (metadata is
        always checked in full).
    """
    name = check_artifact_name(name)
    path = artifact_path(name, data_dir)
    if not is_built(name, data_dir):
        raise _not_built(name, path)
    return verify_store(path, artifact=name, deep=deep)


def _dvc_mapper(name: str, *, rev: str | None, repo: str | Path | None, catalog_dir: str | None = None) -> Any:
    """The fsspec mapper of *name* as built at *rev* of *repo* (a path or git URL; default: the
    checkout of *catalog_dir*, or this one), through DVC's filesystem."""
    from dvc.api import DVCFileSystem

    if not (isinstance(name, str) and _NAME.fullmatch(name)):
        check_artifact_name(name)
    if repo is None and catalog_dir:
        repo = catalog_root(catalog_dir)
    where = str(repo) if repo is not None else str(project_root(required=True))
    fs = DVCFileSystem(where, rev=rev or None)
    relative = f"data/{name}.zarr"
    if not fs.exists(f"{relative}/zarr.json"):
        built = sorted(p.rsplit("/", 1)[-1].removesuffix(".zarr") for p in fs.ls("data", detail=False)
                       if p.endswith(".zarr")) if fs.exists("data") else []
        msg = (f"Artifact {name!r} was not built (or not tracked by DVC) at revision {rev or 'HEAD'!r} of {where}. "
               f"Artifacts there: {built}.")
        raise ArtifactNotBuilt(msg)
    return fs.get_mapper(relative)


def _open_at_revision(name: str, *, rev: str | None, repo: str | Path | None, chunks: Any, consolidated: bool) -> Any:
    """Open *name* as built at *rev* of *repo* through DVC (see :func:`_dvc_mapper`)."""
    from ._verified_store import open_remote

    store = open_remote(_dvc_mapper(name, rev=rev, repo=repo), artifact=name)
    return _open_store(store, chunks=chunks, consolidated=consolidated)


def open_artifact(
    name: str,
    *,
    rev: str | None = None,
    data_dir: str | Path | None = None,
    repo: str | Path | None = None,
    chunks: Any = _STORED_CHUNKS,
    verify: bool = False,
    consolidated: bool = True,
) -> xr.Dataset | xr.DataTree:
    """Open artifact *name* lazily (dask-backed): a Dataset, or a DataTree for keyed artifacts.

    Every read is checked against the store's manifest: a missing or damaged chunk raises
    :class:`neurodata.ArtifactCorrupt`; a rebuild after opening raises
    :class:`neurodata.StaleArtifact` on the next read instead of mixing builds.

    Parameters
    ----------
    name : str
        An artifact name (see :func:`known_artifacts`).
    rev : str, optional
        A git revision (commit, tag, branch): read the artifact as it was built at that
        revision, through DVC (from the local cache or the registry's remote), from any
        working directory.
    data_dir : path, optional
        Where to look in the working tree (default: option ``data_dir``).
    repo : str or path, optional
        A neurodata registry: a git URL or the path of a repository, as ``dvc.api`` takes
        it (default: this checkout); read at *rev* (default: its HEAD).
    chunks : optional
        Passed to xarray: default ``{}`` (dask, the stored chunks); None reads numpy arrays.
    verify : bool, default False
        Check every chunk against the manifest before returning (what stages do with their
        inputs); raises :class:`neurodata.ArtifactCorrupt` listing every problem.
    consolidated : bool, default True
        Read the consolidated metadata (fast); False reads each array's own ``zarr.json``.

    Raises
    ------
    neurodata.UnknownArtifact
        *name* is no artifact.
    neurodata.ArtifactNotBuilt
        The artifact is not built (the message names the stage that builds it).
    neurodata.ArtifactCorrupt
        The store is damaged.
    """
    from ._verified_store import open_local, open_remote

    chunks = {} if chunks is _STORED_CHUNKS else chunks
    if rev or repo is not None:
        return _open_at_revision(name, rev=rev, repo=repo, chunks=chunks, consolidated=consolidated)
    name = check_artifact_name(name)
    path = artifact_path(name, data_dir)
    if not is_built(name, data_dir):
        raise _not_built(name, path)
    store = open_local(path, artifact=name)
    if verify:
        problems = verify_store(store._store.root, artifact=name, deep=True)
        if problems:
            msg = f"{name} is damaged ({len(problems)} problem(s)); rebuild it or restore it (`dvc checkout`):\n  " + "\n  ".join(problems)
            raise ArtifactCorrupt(msg)
    return _open_store(store, chunks=chunks, consolidated=consolidated)


def load_artifact(name: str, **kwargs: Any) -> xr.Dataset | xr.DataTree:
    """Like :func:`open_artifact`, but read into memory and close the store.

    Parameters
    ----------
    name : str
        An artifact name.
    **kwargs
        As for :func:`open_artifact` (``data_dir``, ``rev``, ``repo``, ``verify``, ...).
    """
    obj = open_artifact(name, **kwargs)
    loaded = obj.load()
    obj.close()
    return loaded


def store_size(path: str | Path) -> tuple[int, int]:
    """Total bytes and number of files of a store on disk.

    Parameters
    ----------
    path : path
        A store (or any folder).
    """
    total = files = 0
    for dirpath, _, filenames in os.walk(path):
        for fn in filenames:
            total += os.path.getsize(os.path.join(dirpath, fn))
            files += 1
    return total, files
