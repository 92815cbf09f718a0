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
    assert list(csv.columns) == ["ID", "StartRow", "EndRow", "StartT", "EndT", "Width", "TotalSpikes", "IBI"]
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
    assert baselines["test_accuracy"].shape == (3, 2, 2)
    assert "Burst prediction baselines" in baseline_report(built_data)


def test_catalog_reads(built_data):
    with neurodata.set_options(data_dir=str(built_data)):
        cat = neurodata.open_catalog()
        node = cat(window=50).burst_windows.read()
        assert node.sizes["position"] == 50
        assert set(np.unique(node["label"].values)) == {0, 1}
        assert cat.braingrid_spikes.read().sizes["spike"] > 0
        assert "window_5" in cat.burst_windows_tree.read().children
        assert cat.braingrid_baselines.read()["model"].values.tolist() == ["threshold", "decision_tree"]


def test_deterministic_windows(built_data, tmp_path):
    shutil.copytree(built_data / "braingrid_spikes.zarr", tmp_path / "braingrid_spikes.zarr")
    shutil.copytree(built_data / "braingrid_bursts.zarr", tmp_path / "braingrid_bursts.zarr")
    STAGES["burst_windows"](params("burst_windows", windows=[5, 10, 50], export_csv=False), data_dir=tmp_path)
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
    from neurodata.braingrid.plots import PLOTS

    paths = PLOTS["braingrid_bursts"](open_artifact("braingrid_bursts", data_dir=built_data), tmp_path)
    paths += PLOTS["burst_windows"](open_artifact("burst_windows", data_dir=built_data), tmp_path)
    assert [p.name for p in paths] == [
        "braingrid_bursts_raster.png",
        "braingrid_bursts_stats.png",
        "burst_windows_examples.png",
        "burst_windows_widths.png",
    ]
    assert all(p.stat().st_size > 10_000 for p in paths)
