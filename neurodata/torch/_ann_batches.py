"""``ANNBatches``: the ``ann_batches`` artifact as a PyTorch map-style dataset, one item per trial."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import xarray as xr
from torch.utils.data import Dataset

__all__ = ["ANNBatches"]

_TARGETS = ("ap", "isi", "vt_max_per_ms")


class ANNBatches(Dataset):
    """Trials of the ``ann_batches`` artifact as (input, targets) pairs.

    Items are read lazily from the Zarr store; the chunk of the last batch read is kept in
    memory, so iterating in order (or with a ``BatchSampler`` aligned to ``batch_size``) reads
    each chunk once. Memory stays bounded by one stored batch.

    Parameters
    ----------
    source : Dataset, path or None
        An opened ``ann_batches`` Dataset, the path of its Zarr store, or None to open the
        built artifact (``neurodata.open_artifact('ann_batches', data_dir=..., rev=...)``).
    data_dir : path, optional
    rev : str, optional
        Git revision to read the artifact at (through DVC).
    targets : sequence of str, default ("ap", "isi", "vt_max_per_ms")
        Target variables returned per trial.
    transform : callable, optional
        Applied to the input tensor (e.g. ``torch.log1p``).

    Examples
    --------
    >>> from torch.utils.data import DataLoader  # doctest: +SKIP
    >>> loader = DataLoader(ANNBatches(), batch_size=32)  # doctest: +SKIP
    >>> x, y = next(iter(loader))  # x: (32, 2, n_spatial_bins, n_time); y["ap"]: (32, n_time)  # doctest: +SKIP
    """

    def __init__(
        self,
        source: xr.Dataset | str | Path | None = None,
        *,
        data_dir: str | Path | None = None,
        rev: str | None = None,
        targets: Sequence[str] = _TARGETS,
        transform: Any = None,
    ) -> None:
        if isinstance(source, xr.Dataset):
            ds = source
        elif source is not None:
            ds = xr.open_zarr(str(source), consolidated=True)
        else:
            from neurodata.store import open_artifact

            ds = open_artifact("ann_batches", data_dir=data_dir, rev=rev)
        unknown = [t for t in targets if t not in _TARGETS]
        if unknown:
            msg = f"ANNBatches: unknown targets {unknown}; expected a subset of {list(_TARGETS)}."
            raise ValueError(msg)
        self._ds = ds
        self.targets = tuple(targets)
        self.transform = transform
        chunks = ds["synapse_activation"].chunks
        self._block = int(chunks[0][0]) if chunks else ds.sizes["trial"]
        self._cache: tuple[int, dict[str, np.ndarray]] | None = None

    @property
    def trial_ids(self) -> list[str]:
        """ISF sim_trial_index of every item."""
        return [str(t) for t in self._ds["trial"].values]

    @property
    def spatial_bins(self) -> list[str]:
        """Names ``'<section>/<bin>'`` of axis 1 of the input."""
        return [str(b) for b in self._ds["spatial_bin"].values]

    def __len__(self) -> int:
        return int(self._ds.sizes["trial"])

    def _load_block(self, block: int) -> dict[str, np.ndarray]:
        if self._cache is None or self._cache[0] != block:
            sl = slice(block * self._block, (block + 1) * self._block)
            names = ["synapse_activation", *self.targets]
            part = self._ds[names].isel(trial=sl)
            self._cache = (block, {n: np.asarray(part[n].values) for n in names})
        return self._cache[1]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Input (2, n_spatial_bins, n_time) float32 and targets {name: float32 tensor}.

        ``ap`` (n_time,) is 1.0 where a soma spike falls in the bin, ``isi`` (n_time,) in ms,
        ``vt_max_per_ms`` (n_ms,) in mV.
        """
        n = len(self)
        if not -n <= int(index) < n:
            msg = f"ANNBatches: index {index} is out of range for {n} trials."
            raise IndexError(msg)
        i = int(index) % n
        block = self._load_block(i // self._block)
        j = i % self._block
        x = torch.from_numpy(np.ascontiguousarray(block["synapse_activation"][j], dtype=np.float32))
        if self.transform is not None:
            x = self.transform(x)
        y = {t: torch.from_numpy(np.ascontiguousarray(block[t][j], dtype=np.float32)) for t in self.targets}
        return x, y
