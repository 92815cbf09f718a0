"""The DVC metrics of the isf stages: hand-checked small cases, and the files the stages write."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

from neurodata.isf import ann_batches_metrics, simrun_activity_metrics, simrun_metrics, spatial_bins_metrics, spatial_bins_of
from neurodata.isf._artifacts import spatial_bins_dataset


def test_spatial_bins_metrics_of_the_toy_cell(toy_cell):
    """conftest's toy cell, goal 50 µm: the soma 1 bin; basal section 1 (35 µm) 1; apical sections
    2 to 6: 2 + 1 + 4 + 3 + 1. The furthest bin ends at 245 µm (section 4)."""
    bins = spatial_bins_dataset(toy_cell, spatial_bins_of(toy_cell, 50.0), 50.0)
    m = spatial_bins_metrics(bins)
    assert m["n_spatial_bins"] == 13 and m["n_sections"] == 7
    assert m["bins_per_label"] == {"ApicalDendrite": 11, "Dendrite": 1, "Soma": 1}
    assert m["max_soma_distance_um"] == pytest.approx(245.0)
    assert m["n_adjacent_pairs"] == bins.sizes["adjacency"] > 0


def test_ann_batches_metrics_hand_case():
    """Two trials, 4 bins of time: counts per class, spike bins and fill-valued ISIs."""
    act = np.zeros((2, 2, 3, 4), dtype=np.float32)
    act[0, 0, 1, 2] = 3
    act[1, 1, 0, 0] = 2
    ds = xr.Dataset(
        {"synapse_activation": (("trial", "syn_type", "spatial_bin", "time"), act),
         "ap": (("trial", "time"), np.array([[0, 1, 0, 0], [0, 0, 0, 0]], dtype=bool)),
         "ap_dend": (("trial", "time"), np.zeros((2, 4), dtype=bool)),
         "isi": (("trial", "time"), np.array([[1000, 0, 1, 2], [1000] * 4], dtype=np.float32)),
         "isi_dend": (("trial", "time"), np.full((2, 4), 1000, dtype=np.float32)),
         "batch": ("trial", np.array([0, 1])),
         "n_activations_outside": ("trial", np.array([2, 0]))},
        coords={"syn_type": ["EXC", "INH"]}, attrs={"isi_fill_ms": 1000.0},
    )
    m = ann_batches_metrics(ds.chunk({"trial": 1}))  # lazy, as the stage opens it
    assert m == {"n_trials": 2, "n_spatial_bins": 3, "n_time_bins": 4, "n_batches": 2,
                 "activations": {"EXC": 3.0, "INH": 2.0}, "n_activations_outside": 2,
                 "ap_positive_fraction": 1 / 8, "ap_dend_positive_fraction": 0.0,
                 "isi_fill_fraction": 5 / 8, "isi_dend_fill_fraction": 1.0}


def test_stages_write_their_metrics(built):
    """``metrics/<stage>.json`` beside the data folder holds the figures of what the stage wrote."""
    folder = built.parent / "metrics"
    sim = xr.open_zarr(built / "isf_simrun.zarr").load()
    got = json.loads((folder / "isf_simrun.json").read_text())
    assert got["n_trials"] == 12 and got["n_synapses"] == 10050 and got["n_activation_rows"] == sim.sizes["sa_row"]
    assert got["n_soma_spikes"] == int(np.isfinite(sim["spike_times"].values).sum())
    expected = simrun_activity_metrics(sim)
    assert got["activity"] == pytest.approx({k: v for k, v in expected.items()}, nan_ok=True)
    assert simrun_metrics(sim)["activity"] == pytest.approx(expected, nan_ok=True)

    ann = xr.open_zarr(built / "ann_batches.zarr").load()
    got = json.loads((folder / "isf_ann_batches.json").read_text())
    assert got["ap_positive_fraction"] == pytest.approx(float(ann["ap"].mean()))
    assert got["ap_dend_positive_fraction"] == pytest.approx(float(ann["ap_dend"].mean()))
    assert got["activations"]["EXC"] == pytest.approx(float(ann["synapse_activation"].sel(syn_type="EXC").sum()))
    assert got["n_batches"] == 3 and got["n_trials"] == 12

    got = json.loads((folder / "isf_spatial_bins.json").read_text())
    assert got["n_spatial_bins"] == 115 and sum(got["bins_per_label"].values()) == 115
