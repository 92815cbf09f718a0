"""`neurodata validate` rejects each kind of damage that once passed it, naming the artifact,
the variable and the check. Values are written straight into a tiny build's stores; where the
damage is in the values, the manifest is resealed afterwards, so that only the contract can
catch it (a store built by a buggy stage looks exactly like that)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import zarr

from neurodata._manifest import write_manifest
from neurodata.cli import main

pytestmark = pytest.mark.slow  # uses the tiny pipeline build


def rewrite(data: Path, artifact: str, variable: str, change, *, reseal: bool = True) -> None:
    """Apply *change* (values -> values) to one array of a built store."""
    array = zarr.open_array(str(data / f"{artifact}.zarr" / variable), mode="r+")
    array[...] = change(array[...])
    if reseal:
        write_manifest(data / f"{artifact}.zarr")


def validate(data: Path, entry: str, capsys) -> str:
    code = main(["validate", entry, "--data-dir", str(data)])
    out = capsys.readouterr().out
    assert code == 1, out
    return out


def out_of_order(values: np.ndarray) -> np.ndarray:
    values = values.copy()
    values[:3] = [5, 3, 9]  # np.diff of these wraps around on uint64 and once looked sorted
    return values


def all_but_one(values: np.ndarray) -> np.ndarray:
    values = np.ones_like(values)
    values[0] = 0
    return values


CASES = {
    "time_step out of order (uint64)": ("braingrid_spikes", "time_step", out_of_order,
                                        "braingrid_spikes: time_step: relation 'sorted_within(time_step, culture)'"),
    "all-NaN activation_times": ("isf_simrun", "activation_times", lambda v: np.full_like(v, np.nan),
                                 "isf_simrun: activation_times: not_all_nan"),
    "all-NaN GFR rate": ("gfr_binned", "bin_20/rate", lambda v: np.full_like(v, np.nan),
                         "gfr_binned/bin_20: rate: not_all_nan"),
    "all-zero synapse_activation": ("ann_batches", "synapse_activation", np.zeros_like,
                                    "ann_batches: synapse_activation: not_all_zero"),
    "neuron id 99999 in a 600-neuron network": ("ei_spikes", "neuron", lambda v: np.where(np.arange(v.size) == 7, 99999, v),
                                                "ei_spikes: neuron: relation 'neuron < attrs.N_E + attrs.N_I': 1 of"),
    "spike times x1000 past simtime": ("ei_spikes", "time_ms", lambda v: v * 1000,
                                       "ei_spikes: time_ms: relation 'time_ms <= attrs.simtime_ms'"),
    "labels all 1 but one": ("burst_windows", "window_5/label", all_but_one,
                             "burst_windows/window_5: label: relation 'count(label == 1) == count(label == 0)'"),
    "a split that is all train": ("burst_windows", "window_5/split", lambda v: np.full(v.shape, "train", dtype=object),
                                  "burst_windows/window_5: split: relation \"attrs.split_by == 'culture' or abs(fraction(split == 'train')"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_validate_rejects_damaged_values(tiny_data, capsys, case):
    artifact, variable, change, message = CASES[case]
    assert main(["validate", artifact, "--data-dir", str(tiny_data)]) == 0
    capsys.readouterr()
    rewrite(tiny_data, artifact, variable, change)
    out = validate(tiny_data, artifact, capsys)
    assert f"{artifact}: FAIL" in out and message in out


def test_validate_rejects_flipped_chunk_bytes(tiny_data, capsys):
    chunk = tiny_data / "ei_spikes.zarr" / "time_ms" / "c" / "0"
    raw = bytearray(chunk.read_bytes())
    raw[len(raw) // 2 : len(raw) // 2 + 16] = bytes(16)
    chunk.write_bytes(bytes(raw))
    out = validate(tiny_data, "ei_spikes", capsys)
    assert "ei_spikes: time_ms: manifest: chunk 'time_ms/c/0' is damaged" in out


def test_validate_rejects_an_attr_edited_without_reconsolidating(tiny_data, capsys):
    store = tiny_data / "adex_we_sweep.zarr"
    array = zarr.open_array(str(store / "output_rate"), mode="r+")
    array.attrs["units"] = "kHz"  # the array's own zarr.json changes; the consolidated copy does not
    out = validate(tiny_data, "adex_we_sweep", capsys)
    assert "adex_we_sweep: output_rate: manifest: chunk 'output_rate/zarr.json' has 780 bytes, the manifest says 779" in out
    write_manifest(store)  # even resealed, validation reads each array's own metadata
    out = validate(tiny_data, "adex_we_sweep", capsys)
    assert "adex_we_sweep: output_rate: units: expected 'Hz', got 'kHz'" in out
