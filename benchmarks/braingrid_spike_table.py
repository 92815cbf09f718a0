"""Spike table from a BrainGrid HDF5: neurodata's block-streamed reader vs the seed's approach
vs a bare h5py read of the matrix (the physical floor), side by side, and its scaling.

For each synthetic BrainGrid file (benchmarks/_braingrid_synthetic.py; W = 50, about 15 %
of the slots filled, starters' columns the longest), three approaches run in fresh
subprocesses, so that each peak memory is measured alone (peak RSS above the RSS after
imports and file open: VmHWM after resetting it through /proc/self/clear_refs):

* bare  : ``f["spikesProbedNeurons"][...]`` (uint64), nothing else;
* seed  : the notebook's create_spike_matrix (dense uint32 load, transpose, numpy.ma mask,
          repeat coordinates, pandas sort), re-implemented in benchmarks/_braingrid_seed.py;
* ours  : neurodata.braingrid.spike_table (4-MiB row blocks read at the dataset's file offset,
          numba scan of the columns still active into ~500 time buckets, which a second
          thread radix-sorts as they fill).

Files: 1e7, 4e7 and 1.6e8 slots with proportionally more spikes, and the 4e7 file padded 4x
(1.6e8 slots, the same spikes). The page cache is warmed before each file, and the approaches
run in interleaved rounds; the table gives each one's best round (wall time, peak memory). Prints a table
and the criteria at 4e7 slots (>= 4x faster than seed, <= 1/2 its peak memory, within 2x of
the bare read; peak memory not growing with the padding), then an extrapolation to the
seed's real layout (375 898 x 10 000 uint64, 30 GB).

``--real-shape`` instead reads a file of the seed's exact shape (375 898 x 10 000 uint64), stored
chunked so that only its spikes take disk (HDF5 fills the rest with 0): it shows the reader on
3.76e9 slots with memory bounded by block + spikes.

Run: nice -n 10 .venv/bin/python benchmarks/braingrid_spike_table.py [--sizes 4000,16000,64000] [--workdir DIR]
     nice -n 10 .venv/bin/python benchmarks/braingrid_spike_table.py --real-shape
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from neurodata.seeds import rng as seed_rng

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

APPROACHES = ("bare", "ours", "seed")

MEASURE = r"""
import json, sys, time, gc
import h5py, numpy as np
sys.path.insert(0, {here!r})
approach, path, warmup = sys.argv[1], sys.argv[2], sys.argv[3]
if approach == "ours":
    from neurodata.braingrid import spike_table
    with h5py.File(warmup, "r") as w:  # load the numba kernels (JIT/cache) on a small file first
        spike_table(w)
elif approach == "seed":
    import pandas as pd
    from _braingrid_seed import create_spike_matrix

def status(key):
    with open("/proc/self/status") as fh:
        return [int(l.split()[1]) for l in fh if l.startswith(key)][0]

f = h5py.File(path, "r")
gc.collect()
with open("/proc/self/clear_refs", "w") as fh:  # reset the peak-RSS counter (VmHWM) to the current RSS
    fh.write("5")
base = status("VmRSS")
c0 = time.process_time()
t0 = time.perf_counter()
if approach == "bare":
    out = f["spikesProbedNeurons"][...]
    n = out.shape[0]
elif approach == "seed":
    out = create_spike_matrix(f)
    n = len(out)
else:
    out = spike_table(f)
    n = out.sizes["spike"]
wall = time.perf_counter() - t0
cpu = time.process_time() - c0
peak = status("VmHWM")
check = None
if approach != "bare":
    ts = np.asarray(out["time_step"].values if approach == "ours" else out["time_step"].to_numpy(), dtype=np.int64)
    check = [int(ts.size), int(ts[:: max(1, ts.size // 1000)].sum())]
print(json.dumps({{"approach": approach, "wall_s": wall, "cpu_s": cpu, "peak_mib": (peak - base) / 1024, "n": n, "check": check}}))
"""


def measure(approach: str, path: Path, warmup: Path) -> dict:
    code = MEASURE.format(here=str(HERE))
    out = subprocess.run([sys.executable, "-c", code, approach, str(path), str(warmup)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def warm(path: Path) -> None:
    with path.open("rb") as fh:
        while fh.read(64 * 2**20):
            pass


REAL_SHAPE = r"""
import json, sys, time
import h5py, numpy as np
from neurodata.braingrid import spike_table

def status(key):
    with open("/proc/self/status") as fh:
        return [int(l.split()[1]) for l in fh if l.startswith(key)][0]

f = h5py.File(sys.argv[1], "r")
with h5py.File(sys.argv[2], "r") as w:
    spike_table(w)
with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")
base = status("VmRSS")
c0, t0 = time.process_time(), time.perf_counter()
ds = spike_table(f)
print(json.dumps({"wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0,
                  "peak_mib": (status("VmHWM") - base) / 1024, "spikes": int(ds.sizes["spike"])}))
"""


def real_shape_file(path: Path, *, spikes_per_neuron: int = 40, seed: int = 0) -> dict:
    """A file with the seed's matrix shape, 375 898 x 10 000 uint64 (3.76e9 slots, 30 GB if
    dense), stored chunked so that only the chunks holding spikes take disk space (HDF5 returns
    the fill value 0 for the rest). Neuron 0 has 375 898 spikes (the real file's longest
    column, which sets the row count); the others *spikes_per_neuron*."""
    import h5py

    rows, n = 375_898, 10_000
    rng = seed_rng(seed)
    n_steps = 600_000_000
    first = np.sort(rng.choice(n_steps - 1, rows, replace=False) + 1).astype(np.uint64)
    block = np.sort(rng.integers(1, n_steps, (spikes_per_neuron, n - 1)), axis=0).astype(np.uint64)
    block[1:][np.diff(block, axis=0) == 0] += 1  # keep each column strictly increasing (rare ties)
    history = np.bincount(np.concatenate([first, block.ravel()]).astype(np.int64) // 100, minlength=n_steps // 100)
    with h5py.File(path, "w") as f:
        for key, value in {
            "xloc": np.arange(n) % 100,
            "yloc": np.arange(n) // 100,
            "neuronTypes": np.full(n, 2),
            "starterNeurons": np.arange(7, n, 10),
            "probedNeurons": np.arange(n),
            "spikesHistory": history,
        }.items():
            f.create_dataset(key, data=np.asarray(value, dtype="<i4"))
        ds = f.create_dataset("spikesProbedNeurons", shape=(rows, n), dtype="<u8", chunks=(1024, 16), fillvalue=0)
        ds.attrs["attrPNUint"] = np.float32(1e-4)
        ds[:, 0] = first
        ds[:spikes_per_neuron, 1:] = block
    return {"shape": (rows, n), "spikes": rows + spikes_per_neuron * (n - 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="4000,16000,64000", help="rows of the W = 50 files (1e7, 4e7, 1.6e8 slots)")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved rounds (best wall time and its peak memory; median)")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--real-shape", action="store_true", help="only: read a file of the seed's real shape (chunked, mostly unallocated)")
    args = parser.parse_args()
    from _braingrid_synthetic import synthetic_file

    work = Path(args.workdir or tempfile.mkdtemp(prefix="bg_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    if args.real_shape:
        warmup = work / "bg_warmup.h5"
        if not warmup.exists():
            synthetic_file(warmup, width=10, rows=200)
        path = work / "bg_real_shape.h5"
        info = real_shape_file(path)
        out = subprocess.run([sys.executable, "-c", REAL_SHAPE, str(path), str(warmup)], capture_output=True, text=True, check=True)
        res = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"real shape {info['shape'][0]} x {info['shape'][1]} (3.76e9 slots; {path.stat().st_size / 2**20:.0f} MiB on disk, chunked): "
              f"{res['spikes']} spikes in {res['wall_s']:.1f} s (cpu {res['cpu_s']:.1f} s), peak {res['peak_mib']:.0f} MiB above the open file")
        return 0
    rows_list = [int(r) for r in args.sizes.split(",")]
    cases = [(r, 1) for r in rows_list]
    if 16000 in rows_list:
        cases.append((16000, 4))
    results = []
    warmup = work / "bg_warmup.h5"
    if not warmup.exists():
        synthetic_file(warmup, width=10, rows=200)
    for rows, pad in cases:
        path = work / f"bg_w50_r{rows}_pad{pad}.h5"
        info = synthetic_file(path, rows=rows, pad_factor=pad) if not path.exists() else None
        if info is None:
            import h5py

            with h5py.File(path) as f:
                shape = f["spikesProbedNeurons"].shape
                nspk = int(f["spikesHistory"][...].sum())
            info = {"shape": shape, "slots": shape[0] * shape[1], "spikes": nspk, "fill": nspk / (shape[0] * shape[1])}
        warm(path)
        row = {"rows": rows, "pad": pad, **{k: info[k] for k in ("shape", "slots", "spikes", "fill")}}
        # Interleaved rounds (bare, ours, seed, bare, ...): a slow spell of the shared VM
        # (page-cache reclaim, host faults) then hits every approach, not just one.
        runs: dict[str, list[dict]] = {a: [] for a in APPROACHES}
        for _ in range(args.repeats):
            for approach in APPROACHES:
                runs[approach].append(measure(approach, path, warmup))
        for approach in APPROACHES:
            row[approach] = min(runs[approach], key=lambda r: r["wall_s"])
            row[approach]["median_wall_s"] = float(np.median([r["wall_s"] for r in runs[approach]]))
        if row["ours"]["check"] != row["seed"]["check"]:
            print(f"WARNING: spike tables differ for {path.name}: {row['ours']['check']} vs {row['seed']['check']}")
        results.append(row)
        print(
            f"{row['shape'][0]:>7} x {row['shape'][1]:<5} slots {row['slots']:.2e} spikes {row['spikes']:.2e} fill {row['fill']:.3f} | "
            + " | ".join(
                f"{a} {row[a]['wall_s']:6.2f} s (cpu {row[a]['cpu_s']:5.2f}) {row[a]['peak_mib']:6.0f} MiB" for a in ("bare", "ours", "seed")
            ),
            flush=True,
        )
    print()
    ref = next((r for r in results if r["rows"] == 16000 and r["pad"] == 1), results[0])
    speed = ref["seed"]["wall_s"] / ref["ours"]["wall_s"]
    mem = ref["ours"]["peak_mib"] / ref["seed"]["peak_mib"]
    floor = ref["ours"]["wall_s"] / ref["bare"]["wall_s"]
    floor_cpu = ref["ours"]["cpu_s"] / ref["bare"]["cpu_s"]
    floor_median = ref["ours"]["median_wall_s"] / ref["bare"]["median_wall_s"]
    print(f"at {ref['slots']:.1e} slots: ours is {speed:.1f}x faster than the seed (target >= 4), "
          f"uses {mem:.2f} of its peak memory (target <= 0.5), takes {floor:.2f}x the bare read's wall time "
          f"({floor_median:.2f}x by the medians of {args.repeats} rounds; {floor_cpu:.2f}x its CPU time, on two threads) (target <= 2)")
    padded = next((r for r in results if r["pad"] == 4), None)
    if padded is not None:
        print(f"padding 4x (same spikes): ours peak {ref['ours']['peak_mib']:.0f} -> {padded['ours']['peak_mib']:.0f} MiB, "
              f"seed {ref['seed']['peak_mib']:.0f} -> {padded['seed']['peak_mib']:.0f} MiB, "
              f"bare {ref['bare']['peak_mib']:.0f} -> {padded['bare']['peak_mib']:.0f} MiB")
    # Extrapolation to the seed's real file: time linear in slots (the reader touches every
    # slot once), memory linear in spikes (16 B per spike: key + sorted key, then time +
    # neuron + x + y) plus the block buffer.
    big = max((r for r in results if r["pad"] == 1), key=lambda r: r["slots"])
    real_slots, real_spikes = 375_898 * 10_000, 0.15 * 375_898 * 10_000
    per_slot = {a: big[a]["wall_s"] / big["slots"] for a in ("bare", "ours", "seed")}
    per_spike_mib = big["ours"]["peak_mib"] / big["spikes"]
    seed_per_slot_mib = big["seed"]["peak_mib"] / big["slots"]
    print(f"extrapolated to 375 898 x 10 000 (3.76e9 slots, ~5.6e8 spikes at 15 %), from the {big['slots']:.1e}-slot file: "
          f"bare {per_slot['bare'] * real_slots / 60:.1f} min and {8 * real_slots / 2**30:.0f} GiB; "
          f"ours {per_slot['ours'] * real_slots / 60:.1f} min and {per_spike_mib * real_spikes / 1024:.1f} GiB; "
          f"seed {per_slot['seed'] * real_slots / 60:.1f} min and {seed_per_slot_mib * real_slots / 1024:.0f} GiB")
    (work / "spike_table_results.json").write_text(json.dumps(results, indent=1, default=str))
    print(f"(files and results in {work}; timings on a shared, loaded 2-core machine)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
