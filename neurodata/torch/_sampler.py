"""``BlockShuffleSampler``: a shuffled order that reads each block once per epoch, whatever the cache size."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import numpy as np
from torch.utils.data import Sampler

from .._exceptions import ParamError
from ..seeds import rng
from ._dataset import ArtifactDataset

__all__ = ["BlockShuffleSampler"]


class BlockShuffleSampler(Sampler[int]):
    """Shuffle the blocks, then the samples within each group of blocks that fits the cache.

    ``shuffle=True`` draws every sample from the whole dataset, so a dataset larger than its
    block cache reads a block for nearly every sample. This sampler draws a random order of the
    blocks, cuts it into groups of *blocks_per_group*, and shuffles the samples within each
    group: every block is read once per epoch per worker (a DataLoader deals the batches out to
    its workers in turn, so each worker sees every group). The order is random but not a
    uniform permutation: the samples of one group come out together. Use it in place of
    ``shuffle=True``: ``DataLoader(ds, sampler=BlockShuffleSampler(ds), ...)``.

    Parameters
    ----------
    dataset : ArtifactDataset
    blocks_per_group : int, optional
        Default: as many of the largest blocks as fit in the dataset's cache (at least 1).
    seed : int, optional
        Seed of the order; each iteration (epoch) draws a new one from it.

    Examples
    --------
    >>> ds = ANNBatches()  # doctest: +SKIP
    >>> loader = DataLoader(ds, batch_size=32, sampler=BlockShuffleSampler(ds, seed=0), num_workers=2)  # doctest: +SKIP
    """

    def __init__(self, dataset: ArtifactDataset, *, blocks_per_group: int | None = None,
                 seed: int | None = None) -> None:
        if not isinstance(dataset, ArtifactDataset):
            msg = (f"The 'dataset' parameter of BlockShuffleSampler must be an ArtifactDataset. "
                   f"Got {type(dataset).__name__} instead.")
            raise ParamError(msg)
        if blocks_per_group is None:
            blocks_per_group = max(1, dataset.cache_info().max_bytes // max(dataset.block_nbytes, 1))
        if not isinstance(blocks_per_group, int | np.integer) or blocks_per_group < 1:
            msg = (f"The 'blocks_per_group' parameter of BlockShuffleSampler must be an int >= 1. "
                   f"Got {blocks_per_group!r} instead.")
            raise ParamError(msg)
        self.blocks_per_group = int(blocks_per_group)
        # no seed: a fresh one from the OS, as torch's own RandomSampler does without a generator
        self._rng = rng(secrets.randbits(63) if seed is None else seed)
        block_of = np.asarray(dataset.block_of)
        order = np.argsort(block_of, kind="stable")
        blocks, starts = np.unique(block_of[order], return_index=True)
        groups = np.split(order, starts[1:]) if order.size else []
        self._items = dict(zip(blocks.tolist(), groups, strict=True))

    def __len__(self) -> int:
        return sum(len(i) for i in self._items.values())

    def __iter__(self) -> Iterator[int]:
        blocks = self._rng.permutation(np.array(list(self._items), dtype=np.int64))
        for g in range(0, blocks.size, self.blocks_per_group):
            items = np.concatenate([self._items[int(b)] for b in blocks[g:g + self.blocks_per_group]])
            yield from self._rng.permutation(items).tolist()
