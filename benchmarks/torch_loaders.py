"""Shuffled loading through neurodata.torch vs an in-memory numpy dataset of the same samples.

Side by side in one run, for each ML artifact (ANN batches, burst windows, GFR binned sweeps):

* **in-memory baseline**: every variable read into numpy first (outside the timing), a
  map-style dataset returning ``{key: torch.as_tensor(array[i])}``: the fastest hand-written
  loader there is, and one that needs the whole artifact in memory;
* **neurodata**: the preset (``ANNBatches``, ``BurstWindows``, ``GFRBinned``), reading lazily
  from the Zarr store.

Both go through the same ``DataLoader(shuffle=True, batch_size=..., num_workers=w,
persistent_workers=w > 0)``, w in {0, 2}: one cold epoch (starting the workers and, for
neurodata, reading the blocks), then warm epochs of the two loaders interleaved (what training
sees after the first epoch). Printed: samples/s of each (cold, best warm); the ratio neurodata /
baseline as the median of the rounds' ratios (each round times the two back to back, so a
change of load on the shared machine hits both; target >= 0.5 with 2 workers) and as the ratio
of the best epochs; neurodata's shuffled/sequential time of a cold epoch (it was 13x with a
one-chunk cache); and, for a cache smaller than the data, shuffle=True against
BlockShuffleSampler (blocks read).

Usage::

    nice -n 10 python benchmarks/torch_loaders.py [--data-dir DIR] [--profile default|tiny]
        [--rounds 12] [--batch-size 32]

Artifacts missing from DIR are built there with the profile (default: params.yaml; about
10 min on a free 2-core machine, most of it the BrainGrid simulation; tiny: about 2 min). Timings on a shared machine: the load average is printed next to them.
"""

from __future__ import annotations

import argparse
import os
import pickle
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import yaml
from torch.utils.data import DataLoader, Dataset

from neurodata.store import is_built
from neurodata.torch import ANNBatches, ArtifactDataset, BlockShuffleSampler, BurstWindows, GFRBinned

ROOT = Path(__file__).resolve().parents[1]
NEEDS = {
    "ann_batches": ["isf_simrun", "isf_spatial_bins", "isf_ann_batches"],
    "gfr_binned": ["gfr_cells", "gfr_binned"],
    "burst_windows": ["braingrid_simulation", "braingrid_spikes", "braingrid_bursts", "burst_windows"],
}


class InMemory(Dataset):
    """The same samples as *ds*, every array read into memory first."""

    def __init__(self, ds: ArtifactDataset) -> None:
        import dask

        full = ds.dataset.isel({ds.sample_dim: ds.positions})
        with dask.config.set(scheduler="synchronous"):
            self.arrays = {}
            for f in ds.fields:
                parts = [np.asarray(full[v].transpose(ds.sample_dim, ...).values) for v in f.variables]
                stacked = parts[0] if len(parts) == 1 else np.stack(parts, axis=-1)
                self.arrays[f.key] = np.ascontiguousarray(stacked, dtype=f.dtype)
        self.n = len(ds)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {k: torch.as_tensor(a[i]) for k, a in self.arrays.items()}


def _params(profile: str) -> dict:
    from neurodata.params import merge_profile

    with (ROOT / "params.yaml").open() as fh:
        params = yaml.safe_load(fh)
    if profile != "default":
        with (ROOT / "profiles" / f"{profile}.yaml").open() as fh:
            params = merge_profile(params, yaml.safe_load(fh))
    return params


def build(data_dir: Path, profile: str) -> None:
    """Run the stages of every missing artifact into *data_dir*."""
    import neurodata
    from neurodata.braingrid.stages import STAGES as BRAINGRID
    from neurodata.gfr.stages import STAGES as GFR
    from neurodata.isf.stages import STAGES as ISF

    run = {**ISF, **GFR, **BRAINGRID}
    params = _params(profile)
    with neurodata.set_options(progress="never"):
        for artifact, stages in NEEDS.items():
            if is_built(artifact, data_dir):
                continue
            for stage in stages:
                t0 = time.perf_counter()
                run[stage](params[stage], data_dir=data_dir, scheduler="synchronous")
                print(f"built {stage} ({profile}) in {time.perf_counter() - t0:.0f} s (not compared)")


def loader_of(ds: Dataset, *, workers: int, batch_size: int, shuffle: bool = True, sampler=None) -> DataLoader:
    return DataLoader(ds, batch_size=batch_size, shuffle=shuffle if sampler is None else False, sampler=sampler,
                      num_workers=workers, persistent_workers=workers > 0, timeout=300 if workers else 0)


def epoch(loader: DataLoader) -> float:
    """Seconds of one pass over *loader*."""
    t0 = time.perf_counter()
    for batch in loader:
        assert batch
    return time.perf_counter() - t0


def compare(name: str, ds: ArtifactDataset, args: argparse.Namespace) -> float:
    """Samples/s of both, cold and warm, with 0 and 2 workers; returns the median warm ratio with 2 workers."""
    t0 = time.perf_counter()
    memory = InMemory(ds)
    load_s = time.perf_counter() - t0
    mib = sum(a.nbytes for a in memory.arrays.values()) / 2**20
    n = len(ds)
    print(f"\n== {name}: {n} samples, {mib:.1f} MiB, {ds.n_blocks} blocks; keys "
          f"{', '.join(f'{f.key} {f.shape}' for f in ds.fields)} (baseline read into memory in {load_s:.2f} s)")
    print(f"{'workers':>7} | {'baseline cold':>13} {'warm':>10} | {'neurodata cold':>14} {'warm':>10} | "
          f"{'ratio: median':>13} {'best':>5} {'cold':>5}")
    ratio_2 = float("nan")
    for workers in (0, 2):
        fresh = pickle.loads(pickle.dumps(ds))   # an empty cache
        loaders = {"baseline": loader_of(memory, workers=workers, batch_size=args.batch_size),
                   "neurodata": loader_of(fresh, workers=workers, batch_size=args.batch_size)}
        cold = {label: n / epoch(loader) for label, loader in loaders.items()}
        warm: dict[str, list[float]] = {label: [] for label in loaders}
        for r in range(args.rounds):   # interleaved, the order alternating: load changes hit both alike
            for label in (list(loaders) if r % 2 == 0 else list(loaders)[::-1]):
                warm[label].append(n / epoch(loaders[label]))
        best = {label: max(v) for label, v in warm.items()}
        median = float(np.median(np.array(warm["neurodata"]) / np.array(warm["baseline"])))
        ratio = best["neurodata"] / best["baseline"]
        if workers == 2:
            ratio_2 = median
        print(f"{workers:>7} | {cold['baseline']:>11.0f}/s {best['baseline']:>8.0f}/s | {cold['neurodata']:>12.0f}/s "
              f"{best['neurodata']:>8.0f}/s | {median:>12.2f}x {ratio:>4.2f}x "
              f"{cold['neurodata'] / cold['baseline']:>4.2f}x")
        del loaders
    seq = epoch(loader_of(pickle.loads(pickle.dumps(ds)), workers=0, batch_size=args.batch_size, shuffle=False))
    shuf = epoch(loader_of(pickle.loads(pickle.dumps(ds)), workers=0, batch_size=args.batch_size, shuffle=True))
    print(f"cold epoch, 0 workers: shuffled {shuf:.3f} s, sequential {seq:.3f} s: "
          f"shuffled/sequential = {shuf / seq:.2f}x")
    return ratio_2


def larger_than_cache(data_dir: Path, args: argparse.Namespace) -> None:
    """A cache of a quarter of the data: shuffle=True rereads blocks, BlockShuffleSampler does not."""
    ds = ANNBatches(data_dir=data_dir)
    cache_mib = max(ds.block_nbytes, ds.block_nbytes * ds.n_blocks // 4) / 2**20
    print(f"\n== {ds.name} with a {cache_mib:.1f} MiB cache (a quarter of the data), 0 workers, one epoch")
    for label in ("shuffle=True", "BlockShuffleSampler"):
        small = ANNBatches(data_dir=data_dir, cache_mib=cache_mib)
        sampler = BlockShuffleSampler(small, seed=0) if label != "shuffle=True" else None
        t = epoch(loader_of(small, workers=0, batch_size=args.batch_size, sampler=sampler))
        info = small.cache_info()
        print(f"{label:>20}: {t:.3f} s, {len(ds) / t:.0f} samples/s, "
              f"{info.misses} block reads for {ds.n_blocks} blocks")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--profile", default="default", choices=["default", "tiny"])
    ap.add_argument("--rounds", type=int, default=12, help="warm epochs of each loader, interleaved")
    ap.add_argument("--batch-size", type=int, default=32)
    args = ap.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="torch_bench_"))
    build(data_dir, args.profile)
    torch.set_num_threads(1)
    print(f"data: {data_dir}; torch {torch.__version__}; {os.cpu_count()} CPUs; load average "
          f"{os.getloadavg()[0]:.1f} at the start")
    windows = sorted(int(k.split("_")[1]) for k in _window_nodes(data_dir))
    cases = {
        "ann_batches (ANNBatches)": ANNBatches(data_dir=data_dir),
        f"burst_windows window {windows[-1]}, spatial (BurstWindows)": BurstWindows(windows[-1], kind="spatial",
                                                                                     split=None, data_dir=data_dir),
        "gfr_binned bin 20 ms (GFRBinned)": GFRBinned(20, data_dir=data_dir),
    }
    ratios = {name: compare(name, ds, args) for name, ds in cases.items()}
    larger_than_cache(data_dir, args)
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")
    print("neurodata / in-memory baseline, shuffled, 2 workers, warm epochs, median of the rounds (target >= 0.5):")
    for name, r in ratios.items():
        print(f"  {name}: {r:.2f}x {'ok' if r >= 0.5 else 'BELOW TARGET'}")


def _window_nodes(data_dir: Path) -> list[str]:
    from neurodata.store import open_artifact

    return [k for k in open_artifact("burst_windows", data_dir=data_dir).children if k.startswith("window_")]


if __name__ == "__main__":
    main()
