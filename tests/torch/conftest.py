"""Small artifacts with known values for the torch tests, written through the store (so they
meet their contracts) with several chunks along the sample dim.

Every value encodes where it sits, so a test can tell exactly which sample it got:
``synapse_activation[t, s, b, k] = 1000 t + 100 s + 10 b + k``; a window's ``temporal`` row
``i`` is ``10 i + position``; a sweep's ``current`` is ``100 sweep + bin`` (NaN past ``n_bins``),
its ``rate`` ``0.01 bin``.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import xarray as xr

from neurodata.schemas import label
from neurodata.store import write_artifact

N_TRIALS, TRIAL_CHUNK = 12, 5          # blocks of 5, 5, 2 trials
N_SAMPLES, SAMPLE_CHUNK = 30, 8        # blocks of 8, 8, 8, 6 windows
N_SWEEPS, SWEEP_CHUNK = 10, 4          # blocks of 4, 4, 2 sweeps
SPLITS = np.array(["train", "val", "test"], dtype=object)
STIMULI = np.array(["Long Square", "Ramp", "Noise 1", "Noise 2"], dtype=object)
CELLS = np.array([900000001, 900000002, 900000003])


def _long(name: str) -> dict[str, str]:
    return {"long_name": name}


def ann_batches() -> xr.Dataset:
    """An ann_batches-shaped Dataset: 12 trials, 2 syn types, 3 spatial bins, 4 time bins."""
    t, s, b, k = np.meshgrid(np.arange(N_TRIALS), np.arange(2), np.arange(3), np.arange(4), indexing="ij")
    act = (1000 * t + 100 * s + 10 * b + k).astype(np.float32)
    tt, kk = np.meshgrid(np.arange(N_TRIALS), np.arange(4), indexing="ij")
    return xr.Dataset(
        {
            "synapse_activation": (("trial", "syn_type", "spatial_bin", "time"), act, _long("activations")),
            "vt_max_per_ms": (("trial", "time_ms"), (-70.0 + tt + kk).astype(np.float32), {"units": "mV"}),
            "ap": (("trial", "time"), (tt + kk) % 3 == 0, _long("spike in bin")),
            "isi": (("trial", "time"), (tt + 0.5 * kk).astype(np.float32), {"units": "ms"}),
            "vt_soma": (("trial", "time_ms"), (-71.0 + tt + kk).astype(np.float32), {"units": "mV"}),
            "vt_dend_max_per_ms": (("trial", "time_ms"), (-60.0 + tt + kk).astype(np.float32), {"units": "mV"}),
            "ap_dend": (("trial", "time"), (tt + kk) % 4 == 0, _long("dendritic spike in bin")),
            "isi_dend": (("trial", "time"), (tt + 0.25 * kk).astype(np.float32), {"units": "ms"}),
            "batch": ("trial", np.arange(N_TRIALS) // TRIAL_CHUNK, _long("batch")),
            "n_activations_outside": ("trial", np.zeros(N_TRIALS, np.int64), _long("outside")),
        },
        coords={
            "trial": ("trial", np.array([f"sim/{i:06d}" for i in range(N_TRIALS)], dtype=object), _long("trial")),
            "syn_type": ("syn_type", np.array(["EXC", "INH"], dtype=object), _long("synapse type")),
            "spatial_bin": ("spatial_bin", np.array(["0/0", "1/0", "1/1"], dtype=object), _long("bin")),
            "bin_section": ("spatial_bin", np.array([0, 1, 1]), _long("section")),
            "bin_soma_distance": ("spatial_bin", np.array([0.0, 25.0, 75.0]), {"units": "um"}),
            "time": ("time", np.arange(4.0), {"units": "ms"}),
            "time_ms": ("time_ms", np.arange(4.0), {"units": "ms"}),
            "dendrite_site": ((), np.array("distal", dtype=object), _long("distal recording site")),
            "dendrite_soma_distance": ((), 900.0, {"units": "um"}),
        },
        attrs={"min_time_ms": 0.0, "max_time_ms": 4.0, "bin_size_ms": 1.0, "batch_size": TRIAL_CHUNK, "weighted": 0,
               "isi_fill_ms": 100.0},
    )


def window_node(window: int) -> xr.Dataset:
    """One window_<w> node: 30 samples, label i % 2, split cycling train/val/test."""
    i, p = np.meshgrid(np.arange(N_SAMPLES), np.arange(window), indexing="ij")
    return xr.Dataset(
        {
            "temporal": (("sample", "position"), (10 * i + p).astype(np.int64), {"units": "step"}),
            "x": (("sample", "position"), (i % 7 + p).astype(np.int16), {"units": "grid_unit"}),
            "y": (("sample", "position"), (i % 5).astype(np.int16) + np.zeros_like(p, np.int16), {"units": "grid_unit"}),
            "neuron": (("sample", "position"), (i + p).astype(np.int32), _long("neuron")),
            "label": ("sample", (np.arange(N_SAMPLES) % 2).astype(np.int8), _long("label")),
            "burst": ("sample", np.arange(N_SAMPLES) // 2, _long("burst")),
            "onset_step": ("sample", 1000 + np.arange(N_SAMPLES), {"units": "step"}),
            "start_step": ("sample", 500 + np.arange(N_SAMPLES), {"units": "step"}),
            "split": ("sample", SPLITS[np.arange(N_SAMPLES) % 3], _long("split")),
        },
        coords={"sample": ("sample", np.arange(N_SAMPLES), _long("sample")),
                "position": ("position", np.arange(window, dtype=np.int32), _long("position")),
                "culture": ("sample", np.zeros(N_SAMPLES, dtype=np.int64), _long("culture"))},
        attrs={"window": window, "gap_spikes": 20, "n_onsets_used": 15, "n_dropped_early": 0, "split_by": "burst"},
    )


def burst_windows() -> xr.DataTree:
    root = xr.Dataset(attrs={"gap_spikes": 20, "windows": "5,10", "split_seed": 0, "split_fractions": "0.34,0.33,0.33", "n_onsets_used": 15,
                             "min_gap_steps": 2000, "detector": "avalanche", "split_by": "burst",
                             "n_cultures": 1})
    return xr.DataTree.from_dict({"/": root, "window_5": window_node(5), "window_10": window_node(10)})


def gfr_node(bin_size: int) -> xr.Dataset:
    n_time = 600 // bin_size
    n_bins = n_time // 2 + np.arange(N_SWEEPS) % (n_time - n_time // 2 + 1)   # n_time/2 .. n_time
    sw, k = np.meshgrid(np.arange(N_SWEEPS), np.arange(n_time), indexing="ij")
    current = (100 * sw + k).astype(np.float32)
    current[k >= n_bins[:, None]] = np.nan
    rate = np.where(np.isnan(current), np.nan, 0.01 * k).astype(np.float32)
    return xr.Dataset(
        {"current": (("sweep", "time_bin"), current, {"units": "pA"}),
         "rate": (("sweep", "time_bin"), rate, {"units": "1/ms"}),
         "n_bins": ("sweep", n_bins, _long("bins filled"))},
        coords={"sweep": ("sweep", np.arange(N_SWEEPS), _long("sweep")),
                "sweep_cell": ("sweep", CELLS[np.arange(N_SWEEPS) % 3], _long("cell")),
                "stimulus_name": ("sweep", STIMULI[np.arange(N_SWEEPS) % 4], _long("stimulus")),
                "repeat": ("sweep", np.zeros(N_SWEEPS, np.int64), _long("repeat")),
                "time_bin": ("time_bin", bin_size * np.arange(n_time, dtype=np.float64), {"units": "ms"})},
        attrs={"bin_size_ms": bin_size},
    )


def gfr_binned() -> xr.DataTree:
    root = xr.Dataset({"max_firing_rate": ("cell", np.array([0.1, 0.2, 0.3]), {"units": "1/ms"})},
                      coords={"cell": ("cell", CELLS, _long("cell"))})
    return xr.DataTree.from_dict({"/": root, "bin_20": gfr_node(20), "bin_100": gfr_node(100)})


def write_ml_data(folder: Path) -> Path:
    """Write small ann_batches, burst_windows and gfr_binned artifacts into *folder*."""
    write_artifact(label(ann_batches(), "ann_batches"), "ann_batches", params={}, data_dir=folder,
                   encoding={v: {"chunks": (TRIAL_CHUNK, *ann_batches()[v].shape[1:])}
                             for v in ("synapse_activation", "vt_max_per_ms", "ap", "isi")})
    write_artifact(label(burst_windows(), "burst_windows"), "burst_windows", params={}, data_dir=folder,
                   encoding={f"window_{w}/{v}": {"chunks": (SAMPLE_CHUNK, w)} for w in (5, 10)
                             for v in ("temporal", "x", "y", "neuron")})
    write_artifact(label(gfr_binned(), "gfr_binned"), "gfr_binned", params={}, data_dir=folder,
                   encoding={f"bin_{b}/{v}": {"chunks": (SWEEP_CHUNK, 600 // b)} for b in (20, 100)
                             for v in ("current", "rate")})
    return folder


@pytest.fixture(scope="session")
def ml_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with small ann_batches, burst_windows and gfr_binned artifacts."""
    return write_ml_data(tmp_path_factory.mktemp("torch_data"))


@pytest.fixture(scope="session")
def layout() -> SimpleNamespace:
    """The sizes and builders of :func:`ml_data`'s artifacts."""
    return SimpleNamespace(n_trials=N_TRIALS, trial_chunk=TRIAL_CHUNK, n_samples=N_SAMPLES, sample_chunk=SAMPLE_CHUNK,
                           n_sweeps=N_SWEEPS, sweep_chunk=SWEEP_CHUNK, cells=CELLS.tolist(),
                           ann_batches=ann_batches, burst_windows=burst_windows, gfr_binned=gfr_binned)
