"""numba kernel of the N-to-1 AdEx neuron. Internal units: mV, ms, nS, pA, pF (nS*mV = pA, pA/pF = mV/ms)."""

from __future__ import annotations

import numpy as np
from numba import njit

# Inversion is exact and fast for the small per-step means of this model; above this mean
# numba's own Poisson sampler is used (exp(-lam) would lose precision).
_INVERSION_MAX_LAMBDA = 30.0


@njit(cache=True)
def _poisson(lam: float, exp_neg_lam: float) -> int:
    if lam > _INVERSION_MAX_LAMBDA:
        return np.random.poisson(lam)
    u = np.random.random()
    k = 0
    p = exp_neg_lam
    cdf = p
    while u > cdf:
        k += 1
        p *= lam / k
        cdf += p
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
    exp_e = np.exp(-lam_e)
    exp_i = np.exp(-lam_i)
    decay_dt = dt / tau_g
    v_trace = np.empty(n_steps if record else 0)
    V = E_L
    w = 0.0
    g_e = 0.0
    g_i = 0.0
    n_spikes = 0
    for step in range(n_steps):
        # input spikes that arrived during the previous step
        g_e += w_e * _poisson(lam_e, exp_e)
        g_i += w_i * _poisson(lam_i, exp_i)
        dV = (
            -g_L * (V - E_L)
            + g_L * Delta_T * np.exp((V - V_T) / Delta_T)
            - g_e * (V - E_e)
            - g_i * (V - E_i)
            - w
        ) / C
        dw = (a * (V - E_L) - w) / tau_w
        V += dt * dV
        w += dt * dw
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
