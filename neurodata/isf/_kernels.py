"""numba kernels of the isf family. Internal units: mV, ms, nF, µS, nA."""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["accumulate_activations", "simulate_compartments", "threshold_crossings"]


@njit(cache=True)
def _rates(v: float) -> tuple[float, float, float, float, float, float]:
    """Hodgkin-Huxley rate constants (1/ms) at membrane potential `v` (mV)."""
    x = v + 40.0
    am = 1.0 if abs(x) < 1e-6 else 0.1 * x / (1.0 - np.exp(-x / 10.0))
    bm = 4.0 * np.exp(-(v + 65.0) / 18.0)
    ah = 0.07 * np.exp(-(v + 65.0) / 20.0)
    bh = 1.0 / (1.0 + np.exp(-(v + 35.0) / 10.0))
    y = v + 55.0
    an = 0.1 if abs(y) < 1e-6 else 0.01 * y / (1.0 - np.exp(-y / 10.0))
    bn = 0.125 * np.exp(-(v + 65.0) / 80.0)
    return am, bm, ah, bh, an, bn


@njit(cache=True)
def simulate_compartments(
    parent: np.ndarray,
    g_axial: np.ndarray,
    cap: np.ndarray,
    g_leak: np.ndarray,
    e_leak: float,
    g_na: np.ndarray,
    g_k: np.ndarray,
    e_na: float,
    e_k: float,
    ev_ptr: np.ndarray,
    ev_step: np.ndarray,
    ev_comp: np.ndarray,
    ev_inh: np.ndarray,
    ev_weight: np.ndarray,
    n_steps: int,
    dt: float,
    tau_exc: float,
    tau_inh: float,
    e_exc: float,
    e_inh: float,
    v_init: float,
    ge0: np.ndarray,
    gi0: np.ndarray,
    n_warmup: int,
    out: np.ndarray,
) -> None:
    """Soma voltage of a passive-dendrite, active-soma/axon compartmental cell, trial by trial.

    Backward Euler on the cable equation, solved in O(n) per step with Hines' elimination
    (compartments ordered so that ``parent[i] < i``; compartment 0 is the soma). Hodgkin-Huxley
    Na/K gates are advanced with the exponential-Euler rule; synapses are conductances with
    an instantaneous rise and exponential decay, reversal `e_exc` / `e_inh`.

    Parameters
    ----------
    parent : int64 (n_comp,)
        Parent compartment (-1 for the soma).
    g_axial : float64 (n_comp,)
        Axial conductance to the parent (µS).
    cap, g_leak, g_na, g_k : float64 (n_comp,)
        Capacitance (nF), leak, peak Na and K conductances (µS).
    e_leak, e_na, e_k, e_exc, e_inh, v_init : float
        Reversal and initial potentials (mV).
    ev_ptr : int64 (n_trials + 1,)
        Events of trial r are ``ev_ptr[r]:ev_ptr[r + 1]``, sorted by step.
    ev_step, ev_comp : int64 (n_events,)
        Time step and compartment of each synaptic activation.
    ev_inh : bool (n_events,)
    ev_weight : float64 (n_events,)
        Peak conductance (µS).
    n_steps : int
    dt, tau_exc, tau_inh : float
        ms.
    ge0, gi0 : float64 (n_comp,)
        Mean background conductances (µS): held constant during `n_warmup` steps before
        ``t = 0`` (so a trial starts near its background steady state, not with an onset
        transient), and the conductances' values at ``t = 0``.
    n_warmup : int
        Steps simulated before ``t = 0`` (not recorded).
    out : float32 (n_trials, n_steps)
        Filled with the soma voltage (mV) at ``t = k * dt``.
    """
    n = parent.shape[0]
    n_trials = ev_ptr.shape[0] - 1
    dec_e = np.exp(-dt / tau_exc)
    dec_i = np.exp(-dt / tau_inh)
    v = np.empty(n)
    m = np.empty(n)
    h = np.empty(n)
    nk = np.empty(n)
    ge = np.empty(n)
    gi = np.empty(n)
    d = np.empty(n)
    rhs = np.empty(n)
    am, bm, ah, bh, an, bn = _rates(v_init)
    for r in range(n_trials):
        for i in range(n):
            v[i] = v_init
            m[i] = am / (am + bm)
            h[i] = ah / (ah + bh)
            nk[i] = an / (an + bn)
            ge[i] = ge0[i]
            gi[i] = gi0[i]
        e = ev_ptr[r]
        e_end = ev_ptr[r + 1]
        for k in range(-n_warmup, n_steps):
            if k >= 0:
                out[r, k] = v[0]
            while k >= 0 and e < e_end and ev_step[e] <= k:
                if ev_inh[e]:
                    gi[ev_comp[e]] += ev_weight[e]
                else:
                    ge[ev_comp[e]] += ev_weight[e]
                e += 1
            for i in range(n):
                gna = 0.0
                gk = 0.0
                if g_na[i] > 0.0 or g_k[i] > 0.0:
                    a1, b1, a2, b2, a3, b3 = _rates(v[i])
                    tm = a1 + b1
                    m[i] = a1 / tm + (m[i] - a1 / tm) * np.exp(-dt * tm)
                    th = a2 + b2
                    h[i] = a2 / th + (h[i] - a2 / th) * np.exp(-dt * th)
                    tn = a3 + b3
                    nk[i] = a3 / tn + (nk[i] - a3 / tn) * np.exp(-dt * tn)
                    gna = g_na[i] * m[i] ** 3 * h[i]
                    gk = g_k[i] * nk[i] ** 4
                c = cap[i] / dt
                d[i] = c + g_leak[i] + gna + gk + ge[i] + gi[i]
                rhs[i] = c * v[i] + g_leak[i] * e_leak + gna * e_na + gk * e_k + ge[i] * e_exc + gi[i] * e_inh
            for i in range(1, n):
                d[i] += g_axial[i]
                d[parent[i]] += g_axial[i]
            for i in range(n - 1, 0, -1):
                p = parent[i]
                f = g_axial[i] / d[i]
                d[p] -= f * g_axial[i]
                rhs[p] += f * rhs[i]
            v[0] = rhs[0] / d[0]
            for i in range(1, n):
                v[i] = (rhs[i] + g_axial[i] * v[parent[i]]) / d[i]
            if k >= 0:
                for i in range(n):
                    ge[i] *= dec_e
                    gi[i] *= dec_i


@njit(cache=True)
def threshold_crossings(v: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Sample indices k >= 1 with ``v[r, k-1] < threshold <= v[r, k]`` (ISF's spike rule).

    Parameters
    ----------
    v : float (n_trials, n_samples)
    threshold : float

    Returns
    -------
    trial, sample : int64 (n_crossings,)
        In trial order, then time order.
    """
    n_trials, n_samples = v.shape
    count = 0
    for r in range(n_trials):
        for k in range(1, n_samples):
            if v[r, k - 1] < threshold <= v[r, k]:
                count += 1
    trial = np.empty(count, np.int64)
    sample = np.empty(count, np.int64)
    c = 0
    for r in range(n_trials):
        for k in range(1, n_samples):
            if v[r, k - 1] < threshold <= v[r, k]:
                trial[c] = r
                sample[c] = k
                c += 1
    return trial, sample


@njit(cache=True)
def accumulate_activations(
    out: np.ndarray,
    trial: np.ndarray,
    ei: np.ndarray,
    spatial_bin: np.ndarray,
    weight: np.ndarray,
    times: np.ndarray,
    edges: np.ndarray,
) -> int:
    """Add every activation time into ``out[trial, ei, spatial_bin, time_bin]``.

    Time bins are ``[edges[j], edges[j+1])``, the last one closed (``np.histogram``'s rule).
    Rows with a negative trial, ei or spatial bin are skipped; NaN times are padding.

    Parameters
    ----------
    out : float32 or float64 (n_trials, 2, n_spatial_bins, n_time_bins)
        Accumulated in place.
    trial, ei, spatial_bin : int64 (n_rows,)
    weight : float64 (n_rows,)
        Added per activation (1.0 for counts).
    times : float64 (n_rows, n_slots)
        Activation times in ms, NaN-padded.
    edges : float64 (n_time_bins + 1,)
        Uniform, increasing.

    Returns
    -------
    int
        Number of non-NaN activation times outside ``[edges[0], edges[-1]]`` (ignored).
    """
    n_time = edges.shape[0] - 1
    lo = edges[0]
    hi = edges[n_time]
    width = (hi - lo) / n_time
    outside = 0
    for r in range(times.shape[0]):
        tr = trial[r]
        if tr < 0 or ei[r] < 0 or spatial_bin[r] < 0:
            continue
        for s in range(times.shape[1]):
            t = times[r, s]
            if np.isnan(t):
                continue
            if t < lo or t > hi:
                outside += 1
                continue
            j = int((t - lo) / width)
            if j >= n_time:
                j = n_time - 1
            # correct float round-off against the explicit edges, like np.histogram
            if j > 0 and t < edges[j]:
                j -= 1
            elif j < n_time - 1 and t >= edges[j + 1]:
                j += 1
            out[tr, ei[r], spatial_bin[r], j] += weight[r]
    return outside
