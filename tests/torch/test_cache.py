"""BlockCache: least recently used out first, bounded in bytes; shuffled epochs read each block once."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch.utils.data import DataLoader  # noqa: E402

from neurodata.torch import ArtifactDataset  # noqa: E402
from neurodata.torch._cache import BlockCache  # noqa: E402


def block(key: int) -> dict[str, np.ndarray]:
    return {"x": np.full(25, key, dtype=np.float32)}   # 100 bytes


def test_least_recently_used_block_goes_first():
    cache, loads = BlockCache(max_bytes=250), []

    def load(key):
        loads.append(key)
        return block(key)

    for key in (0, 1, 0, 2, 0, 1):
        assert cache.get(key, load)["x"][0] == key
    # 2 evicts 1 (0 was used after 1); then 1 evicts 2
    assert loads == [0, 1, 2, 1]
    assert cache.info() == (2, 4, 2, 200, 250)
    cache.clear()
    assert cache.info() == (0, 0, 0, 0, 250)


def test_the_last_block_is_kept_even_over_the_bound():
    cache = BlockCache(max_bytes=0)
    cache.get(0, block)
    cache.get(0, block)
    assert cache.info() == (1, 1, 1, 100, 0)


@pytest.mark.parametrize("cache_mib", [512, 0])
def test_a_shuffled_epoch_reads_each_block_once_when_the_data_fit(ml_data, cache_mib):
    ds = ArtifactDataset("ann_batches", sample_dim="trial", inputs="synapse_activation", data_dir=ml_data,
                         cache_mib=cache_mib)
    loader = DataLoader(ds, batch_size=4, shuffle=True, generator=torch.Generator().manual_seed(0))
    for _ in range(2):
        for _batch in loader:
            pass
    info = ds.cache_info()   # one lookup per block a batch touches
    if cache_mib:
        assert info.misses == ds.n_blocks == 3 and info.hits > 0
    else:   # one block held: a shuffled order comes back to blocks it has dropped
        assert info.misses > 2 * ds.n_blocks
