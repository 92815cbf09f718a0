"""Burst detectors: avalanche (getAvalanches.m, with and without its row quirks) and binned (KS14)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurodata.braingrid import allburst_frame, avalanche_bursts, binned_bursts, burst_table, spike_time_counts

# Rows of allSpikeTimeCount: distinct steps T and spike counts C; 11 spikes, so with
# n_steps = 55 the mean ISI is 5 steps. Intervals S = [90, 1, 1, 98, 100, 1, 99, 100, 1].
T = np.array([10, 100, 101, 102, 200, 300, 301, 400, 500, 501])
C = np.array([1, 1, 2, 1, 1, 1, 1, 1, 1, 1])


def test_spike_time_counts():
    t, c = spike_time_counts(np.array([3, 3, 5, 9, 9, 9], dtype=np.uint64))
    assert t.tolist() == [3, 5, 9] and c.tolist() == [2, 1, 3]
    t, c = spike_time_counts(np.array([], dtype=np.uint64))
    assert t.size == 0 and c.size == 0


def test_avalanche_quirks_reproduced():
    # Scan (0-based): i=1 triggers (S=1), j runs to 3 -> rows 0..3 (start one row early, quirk 1);
    # the scan resumes at 5 (row 4 skipped, quirk 2): rows 4..6; the last interval (rows 8-9)
    # is never a trigger (quirk 4).
    bursts, info = avalanche_bursts(T, C, n_steps=55, burst_min=2, quirks=True)
    assert info == {"mean_isi_steps": 5.0, "n_avalanches": 2}
    assert bursts["start_row"].tolist() == [0, 4]
    assert bursts["end_row"].tolist() == [3, 6]
    assert bursts["start_step"].tolist() == [10, 200]
    assert bursts["end_step"].tolist() == [102, 301]
    assert bursts["width_steps"].tolist() == [93, 102]
    assert bursts["n_spikes"].tolist() == [5, 3]
    assert bursts["ibi_gap_steps"].tolist() == [0, 98]  # from the first spike; then the quiet gap
    assert bursts["peak_step"].tolist() == [100, 300]  # busiest 100-step bin: 100-102, 300-301
    assert bursts["ibi_peak_steps"].tolist() == [100, 200]  # the first from step 0
    assert bursts["peak_count"].tolist() == [4, 2]


def test_avalanche_burst_min_is_strict():
    bursts, info = avalanche_bursts(T, C, n_steps=55, burst_min=3, quirks=True)
    assert bursts["n_spikes"].tolist() == [5] and info["n_avalanches"] == 2


def test_multi_spike_row_triggers_across_a_long_interval():
    # Quirk 3: a row with two spikes starts an avalanche although the next interval is long.
    t = np.array([0, 50, 100, 200, 300])
    c = np.array([1, 2, 1, 1, 1])
    bursts, _ = avalanche_bursts(t, c, n_steps=60, burst_min=0, quirks=True)
    assert bursts["start_row"].tolist() == [0] and bursts["end_row"].tolist() == [2]
    assert bursts["n_spikes"].tolist() == [4]


def test_avalanche_fixed():
    bursts, info = avalanche_bursts(T, C, n_steps=55, burst_min=1, quirks=False)
    assert info["n_avalanches"] == 3
    assert bursts["start_row"].tolist() == [1, 5, 8]
    assert bursts["end_row"].tolist() == [3, 6, 9]
    assert bursts["start_step"].tolist() == [100, 300, 500]
    assert bursts["n_spikes"].tolist() == [4, 2, 2]
    assert bursts["ibi_gap_steps"].tolist() == [90, 198, 199]


def test_binned_golden():
    steps = np.array([5, 100, 110, 120, 130, 200, 250, 299, 400, 401, 402, 450, 499, 550])
    found = binned_bursts(steps, n_neurons=10, n_steps=600, threshold=0.3)
    assert found["start_step"].tolist() == [100, 400]
    assert found["end_step"].tolist() == [299, 499]
    assert found["width_steps"].tolist() == [200, 100]
    assert found["n_spikes"].tolist() == [7, 5]
    assert found["peak_step"].tolist() == [100, 400]
    assert found["peak_count"].tolist() == [4, 5]
    assert found["ibi_peak_steps"].tolist() == [100, 300]  # peak-to-peak, the first from bin 0
    assert found["ibi_gap_steps"].tolist() == [95, 101]  # 100 - first spike 5; 400 - previous end 299
    only_big = binned_bursts(steps, n_neurons=10, n_steps=600, threshold=0.3, min_spikes=6)
    assert only_big["start_step"].tolist() == [100]


def test_burst_table_scaling_recorded_and_no_bursts_error():
    steps = np.repeat(T, C).astype(np.uint64)
    ds = burst_table(steps, n_neurons=2, n_steps=55, detectors=["avalanche"])  # burst_min = 1e4 * 2 / 1e4
    assert ds.attrs["avalanche_burst_min"] == 2.0
    assert ds["start_step"].values.tolist() == [10, 200]
    assert ds["detector"].values.tolist() == ["avalanche", "avalanche"]
    with pytest.raises(ValueError, match=r"No bursts found in 11 spikes of 2 neurons .*avalanche_burst_min': 10000.0"):
        burst_table(steps, n_neurons=2, n_steps=55, detectors=["avalanche"], scale_to_n=False)
    with pytest.raises(ValueError, match="detectors must be"):
        burst_table(steps, n_neurons=2, n_steps=55, detectors=["peaks"])


def test_allburst_frame_layout():
    steps = np.repeat(T, C).astype(np.uint64)
    ds = burst_table(steps, n_neurons=2, n_steps=55)
    frame = allburst_frame(ds)
    assert list(frame.columns) == ["ID", "StartRow", "EndRow", "StartT", "EndT", "Width", "TotalSpikes", "IBI"]
    assert frame.to_numpy().tolist() == [[1, 1, 4, 10, 102, 93, 5, 0], [2, 5, 7, 200, 301, 102, 3, 98]]


def test_detectors_agree_on_synthetic_bursts(raster, raster_truth):
    steps, _ = raster
    ds = burst_table(np.sort(steps), n_neurons=raster_truth["N"], n_steps=raster_truth["n_steps"])
    onsets = raster_truth["burst_onsets"]
    for det in ("avalanche", "binned"):
        sel = ds["detector"].values == det
        start = ds["start_step"].values[sel]
        assert start.size == onsets.size
        assert np.all(np.abs(start - onsets) < 500)


@settings(max_examples=60, deadline=None)
@given(
    gaps=st.lists(st.integers(1, 30), min_size=2, max_size=60),
    counts=st.lists(st.integers(1, 4), min_size=60, max_size=60),
    n_steps=st.integers(100, 5000),
    quirks=st.booleans(),
)
def test_avalanche_invariants(gaps, counts, n_steps, quirks):
    t = np.cumsum(gaps).astype(np.int64)
    c = np.asarray(counts[: t.size], dtype=np.int64)
    bursts, info = avalanche_bursts(t, c, n_steps=n_steps, burst_min=0, quirks=quirks)
    start, end = bursts["start_row"], bursts["end_row"]
    assert info["n_avalanches"] == start.size
    assert np.all(start <= end) and np.all(end[:-1] < start[1:])  # ordered, disjoint
    cum = np.r_[0, np.cumsum(c)]
    np.testing.assert_array_equal(bursts["n_spikes"], cum[end + 1] - cum[start])
    np.testing.assert_array_equal(bursts["width_steps"], t[end] - t[start] + 1)
    assert np.all(bursts["ibi_gap_steps"] >= 0) and np.all(bursts["ibi_gap_steps"][1:] >= 1)  # disjoint rows
    assert np.all(bursts["ibi_peak_steps"] >= 0)
    np.testing.assert_array_equal(bursts["ibi_gap_steps"][1:], bursts["start_step"][1:] - bursts["end_step"][:-1])
    assert np.all((bursts["peak_count"] >= 1) & (bursts["peak_count"] <= bursts["n_spikes"]))
    if not quirks:  # maximal runs: the intervals inside are short, those around are not
        mean_isi = info["mean_isi_steps"]
        for a, b in zip(start, end, strict=True):
            assert np.all(np.diff(t[a : b + 1]) < mean_isi)
            assert a == 0 or t[a] - t[a - 1] >= mean_isi
            assert b == t.size - 1 or t[b + 1] - t[b] >= mean_isi


def test_a_fixed_mean_isi_joins_steps_the_computed_one_cannot():
    """Over one spike per step, the computed mean ISI drops below 1 step and nothing joins."""
    from neurodata.braingrid._bursts import avalanche_bursts

    t = np.array([10, 11, 12, 13, 50], dtype=np.int64)  # four consecutive steps, then one spike
    c = np.array([3, 3, 3, 3, 1], dtype=np.int64)
    _, info = avalanche_bursts(t, c, n_steps=10, burst_min=5, quirks=False)
    assert info["mean_isi_steps"] == 10 / 13
    fixed, info = avalanche_bursts(t, c, n_steps=10, burst_min=5, quirks=False, mean_isi=1.5)
    assert info["mean_isi_steps"] == 1.5
    assert list(fixed["start_step"]) == [10] and list(fixed["end_step"]) == [13] and list(fixed["n_spikes"]) == [12]
