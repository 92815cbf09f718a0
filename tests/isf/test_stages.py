"""End-to-end: the three isf stages on the tiny profile, the catalog, the torch dataset, bad params."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import neurodata
from neurodata import ParamError
from neurodata.isf import (
    augment_with_spatial_bins,
    isi_array,
    spike_times_frame,
    synapse_activation_array,
    synapse_activation_frame,
)
from neurodata.isf import section_distances_from_bins
from neurodata.isf.stages import STAGES
from neurodata.schemas import validate


def test_artifacts_valid_and_shaped(built):
    sim = xr.open_zarr(built / "isf_simrun.zarr")
    bins = xr.open_zarr(built / "isf_spatial_bins.zarr")
    ann = xr.open_zarr(built / "ann_batches.zarr")
    for name, obj in (("isf_simrun", sim), ("isf_spatial_bins", bins), ("ann_batches", ann)):
        validate(obj, name)
    assert ann["synapse_activation"].dims == ("trial", "syn_type", "spatial_bin", "time")
    assert ann["synapse_activation"].dtype == np.float32
    assert ann.sizes["trial"] == 12 and ann.sizes["time"] == 100 and ann.sizes["time_ms"] == 100
    assert [str(s) for s in ann["syn_type"].values] == ["EXC", "INH"]
    assert ann["synapse_activation"].chunks[0] == (5, 5, 2)  # one chunk per batch of 5 trials
    assert ann["batch"].values.tolist() == [0] * 5 + [1] * 5 + [2] * 2
    assert (built / "isf_morphology.swc").read_text().count("\n") > len(sim["point_x"])
    assert "pt3dadd" in (built / "isf_morphology.hoc").read_text()
    # the dendritic recordings: two trunk sites, halfway and at the main bifurcation (919 µm)
    assert sim["dendrite_voltage"].dims == ("trial", "rec_site", "time")
    np.testing.assert_allclose(sim["rec_site_soma_distance"].values, [455.6, 908.1], atol=0.1)
    assert str(ann["dendrite_site"].values).endswith("_somaDist_908.1")
    assert float(ann["dendrite_soma_distance"]) == pytest.approx(908.118, abs=1e-3)
    for name in ("vt_soma", "vt_dend_max_per_ms"):
        assert ann[name].dims == ("trial", "time_ms") and ann[name].attrs["units"] == "mV"
    assert ann["ap_dend"].dtype == bool and ann["isi_dend"].attrs["units"] == "ms"


def test_ann_batches_equal_the_pandas_api(built, isf_params):
    """Stage fast path == augment_with_spatial_bins + synapse_activation_array on ISF's table."""
    sim = xr.open_zarr(built / "isf_simrun.zarr").load()
    bins = xr.open_zarr(built / "isf_spatial_bins.zarr").load()
    ann = xr.open_zarr(built / "ann_batches.zarr").load()
    p = isf_params["isf_ann_batches"]
    aug = augment_with_spatial_bins(synapse_activation_frame(sim), section_distances_from_bins(bins),
                                    excitatory_celltypes=p["excitatory_celltypes"],
                                    inhibitory_celltypes=p["inhibitory_celltypes"])
    ref = synapse_activation_array(aug, [str(t) for t in sim["trial"].values],
                                   [str(b) for b in bins["spatial_bin"].values], 0, 100, 1)
    np.testing.assert_array_equal(ann["synapse_activation"].values, ref)
    st = spike_times_frame(sim).to_numpy()
    ap = ann["ap"].values
    assert ap.sum() == np.isfinite(st).sum()  # every spike (all inside [0, 100)) in one bin
    vm = sim["soma_voltage"].values
    np.testing.assert_array_equal(ann["vt_max_per_ms"].values, vm.reshape(12, 100, 40).max(-1))
    np.testing.assert_array_equal(ann["vt_soma"].values, vm[:, ::40])  # ISF's VT_ALL: every 40th sample
    vd = sim["dendrite_voltage"].isel(rec_site=1).values  # the distal site, as ISF picks it
    np.testing.assert_array_equal(ann["vt_dend_max_per_ms"].values, vd.reshape(12, 100, 40).max(-1))
    sd = sim["dendrite_spike_times"].isel(rec_site=1).values
    # dendritic spikes: ISF's rule at -30 mV on the recorded voltage
    for r in range(12):
        k = np.flatnonzero((vd[r, :-1] < -30) & (vd[r, 1:] >= -30)) + 1
        np.testing.assert_allclose(sd[r][np.isfinite(sd[r])], k * 0.025)
    assert ann["ap_dend"].values.sum() == np.isfinite(sd).sum()
    np.testing.assert_array_equal(ann["isi_dend"].values, isi_array(sd, 0, 100, fillna=1000.0).astype(np.float32))


def test_bin_size_and_batch_size_are_honoured(built, isf_params, tmp_path):
    import shutil

    for name in ("isf_simrun", "isf_spatial_bins"):
        shutil.copytree(built / f"{name}.zarr", tmp_path / f"{name}.zarr")
    p = dict(isf_params["isf_ann_batches"], bin_size_ms=5.0, batch_size=4, min_time_ms=20.0, max_time_ms=80.0)
    STAGES["isf_ann_batches"](p, data_dir=tmp_path, scheduler="synchronous")
    ann = xr.open_zarr(tmp_path / "ann_batches.zarr")
    fine = xr.open_zarr(built / "ann_batches.zarr")
    assert ann.sizes["time"] == 12 and ann["synapse_activation"].chunks[0] == (4, 4, 4)
    np.testing.assert_allclose(ann["time"].values, np.arange(20, 80, 5))
    coarse = fine["synapse_activation"].isel(time=slice(20, 80)).values.reshape(12, 2, -1, 12, 5).sum(-1)
    # bins [20, 25) ... [75, 80]: equal to summing 1 ms bins, except activations at exactly 80.0 ms
    np.testing.assert_allclose(ann["synapse_activation"].values, coarse, atol=1)
    # times outside [20, 80] are ignored and counted per trial
    sim = xr.open_zarr(built / "isf_simrun.zarr")
    times, row_trial = sim["activation_times"].values, np.repeat(np.arange(12), sim["sa_row_count"].values)
    outside = np.bincount(row_trial, weights=((times < 20) | (times > 80)).sum(axis=1), minlength=12)
    np.testing.assert_array_equal(ann["n_activations_outside"].values, outside)
    assert outside.min() > 0
    assert ann["batch"].values.tolist() == [0] * 4 + [1] * 4 + [2] * 4


def test_catalog_reads_the_artifacts(built):
    with neurodata.set_options(data_dir=str(built)):
        cat = neurodata.open_catalog()
        ann = cat["ann_batches"].read()
        sim = cat["isf_simrun"].read()
    assert ann.sizes["trial"] == sim.sizes["trial"] == 12
    assert "isf_spatial_bins" in cat.entries


def test_torch_dataset_through_dataloader(built):
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader

    from neurodata.torch import ANNBatches

    ds = ANNBatches(built / "ann_batches.zarr")
    ann = xr.open_zarr(built / "ann_batches.zarr")
    assert len(ds) == 12
    x = ds[7]["synapse_activation"]
    assert x.shape == (2, ann.sizes["spatial_bin"], 100) and x.dtype == torch.float32
    np.testing.assert_array_equal(x.numpy(), ann["synapse_activation"].values[7])
    batch = next(iter(DataLoader(ds, batch_size=5)))
    assert batch["synapse_activation"].shape == (5, 2, ann.sizes["spatial_bin"], 100)
    assert set(batch) == {"synapse_activation", "ap", "isi", "vt_max_per_ms"} and batch["isi"].shape == (5, 100)
    np.testing.assert_array_equal(batch["ap"].numpy(), ann["ap"].values[:5].astype(np.float32))
    with pytest.raises(IndexError, match="out of range for 12 samples"):
        ds[12]


def test_simrun_figure_shows_the_recordings(built):
    """One axes per trial (titled by its sim_trial_index): the distal dendrite's and the soma's
    voltage as stored, a marker per AP, the stimulus line."""
    from neurodata.isf.plots import simrun_figure

    sim = xr.open_zarr(built / "isf_simrun.zarr").load()
    fig = simrun_figure(sim, n_trials=3)
    axes = fig.axes
    assert len(axes) == 3 and axes[-1].get_xlabel() == "time (ms)"
    for r, ax in enumerate(axes):
        assert ax.get_title() == str(sim["trial"].values[r]) and ax.get_ylabel() == "Vm (mV)"
        dend, soma, aps, stimulus = ax.get_lines()
        np.testing.assert_array_equal(soma.get_ydata(), sim["soma_voltage"].values[r])
        np.testing.assert_array_equal(dend.get_ydata(), sim["dendrite_voltage"].values[r, 1])  # the distal site
        assert len(aps.get_xdata()) == int(sim["n_spikes"].values[r])
        assert list(stimulus.get_xdata()) == [50.0, 50.0]  # the tiny profile's stimulus (ms)
    assert [t.get_text() for t in axes[0].get_legend().get_texts()][:2] == ["dendrite (908 µm)", "soma"]


def test_spatial_bins_figure_colours_every_segment(built):
    """One segment per pair of consecutive 3D points of a section, the soma marked, the bin count in the title."""
    from matplotlib.collections import LineCollection

    from neurodata.isf.plots import spatial_bins_figure

    bins = xr.open_zarr(built / "isf_spatial_bins.zarr").load()
    (ax,) = spatial_bins_figure(bins).axes
    (segments,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    sec = bins["point_section"].values
    assert len(segments.get_segments()) == int((sec[1:] == sec[:-1]).sum())
    assert ax.get_title() == "115 spatial bins (goal 50.0 µm)"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x (µm)", "y (µm, towards pia)")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["soma (bin 0/0)"]


def test_ann_batches_figure_shows_one_trial(built):
    """The first trial with an AP: EXC and INH heatmaps (bins by soma distance) with colour bars,
    soma and dendrite voltage per ms with their spikes, both ISIs."""
    from neurodata.isf.plots import ann_batches_figure

    ann = xr.open_zarr(built / "ann_batches.zarr").load()
    trial = int(np.flatnonzero(ann["ap"].any("time").values)[0])
    fig = ann_batches_figure(ann)
    exc, inh, volt, isi, *colour_bars = fig.axes
    assert len(colour_bars) == 2 and colour_bars[0].get_ylabel() == "activations"
    assert exc.get_title() == f"trial {ann['trial'].values[trial]}"
    assert [exc.get_ylabel(), inh.get_ylabel()] == ["EXC: bin soma\ndistance (µm)", "INH: bin soma\ndistance (µm)"]
    order = np.argsort(ann["bin_soma_distance"].values, kind="stable")
    np.testing.assert_array_equal(exc.collections[0].get_array().reshape(115, 100),
                                  ann["synapse_activation"].values[trial, 0][order])
    dend, soma, aps, dend_spikes = volt.get_lines()
    np.testing.assert_array_equal(soma.get_ydata(), ann["vt_max_per_ms"].values[trial])
    np.testing.assert_array_equal(dend.get_ydata(), ann["vt_dend_max_per_ms"].values[trial])
    assert len(aps.get_xdata()) == int(ann["ap"].values[trial].sum()) >= 1
    assert len(dend_spikes.get_xdata()) == int(ann["ap_dend"].values[trial].sum())
    assert [line.get_label() for line in isi.get_lines()] == ["soma", "distal dendrite"]
    assert isi.get_xlabel() == "time (ms)"


def test_plot_functions_write_one_png_each(built, tmp_path):
    from neurodata.isf.plots import PLOTS

    for name, fn in PLOTS.items():
        (path,) = fn(xr.open_zarr(built / f"{name}.zarr"), tmp_path)
        assert path == tmp_path / f"{name}.png" and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_deterministic_simrun(built, isf_params, tmp_path):
    STAGES["isf_simrun"](isf_params["isf_simrun"], data_dir=tmp_path, scheduler="synchronous")
    a = xr.open_zarr(built / "isf_simrun.zarr").load()
    b = xr.open_zarr(tmp_path / "isf_simrun.zarr").load()
    xr.testing.assert_identical(a.drop_attrs(), b.drop_attrs())


@pytest.mark.parametrize(("stage", "change", "message"), [
    ("isf_ann_batches", {"batch_size": 0}, r"The 'batch_size' parameter of stage isf_ann_batches must be an int in the range \[1, inf\)\. Got 0 instead\."),
    ("isf_ann_batches", {"min_time_ms": 50.0, "max_time_ms": 50.0},
     r"The 'max_time_ms' parameter of stage isf_ann_batches must be > min_time_ms = 50.0 ms\. Got 50.0 instead\."),
    ("isf_ann_batches", {"bin_size_ms": 3.0},
     r"The 'bin_size_ms' parameter of stage isf_ann_batches must divide the window \[min_time_ms, max_time_ms\] = \[0.0, 100.0\] ms into whole bins\. Got 3.0 instead\."),
    ("isf_ann_batches", {"inhibitory_celltypes": ["L1", "VPM"]},
     r"The 'inhibitory_celltypes' parameter of stage isf_ann_batches must share no cell type with excitatory_celltypes"),
    ("isf_simrun", {"stimulus_time_ms": 200.0},
     r"The 'stimulus_time_ms' parameter of stage isf_simrun must be < t_stop_ms = 100.0 ms\. Got 200.0 instead\."),
    ("isf_simrun", {"dt_ms": 0.03}, r"The 'dt_ms' parameter of stage isf_simrun must divide 1 ms into whole steps"),
    ("isf_simrun", {"t_stop_ms": 100.01}, r"The 't_stop_ms' parameter of stage isf_simrun must be a whole number of dt_ms = 0.025 ms steps"),
    ("isf_simrun", {"excitatory_celltypes": ["L2"]},
     r"The 'excitatory_celltypes' parameter of stage isf_simrun must list, with inhibitory_celltypes = \[.*\], every presynaptic cell type of the model \(L1, L2, .*VPM\)\. Got \['L2'\] instead\."),
    ("isf_simrun", {"n_trial": 3}, r"Unknown parameter\(s\) \['n_trial'\] for stage isf_simrun"),
])
def test_bad_params_rejected_before_any_work(isf_params, tmp_path, stage, change, message):
    """Every single-value and cross-field check of the isf stages: one message generator, nothing written."""
    with pytest.raises(ParamError, match=message):
        STAGES[stage](dict(isf_params[stage], **change), data_dir=tmp_path, scheduler="synchronous")
    assert not list(tmp_path.iterdir())


def test_window_past_the_simrun_rejected(built, isf_params, tmp_path):
    """The window is checked against the simrun's trial length (a fact of the input, not a param)."""
    import shutil

    for name in ("isf_simrun", "isf_spatial_bins"):
        shutil.copytree(built / f"{name}.zarr", tmp_path / f"{name}.zarr")
    with pytest.raises(ParamError, match=r"max_time_ms must be <= t_stop_ms of the simrun = 100.0 ms\. Got 500.0 instead"):
        STAGES["isf_ann_batches"](dict(isf_params["isf_ann_batches"], max_time_ms=500.0), data_dir=tmp_path,
                                  scheduler="synchronous")
    assert not (tmp_path / "ann_batches.zarr").exists()


def test_stage_rejects_unknown_cell_type_before_writing(built, isf_params, tmp_path):
    import shutil

    for name in ("isf_simrun", "isf_spatial_bins"):
        shutil.copytree(built / f"{name}.zarr", tmp_path / f"{name}.zarr")
    p = dict(isf_params["isf_ann_batches"])
    p["inhibitory_celltypes"] = [c for c in p["inhibitory_celltypes"] if c != "L1"]
    with pytest.raises(ValueError, match=r"unknown cell type\(s\) \['L1'\]"):
        STAGES["isf_ann_batches"](p, data_dir=tmp_path, scheduler="synchronous")
    assert not (tmp_path / "ann_batches.zarr").exists()


@pytest.mark.parametrize("profile", ["default", "tiny", "seed"])
def test_every_profile_passes_the_checks(profile):
    """params.yaml, and with each profile merged in, gives valid params for the three stages."""
    from pathlib import Path

    import yaml

    from neurodata.params import merge_profile

    root = Path(__file__).resolve().parents[2]
    params = yaml.safe_load((root / "params.yaml").read_text())
    if profile != "default":
        params = merge_profile(params, yaml.safe_load((root / "profiles" / f"{profile}.yaml").read_text()) or {})
    for name, stage in STAGES.items():
        checked = stage.check(params[name])
        assert set(checked) == set(params[name])


def test_stage_params_gives_checked_params_with_overrides():
    p = neurodata.stage_params("isf_simrun", n_trials=3)
    assert p["n_trials"] == 3 and p["dt_ms"] == 0.025
    with pytest.raises(ParamError, match="'stimulus_time_ms' parameter of stage isf_simrun must be < t_stop_ms = 300.0 ms"):
        neurodata.stage_params("isf_simrun", stimulus_time_ms=400.0)
