"""The seed's inputs drawn with Julia 1.9's stream, processed in the seed's order.

Nto1AdEx.jl's ``sim(N, duration, seed, wₑ)`` seeds Julia's default generator, draws the N
input rates with one ``randn(N)``, then each input's spike train (input 1 first) by
accumulating ``randexp() / r`` from 0 while the time stays within the duration. Its time
loop keeps ``t`` as a floating-point sum of ``dt`` and, before each step, delivers every
pending spike whose time is strictly below ``t``; the last spike of the time-sorted list is
never delivered. This module turns that into per-step arrival counts, so the neuron kernel
adds exactly the spikes the seed added, step by step (see docs/adex.md, "Two random streams").
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._julia_rng import randexp, randn_array, seed_state, ziggurat_tables

__all__ = ["arrival_counts", "julia_inputs", "julia_rates", "step_start_times"]


@njit(cache=True)
def step_start_times(n_steps: int, dt: float) -> np.ndarray:
    """Time at the start of each step, shape (n_steps,): 0, dt, dt + dt, ... summed in float64."""
    times = np.empty(n_steps)
    t = 0.0
    for k in range(n_steps):
        times[k] = t
        t += dt
    return times


@njit(cache=True)
def _delivery_step(spike_time: float, step_times: np.ndarray, inv_dt: float) -> int:
    """First step k with step_times[k] > spike_time (n_steps if none): when the seed delivers it."""
    n = step_times.size
    k = min(int(spike_time * inv_dt), n)  # a guess within a step or two; the loops make it exact
    while k > 0 and step_times[k - 1] > spike_time:
        k -= 1
    while k < n and step_times[k] <= spike_time:
        k += 1
    return k


@njit(cache=True)
def arrival_counts(
    state: np.ndarray,
    rates: np.ndarray,
    n_exc: int,
    duration: float,
    step_times: np.ndarray,
    dt: float,
    ke: np.ndarray,
    we: np.ndarray,
    fe: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Excitatory and inhibitory spikes delivered at each step, drawn from *state* in the seed's order.

    Parameters
    ----------
    state : ndarray of shape (4,), uint64
        Julia stream state after the rates were drawn; advanced in place.
    rates : ndarray of shape (N,)
        Input rates [Hz]; the first *n_exc* inputs are excitatory.
    duration : float
        Simulated time [s]; spikes at times <= duration exist.
    step_times, dt : ndarray of shape (n_steps,), float
        :func:`step_start_times` and the step [s].

    Returns
    -------
    counts_e, counts_i : ndarray of shape (n_steps,), int32
        Spikes added to g_e / g_i before step k.
    n_input_spikes : int
        All input spikes drawn, delivered or not.
    """
    n_steps = step_times.size
    counts_e = np.zeros(n_steps, dtype=np.int32)
    counts_i = np.zeros(n_steps, dtype=np.int32)
    inv_dt = 1.0 / dt
    n_spikes = 0
    last_time, last_step, last_exc = -1.0, n_steps, True
    for i in range(rates.size):
        r = rates[i]
        excitatory = i < n_exc
        t = 0.0
        while True:
            t += randexp(state, ke, we, fe) / r
            if t > duration:
                break
            n_spikes += 1
            k = _delivery_step(t, step_times, inv_dt)
            if k < n_steps:
                if excitatory:
                    counts_e[k] += 1
                else:
                    counts_i[k] += 1
            # A stable sort puts the latest of equal times last: '>=' keeps that one.
            if t >= last_time:
                last_time, last_step, last_exc = t, k, excitatory
    if last_step < n_steps:  # the seed's loop stops one short of the sorted list's end
        if last_exc:
            counts_e[last_step] -= 1
        else:
            counts_i[last_step] -= 1
    return counts_e, counts_i, n_spikes


def julia_rates(N: int, seed: int, *, mu: float, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """The seed's N input rates [Hz], exp(z sigma + mu) with z = ``randn(N)`` after ``Random.seed!(seed)``.

    Returns
    -------
    rates : ndarray of shape (N,)
    state : ndarray of shape (4,), uint64
        The stream's state after the draw (the spike trains come next).
    """
    tables = ziggurat_tables()
    state = seed_state(seed)
    z = randn_array(state, N, tables.ki, tables.wi, tables.fi)
    return np.exp(z * sigma + mu), state


def julia_inputs(
    N: int, n_exc: int, duration: float, dt: float, seed: int, *, mu: float, sigma: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Input rates and per-step arrival counts of the seed's ``sim(N, duration, seed, wₑ)``.

    Parameters
    ----------
    N, n_exc : int
        Inputs, and how many of them (the first) are excitatory.
    duration, dt : float
        Simulated time and step [s].
    seed : int
        ``Random.seed!`` argument (>= 0).
    mu, sigma : float
        Mean and standard deviation of log(rate / Hz).

    Returns
    -------
    rates : ndarray of shape (N,)
        exp(z sigma + mu) [Hz] with z = ``randn(N)``.
    counts_e, counts_i : ndarray of shape (n_steps,), int32
        Spikes delivered before each step, n_steps = round(duration / dt).
    """
    tables = ziggurat_tables()
    rates, state = julia_rates(N, seed, mu=mu, sigma=sigma)
    step_times = step_start_times(int(round(duration / dt)), dt)
    counts_e, counts_i, _ = arrival_counts(state, rates, n_exc, duration, step_times, dt, tables.ke, tables.we, tables.fe)
    return rates, counts_e, counts_i
