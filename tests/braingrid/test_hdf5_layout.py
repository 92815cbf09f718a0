"""The BrainGrid HDF5 layout: writer round trip, hand-checked values, rejections."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from neurodata import SchemaViolation
from neurodata.braingrid import (
    BrainGridRecord,
    check_braingrid_h5,
    inhibitory_mask,
    spike_trains_from_events,
    starter_mask,
    write_braingrid_h5,
)
from neurodata.braingrid._hdf5_layout import LAYOUT, check_layout

W = 10
N = W * W


def _record(spikes: dict[int, list[int]], n_epochs: int = 2, tsim_s: float = 1.0) -> BrainGridRecord:
    """A 10x10 record (the generator's starter and inhibitory lattices) whose neuron j fires
    at ``spikes[j]`` (steps); rates match the spikes."""
    steps = np.array([s for j in sorted(spikes) for s in spikes[j]], dtype=np.int64)
    neurons = np.array([j for j in sorted(spikes) for _ in spikes[j]], dtype=np.int64)
    record = BrainGridRecord.from_raster(
        steps, neurons, width=W, starters=np.flatnonzero(starter_mask(W)), inhibitory=np.flatnonzero(inhibitory_mask(W)),
        n_epochs=n_epochs, tsim_s=tsim_s,
    )  # fmt: skip
    record.attrs["seed"] = 3
    return record


SPIKES = {0: [5, 17, 10_050], 3: [1], 7: [9_999, 10_000, 19_999], 99: [12_345]}


@pytest.fixture
def h5file(tmp_path):
    return write_braingrid_h5(tmp_path / "bg.h5", _record(SPIKES))


def test_spike_trains_from_events_groups_by_neuron_then_step():
    steps, counts = spike_trains_from_events(np.array([9, 2, 5, 1]), np.array([1, 0, 1, 2]), 4)
    assert steps.dtype == np.uint64
    assert steps.tolist() == [2, 5, 9, 1]
    assert counts.tolist() == [1, 2, 1, 0]


def test_written_file_has_braingrid_layout_and_values(h5file):
    with h5py.File(h5file, "r") as f:
        assert sorted(f) == sorted(LAYOUT)
        for key, (dims, dtype) in LAYOUT.items():
            assert f[key].dtype == np.dtype(dtype), key
            assert f[key].ndim == len(dims), key
        m = f["spikesProbedNeurons"][:]
        assert m.shape == (3, N)
        assert m[:, 0].tolist() == [5, 17, 10_050]
        assert m[:, 3].tolist() == [1, 0, 0]
        assert m[:, 7].tolist() == [9_999, 10_000, 19_999]
        assert m[:, 99].tolist() == [12_345, 0, 0]
        assert np.count_nonzero(m) == 8
        assert f["spikesProbedNeurons"].attrs["attrPNUint"].dtype == np.float32
        assert f["spikesProbedNeurons"].attrs["attrPNUint"] == np.float32(1e-4)
        assert f["Tsim"][:].tolist() == [1.0]
        assert f["simulationEndTime"][0] == np.float32(2.0)
        # 1-s bins: steps < 10000 in bin 0
        assert f["burstinessHist"][:].tolist() == [4, 4]
        hist = f["spikesHistory"][:]
        assert hist.shape == (200,)
        assert hist[0] == 3 and hist[99] == 1 and hist[100] == 2 and hist[123] == 1 and hist[199] == 1
        assert f["xloc"][12] == 2 and f["yloc"][12] == 1
        assert f["neuronTypes"][2] == 1 and f["neuronTypes"][7] == 2  # (2, 0) inhibitory, (7, 0) starter
        assert f["starterNeurons"][:].tolist() == np.flatnonzero(starter_mask(W)).tolist()
        assert f.attrs["seed"] == 3
        assert f["spikesProbedNeurons"].fillvalue == 0


def test_checklist_passes_and_counts(h5file):
    report = check_braingrid_h5(h5file, block_bytes=8 * 3 * 7)  # 7 columns per block
    assert report.n_spikes == 8
    assert report.spike_counts[[0, 3, 7, 99]].tolist() == [3, 1, 3, 1]
    assert (report.n_neurons, report.n_epochs, report.n_rows, report.end_step) == (N, 2, 3, 20_000)


def test_padding_rows_read_as_zero_and_do_not_change_the_spikes(tmp_path):
    path = write_braingrid_h5(tmp_path / "pad.h5", _record(SPIKES), n_rows=12, block_bytes=8 * N)
    with h5py.File(path, "r") as f:
        m = f["spikesProbedNeurons"][:]
    assert m.shape == (12, N)
    assert not m[3:].any()
    assert check_braingrid_h5(path).n_spikes == 8


def test_gzip_file_reads_identically(tmp_path, h5file):
    path = write_braingrid_h5(tmp_path / "z.h5", _record(SPIKES), compression="gzip")
    with h5py.File(path, "r") as a, h5py.File(h5file, "r") as b:
        assert a["spikesProbedNeurons"].compression == "gzip"
        np.testing.assert_array_equal(a["spikesProbedNeurons"][:], b["spikesProbedNeurons"][:])
    check_braingrid_h5(path)


def test_row_blocks_give_the_same_matrix(tmp_path, h5file):
    path = write_braingrid_h5(tmp_path / "b.h5", _record(SPIKES), block_bytes=1)  # one row per block
    with h5py.File(path, "r") as a, h5py.File(h5file, "r") as b:
        np.testing.assert_array_equal(a["spikesProbedNeurons"][:], b["spikesProbedNeurons"][:])


def test_record_rejects_unsorted_or_out_of_range_spikes():
    rec = _record(SPIKES)
    rec.spike_steps = rec.spike_steps.copy()
    rec.spike_steps[[0, 1]] = rec.spike_steps[[1, 0]]
    with pytest.raises(ValueError, match="column 0 are not strictly increasing"):
        rec.check()
    rec = _record({0: [20_000]}, n_epochs=3)
    rec.radii_history = rec.radii_history[:3]
    rec.rates_history = rec.rates_history[:3]
    with pytest.raises(ValueError, match=r"must lie in \[1, 20000\)"):
        rec.check()
    with pytest.raises(ValueError, match="n_rows must be >= the largest"):
        write_braingrid_h5("unused.h5", _record(SPIKES), n_rows=2)


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):
    import neurodata.braingrid.hdf5 as lay

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(lay, "_write_spike_rows", boom)
    with pytest.raises(RuntimeError):
        write_braingrid_h5(tmp_path / "x.h5", _record(SPIKES))
    assert list(tmp_path.iterdir()) == []


def _mutate(path, fn):
    with h5py.File(path, "r+") as f:
        fn(f)
    return path


def _replace(key, data):
    def fn(f):
        del f[key]
        f.create_dataset(key, data=data)
    return fn


@pytest.mark.parametrize(
    ("mutation", "match"),
    [
        (lambda f: f.__delitem__("xloc"), "'xloc': missing"),
        (_replace("neuronTypes", np.full(N, 2, dtype=np.int64)), "'neuronTypes': has dtype <i8, expected <i4"),
        (_replace("spikesProbedNeurons", np.zeros((3, N), dtype=np.uint32)), "'spikesProbedNeurons': has dtype <u4"),
        (_replace("yloc", np.zeros(N - 1, dtype=np.int32)), r"'yloc': has shape \(99,\), expected \(100,\)"),
        (_replace("burstinessHist", np.zeros(3, dtype=np.int32)), "'burstinessHist': has shape"),
        (_replace("ratesHistory", np.zeros((2, N), dtype=np.float32)), "'ratesHistory': has shape"),
        (lambda f: f["spikesProbedNeurons"].attrs.__delitem__("attrPNUint"), "lacks the attribute 'attrPNUint'"),
        (lambda f: f["spikesProbedNeurons"].__setitem__((1, 7), 1), "column 7 is not strictly increasing at row 1"),
        (lambda f: f["spikesProbedNeurons"].__setitem__((1, 0), 0), "column 0 has a zero"),
        (lambda f: f["spikesProbedNeurons"].__setitem__((0, 99), 20_000), "column 99 has spike step 20000"),
        (lambda f: f["spikesHistory"].__setitem__(5, 1), "'spikesHistory': sums to 9, expected the 8 spikes"),
        (lambda f: f["burstinessHist"].__setitem__(slice(0, 2), [3, 5]), "'burstinessHist': bin 0 holds 3"),
        (lambda f: f["ratesHistory"].__setitem__((2, 0), 5.0), r"'ratesHistory': row 2 gives neuron 0 5 Hz, but spikesProbedNeurons holds 1 spikes in epoch 2 \(expected 1 Hz"),
        (lambda f: f["radiiHistory"].__setitem__((0, 0), 1.0), "'radiiHistory': row 0 must be the start radius"),
        (lambda f: f["neuronThresh"].__setitem__(7, 0.015), "starter thresholds outside"),
        (lambda f: f["neuronTypes"].__setitem__(0, 3), r"'neuronTypes': has values \[3\]"),
    ],
)
def test_checker_names_the_bad_key(h5file, mutation, match):
    _mutate(h5file, mutation)
    with pytest.raises(SchemaViolation, match=match):
        check_braingrid_h5(h5file)


def test_truncated_file_is_a_clear_error(h5file, tmp_path):
    data = h5file.read_bytes()
    cut = tmp_path / "cut.h5"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(SchemaViolation, match="truncated"):
        check_braingrid_h5(cut)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        check_braingrid_h5(tmp_path / "none.h5")


def test_check_layout_returns_sizes(h5file):
    with h5py.File(h5file, "r") as f:
        sizes = check_layout(f)
    assert sizes == {"n_neurons": N, "n_probed": N, "n_starters": 10, "n_epochs": 2, "n_rows": 3,
                     "n_seconds": 2, "end_step": 20_000}


def test_record_from_raster_hand_checked():
    # 2 x 2 grid, epochs of 1 s (10 000 steps): neuron 3 fires twice in epoch 0, once in epoch 1.
    rec = BrainGridRecord.from_raster(
        np.array([20_000 - 1, 5, 7, 12_000]), np.array([1, 3, 3, 3]),
        width=2, starters=[3], inhibitory=[0], n_epochs=2, tsim_s=1.0,
    )  # fmt: skip
    assert rec.xloc.tolist() == [0, 1, 0, 1] and rec.yloc.tolist() == [0, 0, 1, 1]
    assert rec.neuron_types.tolist() == [1, 2, 2, 2]
    assert rec.neuron_thresh.tolist() == pytest.approx([0.015, 0.015, 0.015, 0.0136])
    assert rec.spike_steps.tolist() == [19_999, 5, 7, 12_000] and rec.spike_counts.tolist() == [0, 1, 0, 3]
    np.testing.assert_allclose(rec.rates_history, [[0, 0, 0, 0], [0, 0, 0, 2.0], [0, 1.0, 0, 1.0]])
    assert rec.n_epochs == 2 and rec.end_step == 20_000


def test_checker_checks_the_rates_of_every_epoch(tmp_path):
    """No epoch is exempt: a file's ratesHistory must be the spikes it holds (spec §4.5 item 4)."""
    record = _record(SPIKES)
    record.attrs["analyticEpochs"] = 2  # the generator's count of uncoupled epochs exempts nothing
    record.rates_history[1, 3] = 2.0  # neuron 3 fired once in epoch 1, not twice
    path = write_braingrid_h5(tmp_path / "r.h5", record)
    with pytest.raises(SchemaViolation, match=r"row 1 gives neuron 3 2 Hz, but spikesProbedNeurons holds 1 spikes in epoch 1"):
        check_braingrid_h5(path)


def test_partial_probe_file_histograms_count_every_neuron(tmp_path):
    steps = np.array([5, 17, 1, 9_999, 10_000, 12_345], dtype=np.int64)
    neurons = np.array([0, 0, 3, 7, 7, 99], dtype=np.int64)
    record = BrainGridRecord.from_raster(steps, neurons, width=W, starters=np.flatnonzero(starter_mask(W)),
                                         inhibitory=np.flatnonzero(inhibitory_mask(W)), n_epochs=2, tsim_s=1.0,
                                         probed=np.array([7, 0]))
    path = write_braingrid_h5(tmp_path / "p.h5", record)
    report = check_braingrid_h5(path)
    assert report.n_probed == 2 and report.n_spikes == 4 and report.spike_counts.tolist() == [2, 2]
    with h5py.File(path, "r") as f:
        assert f["probedNeurons"][:].tolist() == [7, 0]
        assert f["spikesProbedNeurons"][:].tolist() == [[9_999, 5], [10_000, 17]]
        assert f["spikesHistory"][:].sum() == 6 and f["spikesHistory"][0] == 3  # steps 1, 5, 17: neuron 3 unprobed
        assert f["ratesHistory"][1, 3] == 1.0  # rates count every neuron too
    with h5py.File(path, "r+") as f:
        f["spikesHistory"][0] = 1  # fewer than the two probed spikes (5, 17) of bin 0
    with pytest.raises(SchemaViolation, match=r"'spikesHistory': bin 0 holds 1 spikes, expected at least the 2 of the probed"):
        check_braingrid_h5(path)


def test_record_rejects_network_steps_outside_the_run():
    record = _record(SPIKES)
    record.network_steps = np.array([5, 20_000])
    with pytest.raises(ValueError, match=r"network_steps must hold every spike of the network, at least the 8 probed ones"):
        record.check()
