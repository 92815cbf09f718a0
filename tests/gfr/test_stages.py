"""End to end on a tiny population: stages, contracts, metrics, figures, the catalog, the loader, JSON export."""

import json
import shutil

import matplotlib
import numpy as np
import pytest
import xarray as xr
import yaml

import neurodata
from neurodata import ParamError, SchemaViolation, UnknownName, stage_params
from neurodata.gfr import (RELEASE_KEYS, RELEASE_RETENTION, count_table, df_from_json, explained_variance_ratio, keys_of,
                           load_gfr_model, to_json)
from neurodata.gfr.plots import PLOTS, activations_figure, evr_figure, noise2_figure, plot_params
from neurodata.gfr.stages import binned, cells, fit_params
from neurodata.store import load_artifact

matplotlib.use("Agg")

#: five cells, two without a noise stimulus; short fits (the defaults: params.yaml)
CELLS = {"n_cells": 5, "seed": 7, "missing_noise_fraction": 0.3, "noise_cv": [0.04, 0.3], "n_noise_repeats": 3,
         "cells_per_task": 3}
PARAMS = {"activation_epochs": 30, "activation_repeats": 2, "restart_lrs": [0.01, 0.001], "epochs": 4,
          "min_val_evr": 0.3, "cells_per_task": 2}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gfr") / "data"
    with neurodata.set_options(data_dir=str(folder), scheduler="synchronous", progress="never"):
        cells(stage_params("gfr_cells", **CELLS), data_dir=folder, scheduler="synchronous")
        binned(stage_params("gfr_binned"), data_dir=folder, scheduler="synchronous")
        fit_params(stage_params("gfr_params", **PARAMS), data_dir=folder, scheduler="synchronous")
        yield folder


def test_artifacts_validate_and_are_labelled_from_their_contracts(built):
    for name in ("gfr_cells", "gfr_binned", "gfr_params"):
        obj = load_artifact(name, data_dir=built)
        neurodata.validate(obj, name)
    c = load_artifact("gfr_cells", data_dir=built)
    assert c.sizes["cell"] == 5 and set(np.asarray(c["stimulus_name"].values).astype(object)) == {
        "Long Square", "Ramp", "Noise 1", "Noise 2"}
    assert c["input_resistance"].attrs == {"long_name": "input resistance from a -50 pA step", "units": "MOhm"}
    assert c["cell"].attrs == {"long_name": "specimen id (synthetic, outside the Allen range)", "units": "1"}
    t = load_artifact("gfr_params", data_dir=built)
    assert t["bin_20_actv_20"]["b"].attrs["units"] == "pA ms"
    assert t["bin_20_actv_20"]["timescale"].attrs == {"long_name": "filter timescale tau (0 = memoryless)", "units": "ms"}
    assert load_artifact("gfr_binned", data_dir=built)["bin_10"]["rate"].attrs["units"] == "1/ms"
    assert sorted(t.children) == sorted(f"bin_{b}_actv_{a}" for b, a in stage_params("gfr_params")["keys"])
    assert keys_of(t) == list(RELEASE_KEYS)
    node = t["bin_50_actv_100"].to_dataset()
    assert node.sizes["timescale"] == 7 and node.sizes["coeff"] == 4 and node.sizes["epoch"] == PARAMS["epochs"]
    assert t["bin_10_actv_20"].to_dataset().sizes["timescale"] == 9
    root = t.to_dataset()
    assert root["bin_size"].values.tolist() == [10, 10, 20, 20, 50, 100]
    assert root.attrs["min_val_evr"] == PARAMS["min_val_evr"] and json.loads(root.attrs["seeds"]) == {"seed": 0}


def test_fits_are_written_in_blocks_of_cells_per_task(built):
    import zarr

    group = zarr.open_group(str(built / "gfr_params.zarr"), mode="r")
    assert group["bin_20_actv_20/a"].chunks[0] == PARAMS["cells_per_task"]
    assert group["bin_20_actv_20/exclusion_reason"].chunks == (PARAMS["cells_per_task"],)


def test_a_cell_does_not_depend_on_its_block(built, tmp_path):
    """Fitting all five cells in one task writes the same values as blocks of two."""
    folder = tmp_path / "data"
    folder.mkdir()
    for name in ("gfr_cells", "gfr_binned"):
        shutil.copytree(built / f"{name}.zarr", folder / f"{name}.zarr")
    with neurodata.set_options(progress="never"):
        fit_params(stage_params("gfr_params", **{**PARAMS, "cells_per_task": 5}), data_dir=folder, scheduler="synchronous")
    blocks, whole = (load_artifact("gfr_params", data_dir=d) for d in (built, folder))
    for key in keys_of(whole):
        a, b = (t[f"bin_{key[0]}_actv_{key[1]}"].to_dataset(inherit=False) for t in (blocks, whole))
        xr.testing.assert_identical(a.drop_attrs(deep=False), b.drop_attrs(deep=False))


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
            assert np.isnan(node["a"].sel(cell=cid)).all() and int(node["restart"].sel(cell=cid)) == -1
            assert np.isnan(node["train_losses"].sel(cell=cid)).all()
        else:
            assert int(node["restart"].sel(cell=cid)) in (0, 1)   # two restarts


def test_count_table_is_the_release_readme_table(built):
    tree = load_artifact("gfr_params", data_dir=built)
    table = count_table(tree)
    assert list(table.columns) == ["bin_size", "activation_bin_size", "n_cells", "n_fitted", "n_candidates"]
    assert [tuple(r) for r in table[["bin_size", "activation_bin_size"]].to_numpy()] == list(RELEASE_KEYS)
    for row in table.itertuples():
        node = tree[f"bin_{row.bin_size}_actv_{row.activation_bin_size}"].to_dataset()
        assert row.n_cells == int(node["included"].sum())
        assert row.n_fitted == int(np.isfinite(node["val_evr"]).sum()) == 3      # the three cells with both noises
        assert row.n_candidates == 5


def test_metrics_summarise_what_the_stages_wrote(built):
    metrics = built.parent / "metrics"
    c = json.loads((metrics / "gfr_cells.json").read_text())
    ds = load_artifact("gfr_cells", data_dir=built)
    names = np.asarray(ds["stimulus_name"].values).astype(object)
    assert (c["n_cells"], c["n_sweeps"], c["n_spikes"]) == (5, ds.sizes["sweep"], ds.sizes["spike"])
    assert c["sweeps"]["noise_1"] == int((names == "Noise 1").sum()) == 3 * (5 - c["cells_missing"]["noise_1"])
    assert c["sweeps"]["ramp"] == 2 * 5 and sum(c["cells_per_class"].values()) == 5
    assert c["cells_missing"]["noise_1"] + c["cells_missing"]["noise_2"] == 2          # the 0.3 quota of 5 cells

    p = json.loads((metrics / "gfr_params.json").read_text())
    tree = load_artifact("gfr_params", data_dir=built)
    assert list(p["keys"]) == sorted(f"bin_{b}_actv_{a}" for b, a in RELEASE_KEYS)   # json sorts keys
    for row in count_table(tree).itertuples():
        name = f"bin_{row.bin_size}_actv_{row.activation_bin_size}"
        key = p["keys"][name]
        node = tree[name].to_dataset()
        assert (key["n_candidates"], key["n_fitted"], key["n_included"]) == (5, row.n_fitted, row.n_cells)
        assert key["excluded"]["excluded"] == 5 - row.n_cells
        assert key["excluded"]["missing_noise_1"] + key["excluded"]["missing_noise_2"] == 2
        assert key["excluded"]["val_evr"] + key["excluded"]["train_loss"] + key["excluded"]["val_evr_nan"] == 3 - row.n_cells
        assert key["val_evr_median"] == pytest.approx(float(np.nanmedian(node["val_evr"].values)))
        assert key["test_evr_median"] == pytest.approx(float(np.nanmedian(node["test_evr"].values)))
        cal = p["calibration"]
        assert cal[f"retention_{row.bin_size}_{row.activation_bin_size}"] == pytest.approx(row.n_cells / 5)
        assert cal[f"retention_release_{row.bin_size}_{row.activation_bin_size}"] == pytest.approx(
            RELEASE_RETENTION[(row.bin_size, row.activation_bin_size)])
    gamma = load_artifact("gfr_binned", data_dir=built).to_dataset()["max_firing_rate"].values
    assert p["calibration"]["gamma_median"] == pytest.approx(float(np.nanmedian(gamma)))
    assert p["calibration"]["n_cells"] == 5


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


def included_cell(tree, key):
    node = tree[f"bin_{key[0]}_actv_{key[1]}"].to_dataset()
    ids = node["cell"].values[np.asarray(node["included"].values)]
    assert ids.size, f"no cell included for {key}"
    return int(ids[0]), node


def test_json_round_trip_and_original_api(built, tmp_path):
    tree = load_artifact("gfr_params", data_dir=built)
    records = to_json(tree, tmp_path / "gfr_dataset.json")
    assert json.loads((tmp_path / "gfr_dataset.json").read_text()) == records
    assert list(records[0]) == ["cell_id", "cre-line", "bin_size", "actv_bin_size", "val_evr", "test_evr",
                                "train_loss", "test_loss", "params"]
    dataset = df_from_json(json.loads((tmp_path / "gfr_dataset.json").read_text()))
    assert list(dataset) == list(RELEASE_KEYS)
    table = count_table(tree).set_index(["bin_size", "activation_bin_size"])
    for key, df in dataset.items():
        assert len(df) == table.loc[key, "n_cells"]
        assert list(df.columns)[:2] == ["cell_id", "cre-line"]
    key = (100, 100)
    cid, _ = included_cell(tree, key)
    model = load_gfr_model(dataset, cid, *key)
    assert model.get_params() == load_gfr_model(tree, cid, *key).get_params()
    assert len(model.get_params()["g"]["poly_coeff"][0]) == 4 and len(model.get_params()["a"][0]) == 6


def test_keys_outside_the_release_are_exported_after_its_six():
    record = {"cell_id": 1, "cre-line": None, "bin_size": 30, "actv_bin_size": 100, "val_evr": 0.6, "test_evr": 0.5,
              "train_loss": 0.1, "test_loss": 0.2, "params": {}}
    dataset = df_from_json([record, {**record, "bin_size": 20, "actv_bin_size": 20}])
    assert list(dataset) == [*RELEASE_KEYS, (30, 100)]
    assert len(dataset[(30, 100)]) == 1 and len(dataset[(20, 20)]) == 1 and len(dataset[(10, 20)]) == 0


def test_loader_errors_list_what_exists(built):
    tree = load_artifact("gfr_params", data_dir=built)
    with pytest.raises(UnknownName, match=r"\(50, 20\).*Available keys: \[\(10, 20\), \(10, 100\)"):
        load_gfr_model(tree, 1, 50, 20)
    with pytest.raises(UnknownName, match="Cell id not found: 123"):
        load_gfr_model(tree, 123, 100, 100)
    with pytest.raises(KeyError, match="Available keys"):          # the original raised (and caught) KeyError
        load_gfr_model(df_from_json([]), 1, 30, 20)
    with pytest.raises(UnknownName, match=r"unknown field\(s\) \['extra'\]"):
        df_from_json([{"cell_id": 1, "bin_size": 10, "actv_bin_size": 20, "extra": 1}])


@pytest.mark.parametrize(("stage", "overrides", "message"), [
    ("gfr_params", {"keys": [[20, 50]]}, r"'keys' parameter of stage gfr_params must pair every bin size with an "
                                         r"activation bin size that activation_degrees gives .*Got \[\[20, 50\]\]"),
    ("gfr_params", {"keys": [[100, 20]]}, r"'keys' .* activation bin size at least as long .*Got \[\[100, 20\]\]"),
    ("gfr_params", {"activation_degrees": [[20, 1], [20, 3]]}, r"'activation_degrees' .* one degree per activation "
                                                               r"bin size .*Got \[\[20, 1\], \[20, 3\]\]"),
    ("gfr_params", {"keys": [[10, 20, 30]]}, r"'keys' parameter of stage gfr_params must be a list"),
    ("gfr_params", {"cells_per_task": 0}, r"'cells_per_task' parameter of stage gfr_params must be an int in the range"),
    ("gfr_cells", {"n_noise_repeats": 1}, r"'n_noise_repeats' .* range \[2, 4\]. Got 1 instead"),
    ("gfr_cells", {"noise_cv": [0.7, 0.015]}, r"'noise_cv' .* increasing. Got \[0.7, 0.015\]"),
    ("gfr_cells", {"noise_seeds": [3, 3]}, r"'noise_seeds' .* without repeats"),
    ("gfr_binned", {"bin_sizes": [20, 10]}, r"'bin_sizes' .* increasing"),
])
def test_bad_params_are_rejected_before_work(tmp_path, stage, overrides, message):
    run = {"gfr_cells": cells, "gfr_binned": binned, "gfr_params": fit_params}[stage]
    with pytest.raises(ParamError, match=message):
        run({**stage_params(stage), **overrides}, data_dir=tmp_path / "data", scheduler="synchronous")
    assert not any(tmp_path.iterdir())


def test_keys_need_the_bin_sizes_gfr_binned_was_built_with(built, tmp_path):
    with pytest.raises(ParamError, match=r"needs bin sizes \[30\] \[ms\] that gfr_binned was not built with "
                                         r"\(its bins: \[10, 20, 50, 100\]\)"):
        fit_params({**stage_params("gfr_params", **PARAMS), "keys": [[30, 100]]}, data_dir=built, scheduler="synchronous")


def test_the_release_keys_are_the_default_keys_and_the_catalog_options():
    """params.yaml is the one home of the keys a build fits; the release's table is checked against it."""
    keys = [tuple(k) for k in stage_params("gfr_params")["keys"]]
    assert keys == list(RELEASE_KEYS) and set(RELEASE_RETENTION) == set(RELEASE_KEYS)
    catalog = yaml.safe_load((neurodata._paths.project_root() / "catalog" / "catalog.yaml").read_text())
    assert catalog["metadata"]["parameter_options"]["bin_size"] == "gfr_params.keys[0]"
    assert catalog["metadata"]["parameter_options"]["activation_bin_size"] == "gfr_params.keys[1]"


def test_contract_rejects_bad_values(built):
    tree = load_artifact("gfr_params", data_dir=built)
    node = tree["bin_20_actv_20"].to_dataset(inherit=False)
    bad = tree.copy()
    bad["bin_20_actv_20"] = xr.DataTree(node.assign(ds=node["ds"] * 2))
    with pytest.raises(SchemaViolation, match="ds"):
        neurodata.validate(bad, "gfr_params")
    included_cell(tree, (50, 100))
    kept = tree["bin_50_actv_100"].to_dataset(inherit=False)
    unfitted = tree.copy()
    unfitted["bin_50_actv_100"] = xr.DataTree(kept.assign(restart=kept["restart"] * 0 - 1))   # included, never fitted
    with pytest.raises(SchemaViolation, match=r"restart >= 0 or not included"):
        neurodata.validate(unfitted, "gfr_params")
    c = load_artifact("gfr_cells", data_dir=built)
    with pytest.raises(SchemaViolation, match="species"):
        neurodata.validate(c.assign_coords(species=("cell", np.array(["cat"] * 5, dtype=object), c["species"].attrs)),
                           "gfr_cells")
    b = load_artifact("gfr_binned", data_dir=built)
    shuffled = xr.DataTree.from_dict({"/": b.to_dataset(inherit=False).isel(cell=[1, 0, 2, 3, 4]),
                                      **{name: b[name].to_dataset(inherit=False) for name in b.children}})
    with pytest.raises(SchemaViolation, match="cell: monotonic_increasing"):
        neurodata.validate(shuffled, "gfr_binned")


def test_evr_figure_shows_every_key_and_the_threshold(built):
    tree = load_artifact("gfr_params", data_dir=built)
    fig = evr_figure(tree)
    ax = fig.axes[0]
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    table = count_table(tree)
    assert ticks == [f"({r.bin_size}, {r.activation_bin_size})\nn={r.n_cells}" for r in table.itertuples()]
    assert ax.get_ylabel() == "explained variance ratio"
    threshold = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    assert len(threshold) == 1 and threshold[0].get_ydata()[0] == PARAMS["min_val_evr"]
    assert len(ax.collections) == 2 * 6 * 5        # per key a validation and a test violin: body + 4 line sets
    matplotlib.pyplot.close(fig)


def test_activations_figure_draws_one_curve_per_fitted_cell(built):
    tree = load_artifact("gfr_params", data_dir=built)
    fig = activations_figure(tree)
    assert [ax.get_title().split(" (")[0] for ax in fig.axes] == ["activation bin 20 ms", "activation bin 100 ms"]
    for ax, (_, ab) in zip(fig.axes, [(10, 20), (10, 100)], strict=True):
        fitted = int(np.isfinite(tree[f"bin_10_actv_{ab}"]["g_b"].values).sum())
        assert len(ax.get_lines()) == fitted == 3 and ax.get_title().endswith(f"{fitted} cells")
        assert ax.get_xlabel() == "mean hidden state z (pA)" and ax.get_ylabel() == "g(z) (Hz)"
    matplotlib.pyplot.close(fig)


def test_noise2_figure_shows_repeats_mean_and_model(built):
    tree = load_artifact("gfr_params", data_dir=built)
    fig = noise2_figure(tree, load_artifact("gfr_binned", data_dir=built), n_cells=4)
    node = tree["bin_20_actv_20"].to_dataset()
    n_included = int(node["included"].sum())
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(fig.axes) == 4 and len(visible) == min(4, n_included) >= 1
    for ax in visible:
        assert len(ax.get_lines()) == CELLS["n_noise_repeats"] + 2       # each repeat, their mean, the GFR
        cid = int(ax.get_title().split()[1])
        evr = float(ax.get_title().rsplit(" ", 1)[1])
        assert evr == pytest.approx(float(node["test_evr"].sel(cell=cid)), abs=0.006)
    assert visible[0].get_legend() is not None
    matplotlib.pyplot.close(fig)


def test_plot_params_draws_the_noise2_figure_only_with_gfr_binned(built, tmp_path):
    tree = load_artifact("gfr_params", data_dir=built)
    assert PLOTS["gfr_params"] is plot_params
    assert [p.name for p in plot_params(tree, tmp_path)] == ["gfr_evr.png", "gfr_activations.png"]
    paths = plot_params(tree, tmp_path / "all", gfr_binned=load_artifact("gfr_binned", data_dir=built))
    assert [p.name for p in paths] == ["gfr_evr.png", "gfr_activations.png", "gfr_noise2_examples.png"]
    assert all(p.stat().st_size > 10_000 for p in paths)
