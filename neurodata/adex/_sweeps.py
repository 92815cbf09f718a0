"""The two studies of the seed notebook: the w_e x seed sweep, and w_e for a target rate per N."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy.optimize import root_scalar

from ._model import simulate

__all__ = ["RateMatch", "initial_guess", "match_rate", "mean_rate", "we_sweep_slice"]

PS_PER_NS = 1000.0


def we_sweep_slice(we_nS: float, *, N: int, T: float, dt: float, seeds: list[int], rng: str = "numpy") -> xr.Dataset:
    """Median Vm and output rate for one w_e over all *seeds*: dims (we=1, seed).

    Parameters
    ----------
    we_nS : float
        Excitatory weight [nS].
    N : int
        Number of Poisson inputs.
    T : float
        Simulated time per run [s].
    dt : float
        Forward-Euler step [ms].
    seeds : list of int
        One simulation per seed.
    rng : {"numpy", "julia"}, default "numpy"
        The random stream.
    """
    results = [simulate(N, T, we_nS, seed, dt=dt, rng=rng) for seed in seeds]
    return xr.Dataset(
        {
            "median_vm": (("we", "seed"), np.array([[r.median_vm for r in results]])),
            "output_rate": (("we", "seed"), np.array([[r.output_rate for r in results]])),
        },
        coords={"we": [we_nS], "seed": seeds},
    )


def mean_rate(N: int, we_nS: float, *, T: float, dt: float, seeds: list[int], rng: str = "numpy") -> float:
    """Output rate [Hz] averaged over *seeds* (traces not recorded).

    With the Julia stream the rates are summed one after the other and then divided, as
    the seed's ``avg_spikerate`` does: a root finder that meets a mean of exactly the
    target stops there, so the mean must round as the seed's did.

    Parameters
    ----------
    N : int
        Number of Poisson inputs.
    we_nS : float
        Excitatory weight [nS].
    T : float
        Simulated time per run [s].
    dt : float
        Forward-Euler step [ms].
    seeds : list of int
        One simulation per seed.
    rng : {"numpy", "julia"}, default "numpy"
        The random stream.
    """
    rates = [simulate(N, T, we_nS, seed, dt=dt, record=False, rng=rng).output_rate for seed in seeds]
    if rng == "julia":
        total = 0.0
        for rate in rates:
            total += rate
        return total / len(rates)
    return float(np.mean(rates))


def initial_guess(N: int, *, w0_ref_pS: float = 15.0, N_ref: int = 6500) -> float:
    """The seed's initial guess w0(N) = 15 pS * 6500 / N, in nS.

    Parameters
    ----------
    N : int
        Number of Poisson inputs.
    w0_ref_pS : float, default 15.0
        The guess at *N_ref* [pS].
    N_ref : int, default 6500
        The number of inputs *w0_ref_pS* belongs to.
    """
    return w0_ref_pS * N_ref / N / PS_PER_NS


@dataclass(frozen=True)
class RateMatch:
    N: int
    we: float  # nS
    rate: float  # Hz, mean over seeds at we
    w0: float  # nS
    iterations: int

    @property
    def factor(self) -> float:
        return self.w0 / self.we


def match_rate(
    N: int,
    *,
    target_rate: float,
    T: float,
    dt: float,
    seeds: list[int],
    w0_ref_pS: float = 15.0,
    N_ref: int = 6500,
    rng: str = "numpy",
) -> RateMatch:
    """w_e [nS] at which the seed-averaged output rate equals *target_rate* [Hz].

    As in the seed: Brent's bracketing root finder on [w0/4, 4 w0] with xtol = w0/1000,
    w0 = :func:`initial_guess`. The same seeds are used at every w_e (common random
    numbers), so the mean rate is a deterministic function of w_e. *rng* is the random
    stream of :func:`simulate`.

    Parameters
    ----------
    N : int
        Number of Poisson inputs.
    target_rate : float
        The output rate to reach [Hz].
    T : float
        Simulated time per run [s].
    dt : float
        Forward-Euler step [ms].
    seeds : list of int
        One simulation per seed.
    rng : {"numpy", "julia"}, default "numpy"
        The random stream.
    w0_ref_pS, N_ref : float, int
        The initial guess is ``w0_ref_pS * N_ref / N`` [pS] (:func:`initial_guess`).

    Raises
    ------
    ValueError
        If the rate does not cross the target inside the bracket (the message gives the
        rates at both ends).
    """
    w0 = initial_guess(N, w0_ref_pS=w0_ref_pS, N_ref=N_ref)

    def excess(we: float) -> float:
        return mean_rate(N, we, T=T, dt=dt, seeds=seeds, rng=rng) - target_rate

    lo, hi = w0 / 4, 4 * w0
    f_lo, f_hi = excess(lo), excess(hi)
    if np.sign(f_lo) == np.sign(f_hi):
        msg = (
            f"For N={N} the mean output rate does not cross {target_rate} Hz between w0/4 = {lo:.6g} nS "
            f"({f_lo + target_rate:.3g} Hz) and 4 w0 = {hi:.6g} nS ({f_hi + target_rate:.3g} Hz). "
            "Use a longer T or more seeds, or another target_rate."
        )
        raise ValueError(msg)
    sol = root_scalar(excess, bracket=[lo, hi], xtol=w0 / 1000, method="brentq")
    rate = mean_rate(N, sol.root, T=T, dt=dt, seeds=seeds, rng=rng)
    return RateMatch(N=N, we=float(sol.root), rate=rate, w0=w0, iterations=int(sol.iterations))
