"""The BrainGrid growth network: lattice, constants, overlap, growth, LIF and synapse kernels."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurodata.braingrid import (
    GrowthParams,
    NeuronParams,
    inhibitory_mask,
    make_neurons,
    outgrowth,
    overlap_area,
    starter_mask,
)
from neurodata.braingrid._growth import SynapseTable
from neurodata.braingrid._kernels import run_lif_network


def test_lattice_has_1000_starters_and_1000_inhibitory_disjoint_at_100x100():
    s, i = starter_mask(100), inhibitory_mask(100)
    assert s.sum() == 1000 and i.sum() == 1000
    assert not (s & i).any()
    idx = lambda x, y: y * 100 + x  # noqa: E731
    # starters: a in {0,3,6,9} -> x%10 == 7; a in {1,4,7} -> x%10 in {1,4}; none for a in {2,5,8}
    assert s[idx(7, 0)] and s[idx(17, 3)] and s[idx(1, 1)] and s[idx(4, 7)]
    assert not s[idx(7, 1)] and not s[idx(1, 2)] and not s[[idx(x, 5) for x in range(100)]].any()
    # inhibitory, b = 0 rows 0-9: x%10 == 2 (a in {0,3,6,9}), {5,8} (a in {2,5,8}); b = 1: 8 and {2,5}
    assert i[idx(2, 0)] and i[idx(5, 2)] and i[idx(8, 8)]
    assert i[idx(8, 10)] and i[idx(2, 12)] and i[idx(5, 18)] and not i[idx(2, 10)]
    assert not i[[idx(x, 1) for x in range(100)]].any()


def test_lattice_is_10_percent_at_50x50():
    assert starter_mask(50).sum() == 250 and inhibitory_mask(50).sum() == 250


def test_neuron_constants_match_braingrid():
    nr = make_neurons(10, np.random.default_rng(0))
    assert nr.c1[0] == pytest.approx(math.exp(-1e-4 / 0.03))
    assert nr.c1[0] == pytest.approx(0.996672, abs=1e-6)
    assert nr.c2[0] == pytest.approx(1e6 * (1 - math.exp(-1 / 300)))
    assert nr.c2[0] == pytest.approx(3328, rel=1e-3)
    assert nr.i0[0] == pytest.approx(13.5e-9)
    assert set(nr.trefract_steps[nr.is_inh]) == {20} and set(nr.trefract_steps[~nr.is_inh]) == {30}
    st_ = nr.is_starter
    assert np.all((nr.vthresh[st_] >= 13.565e-3) & (nr.vthresh[st_] <= 13.655e-3))
    assert np.all(nr.vthresh[~st_] == 15e-3)
    assert np.all(nr.vreset[st_] == 13.0e-3) and np.all(nr.vreset[~st_] == 13.5e-3)
    assert np.all((nr.inoise >= 1e-9) & (nr.inoise <= 1.5e-9))
    # the V asymptote Rm * I0 = 13.5 mV
    assert nr.c2[0] * nr.i0[0] / (1 - nr.c1[0]) == pytest.approx(13.5e-3)


def test_overlap_area_hand_checked():
    assert overlap_area(1.0, 1.0, 2.0) == 0.0
    assert overlap_area(0.5, 2.0, 1.0) == pytest.approx(math.pi * 0.25)
    # two unit discs at distance 1: 2 pi / 3 - sqrt(3) / 2
    assert overlap_area(1.0, 1.0, 1.0) == pytest.approx(2 * math.pi / 3 - math.sqrt(3) / 2)
    assert overlap_area(1.0, 1.0, 1e-12) == pytest.approx(math.pi)


@settings(max_examples=60, deadline=None)
@given(st.floats(0.05, 3.0), st.floats(0.05, 3.0), st.floats(0.01, 6.0))
def test_overlap_area_is_symmetric_and_bounded(r1, r2, d):
    a = overlap_area(r1, r2, d)
    assert a == pytest.approx(overlap_area(r2, r1, d), abs=1e-12)
    assert 0.0 <= a <= math.pi * min(r1, r2) ** 2 + 1e-12


def test_overlap_area_matches_grid_integration():
    r1, r2, d = 1.3, 0.9, 1.5
    h = 0.002
    x, y = np.meshgrid(np.arange(-1.4, 2.5, h), np.arange(-1.4, 1.4, h))
    inside = (x**2 + y**2 < r1**2) & ((x - d) ** 2 + y**2 < r2**2)
    assert overlap_area(r1, r2, d) == pytest.approx(inside.sum() * h * h, rel=2e-3)


def test_outgrowth_values():
    g = GrowthParams()
    assert outgrowth(np.array([0.0]), g)[0] == pytest.approx(1 - 2 / (1 + math.exp(6)))
    assert outgrowth(np.array([0.0]), g)[0] == pytest.approx(0.99505, abs=1e-5)
    assert outgrowth(np.array([1.0]), g)[0] == pytest.approx(0.0, abs=1e-12)
    assert outgrowth(np.array([50.0]), g)[0] == pytest.approx(-1.0, abs=1e-6)


def test_synapse_table_connects_overlapping_neighbours():
    w = 3
    is_inh = np.zeros(9, dtype=bool)
    is_inh[4] = True  # the centre is inhibitory
    table = SynapseTable(w, is_inh, GrowthParams(), np.array([16, 9, 9, 9]))
    assert table.grow(np.full(9, 0.6)) == 24  # 12 lattice edges, both directions; diagonals (1.41 >= 1.2) none
    lens = overlap_area(0.6, 0.6, 1.0)
    ids = np.arange(table.n_syn)
    from_centre = ids[table.pre[ids] == 4]
    assert sorted(table.post[from_centre].tolist()) == [1, 3, 5, 7]
    np.testing.assert_allclose(table.w[from_centre], -lens * 1e-8)
    to_centre = ids[table.post[ids] == 4]
    np.testing.assert_allclose(table.w[to_centre], lens * 1e-8)
    assert table.pair()[from_centre].tolist() == [2] * 4  # IE
    assert table.pair()[to_centre].tolist() == [1] * 4  # EI
    # shrinking keeps the synapses (weight 0), growing adds the diagonals
    table.u[:24] = 0.123
    assert table.grow(np.full(9, 0.3)) == 24
    assert np.all(table.w[:24] == 0.0) and np.all(table.u[:24] == 0.123)
    assert table.grow(np.full(9, 0.8)) == 24 + 16  # diagonals (1.41 < 1.6): 8, both directions
    delays, ptr, out = table.csr()
    assert delays.tolist() == [9, 16]
    # pre 0 (excitatory corner): EE targets 1, 3 (delay 16); EI target 4 (delay 9)
    assert sorted(table.post[out[ptr[1, 0]:ptr[1, 1]]].tolist()) == [1, 3]
    assert table.post[out[ptr[0, 0]:ptr[0, 1]]].tolist() == [4]


def test_synapse_cap_limits_inputs():
    table = SynapseTable(5, np.zeros(25, dtype=bool), GrowthParams(max_synapses_per_neuron=3), np.array([16, 9, 9, 9]))
    table.grow(np.full(25, 3.0))
    assert table.in_count.max() == 3


def _one_neuron_args(v0, vth, i0, c1, c2, tref, n_steps):
    n = 1
    return dict(
        v=np.array([v0]), refrac=np.zeros(n, np.int32), acc_e=np.zeros(n), acc_i=np.zeros(n),
        ring=np.zeros((32, n), np.int32), ring_count=np.zeros(32, np.int32),
        epoch_counts=np.zeros((1, n), np.int64), c1=np.array([c1]), c2=np.array([c2]), i0=np.array([i0]),
        inoise=np.zeros(n), vthresh=np.array([vth]), vreset=np.array([0.0]), trefract=np.array([tref], np.int32),
        is_inh=np.zeros(n, bool), n_steps=n_steps)


def _call(a, rng=None, delays=None, ptr=None, out_syn=None, syn=None, capacity=10_000):
    n = a["v"].shape[0]
    delays = np.array([16], np.int64) if delays is None else delays
    ptr = np.zeros((1, n + 1), np.int64) if ptr is None else ptr
    out_syn = np.zeros(0, np.int64) if out_syn is None else out_syn
    if syn is None:
        syn = dict(post=np.zeros(1, np.int32), w=np.zeros(1), u=np.zeros(1), r=np.zeros(1),
                   last=np.zeros(1, np.int64), pair=np.zeros(1, np.int8))
    out_steps = np.zeros(capacity, np.int64)
    out_neurons = np.zeros(capacity, np.int32)
    t, k = run_lif_network(
        rng or np.random.default_rng(0), 0, a["n_steps"], capacity, a["v"], a["refrac"], a["acc_e"], a["acc_i"],
        a["ring"], a["ring_count"], a["epoch_counts"], a["n_steps"], 0, a["c1"], a["c2"], a["i0"], a["inoise"],
        a["vthresh"], a["vreset"], a["trefract"], a["is_inh"], math.exp(-1 / 30), math.exp(-1 / 60), delays, ptr,
        out_syn, syn["post"], syn["w"], syn["u"], syn["r"], syn["last"], syn["pair"],
        np.array([0.5, 0.05, 0.25, 0.32]), np.array([1.1, 0.125, 0.7, 0.144]), np.array([0.05, 1.2, 0.02, 0.06]),
        1e-4, out_steps, out_neurons)
    return t, out_steps[:k], out_neurons[:k]


def test_lif_kernel_single_neuron_hand_checked():
    # V <- 0.5 V + 1.0 * 1.0 from 0 approaches 2; threshold 1.7 is reached after
    # 0, 1, 1.5, 1.75 -> step 3 holds V = 1.75 >= 1.7, so it fires at step 3 (no integration),
    # is refractory for 2 steps (4, 5), integrates from 0 at step 6: 1, 1.5, 1.75 -> fires at 9.
    a = _one_neuron_args(0.0, 1.7, 1.0, 0.5, 1.0, 2, 20)
    t, steps, neurons = _call(a)
    assert t == 20
    assert steps.tolist() == [3, 9, 15]
    assert neurons.tolist() == [0, 0, 0]
    assert a["epoch_counts"][0, 0] == 3


def _reference_network(n_steps, v, vth, c1, c2, i0, tref, is_inh, syn_pre, syn_post, syn_w, syn_pair, delay_of_pair):
    """Slow per-synapse reference of BrainGrid's update (PSR per synapse, no noise)."""
    U = [0.5, 0.05, 0.25, 0.32]
    D = [1.1, 0.125, 0.7, 0.144]
    F = [0.05, 1.2, 0.02, 0.06]
    decay = [math.exp(-1 / 30) if not is_inh[p] else math.exp(-1 / 60) for p in syn_pre]
    v = list(v)
    n = len(v)
    refrac = [0] * n
    psr = [0.0] * len(syn_pre)
    u = [0.4] * len(syn_pre)
    r = [1.0] * len(syn_pre)
    last = [-1] * len(syn_pre)
    fired_at: dict[int, list[int]] = {}
    spikes = []
    summ = [0.0] * n
    for t in range(n_steps):
        fired = []
        for i in range(n):
            if refrac[i] > 0:
                refrac[i] -= 1
            elif v[i] >= vth[i]:
                spikes.append((t, i))
                fired.append(i)
                refrac[i] = tref[i]
                v[i] = 0.0
            else:
                v[i] = c1 * v[i] + c2 * (i0[i] + summ[i])
        fired_at[t] = fired
        summ = [0.0] * n
        for s in range(len(syn_pre)):
            d = delay_of_pair[syn_pair[s]]
            if syn_pre[s] in fired_at.get(t - d, []):
                if last[s] >= 0:
                    isi = (t - last[s]) * 1e-4
                    p = syn_pair[s]
                    r[s] = 1 + (r[s] * (1 - u[s]) - 1) * math.exp(-isi / D[p])
                    u[s] = U[p] + u[s] * (1 - U[p]) * math.exp(-isi / F[p])
                last[s] = t
                psr[s] += syn_w[s] / decay[s] * u[s] * r[s]
            psr[s] *= decay[s]
            summ[syn_post[s]] += psr[s]
    return spikes


def test_lif_kernel_matches_per_synapse_reference_on_random_network():
    rng = np.random.default_rng(7)
    n = 12
    is_inh = np.zeros(n, bool)
    is_inh[[3, 8]] = True
    pairs = [(j, i) for j in range(n) for i in range(n) if j != i and rng.random() < 0.35]
    syn_pre = np.array([p[0] for p in pairs], np.int32)
    syn_post = np.array([p[1] for p in pairs], np.int32)
    syn_pair = (2 * is_inh[syn_pre] + is_inh[syn_post]).astype(np.int8)
    syn_w = np.where(is_inh[syn_pre], -1, 1) * rng.uniform(0.02, 0.3, len(pairs))
    delay_of_pair = [16, 9, 9, 9]
    vth = rng.uniform(1.0, 1.3, n)
    i0 = rng.uniform(0.005, 0.012, n)
    i0[:4] = 0.05  # four driven neurons (asymptote 1.67 > threshold)
    c1, c2 = 0.97, 1.0
    tref = np.where(is_inh, 20, 30).astype(np.int32)
    n_steps = 1500
    ref = _reference_network(n_steps, np.zeros(n), vth, c1, c2, i0, tref, is_inh, syn_pre, syn_post, syn_w, syn_pair,
                             delay_of_pair)
    # the kernel's CSR by (delay class, pre)
    delays = np.array([9, 16], np.int64)
    klass = np.where(syn_pair == 0, 1, 0)
    key = klass * n + syn_pre
    order = np.argsort(key, kind="stable")
    counts = np.bincount(key, minlength=2 * n)
    flat = np.concatenate([[0], np.cumsum(counts)])
    ptr = np.stack([flat[: n + 1], flat[n:]])
    a = _one_neuron_args(0.0, 0.0, 0.0, c1, c2, 0, n_steps)
    a.update(v=np.zeros(n), refrac=np.zeros(n, np.int32), acc_e=np.zeros(n), acc_i=np.zeros(n),
             ring=np.zeros((32, n), np.int32), epoch_counts=np.zeros((1, n), np.int64), c1=np.full(n, c1),
             c2=np.full(n, c2), i0=i0, inoise=np.zeros(n), vthresh=vth, vreset=np.zeros(n), trefract=tref,
             is_inh=is_inh)
    syn = dict(post=syn_post, w=syn_w, u=np.full(len(pairs), 0.4), r=np.ones(len(pairs)),
               last=np.full(len(pairs), -1, np.int64), pair=syn_pair)
    _, steps, neurons = _call(a, delays=delays, ptr=ptr, out_syn=order.astype(np.int64), syn=syn)
    got = list(zip(steps.tolist(), neurons.tolist(), strict=True))
    assert len(ref) > 50
    assert {i for _, i in ref} - set(range(4))  # synaptic input made undriven neurons fire
    assert got == ref


def test_lif_kernel_stops_when_spike_buffer_is_full_and_resumes():
    a = _one_neuron_args(0.0, 1.7, 1.0, 0.5, 1.0, 2, 20)
    t, steps, _ = _call(a, capacity=2)  # a step starts only while >= n (= 1) slots are free
    assert t == 10 and steps.tolist() == [3, 9]


def test_noise_is_seeded():
    a = _one_neuron_args(0.0, 10.0, 0.0, 0.9, 1.0, 2, 50)
    a["inoise"] = np.array([1.0])
    _call(a, rng=np.random.default_rng(3))
    b = _one_neuron_args(0.0, 10.0, 0.0, 0.9, 1.0, 2, 50)
    b["inoise"] = np.array([1.0])
    _call(b, rng=np.random.default_rng(3))
    assert a["v"][0] == b["v"][0] != 0.0


def test_neuron_params_are_overridable():
    nr = make_neurons(10, np.random.default_rng(0), NeuronParams(iinject=0.0, inoise=(0.0, 0.0)))
    assert np.all(nr.i0 == 0.0) and np.all(nr.inoise == 0.0)


def test_synapse_table_matches_brute_force_pairs_on_random_radii():
    rng = np.random.default_rng(11)
    w = 7
    n = w * w
    is_inh = rng.random(n) < 0.2
    table = SynapseTable(w, is_inh, GrowthParams(), np.array([16, 9, 9, 9]))
    radii = rng.uniform(0.1, 1.6, n)
    table.grow(radii)
    x, y = np.arange(n) % w, np.arange(n) // w
    expect = {}
    for j in range(n):
        for i in range(n):
            d = math.hypot(x[i] - x[j], y[i] - y[j])
            if i != j and d < radii[i] + radii[j]:
                expect[(j, i)] = overlap_area(radii[j], radii[i], d) * 1e-8 * (-1 if is_inh[j] else 1)
    got = {(int(table.pre[s]), int(table.post[s])): table.w[s] for s in range(table.n_syn)}
    assert got.keys() == expect.keys()
    for key, value in expect.items():
        assert got[key] == pytest.approx(value, rel=1e-12)
