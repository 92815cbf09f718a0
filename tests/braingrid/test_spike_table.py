"""Spike table: BrainGrid's padded spikesProbedNeurons matrix -> spikes sorted by (time step, neuron)."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurodata import SchemaViolation
from neurodata.braingrid import spike_table, spike_table_arrays


def write_matrix(path: Path, matrix: np.ndarray, *, probed=None, width: int | None = None, n_steps: int = 10_000, **overrides) -> Path:
    """A file with the keys the spike table reads; *overrides* replace (or, as None, drop) keys."""
    n_cols = matrix.shape[1]
    probed = np.arange(n_cols) if probed is None else np.asarray(probed)
    n = int(max(probed.max() + 1, n_cols)) if n_cols else 1
    width = width or max(1, int(np.ceil(np.sqrt(n))))
    keys = {
        "spikesProbedNeurons": matrix.astype("<u8"),
        "probedNeurons": probed.astype("<i4"),
        "xloc": (np.arange(n) % width).astype("<i4"),
        "yloc": (np.arange(n) // width).astype("<i4"),
        "neuronTypes": np.full(n, 2, dtype="<i4"),
        "starterNeurons": np.array([0], dtype="<i4"),
        "spikesHistory": np.bincount(matrix[matrix != 0].astype(np.int64) // 100, minlength=n_steps // 100)[: n_steps // 100].astype("<i4"),
    }
    keys.update(overrides)
    with h5py.File(path, "w") as f:
        for key, value in keys.items():
            if value is not None:
                f.create_dataset(key, data=value)
        if "spikesProbedNeurons" in f:
            f["spikesProbedNeurons"].attrs["attrPNUint"] = np.float32(1e-4)
    return path


def reference_table(matrix: np.ndarray, probed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dense reference: every non-zero entry, ordered by (time step, neuron id)."""
    rows, cols = np.nonzero(matrix)
    t = matrix[rows, cols]
    nid = np.asarray(probed)[cols]
    order = np.lexsort((nid, t))
    return t[order], nid[order]


def test_golden_small_matrix(tmp_path):
    # 3 probed neurons in column order 2, 0, 1; ties at step 7 and 9 must come out by neuron id.
    matrix = np.array(
        [
            [7, 3, 9],
            [9, 7, 0],
            [15, 0, 0],
            [0, 0, 0],  # extra padding row
        ]
    )
    path = write_matrix(tmp_path / "g.h5", matrix, probed=[2, 0, 1], width=2)
    with h5py.File(path) as f:
        ds = spike_table(f, block_neurons=2, block_bytes=16)
    assert ds["time_step"].dtype == np.uint64
    assert ds["time_step"].values.tolist() == [3, 7, 7, 9, 9, 15]
    assert ds["neuron"].values.tolist() == [0, 0, 2, 1, 2, 2]
    # neuron 2 sits at x = 0, y = 1 on a width-2 grid
    assert ds["x"].values.tolist() == [0, 0, 0, 1, 0, 0]
    assert ds["y"].values.tolist() == [0, 0, 1, 0, 1, 1]
    assert ds.attrs["n_steps"] == 10_000 and ds.attrs["n_neurons"] == 3
    assert ds.attrs["dt_s"] == pytest.approx(1e-4)


@settings(max_examples=25, deadline=None)
@given(
    counts=st.lists(st.integers(0, 12), min_size=1, max_size=9),
    block_neurons=st.integers(1, 10),
    block_rows=st.integers(1, 6),
    pad=st.integers(0, 5),
    seed=st.integers(0, 2**16),
)
def test_matches_dense_reference_for_any_block_shape(tmp_path_factory, counts, block_neurons, block_rows, pad, seed):
    rng = np.random.default_rng(seed)
    rows = max(counts) + pad
    matrix = np.zeros((max(rows, 1), len(counts)), dtype=np.uint64)
    for j, c in enumerate(counts):
        matrix[:c, j] = np.sort(rng.choice(np.arange(1, 60), size=c, replace=False))  # many shared steps
    probed = rng.permutation(len(counts) + 2)[: len(counts)]
    path = write_matrix(tmp_path_factory.mktemp("h") / "m.h5", matrix, probed=probed)
    with h5py.File(path) as f:
        arrays, _ = spike_table_arrays(f, block_neurons=block_neurons, block_bytes=8 * block_neurons * block_rows)
    t, nid = reference_table(matrix, probed)
    np.testing.assert_array_equal(arrays["time_step"], t)
    np.testing.assert_array_equal(arrays["neuron"], nid)


def test_padding_changes_nothing(tmp_path):
    rng = np.random.default_rng(1)
    matrix = np.zeros((40, 25), dtype=np.uint64)
    for j in range(25):
        c = int(rng.integers(0, 40))
        matrix[:c, j] = np.sort(rng.choice(9000, c, replace=False) + 1)
    padded = np.vstack([matrix, np.zeros((120, 25), dtype=np.uint64)])
    tables = []
    for name, m in (("a.h5", matrix), ("b.h5", padded)):
        with h5py.File(write_matrix(tmp_path / name, m)) as f:
            tables.append(spike_table(f, block_bytes=8 * 25 * 7))
    for var in ("time_step", "neuron", "x", "y"):
        np.testing.assert_array_equal(tables[0][var].values, tables[1][var].values)


@pytest.mark.parametrize(
    ("matrix", "match"),
    [
        (np.array([[5, 1], [4, 2]]), r"column 0 \(neuron 0\), row 1: time step 4 is not greater"),
        (np.array([[5, 1], [5, 2]]), r"column 0 \(neuron 0\), row 1: time step 5 is not greater"),
        (np.array([[5, 0], [6, 3]]), r"column 1 \(neuron 1\), row 1: spike at time step 3 after the column's zero padding"),
        (np.array([[5, 1], [20_000, 2]]), r"time step 20000 is not below the run's 10000 steps"),
    ],
)
def test_bad_columns_are_named(tmp_path, matrix, match):
    with h5py.File(write_matrix(tmp_path / "bad.h5", matrix)) as f, pytest.raises(ValueError, match=match):
        spike_table(f, block_bytes=16)


@pytest.mark.parametrize(
    ("overrides", "error", "match"),
    [
        ({"xloc": None}, SchemaViolation, r"missing HDF5 key\(s\) \['xloc'\]"),
        ({"spikesProbedNeurons": np.ones((2, 2), dtype="<i4")}, SchemaViolation, r"'spikesProbedNeurons' has dtype int32; expected uint64"),
        ({"spikesProbedNeurons": np.ones(4, dtype="<u8")}, ValueError, r"'spikesProbedNeurons' has shape \(4,\); expected a 2-D array"),
        ({"probedNeurons": np.arange(3, dtype="<i4")}, ValueError, r"'probedNeurons' has length 3 but 'spikesProbedNeurons' has 2 columns"),
        ({"neuronTypes": np.array([2, 3], dtype="<i4")}, ValueError, r"'neuronTypes' holds \[3\]"),
    ],
)
def test_bad_layout_is_named(tmp_path, overrides, error, match):
    path = write_matrix(tmp_path / "bad.h5", np.array([[1, 2]]), **overrides)
    with h5py.File(path) as f, pytest.raises(error, match=match):
        spike_table(f)


def test_history_must_match_the_matrix(tmp_path):
    matrix = np.array([[5, 150], [120, 0]])
    short = np.array([1, 0] + [0] * 98, dtype="<i4")  # bin 1 (steps 100-199) should count 2
    with h5py.File(write_matrix(tmp_path / "h1.h5", matrix, spikesHistory=short)) as f, pytest.raises(
        ValueError, match=r"'spikesHistory' bin 1 counts 0 spikes but 'spikesProbedNeurons' holds 2 in steps \[100, 200\)"
    ):
        spike_table(f)
    extra = np.array([1, 2, 1] + [0] * 97, dtype="<i4")
    with h5py.File(write_matrix(tmp_path / "h2.h5", matrix, spikesHistory=extra)) as f, pytest.raises(
        ValueError, match=r"'spikesHistory' bin 2 counts 1 spikes but 'spikesProbedNeurons' holds 0"
    ):
        spike_table(f)


def test_missing_dt_attribute(tmp_path):
    path = write_matrix(tmp_path / "noattr.h5", np.array([[1, 2]]))
    with h5py.File(path, "a") as f:
        del f["spikesProbedNeurons"].attrs["attrPNUint"]
    with h5py.File(path) as f, pytest.raises(SchemaViolation, match="lacks its attribute 'attrPNUint'"):
        spike_table(f)


def test_empty_matrix_gives_empty_table(tmp_path):
    with h5py.File(write_matrix(tmp_path / "e.h5", np.zeros((3, 4), dtype=np.uint64))) as f:
        ds = spike_table(f)
    assert ds.sizes["spike"] == 0 and ds.sizes["cell"] == 4


def test_generator_file_round_trip(braingrid_h5, raster):
    steps, neurons = raster
    with h5py.File(braingrid_h5) as f:
        ds = spike_table(f, block_bytes=2**16)
    order = np.lexsort((neurons, steps))
    np.testing.assert_array_equal(ds["time_step"].values, steps[order])
    np.testing.assert_array_equal(ds["neuron"].values, neurons[order])
    np.testing.assert_array_equal(ds["x"].values, neurons[order] % 20)


def test_compressed_chunked_file_reads_the_same(braingrid_h5, raster, record_factory, tmp_path):
    from neurodata.braingrid import write_braingrid_h5

    gz = write_braingrid_h5(tmp_path / "gz.h5", record_factory(*raster), compression="gzip")
    with h5py.File(braingrid_h5) as f, h5py.File(gz) as g:
        assert g["spikesProbedNeurons"].chunks is not None
        a, b = spike_table(f), spike_table(g, block_bytes=2**16)
    for var in ("time_step", "neuron", "x", "y"):
        np.testing.assert_array_equal(a[var].values, b[var].values)


def test_history_bins_are_checked_one_by_one(tmp_path):
    # Same total as the matrix, shifted between bins: only the per-bin check can see it.
    matrix = np.array([[5, 150], [120, 0]])
    shifted = np.array([0, 2, 1] + [0] * 97, dtype="<i4")  # truth: [1, 2, 0, ...]
    with h5py.File(write_matrix(tmp_path / "h3.h5", matrix, spikesHistory=shifted)) as f, pytest.raises(
        ValueError, match=r"'spikesHistory' bin 0 counts 0 spikes but 'spikesProbedNeurons' holds 1 in steps \[0, 100\);.*\(2 bins differ\)"
    ):
        spike_table(f)


def test_partial_probes_read_against_a_history_of_every_neuron(raster, tmp_path):
    """BrainGrid's non-full configs probe a subset; spikesHistory still counts every neuron."""
    from neurodata.braingrid import BrainGridRecord, check_braingrid_h5, write_braingrid_h5

    steps, neurons = raster
    probed = np.random.default_rng(4).permutation(400)[:130]  # a third of the neurons, any order
    record = BrainGridRecord.from_raster(steps, neurons, width=20, starters=np.arange(0, 400, 10),
                                         inhibitory=np.arange(5, 400, 10), n_epochs=10, tsim_s=10.0, probed=probed)
    path = write_braingrid_h5(tmp_path / "partial.h5", record)
    report = check_braingrid_h5(path)  # items 1-5 adapt: every bin holds at least the probed spikes
    keep = np.isin(neurons, probed)
    assert report.n_probed == 130 and report.n_spikes == keep.sum() < steps.size
    with h5py.File(path) as f:
        history = f["spikesHistory"][:]
        probed_history = np.bincount(steps[keep] // 100, minlength=history.size)
        assert history.sum() == steps.size and np.all(history >= probed_history)
        assert np.count_nonzero(history > probed_history) > 100  # the subset really differs per bin
        ds = spike_table(f, block_bytes=8 * 130 * 50)
    order = np.lexsort((neurons[keep], steps[keep]))
    np.testing.assert_array_equal(ds["time_step"].values, steps[keep][order])
    np.testing.assert_array_equal(ds["neuron"].values, neurons[keep][order])
    np.testing.assert_array_equal(ds["y"].values, neurons[keep][order] // 20)
    assert ds.attrs["n_probed"] == 130 and ds.attrs["n_neurons"] == 400


def test_partial_probes_history_below_the_probed_spikes_is_named(tmp_path):
    # neurons 0 and 3 of 4 probed; bin 1 of spikesHistory counts 1 but the probed neurons fired 2 there
    matrix = np.array([[5, 150], [120, 0]])
    history = np.array([3, 1, 4] + [0] * 97, dtype="<i4")
    path = write_matrix(tmp_path / "p.h5", matrix, probed=[0, 3], spikesHistory=history)
    with h5py.File(path) as f, pytest.raises(
        ValueError,
        match=r"'spikesHistory' bin 1 counts 1 spikes but 'spikesProbedNeurons' holds 2 in steps \[100, 200\); "
        r"expected at least the spikes of the 2 probed neurons \(1 bins count fewer\)",
    ):
        spike_table(f)
    ok = np.array([3, 2, 4] + [0] * 97, dtype="<i4")  # more than probed in bins 0 and 2: fine
    with h5py.File(write_matrix(tmp_path / "q.h5", matrix, probed=[0, 3], spikesHistory=ok)) as f:
        assert spike_table(f)["time_step"].values.tolist() == [5, 120, 150]


@pytest.mark.parametrize(
    ("matrix", "match"),
    [
        (np.array([[5, 1], [4, 2]]), r"column 0 \(neuron 0\), row 1: time step 4 is not greater"),
        (np.array([[5, 0], [6, 3]]), r"column 1 \(neuron 3\), row 1: spike at time step 3 after the column's zero padding"),
    ],
)
def test_partial_probes_bad_columns_are_named(tmp_path, matrix, match):
    history = np.full(100, 10, dtype="<i4")
    with h5py.File(write_matrix(tmp_path / "bad.h5", matrix, probed=[0, 3], spikesHistory=history)) as f, pytest.raises(
        ValueError, match=match
    ):
        spike_table(f, block_bytes=16)


def test_raw_and_hdf5_reads_agree(tmp_path):
    """A contiguous matrix is read straight from the file; a chunked, compressed one through
    HDF5 (and in column blocks): the tables are identical."""
    from neurodata.braingrid._spike_reader import raw_offset as _raw_offset

    rng = np.random.default_rng(3)
    matrix = np.zeros((300, 40), dtype=np.uint64)
    for j in range(40):
        c = int(rng.integers(0, 300))
        matrix[:c, j] = np.sort(rng.choice(np.arange(1, 9999), c, replace=False))
    contiguous = write_matrix(tmp_path / "c.h5", matrix)
    chunked = write_matrix(tmp_path / "z.h5", matrix, spikesProbedNeurons=None)
    with h5py.File(chunked, "a") as f:
        f.create_dataset("spikesProbedNeurons", data=matrix.astype("<u8"), chunks=(64, 8), compression="gzip")
        f["spikesProbedNeurons"].attrs["attrPNUint"] = np.float32(1e-4)
    tables = []
    for path, raw in ((contiguous, True), (chunked, False)):
        with h5py.File(path) as f:
            assert (_raw_offset(f["spikesProbedNeurons"]) is not None) is raw
            tables.append(spike_table_arrays(f, block_bytes=8 * 40 * 16)[0])
    t, nid = reference_table(matrix, np.arange(40))
    for table in tables:
        np.testing.assert_array_equal(table["time_step"], t)
        np.testing.assert_array_equal(table["neuron"], nid)


def test_many_buckets_sorted_while_scanning(tmp_path):
    """Enough spikes for hundreds of time buckets, so that the sorter thread takes complete
    buckets while later blocks are still being scanned: same table as the dense reference."""
    rng = np.random.default_rng(4)
    n_cols, n_steps = 64, 2_000_000
    counts = rng.integers(2_000, 12_000, n_cols)
    matrix = np.zeros((int(counts.max()), n_cols), dtype=np.uint64)
    for j, c in enumerate(counts):
        matrix[:c, j] = np.sort(rng.choice(np.arange(1, n_steps), c, replace=False))
    probed = rng.permutation(n_cols)
    with h5py.File(write_matrix(tmp_path / "big.h5", matrix, probed=probed, n_steps=n_steps)) as f:
        arrays, _ = spike_table_arrays(f, block_bytes=8 * n_cols * 256)
    t, nid = reference_table(matrix, probed)
    np.testing.assert_array_equal(arrays["time_step"], t)
    np.testing.assert_array_equal(arrays["neuron"], nid)
