"""The generator's profiles end to end: the file each one builds passes spec §4.5 items 1-7.

The tiny profile runs in the fast suite (tests/braingrid/test_generator_run.py runs the same
settings); the default (W = 50, about 8 CPU minutes) and the seed profile (W = 100, hours on
one core; see docs/braingrid.md for the measured run) are ``slow``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from neurodata.braingrid import checklist_h5
from neurodata.braingrid.stages import STAGES
from neurodata.params import merge_profile

ROOT = Path(__file__).resolve().parents[2]


def profile_params(profile: str) -> dict:
    """params.yaml, with profiles/<profile>.yaml merged in unless *profile* is "default"."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    if profile != "default":
        params = merge_profile(params, yaml.safe_load((ROOT / "profiles" / f"{profile}.yaml").read_text()))
    return params


def build_and_check(profile: str, data_dir: Path) -> dict:
    params = profile_params(profile)
    sim = params["braingrid_simulation"]
    assert sim.get("mean_isi_steps") is None and params["braingrid_bursts"].get("mean_isi_steps") is None
    STAGES["braingrid_simulation"](sim, data_dir=data_dir)
    report = checklist_h5(data_dir / "braingrid_simulation.h5", min_bursts=sim["min_bursts"])
    for stage in ("braingrid_spikes", "braingrid_bursts", "burst_windows"):
        STAGES[stage](params[stage], data_dir=data_dir)
    return report


def test_tiny_profile_file_passes_items_1_to_7(tmp_path):
    report = build_and_check("tiny", tmp_path)
    assert report["failures"] == []
    assert report["n_bursts"] >= profile_params("tiny")["braingrid_simulation"]["min_bursts"]


@pytest.mark.slow
@pytest.mark.parametrize("profile", ["default", "seed"])
def test_profile_file_passes_items_1_to_7_with_enough_bursts_for_the_windows(profile, tmp_path):
    import xarray as xr

    report = build_and_check(profile, tmp_path)
    assert report["failures"] == []
    assert report["n_bursts"] >= 100
    tree = xr.open_datatree(tmp_path / "burst_windows.zarr", engine="zarr")
    assert tree.attrs["n_onsets_used"] >= 100
