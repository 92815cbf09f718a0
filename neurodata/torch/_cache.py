"""A least-recently-used cache of blocks of samples, bounded in bytes."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

__all__ = ["BlockCache", "CacheInfo"]

Block = dict[str, np.ndarray]


class CacheInfo(NamedTuple):
    """Counters of a :class:`BlockCache` (as ``functools.lru_cache``'s ``cache_info``).

    ``misses`` is the number of blocks read from the store; ``blocks`` and ``nbytes`` what is
    held now; ``max_bytes`` the bound.
    """

    hits: int
    misses: int
    blocks: int
    nbytes: int
    max_bytes: int


class BlockCache:
    """Blocks (dicts of arrays) by block number, the least recently used dropped first.

    The most recent block is always kept, even when it alone exceeds *max_bytes*.

    Parameters
    ----------
    max_bytes : int
        Bound on the summed ``nbytes`` of the blocks held.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = int(max_bytes)
        self._blocks: OrderedDict[int, Block] = OrderedDict()
        self._nbytes = 0
        self._hits = 0
        self._misses = 0

    def get(self, key: int, load: Callable[[int], Block]) -> Block:
        """Block *key*, read with ``load(key)`` when it is not held."""
        block = self._blocks.get(key)
        if block is not None:
            self._hits += 1
            self._blocks.move_to_end(key)
            return block
        self._misses += 1
        block = load(key)
        self._blocks[key] = block
        self._nbytes += _nbytes(block)
        while self._nbytes > self.max_bytes and len(self._blocks) > 1:
            _, old = self._blocks.popitem(last=False)
            self._nbytes -= _nbytes(old)
        return block

    def info(self) -> CacheInfo:
        """Hits, misses, blocks held, bytes held and the bound."""
        return CacheInfo(self._hits, self._misses, len(self._blocks), self._nbytes, self.max_bytes)

    def clear(self) -> None:
        """Drop every block and reset the counters."""
        self._blocks.clear()
        self._nbytes = self._hits = self._misses = 0


def _nbytes(block: Block) -> int:
    return sum(a.nbytes for a in block.values())
