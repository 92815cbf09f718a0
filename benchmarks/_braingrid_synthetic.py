"""Large BrainGrid-layout HDF5 files for the derivation benchmarks, written with the generator's
writer (neurodata.braingrid.write_braingrid_h5) from a synthetic raster shaped like a W x W
growth run: 10 % starters firing as Poisson units at the highest rate (their columns are the
longest, as in the real file), and network bursts every few seconds in which every other
neuron fires a few spikes with a dense, local leading edge. Not a simulation: it only has to
have the real file's shape, fill and burst structure, at any size, in seconds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neurodata.braingrid import BrainGridRecord, write_braingrid_h5
from neurodata.seeds import rng as seed_rng

DT_S = 1e-4


def synthetic_file(
    path: Path,
    *,
    width: int = 50,
    rows: int = 16_000,
    fill: float = 0.15,
    ibi_s: float = 2.8,
    pad_factor: int = 1,
    seed: int = 0,
) -> dict:
    """Write a BrainGrid file of ``rows * pad_factor`` x ``width**2`` slots, about *fill* filled.

    The starters have exactly *rows* spikes; the run length is chosen so that starters fire at
    ~6 Hz (the real file's longest column: 375 898 spikes in 60 000 s). Bursts fill the rest up
    to *fill*. ``pad_factor > 1`` adds zero rows (same spikes, more padding).
    """
    rng = seed_rng(seed)
    n = width * width
    starters = np.flatnonzero(np.arange(n) % 10 == 7)
    others = np.setdiff1d(np.arange(n), starters)
    seconds = int(np.ceil(rows / 6.3 / 10.0)) * 10
    n_steps = round(seconds / DT_S)
    steps, neurons = [], []
    for s in starters:
        draws = np.unique(rng.integers(1, n_steps, int(rows * 1.05) + 16))
        t = np.sort(rng.choice(draws, size=rows, replace=False))
        steps.append(t)
        neurons.append(np.full(rows, s))
    onsets = np.arange(int(2.0 / DT_S), n_steps - int(1.0 / DT_S), int(ibi_s / DT_S))
    target_other = max(0, int(fill * rows * n) - rows * starters.size)
    per_burst_per_neuron = max(1, round(target_other / max(onsets.size * others.size, 1)))
    centre = rng.integers(0, n, onsets.size)
    for onset, c in zip(onsets, centre, strict=True):
        cx, cy = c % width, c // width
        dist = np.hypot(others % width - cx, others // width - cy)
        for rep in range(per_burst_per_neuron):
            t = onset + (dist * 8 + rng.gamma(2.0, 30.0, others.size)).astype(np.int64) + 120 * rep
            steps.append(t)
            neurons.append(others)
    steps = np.concatenate(steps).astype(np.int64)
    neurons = np.concatenate(neurons).astype(np.int64)
    keep = steps < n_steps
    key = np.unique(steps[keep] * n + neurons[keep])
    steps, neurons = key // n, key % n
    record = BrainGridRecord.from_raster(
        steps, neurons, width=width, starters=starters, inhibitory=np.flatnonzero(np.arange(n) % 10 == 2),
        n_epochs=seconds // 10, tsim_s=10.0,
    )  # fmt: skip
    max_count = int(record.spike_counts.max())
    write_braingrid_h5(path, record, n_rows=max_count * pad_factor)
    return {
        "path": Path(path),
        "shape": (max_count * pad_factor, n),
        "slots": max_count * pad_factor * n,
        "spikes": int(steps.size),
        "fill": steps.size / (max_count * pad_factor * n),
        "bursts": int(onsets.size),
        "n_steps": n_steps,
    }
