"""Batched GFR fitting against the original one-cell-at-a-time procedure, side by side in one run.

Both fit the full GFR (stage 2: Long Square, Ramp and Noise 1 groups, one Adam step per group
per epoch, Poisson NLL, the Noise 2 loss every epoch, Noise 1 EVR per restart) with the same
restarts and epochs, on the same simulated cells and the same frozen activations:

* reference: ``neurodata.gfr._reference.fit_cell_reference``, the original loop (torch ``GFR``
  module stepped bin by bin with autograd and ``torch.optim.Adam``), one cell after another;
* batched: ``neurodata.gfr._fit.fit_gfr_models``, every (cell, restart) of the batch in one
  numba BPTT kernel call per group step, with a vectorised Adam identical to torch's.

The reference runs on the first ``--ref-cells`` cells only (it is slow); the per-cell times are
compared and the reference cells' results checked against the batched ones.

Usage::

    nice -n 10 .venv/bin/python benchmarks/gfr_batched_fit.py [--cells 64] [--ref-cells 2] [--epochs 5] [--bin 50]

Timings on a shared machine (load printed) are noisy; both sides run under the same load.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def _prepare(n_cells: int, bin_size: int, seed: int):
    from neurodata import stage_params
    from neurodata.gfr import make_population, record_cells
    from neurodata.gfr._fit import pack_groups
    from neurodata.gfr._pipeline import _groups_of_cell
    from neurodata.gfr._preprocess import bin_sweeps, max_firing_rate
    from neurodata.gfr._stimuli import KIND_CODES, noise_layout

    p = stage_params("gfr_cells", seed=seed, missing_noise_fraction=0.0)   # the default cells, all with both noises
    pop = make_population(n_cells, seed=seed, human_fraction=p["human_fraction"], missing_noise_fraction=0.0,
                          noise_cv=tuple(p["noise_cv"]))
    rec = record_cells(pop, seed=seed, dt=p["dt"], n_noise_repeats=p["n_noise_repeats"],
                       n_ramp_repeats=p["n_ramp_repeats"], vt_jitter=p["vt_jitter"], noise_seeds=tuple(p["noise_seeds"]))
    sw = rec.sweeps
    waves = np.stack([noise_layout(s, dt=p["dt"]) for s in p["noise_seeds"]])
    binned = bin_sweeps(sw["stimulus_name"].map(KIND_CODES).to_numpy(), sw["amplitude"].to_numpy(),
                        sw["onset_ms"].to_numpy(), sw["duration_ms"].to_numpy(), sw["n_samples"].to_numpy(),
                        rec.spike_sweep, rec.spike_time, bin_sizes=[bin_size], dt=p["dt"], noise_waveforms=waves)
    names = sw["stimulus_name"].to_numpy()
    cell = sw["cell"].to_numpy()
    data = pack_groups([_groups_of_cell(*binned[bin_size], names, np.flatnonzero(cell == c))
                        for c in range(n_cells)], bin_size)
    gamma = max_firing_rate(rec.spike_sweep, rec.spike_time, cell, n_cells)
    rheo = rec.cells["rheobase"].to_numpy()
    return data, gamma, rheo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=64)
    parser.add_argument("--ref-cells", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--bin", type=int, default=50, choices=[10, 20, 50, 100])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import torch

    from neurodata.gfr._fit import fit_gfr_models
    from neurodata.gfr._model import decay_coefficients
    from neurodata.gfr._reference import fit_cell_reference
    from neurodata.seeds import rng

    torch.set_num_threads(1)
    data, gamma, rheo = _prepare(args.cells, args.bin, args.seed)
    gamma = np.where(np.isfinite(gamma), gamma, 0.1).astype(np.float32).astype(float)
    hparams = [(1e-2, args.epochs), (1e-3, args.epochs), (1e-4, args.epochs)]
    R = len(hparams)
    # one fixed cubic activation per cell (the activation fit is the same small step on both sides)
    sigma = np.float32(np.maximum(rheo + 120.0, 110.0)).astype(float)
    coeff = np.float32([0.3, 1.2, 0.2, 0.1]).astype(float)
    g_b = np.float32(0.8 * rheo).astype(float)
    orders = np.stack([rng(args.seed, c).permutation(3) for c in range(args.cells)])

    cell_of = np.repeat(np.arange(args.cells), R)
    g = {"max_current": sigma[cell_of], "max_firing_rate": gamma[cell_of],
         "poly_coeff": np.tile(coeff, (cell_of.size, 1)), "b": g_b[cell_of]}
    lr = np.tile([h[0] for h in hparams], args.cells)
    ep = np.tile([h[1] for h in hparams], args.cells)
    ds = decay_coefficients(args.bin).double().numpy()
    fit_gfr_models(data, cell_of[:R], orders[cell_of[:R]], {k: v[:R] for k, v in g.items()}, ds, lr[:R],
                   np.ones(R, np.int64))                      # warm-up: load the compiled kernels
    t0 = time.perf_counter()
    res = fit_gfr_models(data, cell_of, orders[cell_of], g, ds, lr, ep)
    t_batched = time.perf_counter() - t0

    t0 = time.perf_counter()
    refs = []
    for c in range(args.ref_cells):
        gp = {"max_current": [sigma[c]], "max_firing_rate": [gamma[c]], "poly_coeff": [coeff.tolist()],
              "b": [g_b[c]], "bin_size": 100}
        refs.append(fit_cell_reference(data, c, gp, orders[c], hparams))
    t_ref = time.perf_counter() - t0

    worst_a = worst_evr = 0.0
    for c, ref in enumerate(refs):
        rows = np.arange(c * R, (c + 1) * R)
        best = rows[int(np.nanargmax(res["evr1"][rows]))]
        worst_evr = max(worst_evr, abs(res["evr1"][best] - ref["evr1"]))
        worst_a = max(worst_a, float(np.max(np.abs(res["a"][best] - np.array(ref["params"]["a"][0])))))
    per_ref = t_ref / args.ref_cells
    per_batched = t_batched / args.cells
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; bin {args.bin} ms, "
          f"{R} restarts x {args.epochs} epochs, groups LS/Ramp/Noise 1 + Noise 2 loss")
    print(f"reference (one cell at a time, torch autograd): {args.ref_cells} cells in {t_ref:.2f} s = "
          f"{per_ref:.3f} s/cell")
    print(f"batched ({args.cells} cells x {R} restarts in one batch):   {args.cells} cells in {t_batched:.2f} s = "
          f"{per_batched:.4f} s/cell")
    print(f"speed-up per cell: {per_ref / per_batched:.1f}x")
    print(f"agreement on the reference cells: max |d evr1| = {worst_evr:.2e}, max |d alpha| = {worst_a:.2e}")


if __name__ == "__main__":
    main()
