"""N-to-1 AdEx: one adaptive-exponential neuron driven by N Poisson inputs (Nto1AdEx.jl)."""

from ._expectation import expectation_table
from ._fidelity import (
    compare_expectation,
    compare_per_seed,
    compare_rate_match,
    compare_we_sweep,
    expectation_agreement,
    rate_match_agreement,
    seed_table_agreement,
)
from ._model import STREAMS, AdExParams, SimResult, draw_input_rates, input_rate_sums, simulate
from ._reference import MODEL_EXPECTATION, SEED_CONFIG, SEED_RATE_MATCH, SEED_WE_SWEEP, seed_per_seed_table
from ._sweeps import RateMatch, initial_guess, match_rate, mean_rate, we_sweep_slice
from .reports import fidelity_report

__all__ = [
    "MODEL_EXPECTATION",
    "SEED_CONFIG",
    "SEED_RATE_MATCH",
    "SEED_WE_SWEEP",
    "STREAMS",
    "AdExParams",
    "RateMatch",
    "SimResult",
    "compare_expectation",
    "compare_per_seed",
    "compare_rate_match",
    "compare_we_sweep",
    "draw_input_rates",
    "expectation_agreement",
    "expectation_table",
    "fidelity_report",
    "initial_guess",
    "input_rate_sums",
    "match_rate",
    "mean_rate",
    "rate_match_agreement",
    "seed_per_seed_table",
    "seed_table_agreement",
    "simulate",
    "we_sweep_slice",
]
