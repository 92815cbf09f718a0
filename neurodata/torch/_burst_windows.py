"""``BurstWindows``: one window size of the ``burst_windows`` artifact as a PyTorch dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import xarray as xr
from torch.utils.data import Dataset

__all__ = ["BurstWindows"]

_KINDS = ("temporal", "spatial")
_SPLITS = ("train", "val", "test")


class BurstWindows(Dataset):
    """Pre-burst / non-burst windows of one size and one split as (features, label) pairs.

    The sample index and split are read when the dataset is made; window values are read
    lazily from the Zarr store, one stored chunk of samples at a time (the last chunk read is
    kept), so memory stays bounded by one chunk. The store is reopened in each DataLoader
    worker process.

    Parameters
    ----------
    window : int
        Window size in spikes (a node ``window_{window}`` of the artifact).
    kind : {"temporal", "spatial"}, default "temporal"
        ``"temporal"``: features of shape (window,), step offsets from the window's first
        spike. ``"spatial"``: features of shape (window, 2), the (x, y) grid position of each
        spike.
    split : {"train", "val", "test"} or None, default "train"
        Samples of this split only (None: all samples).
    data_dir : path, optional
        Folder of built artifacts (default: option ``data_dir``).
    rev : str, optional
        Git revision to read the artifact at (through DVC).
    transform : callable, optional
        Applied to the features tensor.

    Items
    -----
    features : torch.float32 tensor of shape (window,) or (window, 2)
        In steps (temporal) or grid units (spatial).
    label : torch.int64 scalar
        1 = pre-burst window, 0 = non-burst window.

    Examples
    --------
    >>> from torch.utils.data import DataLoader  # doctest: +SKIP
    >>> loader = DataLoader(BurstWindows(window=50, kind="spatial"), batch_size=64, shuffle=True)  # doctest: +SKIP
    >>> x, y = next(iter(loader))  # x: (64, 50, 2) float32, y: (64,) int64  # doctest: +SKIP
    """

    def __init__(
        self,
        window: int,
        kind: str = "temporal",
        split: str | None = "train",
        *,
        data_dir: str | Path | None = None,
        rev: str | None = None,
        transform: Any = None,
    ) -> None:
        if kind not in _KINDS:
            msg = f"BurstWindows: kind must be one of {list(_KINDS)}; got {kind!r}."
            raise ValueError(msg)
        if split is not None and split not in _SPLITS:
            msg = f"BurstWindows: split must be one of {list(_SPLITS)} or None; got {split!r}."
            raise ValueError(msg)
        self.window = int(window)
        self.kind = kind
        self.split = split
        self.data_dir = data_dir
        self.rev = rev
        self.transform = transform
        self._ds: xr.Dataset | None = None
        self._cache: tuple[int, np.ndarray, np.ndarray] | None = None
        import dask

        ds = self._node()
        with dask.config.set(scheduler="synchronous"):
            splits = np.asarray(ds["split"].values).astype(object)
        self.indices = np.flatnonzero(splits == split) if split is not None else np.arange(splits.size)
        chunks = ds["temporal"].chunks
        self._block = int(chunks[0][0]) if chunks else max(int(ds.sizes["sample"]), 1)

    def _node(self) -> xr.Dataset:
        if self._ds is None:
            from neurodata.store import open_artifact

            tree = open_artifact("burst_windows", data_dir=self.data_dir, rev=self.rev)
            node = f"window_{self.window}"
            if node not in tree.children:
                sizes = sorted(int(k.split("_", 1)[1]) for k in tree.children if k.startswith("window_"))
                msg = f"BurstWindows: the burst_windows artifact has no window {self.window}; window sizes: {sizes}."
                raise KeyError(msg)
            self._ds = tree[node].to_dataset()
        return self._ds

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_ds"] = None  # reopened lazily in the worker process
        state["_cache"] = None
        return state

    def __len__(self) -> int:
        return int(self.indices.size)

    def _chunk(self, sample: int) -> tuple[int, np.ndarray, np.ndarray]:
        start = (sample // self._block) * self._block
        if self._cache is None or self._cache[0] != start:
            import dask

            part = self._node().isel(sample=slice(start, start + self._block))
            # In-process reads: a dask thread pool inherited by a forked DataLoader worker deadlocks.
            with dask.config.set(scheduler="synchronous"):
                part = part.load()
            if self.kind == "temporal":
                features = np.asarray(part["temporal"].values, dtype=np.float32)
            else:
                features = np.stack([part["x"].values, part["y"].values], axis=-1).astype(np.float32)
            self._cache = (start, features, np.asarray(part["label"].values, dtype=np.int64))
        return self._cache

    def __getitem__(self, item: int) -> tuple[torch.Tensor, torch.Tensor]:
        if not -len(self) <= item < len(self):
            msg = f"BurstWindows: index {item} out of range for {len(self)} samples."
            raise IndexError(msg)
        sample = int(self.indices[item])
        start, features, labels = self._chunk(sample)
        x = torch.from_numpy(features[sample - start].copy())
        if self.transform is not None:
            x = self.transform(x)
        return x, torch.tensor(labels[sample - start], dtype=torch.int64)

    @property
    def labels(self) -> np.ndarray:
        """Labels of the dataset's samples, shape (len(self),)."""
        import dask

        with dask.config.set(scheduler="synchronous"):
            return np.asarray(self._node()["label"].values)[self.indices]
