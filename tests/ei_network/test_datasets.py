"""Spike table, rates and weight datasets on hand-checked cases; their contracts (no NEST needed)."""

import numpy as np
import pytest
import xarray as xr

from neurodata import ParamError, SchemaViolation
from neurodata import stage_params
from neurodata.ei_network import SimulationResult, network_layout
from neurodata.ei_network import rates_dataset, spikes_dataset, weights_dataset
from neurodata.schemas import validate

# (time [ms], neuron id): 4 E neurons (ids 0-1 cluster 0, 2-3 cluster 1), 2 I neurons (4: c0, 5: c1)
SPIKES = [(100.0, 0), (200.0, 1), (250.0, 2), (300.0, 3), (400.0, 2), (500.0, 5), (600.0, 5), (999.9, 4)]


@pytest.fixture
def small_params():
    return stage_params("ei_network", N_E=4, N_I=2, n_clusters=2, rep=1.5, warmup=0.0, simtime=1000.0,
                                stim_clusters=[1], stim_starts=[200.0], stim_ends=[400.0], seed=7)


@pytest.fixture
def spikes(small_params):
    t, n = np.array(SPIKES).T
    result = SimulationResult(time_ms=t, neuron=n.astype(np.int64), layout=network_layout(small_params),
                              params=small_params, num_connections=0, build_s=0.0, simulate_s=0.0,
                              nest_version="test")
    return spikes_dataset(result)


def test_neuron_table(spikes):
    assert spikes["population"].values.tolist() == ["E", "E", "E", "E", "I", "I"]
    assert spikes["cluster"].values.tolist() == [0, 0, 1, 1, 0, 1]
    assert spikes["stimulated"].values.tolist() == [False, False, True, True, False, False]
    np.testing.assert_allclose(spikes["background_current"].values, [1.25] * 4 + [1.56] * 2)
    assert np.all(spikes["v_init"].values < 20.0)  # "rand" initial potentials stay below threshold
    validate(spikes, "ei_spikes")


def test_layout_is_seeded():
    p = stage_params("ei_network", N_E=40, N_I=10, n_clusters=2, rep=1.5, delta_I_xE=0.5, delta_I_xI=1.0, seed=3,
                             stim_clusters=None)
    a, b = network_layout(p), network_layout(p)
    np.testing.assert_array_equal(a.v_init, b.v_init)
    np.testing.assert_array_equal(a.background_current, b.background_current)
    other = network_layout({**p, "seed": 4})
    assert not np.array_equal(a.v_init, other.v_init)
    # Quirk Q1 fixed: the I jitter reads delta_I_xI (spread 1.0 -> factors in [0.5, 1.5])
    i_bg = a.background_current[40:] / 1.56
    assert i_bg.min() >= 0.5 and i_bg.max() <= 1.5 and i_bg.std() > 0.1
    e_bg = a.background_current[:40] / 1.25
    assert e_bg.min() >= 0.75 and e_bg.max() <= 1.25


def test_rates_hand_checked(spikes):
    rates = rates_dataset(spikes, bin_ms=500.0)
    assert rates["epoch"].values.tolist() == ["baseline", "stimulus"]
    np.testing.assert_allclose(rates["epoch_duration_ms"].values, [800.0, 200.0])
    # baseline (800 ms): E c0 2 spikes / 2 neurons; the spike at 200 (window start) is baseline
    # stimulus (200, 400]: E c1 3 spikes / 2 neurons, including the one at 400 (window end)
    expected = np.array([
        [[2 / 2 / 0.8, 0.0], [0.0, 3 / 2 / 0.2]],  # E: cluster 0, cluster 1
        [[1 / 1 / 0.8, 0.0], [2 / 1 / 0.8, 0.0]],  # I
    ])
    np.testing.assert_allclose(rates["rate"].values, expected)
    np.testing.assert_allclose(rates["population_rate"].values, [5 / 4, 3 / 2])
    np.testing.assert_allclose(rates["time_ms"].values, [250.0, 750.0])
    np.testing.assert_allclose(rates["rate_time"].values, [[[2.0, 0.0], [3.0, 0.0]], [[0.0, 2.0], [0.0, 4.0]]])
    assert rates["stimulated"].values.tolist() == [False, True]
    assert rates["n_neurons"].values.tolist() == [[2, 2], [1, 1]]
    validate(rates, "ei_rates")


def test_rates_time_bins_count_every_spike(spikes):
    rates = rates_dataset(spikes, bin_ms=300.0)  # bins 300, 300, 300, 100 ms
    widths = np.array([300.0, 300.0, 300.0, 100.0]) / 1000.0
    counts = rates["rate_time"] * rates["n_neurons"] * xr.DataArray(widths, dims="time_ms")
    assert float(counts.sum()) == pytest.approx(len(SPIKES))


def test_rates_without_stimulus_has_only_baseline(small_params):
    p = {**small_params, "stim_clusters": [], "stim_starts": [], "stim_ends": []}
    result = SimulationResult(time_ms=np.array([5.0]), neuron=np.array([0]), layout=network_layout(p), params=p,
                              num_connections=0, build_s=0.0, simulate_s=0.0, nest_version="test")
    rates = rates_dataset(spikes_dataset(result))
    assert rates["epoch"].values.tolist() == ["baseline"]
    assert rates.sizes["stim_window"] == 0
    validate(rates, "ei_rates")


def test_rates_reject_bad_bin(spikes):
    with pytest.raises(ParamError, match=r"bin_ms must be a finite number > 0 \[ms\]\. Got -5"):
        rates_dataset(spikes, bin_ms=-5)


def test_weights_dataset_units(small_params):
    ds = weights_dataset(stage_params("ei_network"))
    assert ds["in_cluster_weight"].attrs["units"] == "pA"
    assert ds["in_cluster_weight"].sel(post="E", pre="E").item() == pytest.approx(1.34695, rel=5e-6)
    assert ds["between_cluster_weight"].sel(post="I", pre="I").item() == pytest.approx(-0.561135, rel=5e-6)
    assert ds["indegree"].sel(post="I", pre="E").item() == 2000
    validate(ds, "ei_weights")
    for name, var in ds.variables.items():
        assert "long_name" in var.attrs, name


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda ds: ds.assign(time_ms=ds.time_ms * -1), "time_ms"),
        (lambda ds: ds.assign(population=ds.population.copy(data=np.array(["E"] * 5 + ["X"], dtype=object))),
         "population"),
        (lambda ds: ds.assign(time_ms=ds.time_ms.assign_attrs(units="s")), r"time_ms: units: expected 'ms'"),
        (lambda ds: ds.drop_vars("cluster"), "cluster"),
        (lambda ds: ds.isel(spike=slice(None, None, -1)), "sorted_by"),
    ],
)
def test_spikes_contract_rejects(spikes, mutate, match):
    with pytest.raises(SchemaViolation, match=match):
        validate(mutate(spikes), "ei_spikes")
