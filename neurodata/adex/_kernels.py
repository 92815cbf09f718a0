"""numba kernel of the N-to-1 AdEx neuron. Internal units: mV, ms, nS, pA, pF (nS*mV = pA, pA/pF = mV/ms)."""

from __future__ import annotations

import numpy as np
from numba import njit

# Inversion is exact and fast for the small per-step means of this model; above this mean
# numba's own Poisson sampler is used (exp(-lam) would lose precision).
_INVERSION_MAX_LAMBDA = 30.0


@njit(cache=True)
def _poisson_cdf(lam: float) -> np.ndarray:
    """Cumulative Poisson probabilities P(K <= k), k = 0..K, until they stop growing.

    Accumulated exactly as a step-by-step inversion would (p_k = p_{k-1} lam / k), so a
    table look-up returns the same count as the textbook inversion for the same uniform.
    """
    cdf = np.empty(256)
    p = np.exp(-lam)
    total = p
    cdf[0] = total
    n = 1
    while n < cdf.size:
        p *= lam / n
        new_total = total + p
        if new_total == total:
            break
        cdf[n] = new_total
        total = new_total
        n += 1
    return cdf[:n]


@njit(cache=True)
def _poisson(lam: float, cdf: np.ndarray) -> int:
    """One Poisson(lam) draw: inversion on the precomputed *cdf*, numba's sampler for large lam."""
    if lam > _INVERSION_MAX_LAMBDA:
        return np.random.poisson(lam)
    u = np.random.random()
    k = 0
    last = cdf.size - 1
    while k < last and u > cdf[k]:
        k += 1
    return k


@njit(cache=True)
def simulate_adex(
    n_steps: int,
    dt: float,
    lam_e: float,
    lam_i: float,
    w_e: float,
    w_i: float,
    kernel_seed: int,
    record: bool,
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
) -> tuple[int, np.ndarray]:
    """Forward-Euler simulation of one AdEx neuron driven by pooled Poisson input counts.

    Parameters
    ----------
    n_steps : int
        Number of steps of *dt* ms.
    lam_e, lam_i : float
        Mean number of excitatory / inhibitory input spikes per step (summed rate x dt).
    w_e, w_i : float
        Conductance jump per input spike [nS].
    kernel_seed : int
        Seed of the per-step Poisson counts.
    record : bool
        Return the membrane trace (spike steps ceiled to V_s) or an empty array.

    Returns
    -------
    n_spikes : int
    v_trace : ndarray of shape (n_steps,) or (0,), in mV
    """
    np.random.seed(kernel_seed)
    cdf_e = _poisson_cdf(lam_e)
    cdf_i = _poisson_cdf(lam_i)
    decay_dt = dt / tau_g
    dt_over_C = dt / C
    dt_over_tau_w = dt / tau_w
    inv_Delta_T = 1.0 / Delta_T
    g_L_Delta_T = g_L * Delta_T
    v_trace = np.empty(n_steps if record else 0)
    V = E_L
    w = 0.0
    g_e = 0.0
    g_i = 0.0
    n_spikes = 0
    for step in range(n_steps):
        # input spikes that arrived during the previous step
        g_e += w_e * _poisson(lam_e, cdf_e)
        g_i += w_i * _poisson(lam_i, cdf_i)
        current = -g_L * (V - E_L) + g_L_Delta_T * np.exp((V - V_T) * inv_Delta_T) - g_e * (V - E_e) - g_i * (V - E_i) - w
        dw = a * (V - E_L) - w
        V += dt_over_C * current
        w += dt_over_tau_w * dw
        g_e -= decay_dt * g_e
        g_i -= decay_dt * g_i
        if V > V_s:
            n_spikes += 1
            if record:
                v_trace[step] = V_s
            V = V_r
            w += b
        elif record:
            v_trace[step] = V
    return n_spikes, v_trace
