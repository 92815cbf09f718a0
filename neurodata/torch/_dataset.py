"""``ArtifactDataset``: any artifact (or node of one) as a map-style PyTorch dataset of named tensors."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
import xarray as xr
from torch.utils.data import Dataset

from .._exceptions import ParamError
from ._cache import BlockCache, CacheInfo
from ._fields import Field, parse_fields, resolve_fields
from ._source import Source, catalog_source, pick_node

__all__ = ["ArtifactDataset"]

DEFAULT_CACHE_MIB = 512


class ArtifactDataset(Dataset):
    """Samples of an artifact along one dim, each a dict ``{key: tensor}`` of named variables.

    The role xbatcher plays for xarray, for PyTorch: pick the sample dim, the input and target
    variables by name; every item is ``{key: torch.Tensor}`` (as Hugging Face datasets'
    ``with_format("torch")``), and a DataLoader's default collate stacks them into a dict of
    batched tensors.

    Reads are lazy and by block: a block is one stored chunk along the sample dim, read whole
    (by dask's synchronous scheduler, never a thread pool) into a cache of recent blocks bounded
    by *cache_mib*. With the default bound an artifact of up to 512 MiB is read once per worker
    however the samples are shuffled; for larger ones, :class:`~neurodata.torch.BlockShuffleSampler`
    shuffles block by block so that each block is still read once per epoch.

    The store is opened again in each process that reads (a DataLoader worker, forked or
    spawned): the dataset pickles without handles or cached blocks.

    Parameters
    ----------
    source : str, pathlib.Path, xarray.Dataset or xarray.DataTree
        An artifact name (``"ann_batches"``, opened with :func:`neurodata.open_artifact`), the
        path of a Zarr store (a ``Path``, or a ``str`` ending in ``.zarr``), or an opened
        Dataset/DataTree (kept as given; a lazily opened one is pickled to spawned workers).
    sample_dim : str
        The dim that indexes the samples (``"trial"``, ``"sample"``, ``"sweep"``).
    inputs, targets, extras : str, list of str or mapping, optional
        Variables of each sample, by name: ``["synapse_activation"]``, or ``{key: name}`` to
        rename, or ``{key: [name, ...]}`` to stack several variables of the same dims along a new
        last axis (``{"spatial": ["x", "y"]}``). Coordinates along *sample_dim* are variables
        too. The three groups only label the keys (:attr:`input_keys`, :attr:`target_keys`):
        a sample holds them all. *extras*: masks, lengths, ids.
    node : str, optional
        The child node of a DataTree artifact (``"window_50"``, ``"bin_20"``).
    where : mapping of str to value or list of values, optional
        Keep the samples whose variable (1-D along *sample_dim*) has one of the values:
        ``{"split": "train"}``, ``{"stimulus_name": ["Noise 1", "Noise 2"]}``. A value no sample
        has is an error.
    data_dir : path, optional
        Folder of built artifacts (default: option ``data_dir``), resolved now.
    rev : str, optional
        Git revision to read the artifact at (through DVC).
    dtypes : mapping of key to torch or numpy dtype, optional
        Tensor dtype per key. Default: floats float32, integers int64, bools bool; strings and
        dates have none (leave them out or give one).
    transform : callable or mapping of key to callable, optional
        ``transform(sample) -> sample`` on the whole dict, or ``{key: fn}`` applied to that key's
        tensor (``{"synapse_activation": torch.log1p}``). Must pickle for spawned workers (no
        lambdas there).
    cache_mib : float, default 512
        Bound on the blocks cached per process, in MiB.

    Attributes
    ----------
    fields : list of Field
        Key, variables, role, per-sample dims, shape and dtype of each key of a sample.
    positions : ndarray of shape (len(self),)
        Position along *sample_dim* of each item.

    Examples
    --------
    >>> from torch.utils.data import DataLoader  # doctest: +SKIP
    >>> ds = ArtifactDataset("ann_batches", sample_dim="trial", inputs="synapse_activation",
    ...                      targets=["ap", "isi"])  # doctest: +SKIP
    >>> batch = next(iter(DataLoader(ds, batch_size=4, shuffle=True, num_workers=2)))  # doctest: +SKIP
    >>> batch["synapse_activation"].shape, batch["ap"].dtype  # doctest: +SKIP
    (torch.Size([4, 2, 115, 100]), torch.bool)
    """

    def __init__(
        self,
        source: str | Path | xr.Dataset | xr.DataTree,
        *,
        sample_dim: str,
        inputs: Any,
        targets: Any = None,
        extras: Any = None,
        node: str | None = None,
        where: Mapping[str, Any] | None = None,
        data_dir: str | Path | None = None,
        rev: str | None = None,
        dtypes: Mapping[str, Any] | None = None,
        transform: Callable[[dict], dict] | Mapping[str, Callable] | None = None,
        cache_mib: float = DEFAULT_CACHE_MIB,
    ) -> None:
        owner = type(self).__name__
        self._source, self._object = _make_source(source, node=node, data_dir=data_dir, rev=rev)
        self._init(owner, sample_dim, inputs, targets, extras, where, dtypes, transform, cache_mib)

    @classmethod
    def from_catalog(cls, entry: str, *, catalog: Any = None, params: Mapping[str, Any] | None = None,
                     **kwargs: Any) -> ArtifactDataset:
        """The artifact a catalog entry reads, as a dataset.

        Parameters
        ----------
        entry : str
            Catalog entry name (``"burst_windows"``, ``"ann_batches"``).
        catalog : intake catalog or path, optional
            Default: the checkout's ``catalog/catalog.yaml``.
        params : mapping, optional
            Catalog user parameters (``{"window": 50}``, ``{"rev": "v1"}``).
        **kwargs
            As for :class:`ArtifactDataset` (``sample_dim``, ``inputs``, ...), without ``source``,
            ``node``, ``data_dir`` and ``rev``.

        Examples
        --------
        >>> ArtifactDataset.from_catalog("burst_windows", params={"window": 50}, sample_dim="sample",
        ...                              inputs="temporal", targets="label")  # doctest: +SKIP
        """
        fixed = sorted({"source", "node", "data_dir", "rev"} & set(kwargs))
        if fixed:
            msg = f"ArtifactDataset.from_catalog takes {fixed} from the catalog entry; pass catalog params instead."
            raise ParamError(msg)
        self = cls.__new__(cls)
        self._source, self._object = catalog_source(entry, catalog, **dict(params or {})), None
        self._init(cls.__name__, **_init_kwargs(kwargs))
        return self

    def _init(self, owner: str, sample_dim: str, inputs: Any, targets: Any, extras: Any,
              where: Mapping[str, Any] | None, dtypes: Mapping[str, Any] | None,
              transform: Callable[[dict], dict] | Mapping[str, Callable] | None, cache_mib: float) -> None:
        import dask

        if not isinstance(cache_mib, int | float) or not cache_mib >= 0:
            msg = f"The 'cache_mib' parameter of {owner} must be a number >= 0. Got {cache_mib!r} instead."
            raise ParamError(msg)
        self.owner = owner
        self.transform = _check_transform(transform, owner)
        self._cache = BlockCache(int(cache_mib * 2**20))
        self._pid: int | None = None
        self._ds: xr.Dataset | None = None
        ds = self._open()
        self.name = self._source.label if self._source is not None else "the given dataset"
        if sample_dim not in ds.dims:
            msg = (f"The 'sample_dim' parameter of {owner} must be a dim of {self.name}: {sorted(map(str, ds.dims))}. "
                   f"Got {sample_dim!r} instead.")
            raise ParamError(msg)
        self.sample_dim = sample_dim
        fields = [*parse_fields(inputs, "input", owner), *parse_fields(targets, "target", owner),
                  *parse_fields(extras, "extra", owner)]
        if not fields:
            msg = f"The 'inputs' parameter of {owner} must name at least one variable. Got {inputs!r} instead."
            raise ParamError(msg)
        self.fields = resolve_fields(fields, ds, sample_dim, dtypes, self.name, owner)
        with dask.config.set(scheduler="synchronous"):
            self.positions = _select(ds, sample_dim, where, self.name, owner)
        self._starts = _block_starts(ds, sample_dim, self.fields)
        self._block_of = np.searchsorted(self._starts, self.positions, side="right") - 1

    # ----------------------------------------------------------------------------------------
    # the store, opened once per process

    def _open(self) -> xr.Dataset:
        if self._ds is None or self._pid != os.getpid():
            # A forked worker must not use its parent's handles; the cached blocks are plain
            # arrays and stay valid.
            if self._source is not None:
                self._ds = self._source.open()
            else:
                self._ds = self._object
            self._pid = os.getpid()
        return self._ds

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_ds"] = None
        state["_pid"] = None
        state["_cache"] = BlockCache(self._cache.max_bytes)
        return state

    @property
    def dataset(self) -> xr.Dataset:
        """The artifact's Dataset (lazy), as opened in this process."""
        return self._open()

    # ----------------------------------------------------------------------------------------
    # samples

    def __len__(self) -> int:
        return int(self.positions.size)

    @property
    def keys(self) -> list[str]:
        """Keys of a sample, inputs first, then targets, then extras."""
        return [f.key for f in self.fields]

    @property
    def input_keys(self) -> list[str]:
        return [f.key for f in self.fields if f.role == "input"]

    @property
    def target_keys(self) -> list[str]:
        return [f.key for f in self.fields if f.role == "target"]

    @property
    def sample_coords(self) -> np.ndarray:
        """Coordinate values along the sample dim of each item (positions when it has none)."""
        ds = self._open()
        if self.sample_dim not in ds.coords:
            return self.positions.copy()
        return np.asarray(ds[self.sample_dim].values)[self.positions]

    def __getitem__(self, item: int) -> dict[str, torch.Tensor]:
        """Sample *item*: ``{key: tensor}``, each of its field's shape and dtype (see :attr:`fields`)."""
        if not isinstance(item, int | np.integer):
            msg = f"{self.owner} indices must be integers. Got {item!r} of type {type(item).__name__} instead."
            raise TypeError(msg)
        n = len(self)
        if not -n <= item < n:
            msg = f"{self.owner}: index {item} is out of range for {n} samples."
            raise IndexError(msg)
        b = int(self._block_of[item])
        block = self._cache.get(b, self._read_block)
        j = int(self.positions[item]) - int(self._starts[b])
        # Copies: a transform working in place must not write into the cached block.
        return self._transformed({key: torch.from_numpy(np.array(values[j])) for key, values in block.items()})

    def __getitems__(self, items: list[int]) -> list[dict[str, torch.Tensor]]:
        """Samples *items*, as ``[self[i] for i in items]``: what a DataLoader asks for one batch.

        Without a transform the tensors are views of the cached blocks, which the DataLoader's
        collate copies into the batch (a custom ``collate_fn`` must not write into them); with
        one, each key of a block is gathered once (one copy) for the transform to own.
        """
        index = np.asarray(items)
        n = len(self)
        if index.dtype.kind not in "iu" or index.ndim != 1:
            return [self[i] for i in items]   # the per-item checks raise the right error
        bad = index[(index < -n) | (index >= n)]
        if bad.size:
            self[int(bad[0])]
        index = index % max(n, 1)
        blocks = self._block_of[index]
        rows = self.positions[index] - self._starts[blocks]
        samples: list[dict[str, torch.Tensor]] = [{} for _ in items]
        _, first = np.unique(blocks, return_index=True)
        for b in blocks[np.sort(first)]:   # in the order met: the last block stays cached for the next batch
            where = np.flatnonzero(blocks == b)
            block = self._cache.get(int(b), self._read_block)
            r = rows[where]
            if self.transform is None:
                tensors = {key: torch.from_numpy(values) for key, values in block.items()}
            else:
                tensors, r = {key: torch.from_numpy(values[r]) for key, values in block.items()}, range(r.size)
            for s, j in zip(where.tolist(), r, strict=True):
                samples[s] = {key: t[int(j)] for key, t in tensors.items()}
        return samples if self.transform is None else [self._transformed(s) for s in samples]

    def _transformed(self, sample: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        if self.transform is None:
            return sample
        if callable(self.transform):
            return self.transform(sample)
        for key, fn in self.transform.items():
            sample[key] = fn(sample[key])
        return sample

    def _read_block(self, b: int) -> dict[str, np.ndarray]:
        import dask

        ds = self._open()
        window = {self.sample_dim: slice(int(self._starts[b]), int(self._starts[b + 1]))}
        names = sorted({v for f in self.fields for v in f.variables})
        lazy = [ds[v].isel(window).transpose(self.sample_dim, ...).data for v in names]
        values = dict(zip(names, dask.compute(*lazy, scheduler="synchronous"), strict=True))
        block = {}
        for f in self.fields:
            parts = [np.asarray(values[v]) for v in f.variables]
            stacked = parts[0] if len(parts) == 1 else np.stack(parts, axis=-1)
            block[f.key] = np.ascontiguousarray(stacked, dtype=f.dtype)
        return block

    # ----------------------------------------------------------------------------------------
    # blocks

    @property
    def n_blocks(self) -> int:
        """Number of blocks (stored chunks along the sample dim)."""
        return int(self._starts.size - 1)

    @property
    def block_of(self) -> np.ndarray:
        """Block of each item, shape (len(self),)."""
        return self._block_of

    @property
    def block_nbytes(self) -> int:
        """Bytes of the largest block once read (all its samples, every key)."""
        per_sample = sum(int(np.prod(f.shape)) * f.dtype.itemsize for f in self.fields)
        return int(np.diff(self._starts).max(initial=0)) * per_sample

    def cache_info(self) -> CacheInfo:
        """Hits, misses (blocks read), blocks and bytes held, and the bound, in this process."""
        return self._cache.info()

    def __repr__(self) -> str:
        keys = ", ".join(f"{f.key}: {f.shape} {f.dtype}" for f in self.fields)
        return f"{self.owner}({self.name}, {len(self)} samples along {self.sample_dim!r}; {keys})"


def _make_source(source: Any, *, node: str | None, data_dir: Any, rev: str | None) -> tuple[Source | None, Any]:
    if isinstance(source, xr.DataTree):
        return None, pick_node(source, node, "the given tree")
    if isinstance(source, xr.Dataset):
        return None, pick_node(source, node, "the given dataset")
    if isinstance(source, os.PathLike) or (isinstance(source, str) and source.rstrip("/").endswith(".zarr")):
        return Source(path=str(Path(source).resolve()), node=node), None
    if isinstance(source, str):
        from .. import _options

        folder = Path(data_dir) if data_dir is not None else _options.data_dir()
        return Source(artifact=source, node=node, data_dir=str(folder.resolve()), rev=rev), None
    msg = (f"The 'source' parameter of ArtifactDataset must be an artifact name, a store path or an xarray "
           f"Dataset/DataTree. Got {source!r} of type {type(source).__name__} instead.")
    raise ParamError(msg)


def _init_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    allowed = {"sample_dim": None, "inputs": None, "targets": None, "extras": None, "where": None,
               "dtypes": None, "transform": None, "cache_mib": DEFAULT_CACHE_MIB}
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown or "sample_dim" not in kwargs or "inputs" not in kwargs:
        msg = (f"ArtifactDataset.from_catalog needs sample_dim and inputs and takes {sorted(allowed)}; "
               f"got {sorted(kwargs)}.")
        raise ParamError(msg)
    return {**allowed, **kwargs}


def _check_transform(transform: Any, owner: str) -> Any:
    if transform is None or callable(transform):
        return transform
    if isinstance(transform, Mapping) and all(isinstance(k, str) and callable(f) for k, f in transform.items()):
        return dict(transform)
    msg = (f"The 'transform' parameter of {owner} must be a callable on the sample dict or a mapping of key to "
           f"callable. Got {transform!r} instead.")
    raise ParamError(msg)


def _select(ds: xr.Dataset, dim: str, where: Mapping[str, Any] | None, name: str, owner: str) -> np.ndarray:
    """Positions along *dim* of the samples that satisfy every condition of *where*."""
    keep = np.ones(int(ds.sizes[dim]), dtype=bool)
    for var, wanted in (where or {}).items():
        if var not in ds.variables or ds[var].dims != (dim,):
            one_d = sorted(str(v) for v in ds.variables if ds[v].dims == (dim,))
            msg = (f"The 'where' parameter of {owner} names {var!r}; expected a variable of {name} along "
                   f"{dim!r} only: {one_d}.")
            raise ParamError(msg)
        values = np.asarray(ds[var].values)
        wanted = list(wanted) if isinstance(wanted, list | tuple | set | np.ndarray) else [wanted]
        if values.dtype.kind in "OUT":
            values, wanted = values.astype(object), [str(w) for w in wanted]
        absent = [w for w in wanted if not np.any(values == w)]
        if absent:
            present = np.unique(values)
            shown = f": {present.tolist()}" if present.size <= 20 else f" ({present.size} distinct values)"
            msg = f"The 'where' parameter of {owner} selects {var} = {absent}, which no sample of {name} has{shown}."
            raise ParamError(msg)
        keep &= np.isin(values, wanted)
    return np.flatnonzero(keep).astype(np.int64)


def _block_starts(ds: xr.Dataset, dim: str, fields: list[Field]) -> np.ndarray:
    """Starts of the blocks along *dim* (and its size last): the stored chunks of the variable
    with the most bytes per sample, which dominates the reading."""
    size = int(ds.sizes[dim])
    best, best_bytes = None, -1
    for f in fields:
        for var in f.variables:
            v = ds[var]
            per_sample = v.dtype.itemsize * int(np.prod([ds.sizes[d] for d in v.dims if d != dim]))
            if v.chunks is not None and per_sample > best_bytes:
                best, best_bytes = v.chunks[v.dims.index(dim)], per_sample
    if best is None:  # in memory: one block
        return np.array([0, size], dtype=np.int64)
    return np.concatenate([[0], np.cumsum(best)]).astype(np.int64)
