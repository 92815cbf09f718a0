"""Morphology, synapse placement, activation times, the compartmental model and the simrun table."""

from __future__ import annotations

import numpy as np
import pytest

from neurodata.isf import (
    Biophysics,
    DEFAULT_CELL_TYPES,
    activation_times,
    cell_morphology,
    compartmentalize,
    detect_spikes,
    make_l5pt_morphology,
    make_simrun,
    place_synapses,
    section_distances,
    simulate_soma_voltage,
    spike_times_frame,
    synapse_activation_frame,
    synaptic_weights,
    voltage_frame,
)
from neurodata.seeds import rng
from neurodata.isf._kernels import threshold_crossings

EXC = ["L2", "L34", "L4py", "L4sp", "L4ss", "L5st", "L5tt", "L6cc", "L6ccinv", "L6ct", "VPM"]
INH = ["L1", "L23Trans", "L45Sym", "L56Trans", "SymLocal1", "SymLocal2"]


def test_toy_lengths_and_distances(toy_cell):
    np.testing.assert_allclose(toy_cell.section_lengths(), [10, 35, 96, 10, 200, 120, 30], atol=1e-6)
    lo, hi = toy_cell.section_distances()
    np.testing.assert_allclose(lo, [0, 0, 35, 35, 45, 45, 135], atol=1e-6)
    assert toy_cell.section_adjacency()[3] == {"parents": [1], "children": [4, 5]}


def test_swc_and_hoc(toy_cell):
    swc = [line.split() for line in toy_cell.to_swc().splitlines() if not line.startswith("#")]
    assert len(swc) == len(toy_cell.xyz)
    assert swc[0][1] == "1" and swc[0][6] == "-1"  # soma root
    ids = {int(r[0]) for r in swc}
    assert all(int(r[6]) in ids or r[6] == "-1" for r in swc)
    first_of_2 = toy_cell.point_start[2]
    assert swc[first_of_2][6] == str(toy_cell.point_start[2])  # starts at section 1's last point (x = 1)
    hoc = toy_cell.to_hoc()
    assert "{create soma}" in hoc and "{connect ApicalDendrite_6(0), ApicalDendrite_4(0.450000)}" in hoc
    assert hoc.count("pt3dadd") == len(toy_cell.xyz)


def test_l5pt_morphology_structure():
    m = make_l5pt_morphology(seed=3)
    labels = set(m.label.tolist())
    assert {"Soma", "Dendrite", "ApicalDendrite", "AIS", "Myelin"} <= labels
    assert np.all(m.parent[1:] < np.arange(1, m.n_sections))
    _, hi = m.section_distances()
    apical = m.label == "ApicalDendrite"
    assert hi[apical].max() > 900  # a tuft far from the soma
    assert hi[m.label == "Dendrite"].max() < 300
    again = make_l5pt_morphology(seed=3)
    np.testing.assert_array_equal(m.xyz, again.xyz)


def test_place_synapses_within_sections_and_types():
    m = make_l5pt_morphology(seed=0)
    syn = place_synapses(m, DEFAULT_CELL_TYPES, excitatory_celltypes=EXC, inhibitory_celltypes=INH, rng=rng(1))
    assert len(syn) == sum(v["n"] for v in DEFAULT_CELL_TYPES.values()) >= 10_000
    lo, hi = m.section_distances()
    s = syn.section_ID
    assert np.all((syn.soma_distance >= lo[s] - 1e-9) & (syn.soma_distance <= hi[s] + 1e-9))
    assert set(syn.dendrite_label.tolist()) <= {"Soma", "Dendrite", "ApicalDendrite"}
    l2 = np.array([t.startswith("L2_") for t in syn.synapse_type])
    assert np.median(syn.soma_distance[l2]) > 600  # L2 targets the tuft
    assert not syn.is_excitatory[np.array([t.startswith("SymLocal1_") for t in syn.synapse_type])].any()
    with pytest.raises(ValueError, match=r"unknown cell type 'L2': it is in neither"):
        place_synapses(m, DEFAULT_CELL_TYPES, excitatory_celltypes=EXC[1:], inhibitory_celltypes=INH, rng=rng(1))


def test_activation_times_evoked_transient():
    m = make_l5pt_morphology(seed=0)
    syn = place_synapses(m, DEFAULT_CELL_TYPES, excitatory_celltypes=EXC, inhibitory_celltypes=INH, rng=rng(1))
    tr, sy, t = activation_times(syn, DEFAULT_CELL_TYPES, n_trials=4, t_stop_ms=300, stimulus_time_ms=150, rng=rng(2))
    assert np.all((t >= 0) & (t < 300)) and np.all(np.diff(tr) >= 0)
    counts, _ = np.histogram(t, bins=np.arange(0, 301, 10))
    assert counts[15:18].max() > 2 * np.median(counts)  # the whisker-evoked transient at 150-180 ms


def test_threshold_crossings_rule():
    v = np.array([[-70, -10, 0, 20, -5, 1, 1], [-70, -70, -70, -70, -70, -70, 0]], dtype=float)
    tr, k = threshold_crossings(v, 0.0)
    assert tr.tolist() == [0, 0, 1] and k.tolist() == [2, 5, 6]
    assert [x.tolist() for x in detect_spikes(v, 0.5)] == [[1.0, 2.5], [3.0]]


def test_passive_cell_rests_at_leak_and_distal_epsp_is_smaller():
    m = make_l5pt_morphology(seed=0)
    bio = Biophysics(soma_S_cm2={}, axon_S_cm2={}, active_dendrites=False, warmup_ms=0, v_init_mV=-90.0)
    syn = place_synapses(m, {"L2": {**DEFAULT_CELL_TYPES["L2"], "n": 1, "distance_um": [1100, 10], "weight_nS": 0.5},
                             "L5st": {**DEFAULT_CELL_TYPES["L5st"], "n": 1, "distance_um": [40, 5], "weight_nS": 0.5}},
                         excitatory_celltypes=["L2", "L5st"], inhibitory_celltypes=[], rng=rng(0))
    v = simulate_soma_voltage(m, syn, np.array([0, 1]), np.array([0, 1]), np.array([10.0, 10.0]),
                              n_trials=3, t_stop_ms=60, bio=bio)
    np.testing.assert_allclose(v[:, 0], bio.e_pas_mV)
    np.testing.assert_allclose(v[2], bio.e_pas_mV, atol=5e-3)  # no input but the tiny mean background
    distal, proximal = v[0].max() - bio.e_pas_mV, v[1].max() - bio.e_pas_mV
    assert 0 < distal < proximal  # cable attenuation


def test_compartments_cover_sections():
    m = make_l5pt_morphology(seed=0)
    c = compartmentalize(m, Biophysics(max_compartment_um=20))
    assert np.all(c.parent[1:] < np.arange(1, len(c.parent)))
    assert c.n_per_section[np.argmax(m.section_lengths())] >= m.section_lengths().max() / 20


@pytest.fixture(scope="module")
def small_simrun():
    return make_simrun(seed=1, n_trials=3, t_stop_ms=80, stimulus_time_ms=40, excitatory_celltypes=EXC,
                       inhibitory_celltypes=INH, synapse_scale=0.2)


def test_simrun_table_isf_form(small_simrun):
    ds, morph = small_simrun
    sa = synapse_activation_frame(ds)
    assert sa.index.name == "sim_trial_index"
    assert list(sa.columns[:6]) == ["synapse_type", "synapse_ID", "soma_distance", "section_ID", "section_pt_ID", "dendrite_label"]
    assert sa.columns[6] == "0"
    assert sa.index[0] == "simrun_seed1/000000"
    sdf = section_distances(morph)
    lo, hi = sdf["min_"].to_numpy()[sa["section_ID"]], sdf["max_"].to_numpy()[sa["section_ID"]]
    assert np.all((sa["soma_distance"] >= lo - 1e-9) & (sa["soma_distance"] <= hi + 1e-9))
    start, count = ds["sa_row_start"].values, ds["sa_row_count"].values
    assert start[0] == 0 and np.all(start[1:] == start[:-1] + count[:-1]) and count.sum() == ds.sizes["sa_row"]
    one = synapse_activation_frame(ds, trials=[1])
    assert set(one.index) == {"simrun_seed1/000001"} and len(one) == count[1]
    np.testing.assert_array_equal(cell_morphology(ds).xyz, morph.xyz)
    assert synaptic_weights(ds)["VPM_C2"] == DEFAULT_CELL_TYPES["VPM"]["weight_nS"]


def test_simrun_spikes_match_voltage(small_simrun):
    ds, _ = small_simrun
    vt = voltage_frame(ds)
    st = spike_times_frame(ds)
    assert vt.shape == (3, int(80 / 0.025)) and vt.columns[1] == pytest.approx(0.025)
    for r in range(3):
        v = vt.to_numpy()[r]
        k = np.flatnonzero((v[:-1] < 0) & (v[1:] >= 0)) + 1
        np.testing.assert_allclose(st.iloc[r].dropna().to_numpy(), k * 0.025)
