"""numba kernels of the gfr family: the AdEx sweep simulator and the batched GFR forward/backward pass.

Internal units: time in ms, current in pA, conductance in nS, capacitance in pF, voltage in mV,
rates in spikes/ms. The public, validating wrappers live in ``_simulate.py`` and ``_fit.py``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["adex_sweeps", "gfr_loss_grad", "gfr_predict"]


@njit(cache=True)
def adex_sweeps(kind, amp, onset, dur, n_steps, post_spike, cell,
                C, gL, EL, VT, DT, a, tau_w, b_w, Vr, Vpeak, ref_steps,
                sigma, tau_ou, waves, z, dt, v_out):  # pragma: no cover - compiled
    """Simulate many AdEx sweeps (forward Euler), one cell-parameter set per sweep.

    Units: ms, pA, nS, pF, mV. Sweep ``s`` uses the parameters of cell ``cell[s]``; ``VT``
    is per sweep (it carries the sweep-to-sweep drift). The injected current is built from
    the recipe: kind 0 = step of ``amp`` pA from step ``onset`` for ``dur`` steps; kind 1 =
    ramp of slope ``amp`` pA/ms from ``onset``; kinds 2/3 = ``amp * waves[kind-2]``.
    Intrinsic noise is an Ornstein-Uhlenbeck current (SD ``sigma`` pA, time constant
    ``tau_ou`` ms) driven by the standard normals ``z[s]`` (shape (n_sweeps, 0) = noiseless).
    ``post_spike[s] >= 0`` ends the sweep that many steps after its first spike (ramp).

    Returns ``(spikes, length)``: a uint8 raster of shape (n_sweeps, max n_steps) with 1 at
    each spike step, and the recorded length of each sweep in steps. ``v_out`` of shape
    (n_sweeps, T) with T > 0 receives the membrane potential of the first T steps.
    """
    n_sw = kind.shape[0]
    t_max = 0
    for s in range(n_sw):
        t_max = max(t_max, n_steps[s])
    spikes = np.zeros((n_sw, t_max), dtype=np.uint8)
    length = n_steps.copy()
    noisy = z.shape[1] > 0
    rec = v_out.shape[1]
    for s in range(n_sw):
        c = cell[s]
        V = EL[c]
        w = 0.0
        ou = 0.0
        ref = 0
        end = n_steps[s]
        fired = False
        k_ou = math.sqrt(2.0 * dt / tau_ou[c]) * sigma[c] if noisy else 0.0
        for k in range(n_steps[s]):
            if k >= end:
                break
            kd = kind[s]
            if kd == 0:
                I = amp[s] if (k >= onset[s] and k < onset[s] + dur[s]) else 0.0
            elif kd == 1:
                I = amp[s] * (k - onset[s]) * dt if k >= onset[s] else 0.0
            else:
                I = amp[s] * waves[kd - 2, k]
            if noisy:
                ou += -ou * dt / tau_ou[c] + k_ou * z[s, k]
                I += ou
            if ref > 0:
                ref -= 1
                V = Vr[c]
                w += dt * (a[c] * (V - EL[c]) - w) / tau_w[c]
            else:
                arg = (V - VT[s]) / DT[c]
                if arg > 30.0:
                    arg = 30.0
                dV = (-gL[c] * (V - EL[c]) + gL[c] * DT[c] * math.exp(arg) - w + I) / C[c]
                dw = (a[c] * (V - EL[c]) - w) / tau_w[c]
                V += dt * dV
                w += dt * dw
                if V >= Vpeak[c]:
                    spikes[s, k] = 1
                    V = Vr[c]
                    w += b_w[c]
                    ref = ref_steps[c]
                    if post_spike[s] >= 0 and not fired:
                        end = min(end, k + post_spike[s] + 1)
                    fired = True
            if k < rec:
                v_out[s, k] = V
        length[s] = end
    return spikes, length


@njit(cache=True)
def _g(zz, sigma, gamma, coeff, gb):  # pragma: no cover - compiled
    """Polynomial activation and its derivative at one point (see PolynomialActivation)."""
    x = (zz - gb) / sigma
    poly = 0.0
    dpoly = 0.0
    xk = 1.0
    for k in range(coeff.shape[0]):
        ck2 = coeff[k] * coeff[k]
        poly += ck2 * xk
        if k + 1 < coeff.shape[0]:
            dpoly += coeff[k + 1] * coeff[k + 1] * (k + 1) * xk
        xk *= x
    th = math.tanh(poly)
    val = gamma * th
    if val > 0.0:
        return val, gamma * (1.0 - th * th) * dpoly / sigma
    return 0.0, 0.0


@njit(cache=True, fastmath=True)
def gfr_loss_grad(I, rate, offset, Lc, Sc, cell_of, group_of, a, b, ds, sigma, gamma, coeff, gb, bin_size, eps,
                  active, want_grad):  # pragma: no cover - compiled
    """Poisson NLL of many GFR models on their training groups, with its gradient (BPTT).

    Model ``m`` runs on group ``group_of[m]`` of cell ``cell_of[m]``. The sweeps of group
    ``(c, g)`` are packed row-major at ``I[offset[c, g]:]`` as ``Sc[c, g]`` rows of ``Lc[c, g]``
    bins: currents in pA and observed rates ``rate`` in spikes/ms, the cell's own zero padding
    of shorter sweeps included as in the original. Models with ``active[m] == False`` are
    skipped; ``want_grad == False`` skips the backward pass. Per sweep
    ``l = sum_t [fhat_t dt - (f_t dt) log(fhat_t dt + eps)]``; the model's loss is the mean
    of ``l`` over its sweeps. Update as the original code runs it (no dt factor, 1000x
    feedback): ``h_t = (1 - ds) h_{t-1} + a I_t + 1000 b f_{t-1}``, ``f_t = g(mean(h_t))``.

    Returns ``(loss, grad_a, grad_b)`` of shapes (M,), (M, n), (M, n).
    """
    M, n = a.shape
    loss = np.zeros(M)
    grad_a = np.zeros((M, n))
    grad_b = np.zeros((M, n))
    L_max = 0
    for c in range(Lc.shape[0]):
        for gi in range(Lc.shape[1]):
            L_max = max(L_max, Lc[c, gi])
    fs = np.empty(L_max)
    dgs = np.empty(L_max)
    h = np.empty(n)
    dh = np.empty(n)
    am = np.empty(n)
    bm = np.empty(n)
    ga = np.empty(n)
    gbm = np.empty(n)
    decay = 1.0 - ds
    inv_n = 1.0 / n
    for m in range(M):
        if not active[m]:
            continue
        c = cell_of[m]
        gi = group_of[m]
        L = Lc[c, gi]
        S = Sc[c, gi]
        if S == 0 or L == 0:
            continue
        for i in range(n):
            am[i] = a[m, i]
            bm[i] = 1000.0 * b[m, i]
            ga[i] = 0.0
            gbm[i] = 0.0
        cm = coeff[m]
        sg, gm, thr = sigma[m], gamma[m], gb[m]
        for s in range(S):
            base = offset[c, gi] + s * L
            for i in range(n):
                h[i] = 0.0
            fprev = 0.0
            ll = 0.0
            for t in range(L):
                cur = I[base + t]
                zsum = 0.0
                for i in range(n):
                    h[i] = decay[i] * h[i] + am[i] * cur + bm[i] * fprev
                    zsum += h[i]
                f, dg = _g(zsum * inv_n, sg, gm, cm, thr)
                fs[t] = f
                dgs[t] = dg
                y = rate[base + t] * bin_size
                ll += f * bin_size - y * math.log(f * bin_size + eps)
                fprev = f
            loss[m] += ll / S
            if not want_grad:
                continue
            for i in range(n):
                dh[i] = 0.0
            for t in range(L - 1, -1, -1):
                y = rate[base + t] * bin_size
                df = bin_size - y * bin_size / (fs[t] * bin_size + eps)
                fb = 0.0
                for i in range(n):
                    fb += bm[i] * dh[i]
                dz = (df + fb) * dgs[t] * inv_n
                cur = I[base + t]
                fpast = fs[t - 1] if t > 0 else 0.0
                for i in range(n):
                    dh[i] = decay[i] * dh[i] + dz
                    ga[i] += dh[i] * cur
                    gbm[i] += dh[i] * fpast
        if want_grad:
            for i in range(n):
                grad_a[m, i] = ga[i] / S
                grad_b[m, i] = 1000.0 * gbm[i] / S
    return loss, grad_a, grad_b


@njit(cache=True)
def gfr_predict(I, a, b, ds, sigma, gamma, coeff, gb):  # pragma: no cover - compiled
    """Rates of many GFR models, each on its own current sequence (no gradient).

    ``I`` has shape (M, L) in pA; returns rates of shape (M, L) in spikes/ms, starting from
    the reset state ``h = 0, f = 0``.
    """
    M, n = a.shape
    L = I.shape[1]
    out = np.zeros((M, L))
    h = np.empty(n)
    decay = 1.0 - ds
    for m in range(M):
        h[:] = 0.0
        fprev = 0.0
        for t in range(L):
            zsum = 0.0
            for i in range(n):
                h[i] = decay[i] * h[i] + a[m, i] * I[m, t] + 1000.0 * b[m, i] * fprev
                zsum += h[i]
            f, _ = _g(zsum / n, sigma[m], gamma[m], coeff[m], gb[m])
            out[m, t] = f
            fprev = f
    return out
