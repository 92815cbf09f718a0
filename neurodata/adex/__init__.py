"""N-to-1 AdEx: one adaptive-exponential neuron driven by N Poisson inputs (Nto1AdEx.jl)."""

from ._model import AdExParams, SimResult, draw_input_rates, simulate
from ._reference import SEED_RATE_MATCH, SEED_WE_SWEEP, fidelity_report
from ._sweeps import RateMatch, initial_guess, match_rate, mean_rate, we_sweep_slice

__all__ = [
    "SEED_RATE_MATCH",
    "SEED_WE_SWEEP",
    "AdExParams",
    "RateMatch",
    "SimResult",
    "draw_input_rates",
    "fidelity_report",
    "initial_guess",
    "match_rate",
    "mean_rate",
    "simulate",
    "we_sweep_slice",
]
