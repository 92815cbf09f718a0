"""The AdEx sweep kernel (numba) against a slow numpy reference on seeded random cells and sweeps.

The reference steps every sweep at once (vectorised over sweeps, one Python loop over time), so
it shares the equations with the kernel but not its per-sweep indexing, stimulus recipes or
early stop; the GFR kernels are checked against torch autograd in test_fit.py.
"""

import numpy as np
import pytest

from neurodata.gfr._kernels import adex_sweeps

DT = 0.1  # ms


def adex_sweeps_reference(kind, amp, onset, dur, n_steps, post_spike, cell, C, gL, EL, VT, DT_, a, tau_w, b_w, Vr,
                          Vpeak, ref_steps, sigma, tau_ou, waves, z, dt, n_record):
    """Forward-Euler AdEx of every sweep at once: spike raster, recorded lengths, V of the first n_record steps."""
    S, T = kind.size, int(n_steps.max())
    c = cell
    V, w, ou = EL[c].astype(float), np.zeros(S), np.zeros(S)
    ref = np.zeros(S, np.int64)
    end = n_steps.astype(np.int64)
    fired = np.zeros(S, bool)
    spikes = np.zeros((S, T), np.uint8)
    v_out = np.zeros((S, n_record))
    noisy = z.shape[1] > 0
    k_ou = np.sqrt(2.0 * dt / tau_ou[c]) * sigma[c] if noisy else np.zeros(S)
    padded = np.zeros((2, T))
    padded[:, : min(T, waves.shape[1])] = waves[:, :T]
    for k in range(T):
        live = k < end
        step = np.where((k >= onset) & (k < onset + dur), amp, 0.0)
        ramp = np.where(k >= onset, amp * (k - onset) * dt, 0.0)
        current = np.select([kind == 0, kind == 1], [step, ramp], amp * padded[np.clip(kind - 2, 0, 1), k])
        if noisy:
            ou = np.where(live, ou + (-ou * dt / tau_ou[c] + k_ou * z[:, k]), ou)
            current = current + ou
        in_ref = live & (ref > 0)
        free = live & (ref <= 0)
        # refractory: clamped at V_r, adaptation relaxes
        V = np.where(in_ref, Vr[c], V)
        w = np.where(in_ref, w + dt * (a[c] * (V - EL[c]) - w) / tau_w[c], w)
        ref = np.where(in_ref, ref - 1, ref)
        # free: Euler step of V and w, spike at V_peak
        arg = np.minimum((V - VT) / DT_[c], 30.0)
        dV = (-gL[c] * (V - EL[c]) + gL[c] * DT_[c] * np.exp(arg) - w + current) / C[c]
        dw = (a[c] * (V - EL[c]) - w) / tau_w[c]
        V = np.where(free, V + dt * dV, V)
        w = np.where(free, w + dt * dw, w)
        spike = free & (V >= Vpeak[c])
        spikes[spike, k] = 1
        V = np.where(spike, Vr[c], V)
        w = np.where(spike, w + b_w[c], w)
        ref = np.where(spike, ref_steps[c], ref)
        stop = spike & (post_spike >= 0) & ~fired
        end = np.where(stop, np.minimum(end, k + post_spike + 1), end)
        fired |= spike
        if k < n_record:
            v_out[live, k] = V[live]
    return spikes, end, v_out


def random_cells(rng, n):
    """AdEx parameters in the ranges the population draws (ms, pA, nS, pF, mV)."""
    EL = rng.uniform(-75, -65, n)
    VT = EL + rng.uniform(12, 22, n)
    DT_ = rng.uniform(0.5, 2.5, n)
    return {"C": rng.uniform(60, 300, n), "gL": rng.uniform(4, 15, n), "EL": EL, "VT": VT, "DT": DT_,
            "a": rng.uniform(0, 2, n), "tau_w": rng.uniform(30, 600, n), "b_w": rng.uniform(3, 60, n),
            "Vr": VT - rng.uniform(-2, 6, n), "Vpeak": VT + 5 * DT_, "ref_steps": rng.integers(8, 25, n),
            "sigma": rng.uniform(0, 60, n), "tau_ou": rng.uniform(3, 10, n)}


def random_sweeps(rng, n_cells, n_steps=3000):
    """Steps, ramps (ending 40 steps after their first spike) and noise sweeps of random cells."""
    kind = np.tile([0, 0, 1, 2, 3], n_cells)
    S = kind.size
    amp = np.select([kind == 0, kind == 1], [rng.uniform(-100, 600, S), rng.uniform(1, 4, S)], rng.uniform(100, 500, S))
    return {"kind": kind, "amp": amp, "onset": rng.integers(100, 600, S), "dur": rng.integers(500, 2000, S),
            "n_steps": rng.integers(n_steps // 2, n_steps, S), "post": np.where(kind == 1, 40, -1),
            "cell": np.repeat(np.arange(n_cells), 5)}


def run_both(sw, p, vt, waves, z, n_record):
    args = (sw["kind"], sw["amp"], sw["onset"], sw["dur"], sw["n_steps"], sw["post"], sw["cell"], p["C"], p["gL"],
            p["EL"], vt, p["DT"], p["a"], p["tau_w"], p["b_w"], p["Vr"], p["Vpeak"], p["ref_steps"], p["sigma"],
            p["tau_ou"], waves, z, DT)
    v_fast = np.zeros((sw["kind"].size, n_record))
    fast = adex_sweeps(*args, v_fast)
    return (*fast, v_fast), adex_sweeps_reference(*args, n_record)


@pytest.mark.parametrize("noisy", [True, False])
def test_adex_sweeps_equals_the_numpy_reference(global_random_seed, noisy):
    rng = np.random.default_rng(global_random_seed)
    p = random_cells(rng, 6)
    sw = random_sweeps(rng, 6)
    S, T = sw["kind"].size, int(sw["n_steps"].max())
    vt = p["VT"][sw["cell"]] + rng.normal(0, 1.0, S)       # per-sweep threshold drift
    waves = 1.0 + 0.2 * rng.standard_normal((2, T + 10))
    z = rng.standard_normal((S, T)).astype(np.float32) if noisy else np.zeros((S, 0), np.float32)
    (spikes, length, v), (spikes_ref, length_ref, v_ref) = run_both(sw, p, vt, waves, z, n_record=T)
    assert spikes.shape == (S, T) and spikes.dtype == np.uint8
    np.testing.assert_array_equal(length, length_ref)
    np.testing.assert_array_equal(spikes, spikes_ref)
    np.testing.assert_allclose(v, v_ref, rtol=1e-12, atol=1e-9)
    # the inputs exercise every branch: spikes of every kind, refractory steps, ramps ended early
    assert all(spikes[sw["kind"] == k].sum() > 0 for k in (0, 1, 2, 3))
    assert np.any(length[sw["kind"] == 1] < sw["n_steps"][sw["kind"] == 1])
    assert np.all(length[sw["kind"] != 1] == sw["n_steps"][sw["kind"] != 1])
    assert np.any((v[:, :-1] == p["Vr"][sw["cell"], None]) & (v[:, 1:] == p["Vr"][sw["cell"], None]))


def test_recording_covers_only_the_first_steps_and_nothing_after_the_end(global_random_seed):
    rng = np.random.default_rng(global_random_seed + 1)
    p = random_cells(rng, 2)
    sw = random_sweeps(rng, 2)
    S = sw["kind"].size
    z = rng.standard_normal((S, int(sw["n_steps"].max()))).astype(np.float32)
    (spikes, length, v), (_, _, v_ref) = run_both(sw, p, p["VT"][sw["cell"]], np.ones((2, 4000)), z, n_record=700)
    assert v.shape == (S, 700)
    np.testing.assert_allclose(v, v_ref, rtol=1e-12, atol=1e-9)
    after_end = np.arange(spikes.shape[1])[None, :] >= length[:, None]
    assert not spikes[after_end].any()
