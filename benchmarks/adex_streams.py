"""Speed of the AdEx simulator with the seed's Julia stream beside the default numpy stream.

Side by side in one run, interleaved so that both see the same machine load:

1. One simulation, N = 6500 inputs, T = 10 s, we = 15 pS, seed 0 (JIT warm-up excluded;
   median of repeats), and where the Julia stream's time goes (rates, spike trains and
   their delivery steps, the neuron).
2. The default w_e sweep (18 w_e x seeds 0-9, N = 6500, T = 10 s) in one process.
3. The default rate match (10 values of N, seeds 0-9), in one process (skip with --skip-match).

Prints each time and the ratio julia / numpy.

Run: .venv/bin/python benchmarks/adex_streams.py [--repeats 10] [--skip-match]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

N, T, WE_NS, SEED = 6500, 10.0, 0.015, 0
SWEEP_WE_PS = [0.0, 2.5, 5.0, 7.5, 10.0, 11.0, 12.0, 12.5, 13.0, 14.0, 15.0, 16.0, 17.5, 20.0, 22.5, 25.0, 27.5, 30.0]
MATCH_N = [10, 20, 45, 100, 200, 400, 800, 1600, 3200, 6500]
STREAMS = ("numpy", "julia")


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def side_by_side(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median wall time of each function, the runs interleaved."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            times[name].append(timed(fn))
    return {name: statistics.median(t) for name, t in times.items()}


def report(label: str, medians: dict[str, float], repeats: int, unit: str = "s") -> None:
    scale = 1e3 if unit == "ms" else 1.0
    parts = ", ".join(f"{name} {medians[name] * scale:.2f} {unit}" for name in STREAMS)
    print(f"{label}: {parts} (median of {repeats}); julia / numpy = {medians['julia'] / medians['numpy']:.2f}")


def julia_breakdown(repeats: int) -> dict[str, float]:
    import numpy as np

    from neurodata.adex._julia_inputs import arrival_counts, julia_rates, step_start_times
    from neurodata.adex._julia_rng import ziggurat_tables
    from neurodata.adex._kernels import integrate_adex_counts
    from neurodata.adex._model import AdExParams, _median_in_place, log_rate_moments

    params, tables = AdExParams(), ziggurat_tables()
    mu, sigma = log_rate_moments(params)
    n_steps = int(round(T / 1e-4))
    rates, state = julia_rates(N, SEED, mu=mu, sigma=sigma)
    steps = step_start_times(n_steps, 1e-4)
    counts_e, counts_i, _ = arrival_counts(state.copy(), rates, 5200, T, steps, 1e-4, tables.ke, tables.we, tables.fe)
    trace = np.empty(n_steps)
    parts = {
        "rates (randn(6500))": lambda: julia_rates(N, SEED, mu=mu, sigma=sigma),
        "spike trains + delivery steps": lambda: arrival_counts(
            state.copy(), rates, 5200, T, steps, 1e-4, tables.ke, tables.we, tables.fe
        ),
        "neuron (forward Euler)": lambda: integrate_adex_counts(
            counts_e, counts_i, WE_NS, 4 * WE_NS, np.array([params.E_L, 0.0, 0.0, 0.0]), trace, 0.1,
            *params.kernel_constants(),
        ),
        "median": lambda: _median_in_place(trace.copy()),
    }  # fmt: skip
    return {name: statistics.median(timed(fn) for _ in range(repeats)) for name, fn in parts.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--skip-match", action="store_true")
    args = parser.parse_args()

    from neurodata.adex import match_rate, simulate, we_sweep_slice

    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    for rng in STREAMS:
        simulate(N, 0.01, WE_NS, SEED, rng=rng)  # JIT compile / cache load
    one = side_by_side({rng: lambda rng=rng: simulate(N, T, WE_NS, SEED, rng=rng) for rng in STREAMS}, args.repeats)
    report(f"one simulation N={N}, T={T:g} s, we={WE_NS * 1000:g} pS", one, args.repeats, unit="ms")
    for name, seconds in julia_breakdown(args.repeats).items():
        print(f"  julia: {name:30s} {seconds * 1e3:6.2f} ms")

    def sweep(rng: str) -> None:
        for we in SWEEP_WE_PS:
            we_sweep_slice(we / 1000, N=N, T=T, dt=0.1, seeds=list(range(10)), rng=rng)

    report("default we sweep (180 simulations, one process)", side_by_side({rng: lambda rng=rng: sweep(rng) for rng in STREAMS}, 1), 1)
    if not args.skip_match:

        def match(rng: str) -> None:
            for n in MATCH_N:
                match_rate(n, target_rate=4.0, T=T, dt=0.1, seeds=list(range(10)), rng=rng)

        report("default rate match (10 N, one process)", side_by_side({rng: lambda rng=rng: match(rng) for rng in STREAMS}, 1), 1)


if __name__ == "__main__":
    main()
