"""Onset alignment, binning and gamma on hand-checked sweeps."""

import numpy as np
import pytest

from neurodata.gfr import bin_sweep, max_firing_rate
from neurodata.gfr._preprocess import bin_sweeps, onset_index
from neurodata.gfr._stimuli import sweep_current


def test_step_is_binned_from_one_sample_before_onset():
    current = np.array([0, 0, 0, 5, 5, 5, 5, 5, 5, 5, 0, 0], dtype=float)
    assert onset_index(current) == 2
    cur, rate = bin_sweep(current, np.array([1, 3, 4, 5, 11]), bin_ms=2.0, dt=1.0)
    np.testing.assert_array_equal(cur, [2.5, 5, 5, 5, 0])
    np.testing.assert_array_equal(rate, [0.5, 1.0, 0, 0, 0.5])    # spikes/ms; the spike before onset is dropped


def test_ramp_ends_at_its_peak_and_partial_bins_are_dropped():
    current = np.array([0, 0, 0, 1, 2, 3, 4, 5], dtype=float)
    cur, rate = bin_sweep(current, np.array([6, 7]), bin_ms=2.0, dt=1.0, is_ramp=True)
    np.testing.assert_array_equal(cur, [0.5, 2.5])
    np.testing.assert_array_equal(rate, [0, 0])
    assert onset_index(np.zeros(5)) == 0


def test_bin_sweeps_matches_bin_sweep_and_pads_with_nan():
    waves = np.zeros((2, 10))
    out = bin_sweeps(np.array([0, 1]), np.array([5.0, 0.5]), np.array([3.0, 1.0]), np.array([4.0, 0.0]),
                     np.array([10, 8]), np.array([0, 0, 1]), np.array([0.004, 0.0055, 0.006]), bin_sizes=[2],
                     dt=1.0, noise_waveforms=waves)
    cur, rate, n_bins = out[2]
    c0, r0 = bin_sweep(sweep_current(0, 5.0, 3.0, 4.0, 10, dt=1.0), np.array([4, 5]), bin_ms=2, dt=1.0)
    np.testing.assert_array_equal(cur[0, : n_bins[0]], c0)
    np.testing.assert_array_equal(rate[0, : n_bins[0]], r0)
    assert list(n_bins) == [4, 3]
    assert np.isnan(cur[1, 3]) and np.isnan(rate[1, 3])


def test_gamma_is_the_largest_inverse_isi_per_cell_in_per_ms():
    sweep = np.array([0, 0, 0, 1, 1, 2])
    time_s = np.array([0.1, 0.15, 0.3, 1.0, 1.004, 0.5])
    gamma = max_firing_rate(sweep, time_s, np.array([0, 0, 1]), 2)
    assert gamma[0] == pytest.approx(0.25)   # 1 / 4 ms; ISIs across sweeps are not counted
    assert np.isnan(gamma[1])                # one spike only: no ISI


from hypothesis import given
from hypothesis import strategies as st


@given(onset=st.integers(1, 50), length=st.integers(60, 300), amp=st.floats(-200, 200).filter(lambda a: abs(a) > 1e-3),
       bin_ms=st.sampled_from([2.0, 5.0, 10.0]), spikes=st.lists(st.integers(0, 299), max_size=40))
def test_binning_conserves_spikes_and_charge(onset, length, amp, bin_ms, spikes):
    current = np.zeros(length)
    current[onset:] = amp
    samples = np.array(sorted(s for s in spikes if s < length), dtype=np.int64)
    cur, rate = bin_sweep(current, samples, bin_ms=bin_ms, dt=1.0)
    begin = onset - 1
    stop = begin + cur.size * int(bin_ms)
    assert cur.size == (length - begin) // int(bin_ms)
    assert rate.sum() * bin_ms == pytest.approx(np.count_nonzero((samples >= begin) & (samples < stop)))
    assert cur.sum() * bin_ms == pytest.approx(current[begin:stop].sum())
