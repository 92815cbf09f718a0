"""Bad input is rejected with a clear error before NEST starts."""

import pytest

from neurodata import ParamError
from neurodata.ei_network import check_network_params, default_network_params, simulate_ei_network
from neurodata.ei_network import _simulate
from neurodata.ei_network.stages import ei_network


@pytest.fixture
def no_nest(monkeypatch):
    """Make any attempt to start NEST fail loudly, so a test proves the error came first."""

    def forbidden():
        raise AssertionError("NEST was started before the parameters were checked")

    monkeypatch.setattr(_simulate, "_import_nest", forbidden)


def test_defaults_pass():
    p = check_network_params()
    assert p["N_E"] == 4000 and p["n_clusters"] == 20 and p["threads"] == 1
    assert p["stim_clusters"] == [2, 3, 4]


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"N_E": -4000}, r"'N_E' parameter of ei_network must be an integer >= 1\. Got -4000"),
        ({"N_I": 0}, r"'N_I' parameter .* must be an integer >= 1\. Got 0"),
        ({"n_clusters": -1}, r"'n_clusters' .* integer >= 1\. Got -1"),
        ({"N_E": 4010}, r"'N_E' .* multiple of n_clusters=20 .* Got 4010"),
        ({"N_I": 1010}, r"'N_I' .* multiple of n_clusters=20 .* Got 1010"),  # quirk Q2: names N_I
        ({"baseline_conn_prob": [[0.2, 1.5], [0.5, 0.5]]}, r"'baseline_conn_prob' .* probabilities in \[0, 1\]"),
        ({"baseline_conn_prob": [[-0.1, 0.5], [0.5, 0.5]]}, r"'baseline_conn_prob' .* in \[0, 1\]"),
        ({"baseline_conn_prob": [0.2, 0.5]}, r"'baseline_conn_prob' .* 2x2 matrix"),
        ({"neuron_type": "iaf_psc_alpha"}, r"'neuron_type' .* one of \('iaf_psc_exp',\).* Got 'iaf_psc_alpha'"),
        ({"n_clusters": 4, "N_E": 400, "N_I": 100}, r"'rep' .* between-cluster factors .* n_clusters=4"),
        ({"stim_clusters": [2, 25]}, r"'stim_clusters' .* \[0, 19\]"),
        ({"stim_starts": [2000.0], "stim_ends": [1000.0]}, r"'stim_starts' .* 0 <= start < end <= simtime"),
        ({"stim_ends": [3500.0]}, r"'stim_ends' .* as long as stim_starts"),
        ({"warmup": 100.05}, r"'warmup' .* multiple of dt=0\.1"),
        ({"delay": 0.05}, r"'delay' .* at least dt=0\.1"),
        ({"threads": 0}, r"'threads' .* integer >= 1"),
        ({"delta_I_xI": 3.0}, r"'delta_I_xI' .* \[0, 2\]"),
        ({"V_m": "random"}, r"'V_m' .* 'rand' or a finite number"),
        ({"tau_E": 0.0}, r"'tau_E' .* > 0"),
        ({"clustering": "weights"}, r"'clustering' .* one of \('weight', 'probabilities'\)"),
        ({"Q": 20}, r"Unknown parameter\(s\) \['Q'\] for ei_network"),
    ],
)
def test_bad_input_rejected_before_nest(no_nest, overrides, match):
    with pytest.raises(ParamError, match=match):
        simulate_ei_network(**overrides)


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [
        ("N_E", -10, r"The 'N_E' parameter of stage ei_network must be an int in the range \[1, inf\)\. Got -10"),
        ("baseline_conn_prob", [[0.2, 0.5], [0.5, 1.2]], r"'baseline_conn_prob' parameter of stage ei_network"),
        ("neuron_type", "aeif_cond_exp", r"'neuron_type' parameter of stage ei_network must be one of \['iaf_psc_exp'\]"),
        ("N_I", 990, r"'N_I' parameter of ei_network must be a multiple of n_clusters=20"),
    ],
)
def test_stage_rejects_bad_params_before_nest(no_nest, tmp_path, key, value, match):
    params = default_network_params()
    params[key] = value
    with pytest.raises(ParamError, match=match):
        ei_network(params, data_dir=tmp_path)
    assert not any(tmp_path.iterdir())


def test_stim_clusters_none_means_no_stimulus():
    assert check_network_params(stim_clusters=None)["stim_clusters"] == []


def test_probability_mode_needs_rep_at_least_one(no_nest):
    with pytest.raises(ParamError, match=r"'rep' .* >= 1 with probability clustering.* Got 0\.5"):
        check_network_params(clustering="probabilities", rep=0.5)
