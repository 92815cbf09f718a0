"""The isf family's part of the conventions (tests/test_conventions.py checks the rest over every
family): named errors, one writer of regions, one home per fact."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import neurodata.isf as isf
from neurodata import ParamError
from neurodata.schemas import load_contract

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "neurodata" / "isf"
CONTRACTS = ("isf_simrun", "isf_spatial_bins", "ann_batches")


def _sources() -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(PACKAGE.glob("*.py"))}


def test_catalog_units_are_the_contracts_units():
    """The catalog's ``units`` metadata repeats the contracts' for the isf entries; they must agree."""
    catalog = yaml.safe_load((ROOT / "catalog" / "catalog.yaml").read_text())["entries"]
    for artifact in CONTRACTS:
        body = load_contract(artifact).nodes["/"]
        declared = {**body["coords"], **body["data_vars"]}
        for name, unit in catalog[artifact]["metadata"]["units"].items():
            assert declared[name]["units"] == unit, f"catalog {artifact}.{name}: {unit!r} != contract {declared[name]['units']!r}"


def test_spike_thresholds_have_one_home():
    """The simrun's threshold attrs (what the contract names in its long_names) hold the constants."""
    attrs = load_contract("isf_simrun").nodes["/"]["attrs"]
    import re

    assert re.fullmatch(attrs["soma_spike_threshold_mV"], str(isf.SOMA_SPIKE_THRESHOLD_MV))
    assert re.fullmatch(attrs["dendrite_spike_threshold_mV"], str(isf.DENDRITE_SPIKE_THRESHOLD_MV))


def test_no_bare_value_or_key_errors():
    """Input errors are neurodata's named exceptions (the CLI prints those in one line; anything
    else is a bug with a traceback); no stream derived by adding to a seed."""
    for name, text in _sources().items():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and isinstance(node.exc.func, ast.Name):
                assert node.exc.func.id not in ("ValueError", "KeyError"), f"{name}:{node.lineno}: raise {node.exc.func.id}"
        for banned in ("seed + 1", "seed + 2"):
            assert banned not in text, f"{name}: {banned!r}; use neurodata.seeds.rng(seed, *stream)"


def test_no_region_writes_and_no_paths_opened():
    """Regions are written by runner.write_batches only; artifacts are read through open_artifact."""
    for name, text in _sources().items():
        assert "to_zarr(" not in text and "open_zarr(" not in text, name


@pytest.mark.parametrize("call", [
    lambda: isf.time_bin_edges(0, 10, 3),
    lambda: isf.section_bin_size(-1.0),
    lambda: isf.bin_index([500.0], 0, 100, 2),
    lambda: isf.spike_times_to_onehot(np.zeros((2, 2)), 0, 10),
    lambda: isf.max_per_ms(np.zeros(3)),
    lambda: isf.distal_recording_site(["a_1"]),
    lambda: isf.classify_celltypes(np.array(["L7_C2"]), ["L2"], ["L1"]),
    lambda: isf.activity_metrics(np.zeros((3, 1)), np.zeros((2, 1)), stimulus_time_ms=150, t_stop_ms=300),
    lambda: isf.Biophysics(max_compartment_um=0.0),
    lambda: isf.as_section_distances(pd.DataFrame({"min_": [0.0]})),
], ids=["time_bin_edges", "section_bin_size", "bin_index", "onehot", "max_per_ms", "distal_site", "celltypes",
        "activity_metrics", "Biophysics", "section_table"])
def test_bad_arguments_raise_param_error(call):
    with pytest.raises(ParamError):
        call()
