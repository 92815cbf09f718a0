"""numba kernels of the isf family. Internal units: mV, ms, nF, µS, nA."""

from __future__ import annotations

import numpy as np
from numba import njit

from ._channels import SK_TAU_MS

__all__ = ["accumulate_activations", "simulate_cell", "threshold_crossings"]


# columns of the conductance matrix (order of _channels.CHANNELS) and of the gate tables
# (order of _channels.GATES); the state matrix has one column per gate plus SK's z
_NATA, _NAP, _KP, _KT, _KV3, _SK, _HVA, _LVA, _IH, _IM = range(10)
_G_NATA_M, _G_NATA_H, _G_NAP_M, _G_NAP_H, _G_KP_M, _G_KP_H, _G_KT_M, _G_KT_H, _G_KV3_M = range(9)
_G_HVA_M, _G_HVA_H, _G_LVA_M, _G_LVA_H, _G_IH_M, _G_IM_M, _S_SK = range(9, 16)
N_STATES = 16


@njit(cache=True, inline="always", error_model="numpy")
def _advance(tab: np.ndarray, k: int, f: float, g: int, x: float) -> float:
    """Exponential-Euler step of gate `g` from state `x` at table position (k, f)."""
    a0 = tab[k, g, 0]
    d0 = tab[k, g, 1]
    xi = a0 + f * (tab[k + 1, g, 0] - a0)
    d = d0 + f * (tab[k + 1, g, 1] - d0)
    return xi + (x - xi) * d


@njit(cache=True, inline="always", error_model="numpy")
def _ca_lookup(ca_tab: np.ndarray, ca_step: float, c: float, col: int) -> float:
    """Column `col` of the Ca²⁺ table (0: SK steady state, 1: Ca²⁺ reversal) at `c` mM."""
    x = c / ca_step
    last = ca_tab.shape[0] - 1
    if x >= last:
        return ca_tab[last, col]
    k = int(x)
    return ca_tab[k, col] + (x - k) * (ca_tab[k + 1, col] - ca_tab[k, col])


@njit(cache=True, inline="always", error_model="numpy")
def _table_position(v: float, v_lo: float, inv_step: float, n_tab: int) -> tuple[int, float]:
    x = (v - v_lo) * inv_step
    if x < 0.0:
        x = 0.0
    elif x > n_tab - 1.000001:
        x = n_tab - 1.000001
    k = int(x)
    return k, x - k


@njit(cache=True, error_model="numpy")
def _steady_states(v, gbar, tab, v_lo, v_step, ca_tab, ca_step, ca_min, state):
    """Every gate at its steady state for voltages `v`, SK at the resting Ca²⁺."""
    n_tab = tab.shape[0]
    for i in range(v.shape[0]):
        k, f = _table_position(v[i], v_lo, 1.0 / v_step, n_tab)
        for g in range(N_STATES - 1):
            state[i, g] = tab[k, g, 0] + f * (tab[k + 1, g, 0] - tab[k, g, 0])
        state[i, _S_SK] = _ca_lookup(ca_tab, ca_step, ca_min, 0)


@njit(cache=True, error_model="numpy")
def _step(
    k_rec, v, state, cai, ge, gi, gn, d, rhs,
    parent, g_axial, c_dt, g_fixed, g_leak, e_leak, gbar, active, tab, mg_tab, v_lo, v_step,
    e_na, e_k, e_h, ca_influx, ca_dec, ca_min, ca_tab, ca_step, sk_dec,
    dec_e, dec_i, dec_n, nmda_ratio, e_exc, e_inh, inj_comp, inj, dt,
):
    """One time step: gates and Ca²⁺ at the present voltage, then the implicit voltage update.

    Compartment by compartment, so that each reads its gate tables at one place; then the
    synaptic conductances decay (they were added for this step before the call).
    """
    n = v.shape[0]
    n_tab = tab.shape[0]
    inv_step = 1.0 / v_step
    for i in range(n):
        k, f = _table_position(v[i], v_lo, inv_step, n_tab)
        gt = 0.0
        gEt = 0.0
        if active[i]:
            if gbar[i, _NATA] > 0.0:
                mm = _advance(tab, k, f, _G_NATA_M, state[i, _G_NATA_M])
                hh = _advance(tab, k, f, _G_NATA_H, state[i, _G_NATA_H])
                state[i, _G_NATA_M] = mm
                state[i, _G_NATA_H] = hh
                g = gbar[i, _NATA] * mm * mm * mm * hh
                gt += g
                gEt += g * e_na
            if gbar[i, _NAP] > 0.0:
                mm = _advance(tab, k, f, _G_NAP_M, state[i, _G_NAP_M])
                hh = _advance(tab, k, f, _G_NAP_H, state[i, _G_NAP_H])
                state[i, _G_NAP_M] = mm
                state[i, _G_NAP_H] = hh
                g = gbar[i, _NAP] * mm * mm * mm * hh
                gt += g
                gEt += g * e_na
            gk = 0.0
            if gbar[i, _KP] > 0.0:
                mm = _advance(tab, k, f, _G_KP_M, state[i, _G_KP_M])
                hh = _advance(tab, k, f, _G_KP_H, state[i, _G_KP_H])
                state[i, _G_KP_M] = mm
                state[i, _G_KP_H] = hh
                gk += gbar[i, _KP] * mm * mm * hh
            if gbar[i, _KT] > 0.0:
                mm = _advance(tab, k, f, _G_KT_M, state[i, _G_KT_M])
                hh = _advance(tab, k, f, _G_KT_H, state[i, _G_KT_H])
                state[i, _G_KT_M] = mm
                state[i, _G_KT_H] = hh
                m2 = mm * mm
                gk += gbar[i, _KT] * m2 * m2 * hh
            if gbar[i, _KV3] > 0.0:
                mm = _advance(tab, k, f, _G_KV3_M, state[i, _G_KV3_M])
                state[i, _G_KV3_M] = mm
                gk += gbar[i, _KV3] * mm
            if gbar[i, _IM] > 0.0:
                mm = _advance(tab, k, f, _G_IM_M, state[i, _G_IM_M])
                state[i, _G_IM_M] = mm
                gk += gbar[i, _IM] * mm
            if gbar[i, _SK] > 0.0:
                # gated by the shell's Ca2+ (Hill function), fixed time constant
                zi = _ca_lookup(ca_tab, ca_step, cai[i], 0)
                zz = zi + (state[i, _S_SK] - zi) * sk_dec
                state[i, _S_SK] = zz
                gk += gbar[i, _SK] * zz
            gt += gk
            gEt += gk * e_k
            if gbar[i, _IH] > 0.0:
                mm = _advance(tab, k, f, _G_IH_M, state[i, _G_IH_M])
                state[i, _G_IH_M] = mm
                g = gbar[i, _IH] * mm
                gt += g
                gEt += g * e_h
            if gbar[i, _HVA] > 0.0 or gbar[i, _LVA] > 0.0:
                # Ca2+ currents at the Nernst reversal of the shell; then the shell:
                # d[Ca]/dt = -1e4 gamma ica / (2 F depth) - ([Ca] - ca_min) / decay, solved
                # exactly for a constant influx (ca_influx: steady rise per nA)
                gca = 0.0
                if gbar[i, _HVA] > 0.0:
                    mm = _advance(tab, k, f, _G_HVA_M, state[i, _G_HVA_M])
                    hh = _advance(tab, k, f, _G_HVA_H, state[i, _G_HVA_H])
                    state[i, _G_HVA_M] = mm
                    state[i, _G_HVA_H] = hh
                    gca += gbar[i, _HVA] * mm * mm * hh
                if gbar[i, _LVA] > 0.0:
                    mm = _advance(tab, k, f, _G_LVA_M, state[i, _G_LVA_M])
                    hh = _advance(tab, k, f, _G_LVA_H, state[i, _G_LVA_H])
                    state[i, _G_LVA_M] = mm
                    state[i, _G_LVA_H] = hh
                    gca += gbar[i, _LVA] * mm * mm * hh
                eca = _ca_lookup(ca_tab, ca_step, cai[i], 1)
                gt += gca
                gEt += gca * eca
                c_inf = ca_min + ca_influx[i] * gca * (v[i] - eca)
                c_new = c_inf + (cai[i] - c_inf) * ca_dec[i]
                cai[i] = c_new if c_new > ca_min else ca_min
        c = c_dt[i]
        gs = ge[i] + gi[i]
        gsE = ge[i] * e_exc + gi[i] * e_inh
        if nmda_ratio > 0.0:
            b = mg_tab[k] + f * (mg_tab[k + 1] - mg_tab[k])
            gs += gn[i] * b
            gsE += gn[i] * b * e_exc
            gn[i] *= dec_n
        ge[i] *= dec_e
        gi[i] *= dec_i
        d[i] = g_fixed[i] + gt + gs
        rhs[i] = c * v[i] + g_leak[i] * e_leak + gEt + gsE
    if k_rec >= 0:
        for q in range(inj_comp.shape[0]):
            rhs[inj_comp[q]] += inj[q, k_rec]
    for i in range(n - 1, 0, -1):
        p = parent[i]
        f = g_axial[i] / d[i]
        d[p] -= f * g_axial[i]
        rhs[p] += f * rhs[i]
    v[0] = rhs[0] / d[0]
    for i in range(1, n):
        v[i] = (rhs[i] + g_axial[i] * v[parent[i]]) / d[i]


@njit(cache=True, error_model="numpy")
def simulate_cell(
    parent, g_axial, cap, g_leak, e_leak, gbar, tab, mg_tab, v_lo, v_step, e_na, e_k, e_h,
    ca_influx, ca_dec, ca_min, ca_tab, ca_step,
    ev_ptr, ev_step, ev_comp, ev_inh, ev_weight, dec_e, dec_i, dec_n, nmda_ratio, e_exc, e_inh, ge0, gi0, gn0,
    inj_comp, inj, n_steps, dt, v_init, n_warmup, rec_comp, out_soma, out_rec,
):
    """Voltage of an active compartmental cell (Hay et al. 2011 channels), trial by trial.

    Backward Euler on the cable equation, solved in O(n) per step with Hines' elimination
    (compartments ordered so that ``parent[i] < i``; compartment 0 is the soma). At every
    step the gates advance by exponential Euler at the present voltage (from the tables of
    ``_channels.gate_tables``, interpolated linearly), the Ca²⁺ shell by its exact solution
    for a constant influx, and the voltage implicitly with the channel and synaptic
    conductances held for the step. Synapses are conductances with an instantaneous rise and
    exponential decay (AMPA, GABA_A and, for ``nmda_ratio > 0``, Mg²⁺-blocked NMDA on every
    excitatory activation).

    The warm-up (``n_warmup`` steps from ``v_init`` with the gates at steady state, mean
    background conductances ``ge0, gi0, gn0`` held, no events, no injection) is simulated
    once; every trial starts from its end state.

    Parameters
    ----------
    parent : int64 (n_comp,)
    g_axial, cap, g_leak : float64 (n_comp,)
        Axial conductance to the parent (µS), capacitance (nF), leak (µS).
    e_leak : float
        mV.
    gbar : float64 (n_comp, 10)
        Peak conductance (µS) of every channel (order of ``_channels.CHANNELS``).
    tab : float64 (n_grid, n_gates, 2)
        Steady state and ``exp(-dt / tau)`` of every gate of ``_channels.GATES``.
    mg_tab : float64 (n_grid,)
        Unblocked NMDA fraction.
    v_lo, v_step : float
        First voltage and step of the tables (mV).
    e_na, e_k, e_h : float
        mV.
    ca_influx, ca_dec : float64 (n_comp,)
        Steady-state Ca²⁺ rise per nA of Ca²⁺ current (mM/nA, negative: inward current is
        negative) and ``exp(-dt / decay)`` of the shell.
    ca_min : float
        Resting Ca²⁺ (mM), the floor of the shell's concentration.
    ca_tab : float64 (n_ca, 2)
        SK steady state and Ca²⁺ reversal (mV) at ``k * ca_step`` mM.
    ca_step : float
        mM.
    ev_ptr : int64 (n_trials + 1,)
        Events of trial r are ``ev_ptr[r]:ev_ptr[r + 1]``, sorted by step.
    ev_step, ev_comp : int64 (n_events,)
    ev_inh : bool (n_events,)
    ev_weight : float64 (n_events,)
        Peak conductance (µS).
    dec_e, dec_i, dec_n : float
        Per-step decay factors of the AMPA, GABA_A and NMDA conductances.
    nmda_ratio, e_exc, e_inh : float
    ge0, gi0, gn0 : float64 (n_comp,)
        Mean background conductances (µS).
    inj_comp : int64 (n_inj,)
    inj : float64 (n_inj, n_steps)
        Injected current (nA), the same in every trial.
    n_steps : int
    dt, v_init : float
    n_warmup : int
    rec_comp : int64 (n_rec,)
    out_soma : float32 (n_trials, n_steps)
        Filled with the soma voltage (mV) at ``t = k * dt``.
    out_rec : float32 (n_trials, n_rec, n_steps)
        Filled with the voltage of the recorded compartments.
    """
    n = parent.shape[0]
    n_trials = ev_ptr.shape[0] - 1
    sk_dec = np.exp(-dt / SK_TAU_MS)
    # the constant part of the matrix diagonal: capacitance / dt, leak and the axial
    # conductances to the parent and to every child
    c_dt = cap / dt
    g_fixed = c_dt + g_leak
    for i in range(1, n):
        g_fixed[i] += g_axial[i]
        g_fixed[parent[i]] += g_axial[i]
    active = np.zeros(n, np.bool_)
    for i in range(n):
        for c in range(gbar.shape[1]):
            if gbar[i, c] > 0.0:
                active[i] = True
    v = np.full(n, v_init)
    state = np.empty((n, N_STATES))
    cai = np.full(n, ca_min)
    d = np.empty(n)
    rhs = np.empty(n)
    _steady_states(v, gbar, tab, v_lo, v_step, ca_tab, ca_step, ca_min, state)
    # the warm-up holds the background conductances: decay factors 1
    ge = ge0.copy()
    gi = gi0.copy()
    gn = gn0.copy()
    # k_rec typed int64, not Literal[int](-1): one compiled _step serves both loops (a second
    # specialisation doubled the compile time)
    no_record = np.int64(-1)
    for _ in range(n_warmup):
        _step(no_record, v, state, cai, ge, gi, gn, d, rhs, parent, g_axial, c_dt, g_fixed, g_leak, e_leak, gbar, active, tab, mg_tab,
              v_lo, v_step, e_na, e_k, e_h, ca_influx, ca_dec, ca_min, ca_tab, ca_step, sk_dec,
              1.0, 1.0, 1.0, nmda_ratio, e_exc, e_inh, inj_comp, inj, dt)
    v0, state0, cai0 = v.copy(), state.copy(), cai.copy()
    for r in range(n_trials):
        # element by element: slice assignment (v[:] = v0) compiles numba's shape-mismatch
        # error message, 6.5 s of this kernel's 15 s compile
        for i in range(n):
            v[i] = v0[i]
            cai[i] = cai0[i]
            ge[i] = ge0[i]
            gi[i] = gi0[i]
            gn[i] = gn0[i]
            for g in range(N_STATES):
                state[i, g] = state0[i, g]
        e = ev_ptr[r]
        e_end = ev_ptr[r + 1]
        for k in range(n_steps):
            out_soma[r, k] = v[0]
            for q in range(rec_comp.shape[0]):
                out_rec[r, q, k] = v[rec_comp[q]]
            while e < e_end and ev_step[e] <= k:
                c = ev_comp[e]
                if ev_inh[e]:
                    gi[c] += ev_weight[e]
                else:
                    ge[c] += ev_weight[e]
                    gn[c] += ev_weight[e] * nmda_ratio
                e += 1
            _step(k, v, state, cai, ge, gi, gn, d, rhs, parent, g_axial, c_dt, g_fixed, g_leak, e_leak, gbar, active, tab, mg_tab,
                  v_lo, v_step, e_na, e_k, e_h, ca_influx, ca_dec, ca_min, ca_tab, ca_step, sk_dec,
                  dec_e, dec_i, dec_n, nmda_ratio, e_exc, e_inh, inj_comp, inj, dt)


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
