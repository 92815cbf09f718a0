"""Bad input is rejected with a clear error before NEST starts: one spec, one message generator."""

import pytest

from neurodata import ParamError, stage_params
from neurodata.ei_network import _simulate
from neurodata.ei_network.stages import ei_network


@pytest.fixture
def no_nest(monkeypatch):
    """Make any attempt to start NEST fail loudly, so a test proves the error came first."""

    def forbidden():
        raise AssertionError("NEST was started before the parameters were checked")

    monkeypatch.setattr(_simulate, "_import_nest", forbidden)


def test_the_default_profile_passes():
    p = stage_params("ei_network")
    assert p["N_E"] == 4000 and p["n_clusters"] == 20 and p["threads"] == 1
    assert p["stim_clusters"] == [2, 3, 4] and p["js"] is None


STAGE = r"parameter of stage ei_network must"


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"N_E": -4000}, rf"'N_E' {STAGE} be an int in the range \[1, inf\)\. Got -4000"),
        ({"N_I": 0}, rf"'N_I' {STAGE} be an int .* Got 0"),
        ({"n_clusters": -1}, rf"'n_clusters' {STAGE} be an int .* Got -1"),
        ({"N_E": 4010}, rf"'N_E' {STAGE} be a multiple of n_clusters=20 .* Got 4010"),
        ({"N_I": 1010}, rf"'N_I' {STAGE} be a multiple of n_clusters=20 .* Got 1010"),  # quirk Q2: names N_I
        ({"baseline_conn_prob": [[0.2, 1.5], [0.5, 0.5]]}, rf"'baseline_conn_prob' {STAGE} be a list of at least 2"),
        ({"baseline_conn_prob": [0.2, 0.5]}, rf"'baseline_conn_prob' {STAGE}"),
        ({"baseline_conn_prob": [[0.0, 0.5], [0.5, 0.5]]}, rf"'baseline_conn_prob' {STAGE} be > 0 everywhere when js is None"),
        ({"neuron_type": "iaf_psc_alpha"}, rf"'neuron_type' {STAGE} be one of \['iaf_psc_exp'\]\. Got 'iaf_psc_alpha'"),
        ({"n_clusters": 4, "N_E": 400, "N_I": 100}, rf"'rep' {STAGE} be small enough .* n_clusters=4"),
        ({"stim_clusters": [2, 25]}, rf"'stim_clusters' {STAGE} be None or a list of distinct cluster indices below n_clusters=20"),
        ({"stim_starts": [2000.0], "stim_ends": [1000.0]}, rf"'stim_starts' {STAGE} give windows with 0 <= start < end"),
        ({"stim_ends": [3500.0]}, rf"'stim_ends' {STAGE} be a list as long as stim_starts"),
        ({"stim_starts": [2000.0, 3000.0], "stim_ends": [3500.0, 7500.0]}, rf"'stim_starts' {STAGE} give sorted, non-overlapping"),
        ({"warmup": 100.05}, rf"'warmup' {STAGE} be a multiple of dt=0\.1"),
        ({"delay": 0.05}, rf"'delay' {STAGE} be at least dt=0\.1"),
        ({"threads": 0}, rf"'threads' {STAGE} be an int"),
        ({"delta_I_xI": 3.0}, rf"'delta_I_xI' {STAGE} be a float in the range \[0, 2\]"),
        ({"V_m": "random"}, rf"'V_m' {STAGE} be 'rand' or a finite float"),
        ({"tau_E": 0.0}, rf"'tau_E' {STAGE} be a float in the range \(0, inf\)"),
        ({"clustering": "weights"}, rf"'clustering' {STAGE} be one of \['weight', 'probabilities'\]"),
        ({"V_r": 25.0}, rf"'V_r' {STAGE} be below both thresholds"),
        ({"I_th_E": None}, rf"'I_xE' {STAGE} be a finite number \[pA\] when I_th_E is None"),
        ({"clustering": "probabilities", "rep": 0.5}, rf"'rep' {STAGE} be >= 1 with probability clustering.* Got 0\.5"),
        ({"Q": 20}, r"Unknown parameter\(s\) \['Q'\] for stage ei_network"),
    ],
)
def test_bad_input_is_rejected_before_nest(no_nest, tmp_path, overrides, match):
    with pytest.raises(ParamError, match=match):
        stage_params("ei_network", **overrides)
    params = {**stage_params("ei_network"), **overrides}
    with pytest.raises(ParamError, match=match):  # the stage checks the same spec, once, before any work
        ei_network(params, data_dir=tmp_path)
    assert not any(tmp_path.iterdir())


def test_stim_clusters_none_means_no_stimulus():
    assert stage_params("ei_network", stim_clusters=None)["stim_clusters"] is None
    from neurodata.ei_network import network_layout

    layout = network_layout(stage_params("ei_network", N_E=8, N_I=2, n_clusters=2, rep=1.5, stim_clusters=None))
    assert not layout.stimulated.any()
