"""The N-to-1 AdEx model: one adaptive-exponential neuron ("cortical RS") receiving N Poisson
inputs through conductance synapses (Nto1AdEx.jl, T. Fiers 2023; see docs/adex.md)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..seeds import rng as rng_for
from ._julia_inputs import julia_inputs, julia_rates
from ._kernels import MAX_STEP_MEAN, integrate_adex, integrate_adex_counts, poisson_cdf

__all__ = ["STREAMS", "AdExParams", "SimResult", "draw_input_rates", "input_rate_sums", "simulate"]

#: Random streams of :func:`simulate`: numpy's (pooled Poisson counts) or the seed's Julia 1.9 stream.
STREAMS = ("numpy", "julia")

#: Steps integrated per kernel call; the uniforms of one block are drawn at once (16 bytes/step).
BLOCK_STEPS = 2**17


@dataclass(frozen=True)
class AdExParams:
    """Neuron, synapse and input constants. Units: pF, nS, mV, pA, ms, Hz."""

    C: float = 104.0  # pF
    g_L: float = 4.3  # nS
    E_L: float = -65.0  # mV
    V_T: float = -52.0  # mV
    Delta_T: float = 0.8  # mV
    V_s: float = 40.0  # mV, spike detection
    V_r: float = -53.0  # mV, reset
    a: float = -0.8  # nS
    b: float = 65.0  # pA
    tau_w: float = 88.0  # ms
    E_e: float = 0.0  # mV
    E_i: float = -80.0  # mV
    tau_g: float = 7.0  # ms, both synapse types
    wi_over_we: float = 4.0  # w_i = 4 w_e
    exc_fraction: float = 0.8  # N_e = round(N * 4/5)
    input_rate_mean: float = 4.0  # Hz, mean of the lognormal input-rate distribution
    input_rate_log_var: float = 0.6  # variance of log(rate)

    def kernel_constants(self) -> tuple[float, ...]:
        d = asdict(self)
        names = ("C", "g_L", "E_L", "V_T", "Delta_T", "V_s", "V_r", "a", "b", "tau_w", "E_e", "E_i", "tau_g")
        return tuple(float(d[n]) for n in names)


@dataclass(frozen=True)
class SimResult:
    """Outcome of one simulation."""

    n_spikes: int
    output_rate: float  # Hz
    median_vm: float  # mV (NaN when the trace was not recorded)


def split_inputs(N: int, params: AdExParams = AdExParams()) -> tuple[int, int]:
    """Numbers of excitatory and inhibitory inputs: N_e = round(N * 4/5), N_i = N - N_e."""
    n_exc = int(round(N * params.exc_fraction))
    return n_exc, N - n_exc


def log_rate_moments(params: AdExParams = AdExParams()) -> tuple[float, float]:
    """(mu, sigma) of log(rate / Hz): sigma = sqrt(var), mu = ln(mean) - sigma**2 / 2."""
    sigma = np.sqrt(params.input_rate_log_var)
    return float(np.log(params.input_rate_mean) - sigma**2 / 2), float(sigma)


def draw_input_rates(N: int, rng: np.random.Generator, params: AdExParams = AdExParams()) -> np.ndarray:
    """Per-input Poisson rates [Hz], shape (N,): lognormal with mean 4 Hz and var(log r) = 0.6.

    The first N_e entries are the excitatory inputs.

    Parameters
    ----------
    N : int
        Number of inputs.
    rng : numpy.random.Generator
        The stream to draw from.
    params : AdExParams, optional
        The model constants (default: the seed's).
    """
    mu, sigma = log_rate_moments(params)
    return rng.lognormal(mean=mu, sigma=sigma, size=N)


def input_rate_sums(N: int, seed: int, *, rng: str = "numpy", params: AdExParams = AdExParams()) -> tuple[float, float]:
    """Summed input rates [Hz] (excitatory, inhibitory) that :func:`simulate` draws for *seed*.

    Their expectations are N_e and N_i times the mean input rate (4 Hz); a seed's deviation
    from them explains most of its deviation in output rate.

    Parameters
    ----------
    N : int
        Number of inputs.
    seed : int
        The simulation's seed.
    rng : {"numpy", "julia"}, default "numpy"
        The random stream.
    params : AdExParams, optional
        The model constants (default: the seed's).
    """
    _check_stream(rng)
    if rng == "julia":
        mu, sigma = log_rate_moments(params)
        rates, _ = julia_rates(N, seed, mu=mu, sigma=sigma)
    else:
        rates = draw_input_rates(N, rng_for(seed, 0), params)
    n_exc, _ = split_inputs(N, params)
    return float(rates[:n_exc].sum()), float(rates[n_exc:].sum())


def _check_stream(rng: str) -> None:
    if rng not in STREAMS:
        msg = f"Unknown random stream rng={rng!r}. Expected one of {list(STREAMS)}."
        raise ValueError(msg)


def _median_in_place(values: np.ndarray) -> float:
    """np.median without its copy: partitions *values* in place (they are not needed after)."""
    k = values.size // 2
    if values.size % 2:
        values.partition(k)
        return float(values[k])
    values.partition((k - 1, k))
    return float(0.5 * (values[k - 1] + values[k]))


def simulate(
    N: int,
    T: float,
    we: float,
    seed: int,
    *,
    dt: float = 0.1,
    record: bool = True,
    params: AdExParams = AdExParams(),
    rng: str = "numpy",
) -> SimResult:
    """Simulate the N-to-1 AdEx neuron for *T* seconds.

    Each input fires as a Poisson process at its own rate, drawn once per simulation from
    *seed*. With ``rng="numpy"`` the summed excitatory (inhibitory) input is a Poisson
    process with the summed rate, so per-step spike counts are drawn directly: exact in
    distribution, O(steps). Uniforms for the counts come in blocks from numpy's PCG64 and
    are inverted on a Poisson CDF table in the numba kernel. With ``rng="julia"`` every
    input spike is drawn as the seed drew it, with Julia 1.9's stream, and delivered at the
    step the seed delivered it (:mod:`._julia_inputs`): the seed's results, seed for seed.
    Either way the same *seed* gives the same inputs for every *we*, so a sweep over *we*
    sees common random numbers (and the mean rate is a smooth function of *we*).

    Parameters
    ----------
    N : int
        Number of inputs (>= 1).
    T : float
        Duration [s] (> 0).
    we : float
        Excitatory conductance jump per input spike [nS]; inhibitory is 4 we.
    seed : int
        Seed of the input rates and the input spike counts.
    dt : float, default 0.1
        Forward-Euler step [ms].
    record : bool, default True
        Keep the membrane trace for the median (False is faster; median_vm is then NaN).
    params : AdExParams
        Neuron, synapse and input constants.
    rng : {"numpy", "julia"}, default "numpy"
        Random stream of the inputs: numpy's (fast, pooled counts) or the seed's Julia 1.9
        stream (every input spike; about 2-3 times slower).

    Returns
    -------
    SimResult
        Spike count, output rate [Hz] and median membrane potential [mV], with the trace
        ceiled to V_s at spike steps before the median is taken.
    """
    _check_stream(rng)
    if rng == "julia":
        return _simulate_julia(N, T, we, seed, dt=dt, record=record, params=params)
    rates = draw_input_rates(N, rng_for(seed, 0), params)
    n_exc, _ = split_inputs(N, params)
    dt_s = dt * 1e-3
    lam_e = float(rates[:n_exc].sum() * dt_s)
    lam_i = float(rates[n_exc:].sum() * dt_s)
    if max(lam_e, lam_i) > MAX_STEP_MEAN:
        msg = (
            f"N={N} inputs give {max(lam_e, lam_i):.0f} input spikes per step of {dt} ms on average; "
            f"at most {MAX_STEP_MEAN:.0f} are supported. Use a smaller dt."
        )
        raise ValueError(msg)
    n_steps = int(round(T * 1e3 / dt))
    cdf_e, cdf_i = poisson_cdf(lam_e), poisson_cdf(lam_i)
    uniforms = rng_for(seed, 1)
    state = np.array([params.E_L, 0.0, 0.0, 0.0])
    trace = np.empty(n_steps if record else 0)
    constants = params.kernel_constants()
    n_spikes = 0
    for start in range(0, n_steps, BLOCK_STEPS):
        n = min(BLOCK_STEPS, n_steps - start)
        u = uniforms.random((2, n))
        v_out = trace[start : start + n] if record else trace
        n_spikes += integrate_adex(u[0], u[1], cdf_e, cdf_i, we, we * params.wi_over_we, state, v_out, dt, *constants)
    median = _median_in_place(trace) if record else float("nan")
    return SimResult(n_spikes=int(n_spikes), output_rate=n_spikes / T, median_vm=median)


def _simulate_julia(N: int, T: float, we: float, seed: int, *, dt: float, record: bool, params: AdExParams) -> SimResult:
    """:func:`simulate` with the seed's inputs, drawn from Julia 1.9's stream seeded with *seed*."""
    n_exc, _ = split_inputs(N, params)
    mu, sigma = log_rate_moments(params)
    # The seed's times are in seconds, its step dt ms written as dt * 1e-3 s.
    _, counts_e, counts_i = julia_inputs(N, n_exc, T, dt * 1e-3, seed, mu=mu, sigma=sigma)
    state = np.array([params.E_L, 0.0, 0.0, 0.0])
    trace = np.empty(counts_e.size if record else 0)
    w_i = we * params.wi_over_we
    n_spikes = integrate_adex_counts(counts_e, counts_i, we, w_i, state, trace, dt, *params.kernel_constants())
    median = _median_in_place(trace) if record else float("nan")
    return SimResult(n_spikes=int(n_spikes), output_rate=n_spikes / T, median_vm=median)
