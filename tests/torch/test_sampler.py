"""BlockShuffleSampler: a random order, block group by block group, so each block is read once."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from torch.utils.data import DataLoader  # noqa: E402

from neurodata import ParamError  # noqa: E402
from neurodata.torch import ArtifactDataset, BlockShuffleSampler  # noqa: E402


@pytest.fixture
def windows(ml_data):
    """30 windows in blocks of 8, 8, 8, 6; the train split keeps every third."""
    return ArtifactDataset("burst_windows", node="window_10", sample_dim="sample", inputs="temporal",
                           targets="label", data_dir=ml_data, cache_mib=0)


def runs_of(order, block_of):
    """The block of each run of consecutive items from one block."""
    blocks = [int(block_of[i]) for i in order]
    return [b for k, b in enumerate(blocks) if k == 0 or b != blocks[k - 1]]


def test_each_block_comes_out_whole_in_a_random_order(windows, global_random_seed):
    sampler = BlockShuffleSampler(windows, blocks_per_group=1, seed=global_random_seed)
    first, second = list(sampler), list(sampler)
    assert len(sampler) == 30 and sorted(first) == list(range(30)) and sorted(second) == list(range(30))
    assert first != second                     # a new order each epoch
    for order in (first, second):
        runs = runs_of(order, windows.block_of)
        assert sorted(runs) == [0, 1, 2, 3]    # each block is one run
        assert order != sorted(order)
    again = list(BlockShuffleSampler(windows, blocks_per_group=1, seed=global_random_seed))
    assert again == first                      # seeded


def test_groups_mix_blocks(windows):
    order = list(BlockShuffleSampler(windows, blocks_per_group=2, seed=1))
    blocks = [int(windows.block_of[i]) for i in order]
    first_group = list(dict.fromkeys(blocks))[:2]
    n_first = sum(8 if b < 3 else 6 for b in first_group)
    assert set(blocks[:n_first]) == set(first_group) and not set(blocks[n_first:]) & set(first_group)
    assert len(runs_of(order[:n_first], windows.block_of)) > 2      # the two blocks interleave


def test_reads_each_block_once_where_shuffle_rereads(windows):
    loader = DataLoader(windows, batch_size=5, sampler=BlockShuffleSampler(windows, seed=0))
    # default group: as many blocks as the cache holds (here none: the bound is 0 MiB) -> 1
    assert sum(b["temporal"].shape[0] for b in loader) == 30
    assert windows.cache_info().misses == windows.n_blocks == 4


def test_a_subset_and_the_default_group(ml_data):
    train = ArtifactDataset("burst_windows", node="window_5", sample_dim="sample", inputs="temporal",
                            where={"split": "train"}, data_dir=ml_data)
    sampler = BlockShuffleSampler(train, seed=0)
    assert sampler.blocks_per_group == 512 * 2**20 // train.block_nbytes
    order = list(sampler)
    assert sorted(order) == list(range(len(train))) == list(range(10))
    values = [train[i]["temporal"][0].item() for i in order]
    assert sorted(values) == [10 * i for i in range(0, 30, 3)]


def test_bad_arguments(windows):
    with pytest.raises(ParamError, match="must be an ArtifactDataset. Got list"):
        BlockShuffleSampler([1, 2, 3])
    with pytest.raises(ParamError, match="must be an int >= 1. Got 0"):
        BlockShuffleSampler(windows, blocks_per_group=0)
