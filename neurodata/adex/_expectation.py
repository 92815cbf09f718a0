"""The model's expectation from many seeds: plain means, and means adjusted for the drawn input rates.

A seed's output rate depends mostly on two numbers it draws: the summed excitatory and
inhibitory input rates. Their expectations are known exactly (N_e and N_i times the mean
input rate), so regressing the per-seed rates on the drawn sums' deviations and reading
the intercept estimates the expectation with a 3-4 times smaller standard error than the
plain mean (control variates). The slopes also say how far one block of seeds, such as the
seed notebook's 0-9, is expected to sit from the expectation given what it drew.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ._model import AdExParams, split_inputs

__all__ = ["block_prediction", "expectation_table", "expected_rate_sums", "rate_fit"]


def expected_rate_sums(N: int, params: AdExParams = AdExParams()) -> tuple[float, float]:
    """Expected summed input rates [Hz], (excitatory, inhibitory): N_e and N_i times the mean rate."""
    n_exc, n_inh = split_inputs(N, params)
    return n_exc * params.input_rate_mean, n_inh * params.input_rate_mean


def rate_fit(rates: np.ndarray, exc_sums: np.ndarray, inh_sums: np.ndarray, N: int) -> tuple[np.ndarray, np.ndarray]:
    """Least squares of rate = a + b_e (S_e - E S_e) + b_i (S_i - E S_i) over seeds.

    Parameters
    ----------
    rates : ndarray of shape (n_seeds,)
        Output rates [Hz].
    exc_sums, inh_sums : ndarray of shape (n_seeds,)
        Summed drawn input rates [Hz] of the same seeds.
    N : int
        Number of inputs (gives the expected sums).

    Returns
    -------
    coef : ndarray of shape (3,)
        (a [Hz], b_e, b_i [Hz per Hz]); a is the expectation of the rate. A sum that does
        not vary over the seeds (no inhibitory inputs) gets a slope of 0.
    sem : ndarray of shape (3,)
        Standard errors of the coefficients.
    """
    expected_e, expected_i = expected_rate_sums(N)
    columns = [np.ones_like(rates), exc_sums - expected_e, inh_sums - expected_i]
    used = [0] + [j for j in (1, 2) if np.ptp(columns[j]) > 0]
    X = np.column_stack([columns[j] for j in used])
    n, p = X.shape
    if n <= p:
        msg = f"The expectation needs more seeds than fitted coefficients ({p}). Got {n} seed(s)."
        raise ValueError(msg)
    fitted, *_ = np.linalg.lstsq(X, rates, rcond=None)
    residual = rates - X @ fitted
    cov = residual @ residual / (n - p) * np.linalg.inv(X.T @ X)
    coef, sem = np.zeros(3), np.zeros(3)
    coef[used], sem[used] = fitted, np.sqrt(np.diag(cov))
    return coef, sem


def expectation_table(ds: xr.Dataset) -> pd.DataFrame:
    """Per w_e: the mean over seeds with its standard error, and the drawn-rate-adjusted mean.

    Parameters
    ----------
    ds : xarray.Dataset
        An ``adex_expectation`` artifact: ``output_rate`` and ``median_vm`` (we, seed),
        ``exc_input_rate`` and ``inh_input_rate`` (seed), attr ``N``.

    Returns
    -------
    pandas.DataFrame
        One row per w_e: ``we_pS``, ``n_seeds``, ``rate_mean``, ``rate_sem``,
        ``rate_adjusted``, ``rate_adjusted_sem``, ``slope_exc``, ``slope_inh`` [Hz/Hz],
        ``vm_mean``, ``vm_sem`` [mV].
    """
    ds = ds.load()
    exc, inh = ds["exc_input_rate"].values, ds["inh_input_rate"].values
    n = ds.sizes["seed"]
    rows = []
    for we in ds["we"].values:
        rate = ds["output_rate"].sel(we=we).values
        vm = ds["median_vm"].sel(we=we).values
        coef, sem = rate_fit(rate, exc, inh, int(ds.attrs["N"]))
        rows.append(
            {
                "we_pS": round(float(we) * 1000, 6),
                "n_seeds": n,
                "rate_mean": rate.mean(),
                "rate_sem": rate.std(ddof=1) / np.sqrt(n),
                "rate_adjusted": coef[0],
                "rate_adjusted_sem": sem[0],
                "slope_exc": coef[1],
                "slope_inh": coef[2],
                "vm_mean": vm.mean(),
                "vm_sem": vm.std(ddof=1) / np.sqrt(n),
            }
        )
    return pd.DataFrame(rows)


def block_prediction(table: pd.DataFrame, exc_sums: np.ndarray, inh_sums: np.ndarray, N: int) -> np.ndarray:
    """Mean rate [Hz] expected of one block of seeds, given the input-rate sums it drew.

    The adjusted expectation plus the fitted slopes times the block's mean deviations from
    the expected sums, one value per row of :func:`expectation_table`.
    """
    expected_e, expected_i = expected_rate_sums(N)
    d_exc = float(np.mean(exc_sums)) - expected_e
    d_inh = float(np.mean(inh_sums)) - expected_i
    return (table["rate_adjusted"] + table["slope_exc"] * d_exc + table["slope_inh"] * d_inh).to_numpy()
