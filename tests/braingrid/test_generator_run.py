"""The growth-network generator end to end: schedules, determinism, the stage and its checks."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
import xarray as xr

from neurodata import ParamError, SchemaViolation
from neurodata.braingrid import (
    GrowthParams,
    check_braingrid_h5,
    outgrowth,
    simulate_growth_network,
    write_braingrid_h5,
)
from neurodata.braingrid.stages_simulation import SIM_STAGES, burst_check, simulate

TINY = {"width": 20, "schedule": "pregrowth", "epoch_s": 10, "simulated_epochs": 3, "analytic_epochs": 110,
        "intrinsic_s": 20.0, "seed": 1}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("data")
    paths = simulate(TINY, data_dir=data_dir)
    return data_dir, paths


def test_accelerated_schedule_grows_silent_neurons_by_the_closed_form():
    sim = simulate_growth_network(10, schedule="accelerated", epoch_s=1.0, simulated_epochs=3, seed=0)
    assert sim.analytic_epochs == 0 and sim.radii_history.shape == (4, 100)
    assert np.all(sim.radii_history[0] == 0.4) and np.all(sim.rates_history[0] == 0)
    g = GrowthParams(rho=0.01)
    for k in range(1, 4):
        expect = np.maximum(sim.radii_history[k - 1] + 0.01 * outgrowth(sim.rates_history[k], g), 0.1)
        np.testing.assert_allclose(sim.radii_history[k], expect)
    silent = ~sim.neurons.is_starter
    assert np.all(sim.rates_history[1:, silent] == 0)  # ordinary neurons never fire unconnected
    np.testing.assert_allclose(sim.radii_history[3, silent], 0.4 + 3 * 0.01 * outgrowth(np.zeros(1), g)[0])
    assert sim.spike_steps.size > 0 and np.all(np.diff(sim.spike_steps) >= 0)
    assert np.isin(sim.spike_neurons, np.flatnonzero(sim.neurons.is_starter)).all()


def test_pregrowth_schedule_rows_and_time_axis():
    sim = simulate_growth_network(10, schedule="pregrowth", epoch_s=1.0, simulated_epochs=2, analytic_epochs=30,
                                  intrinsic_s=5.0, seed=4)
    assert sim.n_epochs == 32
    st = sim.neurons.is_starter
    np.testing.assert_allclose(sim.rates_history[1:31], np.broadcast_to(sim.intrinsic_rates, (30, 100)))
    assert np.all(sim.intrinsic_rates[~st] == 0) and sim.intrinsic_rates[st].max() > 0
    g = GrowthParams(rho=0.01)
    np.testing.assert_allclose(sim.radii_history[30, ~st], 0.4 + 30 * 0.01 * outgrowth(np.zeros(1), g)[0])
    assert np.all(np.diff(sim.n_synapses) >= 0) and sim.n_synapses[30] > 0
    assert sim.spike_steps.min() >= 30 * 10_000 and sim.spike_steps.max() < 32 * 10_000
    # the simulated epochs' rates are the recorded spike counts
    counts = np.bincount(sim.spike_neurons[sim.spike_steps < 31 * 10_000], minlength=100)
    np.testing.assert_allclose(sim.rates_history[31], counts / 1.0)


def test_same_seed_same_run_other_seed_other_run():
    kw = dict(schedule="pregrowth", epoch_s=1.0, simulated_epochs=2, analytic_epochs=100, intrinsic_s=2.0)
    a = simulate_growth_network(10, seed=5, **kw)
    b = simulate_growth_network(10, seed=5, **kw)
    c = simulate_growth_network(10, seed=6, **kw)
    np.testing.assert_array_equal(a.spike_steps, b.spike_steps)
    np.testing.assert_array_equal(a.spike_neurons, b.spike_neurons)
    np.testing.assert_array_equal(a.radii_history, b.radii_history)
    assert a.spike_steps.size != c.spike_steps.size or not np.array_equal(a.spike_steps, c.spike_steps)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"width": 1}, "width must be an integer >= 2"),
        ({"schedule": "fast"}, "schedule must be one of"),
        ({"epoch_s": 0.5}, "epoch_s must be a whole number of seconds"),
        ({"simulated_epochs": 0}, "simulated_epochs must be >= 1"),
        ({"intrinsic_s": 0.0}, "needs analytic_epochs >= 0 and intrinsic_s > 0"),
    ],
)
def test_generator_rejects_bad_arguments(kwargs, match):
    args = {"width": 10, "schedule": "pregrowth", "epoch_s": 1.0, "simulated_epochs": 1, "intrinsic_s": 1.0}
    args.update(kwargs)
    width = args.pop("width")
    with pytest.raises(ValueError, match=match):
        simulate_growth_network(width, **args)


def test_stage_writes_a_checked_braingrid_file_with_bursts(tiny_run):
    data_dir, paths = tiny_run
    h5, store = paths
    assert h5.name == "braingrid_simulation.h5" and store.name == "braingrid_simulation.zarr"
    report = check_braingrid_h5(h5)  # checklist items 1-5
    assert report.n_neurons == 400 and report.n_epochs == 113 and report.n_starters == 40
    with h5py.File(h5, "r") as f:
        assert f["Tsim"][0] == 10.0
        assert f["simulationEndTime"][0] == pytest.approx(1130.0)
        assert f.attrs["analyticEpochs"] == 110
        assert f.attrs["firstSimulatedStep"] == 110 * 100_000
        params = json.loads(f.attrs["stage_params"])
        assert params["width"] == 20 and params["seed"] == 1
        assert {"neurodata_version", "stage", "code_sha256", "seeds"} <= set(f.attrs)
        assert not {"git_commit", "created"} & set(f.attrs)  # same code and params, same bytes
        rates = f["ratesHistory"][:]
        starters = f["starterNeurons"][:]
        other = np.setdiff1d(np.arange(400), starters)
        assert np.all(rates[1:111, other] == 0)  # item 5: non-starters silent before onset
        check = json.loads(f.attrs["burstCheck"])
    # item 7 at the small-grid scaling: a few spikes per neuron per burst, tens of ms wide, IBI of seconds
    assert check["n_bursts"] >= 3
    assert check["n_bursts_with_history"] >= 3  # item 6: >= gap + max(w) spikes before StartT
    assert 2.0 <= check["median_spikes_per_neuron"] <= 10.0
    assert 20.0 <= check["median_width_ms"] <= 400.0
    assert 0.5 <= check["median_ibi_s"] <= 20.0
    assert check["first_burst_step"] >= 110 * 100_000


def test_stage_summary_is_labelled_and_matches_the_file(tiny_run):
    data_dir, (h5, store) = tiny_run
    ds = xr.open_zarr(store)
    assert ds.sizes == {"epoch": 114, "neuron": 400}
    for name in [*ds.data_vars, *ds.coords]:
        assert "long_name" in ds[name].attrs, name
    assert ds["radius"].attrs["units"] == "grid units" and ds["rate"].attrs["units"] == "Hz"
    with h5py.File(h5, "r") as f:
        np.testing.assert_array_equal(ds["radius"].values, f["radiiHistory"][:])
        np.testing.assert_array_equal(ds["x"].values, f["xloc"][:])
    assert ds["simulated"].values.sum() == 3
    assert ds.attrs["burst_check_n_bursts"] >= 3
    import hashlib

    assert ds.attrs["h5_sha256"] == hashlib.sha256(h5.read_bytes()).hexdigest()


def test_stage_rejects_bad_params(tmp_path):
    with pytest.raises(ParamError, match="'width' parameter of stage braingrid_simulation"):
        simulate({**TINY, "width": 0}, data_dir=tmp_path)
    with pytest.raises(ParamError, match="Unknown parameter"):
        simulate({**TINY, "W": 20}, data_dir=tmp_path)
    with pytest.raises(ParamError, match="must be 0 with schedule 'accelerated'"):
        simulate({**TINY, "schedule": "accelerated"}, data_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_stage_without_bursts_fails_loudly_and_writes_nothing(tmp_path):
    params = {**TINY, "width": 10, "simulated_epochs": 1, "epoch_s": 1, "analytic_epochs": 0, "intrinsic_s": 1.0}
    with pytest.raises(SchemaViolation, match="found 0 bursts"):
        simulate(params, data_dir=tmp_path)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_stage_is_registered():
    assert SIM_STAGES == {"braingrid_simulation": simulate}


def test_simulated_file_round_trips_through_the_writer(tmp_path):
    sim = simulate_growth_network(10, schedule="pregrowth", epoch_s=1.0, simulated_epochs=2, analytic_epochs=100,
                                  intrinsic_s=2.0, seed=2)
    path = write_braingrid_h5(tmp_path / "s.h5", sim.to_record(), n_rows=None)
    report = check_braingrid_h5(path)
    assert report.n_spikes == sim.spike_steps.size
    with h5py.File(path, "r") as f:
        m = f["spikesProbedNeurons"][:]
    for j in (0, 7, 55):
        col = m[:, j][m[:, j] > 0]
        np.testing.assert_array_equal(col, sim.spike_steps[sim.spike_neurons == j])
    assert burst_check(sim)["n_bursts"] >= 0


def test_catalog_reads_the_simulation_summary(tiny_run):
    import neurodata

    data_dir, (h5, store) = tiny_run
    with neurodata.set_options(data_dir=str(data_dir)):
        ds = neurodata.open_catalog().braingrid_simulation.read()
    assert ds.sizes["neuron"] == 400
    assert ds.attrs["artifact"] == "braingrid_simulation"
    assert ds.attrs["h5_file"] == h5.name
    neurodata.validate(ds.load(), "braingrid_simulation")


def test_same_seed_gives_a_byte_identical_file(tmp_path):
    kw = dict(schedule="pregrowth", epoch_s=1.0, simulated_epochs=2, analytic_epochs=100, intrinsic_s=2.0, seed=2)
    a = write_braingrid_h5(tmp_path / "a.h5", simulate_growth_network(10, **kw).to_record({"seed": 2}))
    b = write_braingrid_h5(tmp_path / "b.h5", simulate_growth_network(10, **kw).to_record({"seed": 2}))
    assert a.read_bytes() == b.read_bytes()
