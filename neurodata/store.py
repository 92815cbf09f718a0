"""The artifact store: atomic, validated, provenanced Zarr v3 stores under ``data/``.

Writing goes to a temporary folder beside the destination (``data/.<name>.zarr.tmp-*``),
which is validated against the artifact's contract, given provenance attrs and consolidated
metadata, and only then renamed into place: a failed or interrupted stage leaves the
previous artifact as it was.
"""

from __future__ import annotations

import functools
import json
import math
import os
import shutil
import subprocess
import uuid
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from . import _options
from ._exceptions import ArtifactNotBuilt
from ._paths import project_root
from ._version import __version__

__all__ = [
    "ArtifactWriter",
    "artifact_path",
    "atomic_output",
    "default_encoding",
    "is_built",
    "load_artifact",
    "open_artifact",
    "provenance",
    "store_size",
    "write_artifact",
]

ZSTD_LEVEL = 3
SHARD_THRESHOLD_BYTES = 8 * 2**20  # arrays above this are sharded: few files for DVC to hash
TARGET_CHUNK_BYTES = 4 * 2**20
MAX_SHARD_BYTES = 512 * 2**20

warnings.filterwarnings("ignore", message="Consolidated metadata is currently not part", category=UserWarning)


def artifact_path(name: str, data_dir: str | Path | None = None) -> Path:
    """Path of the Zarr store of artifact *name*: ``<data_dir>/<name>.zarr``."""
    return Path(data_dir if data_dir is not None else _options.data_dir()) / f"{name}.zarr"


def is_built(name: str, data_dir: str | Path | None = None) -> bool:
    """Whether artifact *name* has a store (``zarr.json`` at its root)."""
    return (artifact_path(name, data_dir) / "zarr.json").is_file()


# --------------------------------------------------------------------------------------
# provenance


@functools.cache
def _git_state() -> tuple[str, bool]:
    root = project_root(required=False)
    if root is None:
        return "unknown", False
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no", "--", "neurodata", "schemas"],
                cwd=root,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown", False
    return commit, dirty


def _created() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)
    return when.isoformat(timespec="seconds")


def provenance(name: str, *, params: Mapping[str, Any], seeds: Any) -> dict[str, Any]:
    """The provenance attrs every artifact carries.

    ``neurodata_version``, ``git_commit`` (and ``git_dirty`` when the package or schemas had
    uncommitted changes), ``stage_params`` and ``seeds`` as JSON, ``created`` (UTC, or
    ``SOURCE_DATE_EPOCH`` when set), ``schema`` and ``schema_version``.
    """
    from .schemas import load_contract

    commit, dirty = _git_state()
    contract = load_contract(name)
    return {
        "artifact": name,
        "neurodata_version": __version__,
        "git_commit": commit,
        "git_dirty": int(dirty),
        "stage_params": json.dumps(params, sort_keys=True, default=_json_default),
        "seeds": json.dumps(seeds, default=_json_default),
        "created": _created(),
        "schema": f"schemas/{name}.yaml",
        "schema_version": contract.version,
    }


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
    """Explicit chunks, Zstd compression and (for large arrays) sharding for every variable.

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
        enc["compressors"] = (ZstdCodec(level=ZSTD_LEVEL),)
        nbytes = math.prod(shape) * itemsize
        if shard and shape and var.dtype.kind not in "OUT" and nbytes > SHARD_THRESHOLD_BYTES:
            shards = _shards(shape, chunks, itemsize)
            if shards is not None and shards != chunks:
                enc["shards"] = shards
        enc.update({k: v for k, v in overrides.get(name, {}).items() if k != "chunks"})
        encoding[str(name)] = enc
    return encoding


def _tree_encoding(
    tree: xr.DataTree, overrides: Mapping[str, Mapping[str, Any]] | None
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
        encoding[path] = default_encoding(ds, node_over)
    return encoding


# --------------------------------------------------------------------------------------
# writing


def _temporary_path(dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    return dest.parent / f".{dest.name}.tmp-{uuid.uuid4().hex[:12]}"


def _replace(tmp: Path, dest: Path) -> None:
    """Move *tmp* (a file or folder) into place; the old one is removed only once the new one is there."""
    old = None
    if dest.exists():
        old = dest.parent / f".{dest.name}.old-{uuid.uuid4().hex[:12]}"
        os.rename(dest, old)
    os.rename(tmp, dest)
    if old is not None:
        _remove(old)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


@contextmanager
def atomic_output(dest: str | Path) -> Iterator[Path]:
    """A temporary path beside *dest* to write a non-Zarr output (HDF5, CSV, a folder of files);
    moved into place when the block succeeds, removed if it raises, so a failed stage never
    leaves a half-written file and keeps the previous one.

    Examples
    --------
    >>> with atomic_output(data_dir / "braingrid_allBurst.csv") as tmp:  # doctest: +SKIP
    ...     frame.to_csv(tmp, index=False)
    """
    dest = Path(dest)
    tmp = _temporary_path(dest)
    try:
        yield tmp
        _replace(tmp, dest)
    except BaseException:
        _remove(tmp)
        raise


def _stamp_and_consolidate(path: Path, attrs: Mapping[str, Any]) -> None:
    import zarr

    group = zarr.open_group(str(path), mode="r+")
    group.attrs.update(dict(attrs))
    zarr.consolidate_metadata(str(path))


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
    tmp = _temporary_path(dest)
    try:
        if isinstance(obj, xr.DataTree):
            obj.to_zarr(tmp, mode="w", consolidated=False, zarr_format=3, encoding=_tree_encoding(obj, encoding))
        else:
            obj.to_zarr(tmp, mode="w", consolidated=False, zarr_format=3, encoding=default_encoding(obj, encoding))
        _stamp_and_consolidate(tmp, attrs)
        _replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
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
        self.path = _temporary_path(self.dest)
        self._committed = False

    def write_template(self, template: xr.Dataset, encoding: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        """Write coordinates and metadata; data variables are left for region writes.

        Chunks along the dimension tasks split on must hold exactly one task's slice
        (region writes that share a chunk lose data), so no sharding is applied here.
        """
        template.to_zarr(
            self.path,
            mode="w",
            compute=False,
            consolidated=False,
            zarr_format=3,
            encoding=default_encoding(template, encoding, shard=False),
        )

    def commit(self, *, validate_slices: tuple[str, int] | None = None) -> Path:
        """Validate the filled store (values included), stamp provenance, consolidate, rename.

        Parameters
        ----------
        validate_slices : (dim, size), optional
            Validate *size* entries along *dim* at a time (e.g. one batch of trials), so that
            memory stays bounded by a slice; see :func:`neurodata.schemas.validate`.
        """
        from .schemas import validate

        with xr.open_zarr(self.path, consolidated=False, chunks={}) as filled:
            validate(filled, self.name, slices=validate_slices)
        _stamp_and_consolidate(self.path, provenance(self.name, params=self.params, seeds=self.seeds))
        _replace(self.path, self.dest)
        self._committed = True
        return self.dest

    def __enter__(self) -> ArtifactWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._committed:
            shutil.rmtree(self.path, ignore_errors=True)


# --------------------------------------------------------------------------------------
# reading


def _is_tree(mapper_root: Any) -> bool:
    import zarr

    group = zarr.open_group(mapper_root, mode="r", use_consolidated=True)
    return any(True for _ in group.group_keys())


def open_artifact(
    name: str,
    *,
    rev: str | None = None,
    data_dir: str | Path | None = None,
    repo: str | Path | None = None,
    chunks: Any = None,
) -> xr.Dataset | xr.DataTree:
    """Open artifact *name* lazily (dask-backed): a Dataset, or a DataTree for keyed artifacts.

    Parameters
    ----------
    name : str
    rev : str, optional
        A git revision (commit, tag, branch): read the artifact as it was built at that
        revision, through DVC (from the local cache or the default remote).
    data_dir : path, optional
        Where to look in the working tree (default: option ``data_dir``).
    repo : path, optional
        The repository for *rev* (default: this checkout).
    chunks : optional
        Passed to xarray; default ``{}`` (the stored chunks).
    """
    chunks = {} if chunks is None else chunks
    if rev:
        root = Path(repo) if repo is not None else Path(project_root(required=True))  # type: ignore[arg-type]
        store_dir = artifact_path(name, data_dir) if data_dir is not None else root / "data" / f"{name}.zarr"
        relative = os.path.relpath(store_dir, root)
        from dvc.api import DVCFileSystem

        fs = DVCFileSystem(str(root), rev=rev)
        if not fs.exists(f"{relative}/zarr.json"):
            msg = f"Artifact {name!r} was not built (or not tracked by DVC) at revision {rev!r} of {root}."
            raise ArtifactNotBuilt(msg)
        mapper = fs.get_mapper(relative)
        if _is_tree(mapper):
            return xr.open_datatree(mapper, engine="zarr", chunks=chunks, consolidated=True)
        return xr.open_zarr(mapper, chunks=chunks, consolidated=True)
    path = artifact_path(name, data_dir)
    if not (path / "zarr.json").is_file():
        msg = (
            f"Artifact {name!r} is not built: {path} does not exist. Build it with "
            f"`neurodata run <its stage>` or `dvc repro` (see `neurodata list`)."
        )
        raise ArtifactNotBuilt(msg)
    if _is_tree(str(path)):
        return xr.open_datatree(path, engine="zarr", chunks=chunks, consolidated=True)
    return xr.open_zarr(path, chunks=chunks, consolidated=True)


def load_artifact(name: str, **kwargs: Any) -> xr.Dataset | xr.DataTree:
    """Like :func:`open_artifact`, but read into memory and close the store."""
    obj = open_artifact(name, **kwargs)
    loaded = obj.load()
    obj.close()
    return loaded


def store_size(path: str | Path) -> tuple[int, int]:
    """Total bytes and number of files of a store on disk."""
    total = files = 0
    for dirpath, _, filenames in os.walk(path):
        for fn in filenames:
            total += os.path.getsize(os.path.join(dirpath, fn))
            files += 1
    return total, files

