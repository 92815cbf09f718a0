"""Shared fixtures: a seeded RNG, an isolated data folder, and a quiet in-process scheduler."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import neurodata
from _support import build_tiny_checkout

REPO = Path(__file__).resolve().parent.parent

# `neurodata run` hands stages to a fork server that outlives the command; tests start their own
# (tests/test_forkserver.py, the tiny build) in a private folder and stop it, never an ambient one.
os.environ["NEURODATA_FORKSERVER"] = "0"
os.environ["NEURODATA_FORKSERVER_WARM"] = "0"  # no background compiles, but in the tiny build (tests/_support.py)

# Property tests: CI may widen the example count with HYPOTHESIS_PROFILE=ci.
try:
    from hypothesis import settings

    settings.register_profile("default", max_examples=40, deadline=None)
    settings.register_profile("ci", max_examples=200, deadline=None)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
except ImportError:  # pragma: no cover
    pass


@pytest.fixture
def global_random_seed() -> int:
    """The seed for tests that draw random inputs (override with NEURODATA_TEST_SEED)."""
    return int(os.environ.get("NEURODATA_TEST_SEED", "42"))


@pytest.fixture
def rng(global_random_seed: int) -> np.random.Generator:
    return np.random.default_rng(global_random_seed)


@pytest.fixture
def data_dir(tmp_path: Path):
    """An empty artifact folder, set as the data_dir option and with in-process scheduling."""
    folder = tmp_path / "data"
    folder.mkdir()
    with neurodata.set_options(data_dir=str(folder), scheduler="synchronous", progress="never"):
        yield folder


@pytest.fixture
def sweep():
    """Factory of a valid adex_we_sweep-shaped dataset."""

    def sweep(n_we: int = 3, n_seed: int = 2) -> xr.Dataset:
        """A valid adex_we_sweep-shaped dataset, labelled from its contract."""
        from neurodata.schemas import label

        shape = (n_we, n_seed)
        ds = xr.Dataset(
            {"median_vm": (("we", "seed"), np.full(shape, -60.0)), "output_rate": (("we", "seed"), np.ones(shape))},
            coords={"we": ("we", np.linspace(0, 0.03, n_we)), "seed": ("seed", np.arange(n_seed))},
            attrs={"N": 10, "T_s": 1.0},
        )
        return label(ds, "adex_we_sweep")

    return sweep


@pytest.fixture(scope="session")
def tiny_checkout(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """The whole pipeline built once on the tiny profile (in-process scheduler); shared by the
    test workers of one run. Copy ``data/`` before changing anything in it."""
    from filelock import FileLock

    root = tmp_path_factory.getbasetemp() if worker_id == "master" else tmp_path_factory.getbasetemp().parent
    dest = root / "tiny_checkout"
    with FileLock(str(root / "tiny_checkout.lock")):
        if not (dest / "pipelines" / "braingrid" / "dvc.lock").is_file():
            build_tiny_checkout(dest, "synchronous")
    return dest


@pytest.fixture
def tiny_data(tiny_checkout: Path, tmp_path: Path) -> Path:
    """A private copy of the tiny build's data folder, to damage at will."""
    import shutil

    dest = tmp_path / "data"
    shutil.copytree(tiny_checkout / "data", dest)
    return dest
