"""Pre-burst / non-burst windows: golden values, equivalence with the seed's loop, split, export."""

from __future__ import annotations

import numpy as np
import pytest

from neurodata.braingrid import burst_onsets, burst_windows, scaled_gap, window_frames, window_width

TS = np.array([1, 2, 3, 5, 8, 13, 14, 14, 15, 30, 31, 32, 32, 40], dtype=np.uint64)
NEURON = np.arange(TS.size) % 4
X = NEURON % 2
Y = NEURON // 2


def seed_loop(spikes, x, y, starts, w, gap, min_span=2000):
    """The seed's get_training_data loop for one w (quirk a fixed, no shuffle), rows in onset order.

    The seed writes ``spikes[i] - spikes[i - gap] >= gap`` with gap = 2000 for both the spike
    count and the span in steps; *min_span* keeps the span at the seed's 2000 steps when the
    spike count is scaled to N."""
    mask = np.isin(spikes, starts)
    pre_t, non_t, pre_s, non_s = [], [], [], []
    for i in range(1, spikes.size):
        if not mask[i - 1] and mask[i] and int(spikes[i]) - int(spikes[i - gap]) >= min_span:
            pre_t.append(spikes[i - w : i] - spikes[i - w])
            non_t.append(spikes[i - w - gap : i - gap] - spikes[i - w - gap])
            pre_s.append(np.column_stack([x[i - w : i], y[i - w : i]]).ravel())
            non_s.append(np.column_stack([x[i - w - gap : i - gap], y[i - w - gap : i - gap]]).ravel())
    return [np.array(a, dtype=np.int64) for a in (pre_t, non_t, pre_s, non_s)]


def test_onsets_follow_the_seed_mask():
    onset, which = burst_onsets(TS, np.array([14, 32, 99, 1]))
    assert onset.tolist() == [6, 11]  # first spike of each StartT step; 99 is no spike; index 0 never
    assert which.tolist() == [0, 1]


def test_golden_windows():
    tree = burst_windows(TS, X, Y, NEURON, np.array([14, 32]), windows=[2], gap=3, min_gap_steps=3,
                         split_fractions=[1, 0, 0])
    node = tree["window_2"].to_dataset()
    assert node["label"].values.tolist() == [1, 0, 1, 0]
    assert node["temporal"].values.tolist() == [[0, 5], [0, 1], [0, 1], [0, 0]]
    assert node["start_step"].values.tolist() == [8, 2, 30, 14]
    assert node["onset_step"].values.tolist() == [14, 14, 32, 32]
    assert node["neuron"].values.tolist() == [[0, 1], [1, 2], [1, 2], [2, 3]]
    assert node["x"].values.tolist() == [[0, 1], [1, 0], [1, 0], [0, 1]]
    assert node["burst"].values.tolist() == [0, 0, 1, 1]
    assert set(node["split"].values.tolist()) == {"train"}
    assert window_width(node["temporal"].values).tolist() == [5, 1, 1, 0]
    # The gap's 3 spikes before onset 6 span 14 - 5 = 9 steps: dropped when 10 are required.
    tree = burst_windows(TS, X, Y, NEURON, np.array([14, 32]), windows=[2], gap=3, min_gap_steps=10)
    assert tree["window_2"]["onset_step"].values.tolist() == [32, 32]
    assert tree.attrs["n_dropped_close"] == 1


def test_early_onsets_are_dropped_per_window_size():
    # Quirk (b): onset 6 with gap 3 fits w = 2 (6 - 3 - 2 >= 0) but not w = 4, where the seed's
    # non-burst slice would be empty; it is dropped from window_4 only, as the seed decides per size.
    tree = burst_windows(TS, X, Y, NEURON, np.array([14, 32]), windows=[2, 4], gap=3, min_gap_steps=3)
    assert tree["window_2"]["onset_step"].values.tolist() == [14, 14, 32, 32]
    assert tree["window_4"]["onset_step"].values.tolist() == [32, 32]
    assert tree["window_2"].attrs["n_dropped_early"] == 0 and tree["window_4"].attrs["n_dropped_early"] == 1
    assert tree["window_4"].attrs["n_onsets_used"] == 1 and tree.attrs["n_onsets_used"] == 2
    # an onset fewer than gap spikes in: the seed's span check reads a wrapped index and fails
    tree = burst_windows(TS, X, Y, NEURON, np.array([14, 32]), windows=[2], gap=7, min_gap_steps=3)
    assert tree.attrs["n_dropped_before_gap"] == 1
    assert tree["window_2"]["onset_step"].values.tolist() == [32, 32]
    with pytest.raises(ValueError, match=r"No usable burst onset for window size\(s\) \[20\]: 2 bursts, 2 StartT found"):
        burst_windows(TS, X, Y, NEURON, np.array([14, 32]), windows=[2, 20], gap=3, min_gap_steps=3)


def test_span_criterion_is_the_seeds_time_not_scaled_with_n():
    # default: 2000 steps of 1e-4 s (0.2 s), whatever the gap in spikes
    tree = burst_windows(TS, X, Y, NEURON, np.array([14, 32]), windows=[2], gap=3, min_gap_steps=3)
    assert tree.attrs["min_gap_steps"] == 3
    with pytest.raises(ValueError, match="2 whose 3 preceding spikes span < min_gap_steps = 2000 steps"):
        burst_windows(TS, X, Y, NEURON, np.array([14, 32]), windows=[2], gap=3)
    # with 0.01-s steps 0.2 s is 20 steps: onset 14 (span 9) is dropped, onset 32 (span 17) too
    with pytest.raises(ValueError, match="span < min_gap_steps = 20 steps"):
        burst_windows(TS, X, Y, NEURON, np.array([14, 32]), windows=[2], gap=3, dt_s=0.01)
    # with 0.1-s steps it is 2 steps: both kept
    tree = burst_windows(TS, X, Y, NEURON, np.array([14, 32]), windows=[2], gap=3, dt_s=0.1)
    assert tree.attrs["min_gap_steps"] == 2 and tree.attrs["n_dropped_close"] == 0


def test_equivalent_to_seed_loop(raster):
    steps, neurons = raster
    order = np.lexsort((neurons, steps))
    ts, nid = steps[order].astype(np.uint64), neurons[order]
    x, y = nid % 20, nid // 20
    from neurodata.braingrid import burst_table

    bursts = burst_table(ts, n_neurons=400, n_steps=1_000_000, detectors=["avalanche"])
    starts = bursts["start_step"].values
    gap = scaled_gap(400)
    assert gap == 80
    tree = burst_windows(ts, x, y, nid, starts, windows=[5, 50], gap=gap)
    assert tree.attrs["min_gap_steps"] == 2000  # the seed's span, not scaled with the gap
    for w in (5, 50):
        node = tree[f"window_{w}"].to_dataset()
        pre_t, non_t, pre_s, non_s = seed_loop(ts, x, y, starts, w, gap)
        label = node["label"].values
        assert label.sum() == pre_t.shape[0] == non_t.shape[0] == pre_s.shape[0] == non_s.shape[0]  # quirk (a) fixed
        np.testing.assert_array_equal(node["temporal"].values[label == 1], pre_t)
        np.testing.assert_array_equal(node["temporal"].values[label == 0], non_t)
        temp, space = window_frames(node)
        np.testing.assert_array_equal(space.to_numpy()[label == 1, :-1], pre_s)
        np.testing.assert_array_equal(space.to_numpy()[label == 0, :-1], non_s)
        assert temp.shape == (label.size, w + 1) and space.shape == (label.size, 2 * w + 1)
        np.testing.assert_array_equal(temp.to_numpy()[:, -1], label)


def test_split_is_seeded_per_burst_and_shared_across_sizes(raster):
    steps, neurons = raster
    order = np.lexsort((neurons, steps))
    ts, nid = steps[order], neurons[order]
    starts = np.unique(ts[np.searchsorted(ts, np.arange(50_000, 980_000, 38_000))])
    a = burst_windows(ts, nid % 20, nid // 20, nid, starts, windows=[5, 10], gap=80, seed=3)
    b = burst_windows(ts, nid % 20, nid // 20, nid, starts, windows=[5, 10], gap=80, seed=3)
    c = burst_windows(ts, nid % 20, nid // 20, nid, starts, windows=[5, 10], gap=80, seed=4)
    split5 = a["window_5"]["split"].values
    assert split5.tolist() == b["window_5"]["split"].values.tolist()
    assert split5.tolist() == a["window_10"]["split"].values.tolist()
    assert split5.tolist() != c["window_5"]["split"].values.tolist()
    assert (split5[0::2] == split5[1::2]).all()  # a burst's two samples share their split
    n = split5.size // 2
    counts = {s: int((split5[0::2] == s).sum()) for s in ("train", "val", "test")}
    assert counts == {"train": round(0.7 * n), "val": round(0.85 * n) - round(0.7 * n), "test": n - round(0.85 * n)}


def test_a_burst_too_early_for_a_large_window_stays_in_the_small_ones(raster):
    steps, neurons = raster
    order = np.lexsort((neurons, steps))
    ts, nid = steps[order], neurons[order]
    starts = np.unique(ts[np.searchsorted(ts, np.arange(50_000, 980_000, 38_000))])
    first_onset = int(np.searchsorted(ts, starts[0]))
    assert 80 + 5 <= first_onset < 80 + 500  # the raster's first burst comes early
    tree = burst_windows(ts, nid % 20, nid // 20, nid, starts, windows=[5, 500], gap=80, seed=1)
    small, large = tree["window_5"].to_dataset(), tree["window_500"].to_dataset()
    assert small.attrs["n_dropped_early"] == 0 and large.attrs["n_dropped_early"] >= 1
    assert small["onset_step"].values[0] == starts[0] and large["onset_step"].values[0] > starts[0]
    assert small.sizes["sample"] == large.sizes["sample"] + 2 * large.attrs["n_dropped_early"]
    # the bursts both sizes use have the same split in both
    split_small = dict(zip(small["burst"].values.tolist(), small["split"].values.tolist(), strict=True))
    for b, split in zip(large["burst"].values.tolist(), large["split"].values.tolist(), strict=True):
        assert split_small[b] == split


def test_scaled_gap():
    assert scaled_gap(10_000) == 2000
    assert scaled_gap(2500) == 500
    assert scaled_gap(1) == 1
