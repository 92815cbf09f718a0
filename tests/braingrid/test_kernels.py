"""Every numba kernel of the BrainGrid family against a slow numpy reference, on seeded random inputs.

The generator's kernels have theirs in test_generator_model.py (``overlap_area`` against grid
integration, ``update_growth_synapses`` against brute-force pairs, ``run_lif_network`` against a
per-synapse reference); the spike table's and the burst detector's are here.
"""

from __future__ import annotations

import numpy as np
import pytest

from neurodata.braingrid._bursts import _avalanche_scan, _peaks
from neurodata.braingrid._spike_kernels import (
    ERR_AFTER_PADDING,
    ERR_NOT_INCREASING,
    ERR_TOO_LARGE,
    check_block,
    count_block,
    scan_block,
    sort_buckets,
)

BIN = 100  # steps per spikesHistory bin


def padded_matrix(rng: np.random.Generator, n_cols: int, n_steps: int, max_spikes: int) -> np.ndarray:
    """A valid BrainGrid spike matrix: each column ascending distinct steps in [1, n_steps), then zeros."""
    counts = rng.integers(0, max_spikes + 1, n_cols)
    matrix = np.zeros((max(counts.max(), 1) + rng.integers(0, 3), n_cols), dtype=np.uint64)
    for j, k in enumerate(counts):
        matrix[:k, j] = np.sort(rng.choice(np.arange(1, n_steps), k, replace=False))
    return matrix


def _active(n_cols: int) -> tuple[np.ndarray, np.ndarray]:
    return np.arange(n_cols, dtype=np.int64), np.array([n_cols], dtype=np.int64)


@pytest.mark.parametrize("seed", range(5))
def test_count_block_is_the_histogram_of_the_spikes(seed):
    rng = np.random.default_rng(seed)
    n_steps = 5000
    matrix = padded_matrix(rng, 13, n_steps, 40)
    counts = np.zeros(n_steps // BIN, dtype=np.int64)
    active, n_active = _active(13)
    taken = count_block(matrix, 0, active, n_active, np.zeros(13, np.uint64), np.uint64(n_steps), counts)
    spikes = matrix[matrix != 0].astype(np.int64)
    assert taken == spikes.size
    np.testing.assert_array_equal(counts, np.bincount(spikes // BIN, minlength=n_steps // BIN))


@pytest.mark.parametrize("seed", range(5))
def test_scan_and_sort_give_the_stable_time_order(seed):
    """scan_block appends each spike to its time bucket; sort_buckets sorts each bucket and splits
    the keys: together, numpy's lexsort by (time step, neuron)."""
    rng = np.random.default_rng(seed)
    n_cols, n_steps, shift = 17, 8000, 2  # buckets of 4 bins
    matrix = padded_matrix(rng, n_cols, n_steps, 60)
    ids = rng.permutation(64)[:n_cols].astype(np.uint64)  # probed neuron of each column
    xloc, yloc = (rng.integers(0, 8, 64).astype(np.int16) for _ in range(2))
    id_bits = 6
    rows, cols = np.nonzero(matrix)
    steps = matrix[rows, cols].astype(np.int64)
    history = np.bincount(steps // BIN, minlength=n_steps // BIN)
    bin_starts = np.r_[0, np.cumsum(history)]
    bucket_starts = np.r_[bin_starts[:: 1 << shift], bin_starts[-1]] if history.size % (1 << shift) else bin_starts[:: 1 << shift]
    cursor = bucket_starts[:-1].copy()
    keys = np.zeros(steps.size, dtype=np.uint64)
    active, n_active = _active(n_cols)
    taken = scan_block(matrix, 0, active, n_active, ids, np.uint64(id_bits), np.uint64(n_steps), np.zeros(n_cols, np.uint64),
                       np.uint64(shift), cursor, bucket_starts[1:], keys)
    assert taken == steps.size and np.array_equal(cursor, bucket_starts[1:])
    neuron = np.empty(steps.size, np.int32)
    x, y = np.empty(steps.size, np.int16), np.empty(steps.size, np.int16)
    bad = np.zeros(bucket_starts.size - 1, np.uint8)
    sort_buckets(np.arange(bucket_starts.size - 1), keys, bucket_starts, bin_starts, shift, np.uint64(id_bits),
                 xloc, yloc, neuron, x, y, bad)
    assert not bad.any()
    nid = ids[cols].astype(np.int64)
    order = np.lexsort((nid, steps))
    np.testing.assert_array_equal(keys, steps[order])
    np.testing.assert_array_equal(neuron, nid[order])
    np.testing.assert_array_equal(x, xloc[nid[order]])
    np.testing.assert_array_equal(y, yloc[nid[order]])


def test_sort_buckets_flags_a_bin_that_disagrees_with_the_history():
    keys = np.array([(150 << 4) | 1, (20 << 4) | 2], dtype=np.uint64)  # bin 1, bin 0
    bin_starts = np.array([0, 0, 2])  # the history claims both spikes in bin 1
    bad = np.zeros(1, np.uint8)
    out = [np.empty(2, np.int32), np.empty(2, np.int16), np.empty(2, np.int16)]
    sort_buckets(np.array([0]), keys, np.array([0, 2]), bin_starts, 1, np.uint64(4), np.zeros(16, np.int16),
                 np.zeros(16, np.int16), *out, bad)
    assert bad[0] == 1


def reference_first_bad_slot(matrix: np.ndarray, n_steps: int) -> tuple[int, int, int, int] | None:
    """(code, row, col, value) of the first bad slot in row-major order, slot by slot."""
    last = np.zeros(matrix.shape[1], np.int64)
    ended = np.zeros(matrix.shape[1], bool)
    for r in range(matrix.shape[0]):
        for c in range(matrix.shape[1]):
            v = int(matrix[r, c])
            if v == 0:
                ended[c] = True
            elif ended[c]:
                return ERR_AFTER_PADDING, r, c, v
            elif v <= last[c]:
                return ERR_NOT_INCREASING, r, c, v
            elif v >= n_steps:
                return ERR_TOO_LARGE, r, c, v
            else:
                last[c] = v
    return None


@pytest.mark.parametrize("seed", range(8))
def test_check_block_names_the_first_bad_slot_like_the_reference(seed):
    rng = np.random.default_rng(seed)
    n_steps = 3000
    matrix = padded_matrix(rng, 6, n_steps, 12)
    r, c = int(rng.integers(0, matrix.shape[0])), int(rng.integers(0, 6))
    matrix[r, c] = rng.choice([1, int(matrix[r, c]) or 5, n_steps + 7])  # may break the column, or not
    expected = reference_first_bad_slot(matrix, n_steps)
    counts = np.zeros(n_steps // BIN + 1, np.int64)
    err = np.zeros(4, np.uint64)
    got = check_block(matrix, 0, np.uint64(n_steps), np.zeros(6, np.uint64), np.zeros(6, np.bool_), counts, err)
    if expected is None:
        assert got == 0
        spikes = matrix[matrix != 0].astype(np.int64)
        np.testing.assert_array_equal(counts[: n_steps // BIN], np.bincount(spikes // BIN, minlength=n_steps // BIN))
    else:
        assert got == -1 and tuple(int(v) for v in err) == expected


def reference_avalanches(t: np.ndarray, c: np.ndarray, mean_isi: float, burst_min: float) -> list[tuple[int, int, int]]:
    """Runs of rows whose gaps are < mean_isi (or a single row with several spikes), over burst_min spikes."""
    out, i = [], 0
    while i < t.size:
        j = i
        while j + 1 < t.size and t[j + 1] - t[j] < mean_isi:
            j += 1
        if j > i or c[i] > 1:
            total = int(c[i : j + 1].sum())
            if total > burst_min:
                out.append((i, j, total))
        i = j + 1
    return out


@pytest.mark.parametrize("seed", range(6))
def test_avalanche_scan_without_quirks_matches_the_reference(seed):
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.choice([1, 2, 3, 40, 200], 400)).astype(np.int64)
    c = rng.integers(1, 4, t.size).astype(np.int64)
    out = np.zeros((t.size, 3), np.int64)
    nb, _ = _avalanche_scan(t, c, 10.0, 8.0, False, out)
    assert [tuple(row) for row in out[:nb].tolist()] == reference_avalanches(t, c, 10.0, 8.0)


@pytest.mark.parametrize("seed", range(4))
def test_peaks_are_the_busiest_aligned_bin_of_each_burst(seed):
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.integers(1, 60, 300)).astype(np.int64)
    c = rng.integers(1, 5, t.size).astype(np.int64)
    starts = np.sort(rng.choice(t.size - 20, 6, replace=False))
    ends = starts + rng.integers(0, 20, 6)
    peak_step, peak_count = np.zeros(6, np.int64), np.zeros(6, np.int64)
    _peaks(t, c, starts, ends, 100, peak_step, peak_count)
    for b in range(6):
        rows = slice(starts[b], ends[b] + 1)
        bins = t[rows] // 100
        per_bin = {k: int(c[rows][bins == k].sum()) for k in np.unique(bins)}
        best = max(per_bin.values())
        first_best = min(k for k, v in per_bin.items() if v == best)  # ties: the earliest bin
        assert peak_count[b] == best
        assert peak_step[b] == first_best * 100
