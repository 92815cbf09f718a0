"""The model judged by its expectation over 100 seeds (not by one block of 10), with the bands
of the spec; the drawn input rates explain where one block lands."""

import numpy as np
import pytest
import xarray as xr

from neurodata import ParamError
from neurodata.adex import (
    MODEL_EXPECTATION,
    SEED_WE_SWEEP,
    compare_expectation,
    expectation_agreement,
    input_rate_sums,
)
from neurodata.adex._expectation import expected_rate_sums, rate_fit
from neurodata.adex.stages import expectation

TABLE_WE = [12.0, 15.0, 20.0]
PARAMS = {"N": 6500, "T": 10.0, "dt": 0.1, "we": TABLE_WE, "n_seeds": 100}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """adex_expectation at the table's three w_e over seeds 0..99, for each stream."""
    out = {}
    for rng in ("numpy", "julia"):
        path, *_ = expectation({**PARAMS, "rng": rng}, data_dir=tmp_path_factory.mktemp(rng), scheduler="synchronous")
        out[rng] = xr.open_zarr(path).load()
    return out


def test_expected_input_sums_are_four_hz_per_input():
    assert expected_rate_sums(6500) == (20800.0, 5200.0)
    assert expected_rate_sums(10) == (32.0, 8.0)


@pytest.mark.parametrize("rng", ["numpy", "julia"])
def test_drawn_input_sums_scatter_around_their_expectation(rng):
    sums = np.array([input_rate_sums(6500, seed, rng=rng) for seed in range(300)])
    expected = np.array(expected_rate_sums(6500))
    sem = sums.std(axis=0, ddof=1) / np.sqrt(len(sums))
    assert np.all(np.abs(sums.mean(axis=0) - expected) <= 3 * sem)
    # lognormal rates, var(log r) = 0.6: sd of one sum = sqrt(n (e^0.6 - 1)) * 4 Hz
    np.testing.assert_allclose(sums.std(axis=0), 4 * np.sqrt(np.array([5200, 1300]) * np.expm1(0.6)), rtol=0.15)


def test_rate_fit_recovers_a_linear_dependence_on_the_sums(rng):
    exc = 20800 + rng.normal(0, 260, 50)
    inh = 5200 + rng.normal(0, 130, 50)
    rates = 4.3 + 0.001 * (exc - 20800) - 0.002 * (inh - 5200)
    coef, sem = rate_fit(rates, exc, inh, 6500)
    np.testing.assert_allclose(coef, [4.3, 0.001, -0.002], rtol=1e-9)
    assert np.all(sem < 1e-9)
    noisy = rates + rng.normal(0, 0.1, 50)
    coef, sem = rate_fit(noisy, exc, inh, 6500)
    assert abs(coef[0] - 4.3) <= 3 * sem[0] and sem[0] == pytest.approx(0.1 / np.sqrt(50), rel=0.3)


def test_rate_fit_without_inhibitory_inputs_fits_no_inhibitory_slope():
    # N = 1: one excitatory input, expected sum 4 Hz; the rate at 4 Hz is the intercept
    coef, sem = rate_fit(np.array([1.0, 2.0, 3.0]), np.array([3.0, 4.0, 5.0]), np.zeros(3), 1)
    np.testing.assert_allclose(coef, [2.0, 1.0, 0.0], atol=1e-12)
    assert sem[2] == 0.0


def test_rate_fit_needs_more_seeds_than_coefficients():
    with pytest.raises(ValueError, match=r"more seeds than fitted coefficients \(3\)\. Got 3 seed\(s\)"):
        rate_fit(np.ones(3), np.array([1.0, 2.0, 4.0]), np.array([1.0, 3.0, 2.0]), 10)


def test_the_numpy_model_is_within_the_spec_bands_of_its_expectation(built):
    table = compare_expectation(built["numpy"]).set_index("we_pS")
    assert table["judged"].all() and table["rate_ok"].all() and table["vm_ok"].all()
    for we, expected in MODEL_EXPECTATION.set_index("we_pS")["rate_Hz"].items():
        row = table.loc[we]
        assert row.rate_expected == expected
        # the band is the spec's: 10 % or 0.5 Hz, whichever is larger
        assert row.rate_band == max(0.1 * expected, 0.5)
        # and, sharper, the statistics: plain and drawn-rate-adjusted means within 3 standard errors
        assert abs(row.z) <= 3
        assert abs(row.rate_adjusted - expected) <= 3 * np.hypot(row.rate_adjusted_sem, 0.005)
        assert row.rate_adjusted_sem < row.rate_sem / 2


def test_both_streams_have_the_same_expectation(built):
    numpy_, julia = (compare_expectation(built[k]).set_index("we_pS") for k in ("numpy", "julia"))
    diff = julia["rate_adjusted"] - numpy_["rate_adjusted"]
    assert np.all(np.abs(diff) <= 3 * np.hypot(julia["rate_adjusted_sem"], numpy_["rate_adjusted_sem"]))
    assert np.all(np.abs(julia["vm_mean"] - numpy_["vm_mean"]) <= 3 * np.hypot(julia["vm_sem"], numpy_["vm_sem"]))


def test_the_seeds_table_is_its_block_of_draws(built):
    """Seeds 0-9 drew few excitatory and many inhibitory input spikes: that, not the model, puts
    the table below the expectation."""
    table = compare_expectation(built["numpy"]).set_index("we_pS")
    seed = SEED_WE_SWEEP.set_index("we_pS")["output_rate_Hz"]
    for we in TABLE_WE:
        assert table.loc[we, "rate_adjusted"] - seed[we] > 0.25
        assert abs(table.loc[we, "seed_block_predicted"] - seed[we]) <= 0.15


def test_metrics_are_a_flat_dict_of_numbers(built):
    metrics = expectation_agreement(built["numpy"])
    assert metrics["n_seeds"] == 100 and metrics["rows_judged"] == 3 and metrics["rows_ok"] == 3
    assert metrics["we15pS_rate_expected_Hz"] == 4.29 and metrics["we15pS_seed_table_rate_Hz"] == 4.0
    assert all(isinstance(v, int | float) for v in metrics.values())
    assert len(metrics) == 3 + 3 * 10


def test_fewer_than_100_seeds_are_not_judged(built):
    few = built["numpy"].isel(seed=slice(0, 50))
    assert not compare_expectation(few)["judged"].any()
    assert expectation_agreement(few)["rows_judged"] == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"n_seeds": 3}, r"'n_seeds' parameter of stage adex_expectation must be an int in the range \[4, "),
        ({"rng": "pcg"}, r"'rng' parameter of stage adex_expectation must be one of \['numpy', 'julia'\]\. Got 'pcg'"),
        ({"we": [15.0, 12.0]}, r"'we' parameter of stage adex_expectation"),
    ],
)
def test_bad_params_are_rejected_before_any_work(data_dir, change, message):
    with pytest.raises(ParamError, match=message):
        expectation({**PARAMS, **change}, data_dir=data_dir, scheduler="synchronous")
    assert list(data_dir.iterdir()) == []
