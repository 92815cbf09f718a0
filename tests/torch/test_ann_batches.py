"""ANNBatches: trials of ann_batches, targets by name, all served as float32."""

from __future__ import annotations

import pytest
import xarray as xr

torch = pytest.importorskip("torch")

from neurodata import ParamError  # noqa: E402
from neurodata.torch import ANNBatches  # noqa: E402


def test_items_and_their_values(ml_data):
    ds = ANNBatches(data_dir=ml_data)
    assert len(ds) == 12 and ds.keys == ["synapse_activation", "ap", "isi", "vt_max_per_ms"]
    s = ds[4]
    assert all(v.dtype == torch.float32 for v in s.values())
    assert s["synapse_activation"].shape == (2, 3, 4) and s["synapse_activation"][0, 1, 3].item() == 4013
    assert s["ap"].tolist() == [0.0, 0.0, 1.0, 0.0]         # (4 + k) % 3 == 0
    assert s["vt_max_per_ms"].tolist() == [-66.0, -65.0, -64.0, -63.0]
    assert ds.trial_ids[4] == "sim/000004" and ds.spatial_bins == ["0/0", "1/0", "1/1"]


def test_targets_are_picked_by_name(ml_data):
    # any variable along trial, also one the preset never heard of: served as float32
    ds = ANNBatches(data_dir=ml_data, targets=["isi", "n_activations_outside"])
    assert ds.keys == ["synapse_activation", "isi", "n_activations_outside"]
    assert ds[0]["n_activations_outside"].dtype == torch.float32
    with pytest.raises(ParamError, match="names 'dendrite_vm', which is not a variable of ann_batches"):
        ANNBatches(data_dir=ml_data, targets=["ap", "dendrite_vm"])


def test_a_store_path_or_an_opened_dataset(ml_data):
    store = ml_data / "ann_batches.zarr"
    by_path, opened = ANNBatches(store), ANNBatches(xr.open_zarr(store))
    assert torch.equal(by_path[11]["isi"], opened[11]["isi"])
    assert by_path.n_blocks == opened.n_blocks == 3
