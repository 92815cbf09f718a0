"""The seed's input processing: spike trains drawn input after input, delivered before the first
step whose (float-summed) start time is strictly later, the last spike never delivered;
checked against a plain-Python transcription of that loop."""

import numpy as np
import pytest

from neurodata.adex._julia_inputs import _delivery_step, julia_inputs, step_start_times
from neurodata.adex._julia_rng import randexp, randn_array, seed_state, ziggurat_tables
from neurodata.adex._model import log_rate_moments

T = ziggurat_tables()
MU, SIGMA = log_rate_moments()


def seed_loop_reference(N, n_exc, duration, dt, seed):
    """The seed's ``sim`` input side, spike by spike: draw, merge, sort, deliver with '< t'."""
    state = seed_state(seed)
    rates = np.exp(randn_array(state, N, T.ki, T.wi, T.fi) * SIGMA + MU)
    spikes = []
    for source in range(N):
        t = 0.0
        while True:
            t += randexp(state, T.ke, T.we, T.fe) / rates[source]
            if t > duration:
                break
            spikes.append((t, source))
    spikes.sort(key=lambda spike: spike[0])  # stable, as the seed's sort
    n_steps = round(duration / dt)
    counts_e, counts_i = np.zeros(n_steps, int), np.zeros(n_steps, int)
    t, next_spike = 0.0, 0
    for step in range(n_steps):
        while next_spike < len(spikes) - 1 and spikes[next_spike][0] < t:
            (counts_e if spikes[next_spike][1] < n_exc else counts_i)[step] += 1
            next_spike += 1
        t += dt
    return rates, counts_e, counts_i, spikes


@pytest.mark.parametrize(("N", "duration", "seed"), [(50, 2.0, 0), (10, 1.0, 7), (200, 0.3, 123)])
def test_arrivals_equal_the_seed_loop(N, duration, seed):
    n_exc = round(N * 4 / 5)
    rates, ce, ci = julia_inputs(N, n_exc, duration, 1e-4, seed, mu=MU, sigma=SIGMA)
    ref_rates, ref_e, ref_i, _ = seed_loop_reference(N, n_exc, duration, 1e-4, seed)
    np.testing.assert_array_equal(rates, ref_rates)
    np.testing.assert_array_equal(ce, ref_e)
    np.testing.assert_array_equal(ci, ref_i)
    assert ce.sum() > 0 and ci.sum() > 0


def test_the_last_spike_is_never_delivered():
    # One input, and the last of its spikes long before the end: the seed's loop stops one short.
    for seed in range(40):
        _, _, _, spikes = seed_loop_reference(1, 1, 1.0, 1e-4, seed)
        if 2 <= len(spikes) and spikes[-1][0] < 0.9:
            break
    else:
        pytest.fail("no seed with an early last spike")
    _, counts_e, counts_i = julia_inputs(1, 1, 1.0, 1e-4, seed, mu=MU, sigma=SIGMA)
    assert counts_e.sum() == len(spikes) - 1 and counts_i.sum() == 0
    last_step = int(np.flatnonzero(counts_e)[-1])
    assert last_step == _delivery_step(spikes[-2][0], step_start_times(10_000, 1e-4), 1e4)


def test_step_times_are_summed_in_floating_point():
    times = step_start_times(100_000, 1e-4)
    assert times[0] == 0.0 and times[3] == 1e-4 + 1e-4 + 1e-4 != 3e-4
    assert np.count_nonzero(times != np.arange(100_000) * 1e-4) > 1000
    assert abs(times[-1] - 99_999e-4) < 1e-10


def test_a_spike_is_delivered_before_the_first_step_starting_strictly_after_it():
    times = step_start_times(100, 0.1)
    inv = 10.0
    assert _delivery_step(0.0, times, inv) == 1  # at t = 0 exactly: not '< 0', so the next step
    assert _delivery_step(times[3], times, inv) == 4  # on a step's start: that step has passed
    assert _delivery_step(np.nextafter(times[3], 0), times, inv) == 3
    assert _delivery_step(0.3, times, inv) == 3  # 0.3 < 0.1 + 0.1 + 0.1 = 0.30000000000000004
    assert _delivery_step(times[-1], times, inv) == 100  # after the last step's start: never
