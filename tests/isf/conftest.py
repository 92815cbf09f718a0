"""Shared fixtures of the isf tests: a hand-made toy cell and a tiny built pipeline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from neurodata.isf import Morphology, section_distances

ROOT = Path(__file__).resolve().parents[2]
EXC = ["L2", "L34", "L4py", "L4sp", "L4ss", "L5st", "L5tt", "L6cc", "L6ccinv", "L6ct", "VPM"]
INH = ["L1", "L23Trans", "L45Sym", "L56Trans", "SymLocal1", "SymLocal2"]


def _straight(start, direction, length, n=3):
    d = np.asarray(direction, float) / np.linalg.norm(direction)
    return [np.asarray(start, float) + d * length * k / (n - 1) for k in range(n)]


def toy_morphology() -> Morphology:
    """Soma; 1 <- soma (35 µm); 2 <- 1 (96); 3 <- 1 (10); 4 <- 3 (200); 5 <- 3 (120); 6 <- 4 at x = 0.45 (30).

    Soma distances: 1 [0, 35], 2 [35, 131], 3 [35, 45], 4 [45, 245], 5 [45, 165], 6 [135, 165].
    Bins (goal 50): 1 -> 1, 2 -> 2 (48), 3 -> 1, 4 -> 4 (50), 5 -> 3 (40, a tie), 6 -> 1.
    """
    paths = [
        [np.array([0.0, -5, 0]), np.array([0.0, 5, 0])],
        _straight([0, 5, 0], [0, 1, 0], 35),
        _straight([0, 40, 0], [1, 1, 0], 96),
        _straight([0, 40, 0], [-1, 1, 0], 10),
        _straight([-7.07, 47.07, 0], [0, 1, 0], 200),
        _straight([-7.07, 47.07, 0], [-1, 0, 0], 120),
        _straight([-7.07, 137.07, 0], [1, 0, 0], 30),
    ]
    return Morphology(
        label=np.array(["Soma", "Dendrite", "ApicalDendrite", "ApicalDendrite", "ApicalDendrite", "ApicalDendrite",
                        "ApicalDendrite"], dtype=object),
        parent=np.array([-1, 0, 1, 1, 3, 3, 4]),
        parent_x=np.array([0.0, 0.5, 1.0, 1.0, 1.0, 1.0, 0.45]),
        point_section=np.concatenate([np.full(len(p), i) for i, p in enumerate(paths)]),
        xyz=np.concatenate([np.asarray(p) for p in paths]),
        diam=np.full(sum(len(p) for p in paths), 2.0),
    )


@pytest.fixture
def toy_cell() -> Morphology:
    return toy_morphology()


@pytest.fixture
def toy_sdf(toy_cell):
    return section_distances(toy_cell)


def tiny_params() -> dict:
    from neurodata.params import merge_profile

    with (ROOT / "params.yaml").open() as fh:
        base = yaml.safe_load(fh)
    with (ROOT / "profiles" / "tiny.yaml").open() as fh:
        tiny = yaml.safe_load(fh)
    return merge_profile(base, tiny)


@pytest.fixture(scope="session")
def isf_params() -> dict:
    """params.yaml with profiles/tiny.yaml merged in."""
    return tiny_params()


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """The three isf stages run on the tiny profile into a temporary data dir."""
    from neurodata.isf.stages import STAGES

    data_dir = tmp_path_factory.mktemp("isf_data")
    params = tiny_params()
    for stage in ("isf_simrun", "isf_spatial_bins", "isf_ann_batches"):
        STAGES[stage](params[stage], data_dir=data_dir, scheduler="synchronous")
    return data_dir
