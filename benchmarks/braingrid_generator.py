"""Throughput of the BrainGrid growth-network generator, in simulated seconds per wall second.

Runs ``simulate_growth_network`` (numba, one thread) with schedule "pregrowth" at W = 50 and
W = 100 and times, side by side in one run:

* the whole network unconnected (the cheapest regime: noise + LIF only);
* the uncoupled pre-onset epochs of schedule (b), where only the starters are integrated
  (one in ten neurons);
* the connected, bursting epochs after them (the regime that matters:
  synaptic events, plasticity updates, growth step at each epoch end). The mean non-starter
  rate of those epochs is printed: > 0 means the network was bursting (non-starters fire
  only in bursts), about 0.4 Hz per burst every 10 s at W = 50.

Usage::

    nice -n 10 .venv/bin/python benchmarks/braingrid_generator.py [--widths 50 100] [--epochs 3]

The first call compiles (or loads) the numba kernels; a warm-up run at W = 10 keeps that out
of the timings. The machine load is printed next to the figures: timings on a shared machine
are lower bounds of the throughput.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from neurodata.braingrid import SynapseParams, make_neurons, simulate_growth_network
from neurodata.braingrid._network import _NetworkState, _simulate_span
from neurodata.seeds import rng

# uncoupled epochs (10 s each, 0.01 growth per epoch) that put each grid in its bursting phase
# (W = 50 bursts regularly from about epoch 105 on, see the default run in params.yaml)
BURSTING_EPOCHS = {20: 112, 50: 105, 100: 96}


def _bench_schedule_b(width: int, epochs: int, seed: int) -> dict[str, float]:
    """Time the uncoupled epochs and the coupled epochs 2..E of a run that starts just past onset."""
    k0 = BURSTING_EPOCHS.get(width, 100)
    marks: list[tuple[float, float]] = []
    start = (time.perf_counter(), time.process_time())
    sim = simulate_growth_network(
        width, schedule="pregrowth", epoch_s=10.0, simulated_epochs=epochs, analytic_epochs=k0, seed=seed,
        on_epoch=lambda done, total: marks.append((time.perf_counter(), time.process_time())))
    # the first coupled epoch is not timed: it starts the network from the uncoupled state
    coupled = marks[-epochs:]
    other = ~sim.neurons.is_starter
    return {"uncoupled_s": 10.0 * k0, "uncoupled_wall_s": marks[k0 - 1][0] - start[0],
            "uncoupled_cpu_s": marks[k0 - 1][1] - start[1],
            "sim_s": 10.0 * (epochs - 1), "wall_s": coupled[-1][0] - coupled[0][0],
            "cpu_s": coupled[-1][1] - coupled[0][1],
            "spikes_per_s": int(np.count_nonzero(sim.spike_steps >= k0 * 100_000)) / (10.0 * epochs),
            "other_rate": float(sim.rates_history[-epochs:, other].mean())}


def _bench_unconnected(width: int, sim_s: float, seed: int) -> tuple[float, float]:
    """Wall and CPU seconds of *sim_s* seconds of the unconnected network (noise + LIF only)."""
    neurons = make_neurons(width, rng(seed))
    state = _NetworkState(neurons, capacity=1 << 20)
    steps = round(sim_s / 1e-4)
    counts = np.zeros((1, width * width), dtype=np.int64)
    t0, c0 = time.perf_counter(), time.process_time()
    _simulate_span(state, neurons, None, SynapseParams(), rng(seed), 0, steps, counts, steps, 0,
                   [], [])
    return time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", type=int, nargs="+", default=[50, 100])
    parser.add_argument("--epochs", type=int, default=4, help="connected 10-s epochs per width (>= 2)")
    parser.add_argument("--unconnected-s", type=float, default=20.0, help="simulated s of the unconnected network")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error(f"--epochs must be >= 2 (the first epoch is not timed); got {args.epochs}")

    simulate_growth_network(10, schedule="pregrowth", epoch_s=1.0, simulated_epochs=2, analytic_epochs=5,
                            seed=0)  # compile / load the kernels
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs (numba: one thread)")
    print("sim/wall: simulated s per wall s; sim/cpu: per CPU s of this process (= one dedicated core)")
    cols = f"{'sim s':>6} {'wall s':>7} {'sim/wall':>8} {'sim/cpu':>8}"
    print(f"{'W':>4} {'N':>6} | {'unconnected':>32} | {'uncoupled, starters alone':>32} | "
          f"{'connected, bursting':>32} | {'spikes/s':>9} {'non-starter Hz':>14}")
    print(f"{'':>4} {'':>6} | {cols} | {cols} | {cols} |")
    for w in args.widths:
        sim_u = args.unconnected_s
        wall_u, cpu_u = _bench_unconnected(w, sim_u, args.seed)
        r = _bench_schedule_b(w, args.epochs, args.seed)
        thr, thr_cpu = r["sim_s"] / r["wall_s"], r["sim_s"] / r["cpu_s"]
        verdict = ("target >= 2 on one core: " + ("met" if thr_cpu >= 2 else "missed")) if w == 50 else ""
        print(f"{w:>4} {w * w:>6} | {sim_u:>6.0f} {wall_u:>7.2f} {sim_u / wall_u:>8.2f} {sim_u / cpu_u:>8.2f} | "
              f"{r['uncoupled_s']:>6.0f} {r['uncoupled_wall_s']:>7.2f} {r['uncoupled_s'] / r['uncoupled_wall_s']:>8.2f} "
              f"{r['uncoupled_s'] / r['uncoupled_cpu_s']:>8.2f} | "
              f"{r['sim_s']:>6.0f} {r['wall_s']:>7.2f} {thr:>8.2f} {thr_cpu:>8.2f} | "
              f"{r['spikes_per_s']:>9.0f} {r['other_rate']:>14.2f} {verdict}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
