"""End to end on a tiny population: stages, contracts, the catalog, the loader, JSON export and import."""

import json

import numpy as np
import pytest
import xarray as xr

import neurodata
from neurodata import ParamError, SchemaViolation
from neurodata.gfr import df_from_json, explained_variance_ratio, load_gfr_model, to_json
from neurodata.gfr.stages import binned, cells, fit_params
from neurodata.store import load_artifact

CELLS = {"n_cells": 5, "seed": 7, "dt": 0.1, "human_fraction": 0.18, "missing_noise_fraction": 0.3,
         "noise_cv": [0.04, 0.3], "n_noise_repeats": 3, "n_ramp_repeats": 2, "vt_jitter": 1.0,
         "noise_seeds": [1001, 1002], "cells_per_task": 3}
PARAMS = {"keys": [[10, 20], [10, 100], [20, 20], [20, 100], [50, 100], [100, 100]],
          "activation_degrees": [[20, 1], [100, 3]], "activation_epochs": 30, "activation_repeats": 2,
          "activation_lr": 0.05, "restart_lrs": [0.01, 0.001], "epochs": 4, "min_val_evr": 0.3,
          "max_train_loss": 0.45, "require_noise_sweeps": True, "seed": 0, "cells_per_task": 2}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gfr") / "data"
    with neurodata.set_options(data_dir=str(folder), scheduler="synchronous", progress="never"):
        cells(CELLS, data_dir=folder, scheduler="synchronous")
        binned({"bin_sizes": [10, 20, 50, 100]}, data_dir=folder, scheduler="synchronous")
        fit_params(PARAMS, data_dir=folder, scheduler="synchronous")
        yield folder


def test_artifacts_validate_and_are_labelled(built):
    for name in ("gfr_cells", "gfr_binned", "gfr_params"):
        obj = load_artifact(name, data_dir=built)
        neurodata.validate(obj, name)
    c = load_artifact("gfr_cells", data_dir=built)
    assert c.sizes["cell"] == 5 and set(np.asarray(c["stimulus_name"].values).astype(object)) == {
        "Long Square", "Ramp", "Noise 1", "Noise 2"}
    for name in ("rheobase", "tau", "input_resistance", "resting_potential", "fi_slope"):
        assert c[name].attrs["units"] and c[name].attrs["long_name"]
    t = load_artifact("gfr_params", data_dir=built)
    assert sorted(t.children) == sorted(f"bin_{b}_actv_{a}" for b, a in PARAMS["keys"])
    root = t.to_dataset()
    node = t["bin_50_actv_100"].to_dataset()
    assert int(root["n_cells"].sel(key="bin_50_actv_100")) == int(node["included"].sum())
    assert node.sizes["timescale"] == 7 and node.sizes["coeff"] == 4
    assert t["bin_10_actv_20"].to_dataset().sizes["timescale"] == 9


def test_missing_noise_is_excluded_with_its_reason(built):
    node = load_artifact("gfr_params", data_dir=built)["bin_20_actv_20"].to_dataset()
    reasons = dict(zip(node["cell"].values.tolist(), np.asarray(node["exclusion_reason"].values).astype(object)))
    c = load_artifact("gfr_cells", data_dir=built)
    missing = dict(zip(c["cell"].values.tolist(), np.asarray(c["missing_noise"].values).astype(object)))
    assert {m for m in missing.values() if m} == {"Noise 1", "Noise 2"}
    for cid, m in missing.items():
        if m:
            assert reasons[cid] == f"missing {m} sweeps"
            assert not node["included"].sel(cell=cid)
            assert np.isnan(node["a"].sel(cell=cid)).all()


def included_cell(tree, key):
    node = tree[f"bin_{key[0]}_actv_{key[1]}"].to_dataset()
    ids = node["cell"].values[np.asarray(node["included"].values)]
    assert ids.size, f"no cell included for {key}"
    return int(ids[0]), node


@pytest.mark.parametrize("key", [(50, 100), (100, 100)])
def test_loaded_model_reproduces_the_stored_test_evr(built, key):
    tree = load_artifact("gfr_params", data_dir=built)
    cid, node = included_cell(tree, key)
    with neurodata.set_options(data_dir=str(built)):
        model = neurodata.open_catalog()(cell_id=cid, bin_size=key[0], activation_bin_size=key[1]).gfr_model.read()
    assert model.get_params() == neurodata.load_gfr_model(tree, cid, *key).get_params()
    data = load_artifact("gfr_binned", data_dir=built)[f"bin_{key[0]}"].to_dataset()
    sel = (data["sweep_cell"].values == cid) & (np.asarray(data["stimulus_name"].values).astype(object) == "Noise 2")
    L = int(data["n_bins"].values[sel].max())
    cur = np.nan_to_num(data["current"].values[sel, :L].astype(float))
    rate = np.nan_to_num(data["rate"].values[sel, :L].astype(float))
    evr = explained_variance_ratio(rate, model.predict(cur[0])[0].numpy())
    assert evr == pytest.approx(float(node["test_evr"].sel(cell=cid)), abs=1e-4)


def test_json_round_trip_and_original_api(built, tmp_path):
    tree = load_artifact("gfr_params", data_dir=built)
    records = to_json(tree, tmp_path / "gfr_dataset.json")
    assert json.loads((tmp_path / "gfr_dataset.json").read_text()) == records
    assert list(records[0]) == ["cell_id", "cre-line", "bin_size", "actv_bin_size", "val_evr", "test_evr",
                                "train_loss", "test_loss", "params"]
    dataset = df_from_json(json.loads((tmp_path / "gfr_dataset.json").read_text()))
    assert list(dataset) == [(10, 20), (10, 100), (20, 20), (20, 100), (50, 100), (100, 100)]
    root = tree.to_dataset()
    for key, df in dataset.items():
        assert len(df) == int(root["n_cells"].sel(key=f"bin_{key[0]}_actv_{key[1]}"))
        assert list(df.columns)[:2] == ["cell_id", "cre-line"]
    key = (100, 100)
    cid, _ = included_cell(tree, key)
    model = load_gfr_model(dataset, cid, *key)
    assert model.get_params() == load_gfr_model(tree, cid, *key).get_params()
    assert len(model.get_params()["g"]["poly_coeff"][0]) == 4 and len(model.get_params()["a"][0]) == 6


def test_loader_errors_list_what_exists(built):
    tree = load_artifact("gfr_params", data_dir=built)
    with pytest.raises(KeyError, match=r"\(50, 20\).*Available keys: \[\(10, 20\), \(10, 100\)"):
        load_gfr_model(tree, 1, 50, 20)
    with pytest.raises(KeyError, match="Cell id not found: 123"):
        load_gfr_model(tree, 123, 100, 100)
    with pytest.raises(KeyError, match="Available keys"):
        load_gfr_model(df_from_json([]), 1, 30, 20)
    with pytest.raises(KeyError, match="unknown key"):
        df_from_json([{"cell_id": 1, "bin_size": 10, "actv_bin_size": 20, "extra": 1}])


def test_bad_params_are_rejected_before_work(tmp_path):
    with pytest.raises(ParamError, match=r"\[30, 20\]"):
        fit_params({**PARAMS, "keys": [[30, 20]]}, data_dir=tmp_path, scheduler="synchronous")
    with pytest.raises(ParamError, match="n_noise_repeats"):
        cells({**CELLS, "n_noise_repeats": 1}, data_dir=tmp_path, scheduler="synchronous")
    assert not any(tmp_path.iterdir())


def test_contract_rejects_bad_values(built):
    tree = load_artifact("gfr_params", data_dir=built)
    node = tree["bin_20_actv_20"].to_dataset(inherit=False)
    bad = tree.copy()
    bad["bin_20_actv_20"] = xr.DataTree(node.assign(ds=node["ds"] * 2))
    with pytest.raises(SchemaViolation, match="ds"):
        neurodata.validate(bad, "gfr_params")
    c = load_artifact("gfr_cells", data_dir=built)
    with pytest.raises(SchemaViolation, match="species"):
        neurodata.validate(c.assign_coords(species=("cell", np.array(["cat"] * 5, dtype=object), c["species"].attrs)),
                           "gfr_cells")
