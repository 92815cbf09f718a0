"""End-to-end stages on a small BrainGrid file: artifacts, exports, catalog, report, bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

import neurodata
from neurodata import ArtifactNotBuilt, ParamError, SchemaViolation
from neurodata.braingrid import baseline_report
from neurodata.braingrid.stages import STAGES
from neurodata.store import open_artifact
from neurodata.params import load_params


def params(stage: str, **overrides) -> dict:
    """The stage's section of params.yaml with *overrides*, unchecked (the stage checks them)."""
    return {**load_params(stage), **overrides}


def test_artifacts_and_exports(built_data, raster_truth):
    spikes = open_artifact("braingrid_spikes", data_dir=built_data)
    assert spikes.attrs["n_neurons"] == raster_truth["N"]
    ts = spikes["time_step"].values
    assert (np.diff(ts.astype(np.int64)) >= 0).all()
    bursts = open_artifact("braingrid_bursts", data_dir=built_data)
    assert bursts.attrs["avalanche_burst_min"] == raster_truth["N"]  # scaled: one spike per neuron
    assert int(bursts.attrs["n_bursts_avalanche"]) == raster_truth["burst_onsets"].size
    csv = pd.read_csv(built_data / "braingrid_allBurst.csv")
    assert list(csv.columns) == ["ID", "StartRow", "EndRow", "StartT", "EndT", "Width", "TotalSpikes", "IBI", "Culture"]
    assert (csv["Culture"] == 0).all()  # a BrainGrid run's file is culture 0
    assert csv["StartT"].isin(ts).all()  # StartT is a spike time step
    tree = open_artifact("burst_windows", data_dir=built_data)
    assert sorted(tree.children) == ["window_10", "window_5", "window_50"]
    assert tree.attrs["gap_spikes"] == 80  # 2000 * 400 / 10 000
    node = tree["window_10"].to_dataset()
    temp = np.loadtxt(built_data / "braingrid_train_data" / "temp_10.csv", delimiter=",", dtype=np.int64)
    space = np.loadtxt(built_data / "braingrid_train_data" / "space_10.csv", delimiter=",", dtype=np.int64)
    assert temp.shape == (node.sizes["sample"], 11) and space.shape == (node.sizes["sample"], 21)
    np.testing.assert_array_equal(temp[:, :-1], node["temporal"].values)
    baselines = open_artifact("braingrid_baselines", data_dir=built_data)
    assert baselines["test_accuracy"].shape == (3, 2, 3)
    assert "Burst prediction baselines" in baseline_report(built_data)


def test_catalog_reads(built_data):
    with neurodata.set_options(data_dir=str(built_data)):
        cat = neurodata.open_catalog()
        node = cat(window=50).burst_windows.read()
        assert node.sizes["position"] == 50
        assert set(np.unique(node["label"].values)) == {0, 1}
        assert cat.braingrid_spikes.read().sizes["spike"] > 0
        assert "window_5" in cat.burst_windows_tree.read().children
        assert cat.braingrid_baselines.read()["model"].values.tolist() == ["threshold", "decision_tree", "random_forest"]


def test_deterministic_windows(built_data, tmp_path):
    shutil.copytree(built_data / "braingrid_spikes.zarr", tmp_path / "braingrid_spikes.zarr")
    shutil.copytree(built_data / "braingrid_bursts.zarr", tmp_path / "braingrid_bursts.zarr")
    STAGES["burst_windows"](params("burst_windows", windows=[5, 10, 50], export_csv=False, split="burst"), data_dir=tmp_path)
    a = open_artifact("burst_windows", data_dir=built_data)["window_5"].to_dataset().load()
    b = open_artifact("burst_windows", data_dir=tmp_path)["window_5"].to_dataset().load()
    for var in ("temporal", "x", "label", "split"):
        np.testing.assert_array_equal(a[var].values, b[var].values)


def _nothing_written(folder: Path) -> bool:
    return not any(p.name.endswith(".zarr") or ".tmp-" in p.name for p in folder.iterdir())


def _copy_h5(src: Path, dest_dir: Path) -> Path:
    dest_dir.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(src, dest_dir / "braingrid_simulation.h5"))


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda f: f.__delitem__("xloc"), r"key 'xloc': missing"),
        (lambda f: (f.__delitem__("probedNeurons"), f.create_dataset("probedNeurons", data=np.arange(400, dtype="<f4"))), r"'probedNeurons': has dtype <f4, expected <i4"),
        (lambda f: (f.__delitem__("yloc"), f.create_dataset("yloc", data=np.zeros(7, dtype="<i4"))), r"'yloc': has shape \(7,\), expected \(400,\)"),
        (lambda f: f["spikesProbedNeurons"].__setitem__((1, 0), 1), r"column 0 \(neuron 0\), row 1: time step 1 is not greater"),
    ],
)
def test_bad_hdf5_is_rejected_and_nothing_written(braingrid_h5, tmp_path, mutate, match):
    path = _copy_h5(braingrid_h5, tmp_path)
    with h5py.File(path, "a") as f:
        mutate(f)
    with pytest.raises(SchemaViolation, match=match):
        STAGES["braingrid_spikes"](params("braingrid_spikes"), data_dir=tmp_path)
    assert _nothing_written(tmp_path)


def test_truncated_hdf5(braingrid_h5, tmp_path):
    path = _copy_h5(braingrid_h5, tmp_path)
    with path.open("r+b") as fh:
        fh.truncate(path.stat().st_size // 2)
    with pytest.raises(SchemaViolation, match=r"braingrid_simulation.h5.*(truncated|could not be read)"):
        STAGES["braingrid_spikes"](params("braingrid_spikes"), data_dir=tmp_path)
    assert _nothing_written(tmp_path)


def test_missing_inputs_and_bad_params(tmp_path):
    with pytest.raises(ArtifactNotBuilt, match="braingrid_simulation.h5; run `neurodata run braingrid_simulation`"):
        STAGES["braingrid_spikes"](params("braingrid_spikes"), data_dir=tmp_path)
    with pytest.raises(ArtifactNotBuilt, match="needs artifact 'braingrid_spikes'"):
        STAGES["braingrid_bursts"](params("braingrid_bursts"), data_dir=tmp_path)
    with pytest.raises(ParamError, match="'detectors' parameter of stage braingrid_bursts"):
        STAGES["braingrid_bursts"](params("braingrid_bursts", detectors=["peaks"]), data_dir=tmp_path)
    with pytest.raises(ArtifactNotBuilt):
        baseline_report(tmp_path)


def test_no_bursts_found_writes_nothing(built_data, tmp_path):
    shutil.copytree(built_data / "braingrid_spikes.zarr", tmp_path / "braingrid_spikes.zarr")
    with pytest.raises(ValueError, match="No bursts found"):
        STAGES["braingrid_bursts"](params("braingrid_bursts", scale_to_n=False, detectors=["avalanche"]), data_dir=tmp_path)
    assert not (tmp_path / "braingrid_bursts.zarr").exists()
    assert not (tmp_path / "braingrid_allBurst.csv").exists()


def test_plots(built_data, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from neurodata.braingrid.plots import (
        PLOTS,
        bursts_raster_figure,
        bursts_stats_figure,
        windows_examples_figure,
        windows_widths_figure,
    )

    bursts = open_artifact("braingrid_bursts", data_dir=built_data)
    spikes = open_artifact("braingrid_spikes", data_dir=built_data)
    tree = open_artifact("burst_windows", data_dir=built_data)

    raster = bursts_raster_figure(bursts, spikes, span_s=30.0).axes[0]
    assert (raster.get_xlabel(), raster.get_ylabel()) == ("time (s)", "neuron id (starters red)")
    assert len(raster.lines) == 2  # non-starters and starters
    in_view = int(((bursts["start_step"].values * 1e-4) <= raster.get_xlim()[1]).sum())  # bursts drawn from the first on
    assert len(raster.patches) == in_view > 0  # one shaded span per burst of either detector in view
    assert sorted(t.get_text() for t in raster.get_legend().get_texts()) == ["avalanche burst", "binned burst"]
    assert bursts_raster_figure(bursts).axes[0].get_ylabel() == ""  # without the spike table: bursts only

    stats = bursts_stats_figure(bursts).axes
    assert [a.get_xlabel() for a in stats] == ["spikes per burst", "burst width (ms)",
                                               "quiet gap: start - previous end (s)", "peak-to-peak interval (s)"]
    assert [len(a.patches) for a in stats] == [60, 60, 60, 60]  # 30 bins per detector, both detectors

    examples = windows_examples_figure(tree, n_examples=4)
    assert len(examples.axes) == 2 * 3  # (temporal, spatial) per window size 5, 10, 50
    assert [a.get_ylabel() for a in examples.axes[0::2]] == ["w = 5", "w = 10", "w = 50"]
    assert len(examples.axes[0].lines) == 8  # 4 pre-burst and 4 non-burst windows

    widths = windows_widths_figure(tree)
    assert [a.get_title() for a in widths.axes[:3]] == ["w = 5", "w = 10", "w = 50"]
    assert all(len(a.patches) == 60 for a in widths.axes)  # 30 bins per label

    paths = PLOTS["braingrid_bursts"](bursts, tmp_path, braingrid_spikes=spikes)
    paths += PLOTS["burst_windows"](tree, tmp_path)
    assert [p.name for p in paths] == [
        "braingrid_bursts_raster.png",
        "braingrid_bursts_stats.png",
        "burst_windows_examples.png",
        "burst_windows_widths.png",
    ]


def test_metrics_and_plot_table_agree_with_the_artifacts(built_data, raster_truth):
    import json

    metrics = built_data.parent / "metrics"
    bursts = open_artifact("braingrid_bursts", data_dir=built_data)
    got = json.loads((metrics / "braingrid_bursts.json").read_text())
    n = raster_truth["burst_onsets"].size
    assert got["avalanche"]["n_bursts"] == int(bursts.attrs["n_bursts_avalanche"]) == n
    width_ms = bursts["width_steps"].values[bursts["detector"].values.astype(object) == "avalanche"] * 0.1
    assert got["avalanche"]["median_width_ms"] == pytest.approx(float(np.median(width_ms)), rel=1e-6)
    sizes = pd.read_csv(built_data.parent / "plots" / "braingrid_burst_sizes.csv")
    assert int(sizes["n_avalanche"].sum()) == n and int(sizes["n_binned"].sum()) == int(bursts.attrs["n_bursts_binned"])
    assert (sizes["size_lo"] < sizes["size_hi"]).all()
    spikes = json.loads((metrics / "braingrid_spikes.json").read_text())
    assert spikes["n_spikes"] == open_artifact("braingrid_spikes", data_dir=built_data).sizes["spike"]
    windows = json.loads((metrics / "burst_windows.json").read_text())
    tree = open_artifact("burst_windows", data_dir=built_data)
    for w in (5, 10, 50):
        node = windows[f"window_{w}"]
        assert node["n_samples"] == tree[f"window_{w}"].sizes["sample"] == 2 * node["n_pre_burst"]
        assert node["n_train"] + node["n_val"] + node["n_test"] == node["n_samples"]
    baselines = json.loads((metrics / "braingrid_baselines.json").read_text())
    acc = open_artifact("braingrid_baselines", data_dir=built_data)["test_accuracy"]
    assert baselines["window_5/temporal/threshold/test"] == pytest.approx(
        float(acc.sel(window=5, kind="temporal", model="threshold")))
    assert baselines["n_cultures"] == 1.0  # one BrainGrid file: no interval across cultures
    assert all(v is None or isinstance(v, float) for v in baselines.values())  # NaN (no interval) is written as null
    assert baselines["window_5/temporal/threshold/cv_ci_low"] is None
