"""numba kernels of the N-to-1 AdEx neuron. Internal units: mV, ms, nS, pA, pF (nS*mV = pA, pA/pF = mV/ms)."""

from __future__ import annotations

import numpy as np
from numba import njit

#: Largest per-step input mean whose Poisson CDF table is accurate (exp(-lam) stays a normal float).
MAX_STEP_MEAN = 700.0
_MAX_TABLE = 8192


@njit(cache=True)
def poisson_cdf(lam: float) -> np.ndarray:
    """Cumulative Poisson probabilities P(K <= k), k = 0, 1, ..., until they stop growing.

    Parameters
    ----------
    lam : float
        Mean count, 0 <= lam <= MAX_STEP_MEAN.

    Returns
    -------
    ndarray of shape (K,)
        Inverting a uniform u on it (the first k with u <= cdf[k]) draws Poisson(lam).
    """
    cdf = np.empty(_MAX_TABLE)
    p = np.exp(-lam)
    total = p
    cdf[0] = total
    n = 1
    while n < _MAX_TABLE:
        p *= lam / n
        new_total = total + p
        if new_total == total and n > lam:
            break
        cdf[n] = new_total
        total = new_total
        n += 1
    return cdf[:n]


@njit(cache=True)
def _invert(u: float, cdf: np.ndarray) -> int:
    k = 0
    last = cdf.size - 1
    while k < last and u > cdf[k]:
        k += 1
    return k


@njit(cache=True)
def integrate_adex(
    u_e: np.ndarray,
    u_i: np.ndarray,
    cdf_e: np.ndarray,
    cdf_i: np.ndarray,
    w_e: float,
    w_i: float,
    state: np.ndarray,
    v_out: np.ndarray,
    dt: float,
    C: float,
    g_L: float,
    E_L: float,
    V_T: float,
    Delta_T: float,
    V_s: float,
    V_r: float,
    a: float,
    b: float,
    tau_w: float,
    E_e: float,
    E_i: float,
    tau_g: float,
) -> int:
    """Forward-Euler steps of one AdEx neuron driven by pooled Poisson input counts.

    Each step: add the input spikes that arrived during the previous step (counts drawn by
    inverting the uniforms *u_e*, *u_i* on the Poisson CDFs), integrate V, w, g_e, g_i
    one step of *dt* ms, then reset if V > V_s (V = V_r, w += b).

    Parameters
    ----------
    u_e, u_i : ndarray of shape (n_steps,)
        Uniform [0, 1) numbers, one per step, for the excitatory / inhibitory counts.
    cdf_e, cdf_i : ndarray
        :func:`poisson_cdf` of the per-step mean counts.
    w_e, w_i : float
        Conductance jump per input spike [nS].
    state : ndarray of shape (4,)
        (V [mV], w [pA], g_e [nS], g_i [nS]); updated in place, so blocks can be chained.
    v_out : ndarray of shape (n_steps,) or (0,)
        Filled with V after each step, ceiled to V_s at spike steps (not recorded if empty).

    Returns
    -------
    int
        Number of output spikes.
    """
    record = v_out.size > 0
    decay = dt / tau_g
    dt_over_C = dt / C
    dt_over_tau_w = dt / tau_w
    inv_Delta_T = 1.0 / Delta_T
    g_L_Delta_T = g_L * Delta_T
    V, w, g_e, g_i = state[0], state[1], state[2], state[3]
    n_spikes = 0
    for step in range(u_e.size):
        g_e += w_e * _invert(u_e[step], cdf_e)
        g_i += w_i * _invert(u_i[step], cdf_i)
        current = -g_L * (V - E_L) + g_L_Delta_T * np.exp((V - V_T) * inv_Delta_T) - g_e * (V - E_e) - g_i * (V - E_i) - w
        w += dt_over_tau_w * (a * (V - E_L) - w)
        V += dt_over_C * current
        g_e -= decay * g_e
        g_i -= decay * g_i
        if V > V_s:
            n_spikes += 1
            if record:
                v_out[step] = V_s
            V = V_r
            w += b
        elif record:
            v_out[step] = V
    state[0], state[1], state[2], state[3] = V, w, g_e, g_i
    return n_spikes


@njit(cache=True)
def integrate_adex_counts(
    counts_e: np.ndarray,
    counts_i: np.ndarray,
    w_e: float,
    w_i: float,
    state: np.ndarray,
    v_out: np.ndarray,
    dt: float,
    C: float,
    g_L: float,
    E_L: float,
    V_T: float,
    Delta_T: float,
    V_s: float,
    V_r: float,
    a: float,
    b: float,
    tau_w: float,
    E_e: float,
    E_i: float,
    tau_g: float,
) -> int:
    """:func:`integrate_adex` with given input spike counts per step instead of drawn ones.

    Each spike adds its weight separately (``g_e += w_e`` once per spike, as the seed
    delivers spikes one by one), so the conductances round as the seed's do.

    Parameters
    ----------
    counts_e, counts_i : ndarray of shape (n_steps,), int
        Excitatory / inhibitory spikes added before each step.
    w_e, w_i, state, v_out, dt, C, ...
        As :func:`integrate_adex`.

    Returns
    -------
    int
        Number of output spikes.
    """
    record = v_out.size > 0
    decay = dt / tau_g
    dt_over_C = dt / C
    dt_over_tau_w = dt / tau_w
    inv_Delta_T = 1.0 / Delta_T
    g_L_Delta_T = g_L * Delta_T
    V, w, g_e, g_i = state[0], state[1], state[2], state[3]
    n_spikes = 0
    for step in range(counts_e.size):
        for _ in range(counts_e[step]):
            g_e += w_e
        for _ in range(counts_i[step]):
            g_i += w_i
        current = -g_L * (V - E_L) + g_L_Delta_T * np.exp((V - V_T) * inv_Delta_T) - g_e * (V - E_e) - g_i * (V - E_i) - w
        w += dt_over_tau_w * (a * (V - E_L) - w)
        V += dt_over_C * current
        g_e -= decay * g_e
        g_i -= decay * g_i
        if V > V_s:
            n_spikes += 1
            if record:
                v_out[step] = V_s
            V = V_r
            w += b
        elif record:
            v_out[step] = V
    state[0], state[1], state[2], state[3] = V, w, g_e, g_i
    return n_spikes
