"""Weight recipe of the EI-clustered network against the reference numbers of specs/nest_ei.md §3."""

import numpy as np
import pytest

from neurodata import stage_params
from hypothesis import given, settings
from hypothesis import strategies as st

from neurodata import ParamError
from neurodata.ei_network import (
    background_currents,
    base_weights,
    cluster_factors,
    clustered_weights,
    psp_peak_per_pa,
    rbn_weights,
    rheobase_current,
)


def sig6(x):
    """Round to 6 significant digits (the precision of the reference table)."""
    return np.vectorize(lambda v: float(f"{v:.6g}"))(np.asarray(x, dtype=float))


def assert_sig6(actual, expected):
    np.testing.assert_array_equal(sig6(actual), sig6(expected))


@pytest.fixture
def params():
    return stage_params("ei_network")  # the default profile (params.yaml), the NEST example's network


def test_psp_peak_reference():
    assert_sig6(psp_peak_per_pa(20.0, 5.0), 3.14980)
    assert_sig6(psp_peak_per_pa(10.0, 5.0), 2.50000)


def test_psp_peak_equal_time_constants_is_alpha_limit():
    # V(t) = t exp(-t/tau) / C peaks at t = tau with tau / (C e); the formula is 0/0 there.
    assert psp_peak_per_pa(5.0, 5.0, 2.0) == pytest.approx(5.0 / (2.0 * np.e), rel=1e-12)
    assert psp_peak_per_pa(5.0, 5.0 + 1e-7) == pytest.approx(5.0 / np.e, rel=1e-6)


@settings(max_examples=50, deadline=None)
@given(
    tau_m=st.floats(1.0, 50.0),
    tau_syn=st.floats(0.5, 20.0),
    c_m=st.floats(0.5, 300.0),
)
def test_psp_peak_matches_dense_grid_maximum(tau_m, tau_syn, c_m):
    if abs(tau_m - tau_syn) < 1e-3:
        return
    t = np.linspace(0.0, 10 * max(tau_m, tau_syn), 200_001)
    pre = tau_m * tau_syn / (c_m * (tau_syn - tau_m))
    v = pre * (np.exp(-t / tau_syn) - np.exp(-t / tau_m))
    assert psp_peak_per_pa(tau_m, tau_syn, c_m) == pytest.approx(v.max(), rel=1e-6)


def test_psp_rejects_nonpositive_time_constant():
    with pytest.raises(ParamError, match="tau_m must be a finite number > 0; got -1"):
        psp_peak_per_pa(-1.0, 5.0)


def test_rbn_weights_reference(params):
    assert_sig6(rbn_weights(params), [[15.8740, -30.4781], [12.6491, -50.5964]])


def test_rbn_weights_closed_forms(params):
    js = rbn_weights(params)
    a_ee = psp_peak_per_pa(20.0, 5.0)
    assert js[0, 0] == pytest.approx(20 * np.sqrt(5000 / 800) / a_ee, rel=1e-12)
    assert js[1, 0] == pytest.approx(20 * np.sqrt(5000 / 2000) / 2.5, rel=1e-12)
    assert js[0, 1] == pytest.approx(-1.2 * js[0, 0] * 800 / 500, rel=1e-12)
    assert js[1, 1] == pytest.approx(-js[1, 0] * 2000 / 500, rel=1e-12)


def test_base_weights_reference(params):
    j = base_weights(params)
    assert_sig6(j, [[0.224492, -0.431025], [0.178885, -0.715542]])
    # PSP peaks of the base weights [mV]
    a = np.array([[psp_peak_per_pa(20, 5), psp_peak_per_pa(20, 5)], [psp_peak_per_pa(10, 5), psp_peak_per_pa(10, 5)]])
    assert_sig6(j * a, [[0.707107, -1.35765], [0.447214, -1.78885]])


def test_js_override_is_used(params):
    # Quirk Q4: the original crashes when js is given; here it replaces the RBN recipe.
    params["js"] = [[10.0, -20.0], [5.0, -40.0]]
    params["s"] = 2.0
    np.testing.assert_allclose(base_weights(params), 2.0 * np.array(params["js"]) / np.sqrt(5000))


def test_weight_clustering_reference(params):
    w = clustered_weights(params)
    assert_sig6(w["plus"], [[6, 5.1], [5.1, 5.1]])
    assert_sig6(w["minus"], [[0.736842, 0.784211], [0.784211, 0.784211]])
    assert_sig6(w["in_cluster"], [[1.34695, -2.19823], [0.912316, -3.64926]])
    assert_sig6(w["between_cluster"], [[0.165415, -0.338015], [0.140284, -0.561135]])
    np.testing.assert_array_equal(w["p_in_cluster"], params["baseline_conn_prob"])
    np.testing.assert_array_equal(w["p_between_cluster"], params["baseline_conn_prob"])


def test_probability_clustering_reference(params):
    params["clustering"] = "probabilities"
    w = clustered_weights(params)
    assert_sig6(w["plus"][1, 1], 4.74244)
    assert_sig6(w["p_in_cluster"], [[1.2, 2.37122], [2.37122, 2.37122]])
    assert_sig6(w["p_between_cluster"], [[0.147368, 0.401515], [0.401515, 0.401515]])
    np.testing.assert_array_equal(w["in_cluster"], base_weights(params))
    np.testing.assert_array_equal(w["between_cluster"], base_weights(params))


def test_summed_row_input_reference(params):
    j = base_weights(params)
    k = np.asarray(params["baseline_conn_prob"]) * np.array([4000, 1000])[None, :]
    np.testing.assert_array_equal(k, [[800, 500], [2000, 500]])
    assert_sig6(j * k, [[179.594, -215.513], [357.771, -357.771]])


@settings(max_examples=100, deadline=None)
@given(
    q=st.integers(2, 50),
    rep=st.floats(1.0, 10.0),
    rj=st.floats(0.0, 1.0),
    mode=st.sampled_from(["weight", "probabilities"]),
)
def test_clustering_keeps_row_sums(q, rep, rj, mode):
    plus, minus = cluster_factors(q, rep, rj, mode)
    # one in-cluster block and Q - 1 between-cluster blocks of equal size sum to Q
    np.testing.assert_allclose(plus + (q - 1) * minus, q, rtol=1e-12)


def test_cluster_factors_single_cluster_is_unclustered():
    plus, minus = cluster_factors(1, 6.0, 0.82)
    np.testing.assert_array_equal(plus, np.ones((2, 2)))
    np.testing.assert_array_equal(minus, np.ones((2, 2)))


def test_cluster_factors_rejects_unknown_mode():
    with pytest.raises(ParamError, match="clustering must be one of .*'weight'.*got 'weights'"):
        cluster_factors(20, 6.0, 0.82, "weights")


def test_rheobase_and_background_reference(params):
    assert rheobase_current(20.0, 0.0, 20.0, 1.0) == 1.0
    assert rheobase_current(10.0, 0.0, 20.0, 1.0) == 2.0
    assert rheobase_current(10.0, -70.0, -50.0, 250.0) == 500.0
    i_xe, i_xi = background_currents(params)
    assert_sig6([i_xe, i_xi], [1.25, 1.56])


def test_background_absolute_when_relative_is_none(params):
    params.update(I_th_E=None, I_xE=3.0)
    assert background_currents(params) == (3.0, pytest.approx(1.56))
