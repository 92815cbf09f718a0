"""The synthetic population and its recordings: ids, labels, rheobase, determinism, failure modes."""

import numpy as np
import pandas as pd
import pytest

from neurodata import ParamError, stage_params
from neurodata.gfr import make_population, record_cells
from neurodata.gfr._simulate import _run, _steps, measure_rheobase

P = stage_params("gfr_cells")
POPULATION = {k: P[k] for k in ("human_fraction", "missing_noise_fraction", "noise_cv")}
RECORDING = {k: P[k] for k in ("dt", "n_noise_repeats", "n_ramp_repeats", "vt_jitter", "noise_seeds")}


@pytest.fixture(scope="module")
def pop():
    return make_population(4, seed=7, **{**POPULATION, "missing_noise_fraction": 0.3})


@pytest.fixture(scope="module")
def recorded(pop):
    return record_cells(pop, seed=3, **RECORDING)


def test_population_labels_and_ids():
    pop = make_population(400, seed=1, **POPULATION)
    assert pop["specimen_id"].between(900_000_000, 999_999_999).all()     # outside the Allen range
    assert pop["specimen_id"].is_unique and pop["specimen_id"].is_monotonic_increasing
    human = pop["species"] == "human"
    assert 0.12 < human.mean() < 0.25
    assert (pop.loc[human, "line_name"] == "").all() and (pop.loc[~human, "line_name"] != "").all()
    assert 0.7 < (pop.loc[human, "dendrite_type"] == "spiny").mean() < 0.9
    assert set(pop["missing_noise"]) == {"", "Noise 1", "Noise 2"}
    assert (pop["V_r"] < pop["V_peak"]).all() and (pop["V_r"] >= pop["E_L"] + 2.0).all() and (pop["C"] > 0).all()
    # spiny cells reset around V_T (after-depolarisation), interneurons a few mV below it
    spiny = pop["dendrite_type"] == "spiny"
    assert (pop["V_T"] - pop["V_r"])[spiny].between(-3, 2).all()
    assert (pop["V_T"] - pop["V_r"])[~spiny & (pop["V_r"] > pop["E_L"] + 2.0)].between(0, 6).all()


def test_rheobase_is_the_smallest_firing_step(pop):
    rheo = measure_rheobase(pop, dt=0.1)
    assert np.all(rheo % 10 == 0)
    idx = np.arange(len(pop))
    empty = np.zeros((len(pop), 0), np.float32)
    vt = pop["V_T"].to_numpy()
    fires = lambda amps: _run(pop, _steps(idx, amps, 0.1), dt=0.1, waves=np.zeros((2, 1)), z=empty, vt=vt)[0].any(1)
    assert fires(rheo).all()
    assert not fires(rheo - 10).any()


def test_sweep_set(recorded, pop):
    sw = recorded.sweeps
    for c in range(len(pop)):
        mine = sw[sw["cell"] == c]
        counts = mine["stimulus_name"].value_counts()
        assert counts["Ramp"] == P["n_ramp_repeats"] and counts["Long Square"] >= 10
        missing = pop.at[c, "missing_noise"]
        for name in ("Noise 1", "Noise 2"):
            assert counts.get(name, 0) == (0 if missing == name else P["n_noise_repeats"])
    ramps = sw[sw["stimulus_name"] == "Ramp"]
    assert (ramps["n_samples"] * 0.1 <= ramps["onset_ms"] + ramps["duration_ms"] + 1e-9).all()
    # spikes are sorted by sweep then time, and lie inside their sweep
    assert np.all(np.diff(recorded.spike_sweep) >= 0)
    assert np.all(recorded.spike_time * 1e4 < sw["n_samples"].to_numpy()[recorded.spike_sweep] + 1e-6)


def test_measured_features_are_plausible(recorded):
    c = recorded.cells
    assert c["r_in"].between(10, 2000).all() and c["tau"].between(1, 100).all()
    # steady state of a -50 pA step: the adaptation conductance a adds to the leak (within 8 %:
    # with tau_w up to 2 s the adaptation current has not quite settled at the end of the 1 s step)
    np.testing.assert_allclose(c["r_in"], 1000.0 / (c["g_L"] + c["a"]), rtol=0.08)
    assert (c["r_in"] >= 1000.0 / (c["g_L"] + c["a"]) * 0.99).all()
    assert (c["tau"] <= c["C"] / c["g_L"] * 1.05).all()
    assert (c["fi_slope"] > 0).all()


def test_repeats_differ_but_reruns_are_identical(recorded, pop):
    again = record_cells(pop, seed=3, **RECORDING)
    np.testing.assert_array_equal(again.spike_time, recorded.spike_time)
    sw = recorded.sweeps
    cell = int(np.flatnonzero(pop["missing_noise"].to_numpy() == "")[0])
    n1 = sw.index[(sw["cell"] == cell) & (sw["stimulus_name"] == "Noise 1")]
    assert n1.size == P["n_noise_repeats"]
    trains = [recorded.spike_time[recorded.spike_sweep == s] for s in n1]
    assert len({t.size for t in trains}) > 1 or not all(np.array_equal(trains[0], t) for t in trains[1:])


def test_a_cell_does_not_depend_on_its_block(recorded, pop):
    alone = record_cells(pop.iloc[[2]], seed=3, **RECORDING)
    sw = recorded.sweeps
    rows = sw.index[sw["cell"] == 2]
    mine = np.isin(recorded.spike_sweep, rows)
    np.testing.assert_array_equal(alone.spike_time, recorded.spike_time[mine])
    pd.testing.assert_series_equal(alone.sweeps["n_samples"], sw.loc[rows, "n_samples"].reset_index(drop=True))


def test_a_subset_of_protocols_records_the_same_sweeps(recorded, pop):
    only = record_cells(pop, seed=3, stimuli=("Long Square",), **RECORDING)
    assert set(only.sweeps["stimulus_name"]) == {"Long Square"}
    full_ls = np.flatnonzero(recorded.sweeps["stimulus_name"].to_numpy() == "Long Square")
    pd.testing.assert_frame_equal(only.sweeps, recorded.sweeps.iloc[full_ls].reset_index(drop=True))
    mine = np.isin(recorded.spike_sweep, full_ls)
    np.testing.assert_array_equal(only.spike_time, recorded.spike_time[mine])
    np.testing.assert_array_equal(only.spike_sweep, np.searchsorted(full_ls, recorded.spike_sweep[mine]))
    np.testing.assert_array_equal(only.cells["fi_slope"], recorded.cells["fi_slope"])
    with pytest.raises(ParamError, match=r"'stimuli' parameter of record_cells must be .*Got \('Noise 3',\) instead"):
        record_cells(pop, seed=3, stimuli=("Noise 3",), **RECORDING)
    with pytest.raises(ParamError, match=r"Got \(\) instead"):
        record_cells(pop, seed=3, stimuli=(), **RECORDING)


def test_rheobase_search_and_recording_share_one_compiled_kernel(recorded, pop):
    """pandas hands out read-only arrays; passed as they are, each read-only/writable mix would
    compile its own specialisation of the kernel (seconds each on a cold cache)."""
    from neurodata.gfr._kernels import adex_sweeps

    measure_rheobase(pop, dt=0.1)
    assert len(adex_sweeps.signatures) == 1
