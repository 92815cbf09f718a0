"""Fixtures of the BrainGrid derivation tests: small BrainGrid-layout files with known spikes.

The files are written with the generator module's own writer (``write_braingrid_h5``) from a
synthetic raster (starter background + ramping network bursts), not from a simulation, so
the derivations are tested against spikes whose bursts are known exactly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neurodata.braingrid import BrainGridRecord, write_braingrid_h5
from neurodata.params import load_params


def params(stage: str, **overrides) -> dict:
    """The stage's section of params.yaml with *overrides*, unchecked (the stage checks them)."""
    return {**load_params(stage), **overrides}

W = 20
N = W * W
TSIM_S = 10.0
N_EPOCHS = 10
N_STEPS = round(N_EPOCHS * TSIM_S / 1e-4)
BURST_ONSETS = np.arange(50_000, N_STEPS - 20_000, 38_000)  # steps; first at 5 s


def synthetic_raster(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Spike (steps, neurons): 10 % starters at ~2 Hz plus bursts in which every neuron fires
    about three times within ~50 ms, the first spikes of a burst dense and local."""
    rng = np.random.default_rng(seed)
    starters = np.arange(0, N, 10)
    steps, neurons = [], []
    for s in starters:
        n = rng.poisson(2.0 * N_STEPS * 1e-4)
        steps.append(rng.integers(1, N_STEPS, n))
        neurons.append(np.full(n, s))
    for onset in BURST_ONSETS:
        for rep in range(3):
            t = onset + rng.gamma(2.0, 80.0, N).astype(np.int64) + 150 * rep
            steps.append(t)
            neurons.append(np.arange(N))
    steps = np.concatenate(steps).astype(np.int64)
    neurons = np.concatenate(neurons).astype(np.int64)
    # one spike per (neuron, step): drop duplicates
    key = np.unique(steps * N + neurons)
    return (key // N).astype(np.int64), (key % N).astype(np.int64)


def make_record(steps: np.ndarray, neurons: np.ndarray, *, n_epochs: int = N_EPOCHS, tsim_s: float = TSIM_S) -> BrainGridRecord:
    """This grid's record of a raster: starters every 10th neuron from 0, inhibitory from 5."""
    return BrainGridRecord.from_raster(
        steps, neurons, width=W, starters=np.arange(0, N, 10), inhibitory=np.arange(5, N, 10), n_epochs=n_epochs, tsim_s=tsim_s
    )


@pytest.fixture(scope="session")
def record_factory():
    """:func:`make_record`: a BrainGridRecord of this grid from (steps, neurons)."""
    return make_record


@pytest.fixture(scope="session")
def raster_truth() -> dict:
    """Ground truth of :func:`synthetic_raster`."""
    return {"N": N, "width": W, "n_steps": N_STEPS, "burst_onsets": BURST_ONSETS}


@pytest.fixture(scope="session")
def raster() -> tuple[np.ndarray, np.ndarray]:
    return synthetic_raster()


@pytest.fixture(scope="session")
def braingrid_h5(tmp_path_factory: pytest.TempPathFactory, raster) -> Path:
    """A layout-valid BrainGrid file (20 x 20 grid, 100 s, ~25 bursts)."""
    path = tmp_path_factory.mktemp("bg") / "braingrid_simulation.h5"
    return write_braingrid_h5(path, make_record(*raster))


@pytest.fixture(scope="session")
def built_data(tmp_path_factory: pytest.TempPathFactory, braingrid_h5: Path) -> Path:
    """A data folder with every derived BrainGrid artifact built from ``braingrid_h5``."""
    import shutil

    from neurodata.braingrid.stages import STAGES

    data = tmp_path_factory.mktemp("build") / "data"  # its own parent: the stages write metrics/ and plots/ there
    data.mkdir()
    shutil.copy(braingrid_h5, data / "braingrid_simulation.h5")
    STAGES["braingrid_spikes"](params("braingrid_spikes", block_mib=1), data_dir=data)
    STAGES["braingrid_bursts"](params("braingrid_bursts"), data_dir=data)
    STAGES["burst_windows"](params("burst_windows", windows=[5, 10, 50], split="burst"), data_dir=data)  # one culture
    STAGES["braingrid_baselines"](params("braingrid_baselines"), data_dir=data)
    return data
