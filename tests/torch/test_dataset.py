"""ArtifactDataset: samples of named tensors over any artifact, chosen by name."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import xarray as xr

torch = pytest.importorskip("torch")

import neurodata  # noqa: E402
from neurodata import ParamError  # noqa: E402
from neurodata.torch import ArtifactDataset  # noqa: E402


def ann(ml_data, **kw):
    kw = {"sample_dim": "trial", "inputs": "synapse_activation", "targets": ["ap", "isi"], **kw}
    return ArtifactDataset("ann_batches", data_dir=ml_data, **kw)


def test_samples_are_dicts_of_the_stored_values(ml_data):
    ds = ann(ml_data, extras="batch")
    assert len(ds) == 12
    assert ds.keys == ["synapse_activation", "ap", "isi", "batch"]
    assert ds.input_keys == ["synapse_activation"] and ds.target_keys == ["ap", "isi"]
    s = ds[7]
    assert set(s) == set(ds.keys) and all(isinstance(v, torch.Tensor) for v in s.values())
    # 1000 t + 100 s + 10 b + k
    assert s["synapse_activation"].shape == (2, 3, 4) and s["synapse_activation"].dtype == torch.float32
    assert s["synapse_activation"][1, 2].tolist() == [7120, 7121, 7122, 7123]
    assert s["ap"].dtype == torch.bool and s["ap"].tolist() == [False, False, True, False]   # (7 + k) % 3 == 0
    assert s["isi"].tolist() == [7.0, 7.5, 8.0, 8.5]
    assert s["batch"].dtype == torch.int64 and s["batch"].item() == 1
    assert ds[-1]["batch"].item() == 2


def test_fields_describe_each_key(ml_data):
    ds = ann(ml_data, inputs={"activity": "synapse_activation"}, targets={"ap_isi": ["ap", "isi"]})
    (act, both) = ds.fields
    assert (act.key, act.variables, act.role) == ("activity", ("synapse_activation",), "input")
    assert act.dims == ("syn_type", "spatial_bin", "time") and act.shape == (2, 3, 4)
    # stacked along a new last axis; bool and float32 give float32
    assert both.dims == ("time", "variable") and both.shape == (4, 2) and both.dtype == np.float32
    s = ds[7]
    assert s["ap_isi"][:, 0].tolist() == [0, 0, 1, 0] and s["ap_isi"][:, 1].tolist() == [7.0, 7.5, 8.0, 8.5]
    assert "activity" in repr(ds) and "12 samples along 'trial'" in repr(ds)


def test_blocks_are_the_stored_chunks(ml_data):
    ds = ann(ml_data)
    assert ds.n_blocks == 3   # 5, 5, 2 trials
    assert ds.block_of.tolist() == [0] * 5 + [1] * 5 + [2] * 2
    # largest block: 5 trials of 2 x 3 x 4 float32 activations, 4 bool ap, 4 float32 isi
    assert ds.block_nbytes == 5 * (24 * 4 + 4 * 1 + 4 * 4)


def test_dtypes_override_and_sample_coords(ml_data):
    ds = ann(ml_data, dtypes={"ap": torch.float32, "isi": "float64"})
    assert ds[0]["ap"].dtype == torch.float32 and ds[0]["isi"].dtype == torch.float64
    assert ds.sample_coords.tolist()[:2] == ["sim/000000", "sim/000001"]


def test_where_keeps_the_matching_samples(ml_data, layout):
    ds = ArtifactDataset("burst_windows", node="window_5", sample_dim="sample", inputs="temporal",
                         targets="label", where={"split": ["val", "test"]}, data_dir=ml_data)
    expected = [i for i in range(layout.n_samples) if i % 3 != 0]
    assert ds.positions.tolist() == expected
    assert [ds[j]["temporal"][0].item() for j in range(len(ds))] == [10 * i for i in expected]
    assert ds[0]["label"].dtype == torch.int64    # stored int8
    both = ArtifactDataset("burst_windows", node="window_5", sample_dim="sample", inputs="temporal",
                           where={"split": "train", "label": 1}, data_dir=ml_data)
    assert both.positions.tolist() == [i for i in range(layout.n_samples) if i % 3 == 0 and i % 2 == 1]


def test_transform_on_the_dict_or_per_key(ml_data):
    per_key = ann(ml_data, transform={"synapse_activation": torch.log1p})
    assert per_key[0]["synapse_activation"][0, 0, 1].item() == pytest.approx(np.log(2.0))
    whole = ann(ml_data, transform=scale_isi)
    assert whole[1]["isi"].tolist() == [2.0, 3.0, 4.0, 5.0]


def scale_isi(sample):
    return {**sample, "isi": 2 * sample["isi"]}


def test_an_in_place_transform_cannot_corrupt_the_cache(ml_data):
    ds = ann(ml_data)
    ds[3]["synapse_activation"].mul_(0)
    assert ds[3]["synapse_activation"].sum().item() > 0


def test_any_artifact_in_memory_or_tree(sweep):
    ds = ArtifactDataset(sweep(n_we=3, n_seed=2), sample_dim="we", inputs="median_vm", targets="output_rate")
    assert len(ds) == 3 and ds.n_blocks == 1
    assert ds[2]["median_vm"].tolist() == [-60.0, -60.0] and ds[2]["output_rate"].dtype == torch.float32
    tree = xr.DataTree.from_dict({"a": sweep(2, 1), "b": sweep(5, 1)})
    assert len(ArtifactDataset(tree, node="b", sample_dim="we", inputs="median_vm")) == 5


def test_store_paths(ml_data):
    store = ml_data / "ann_batches.zarr"
    for source in (store, str(store)):
        ds = ArtifactDataset(source, sample_dim="trial", inputs="isi")
        assert ds[2]["isi"].tolist() == [2.0, 2.5, 3.0, 3.5]
    with pytest.raises(ParamError, match="names the store .*missing.zarr, which does not exist"):
        ArtifactDataset(ml_data / "missing.zarr", sample_dim="trial", inputs="isi")


def test_from_catalog_resolves_the_data_dir_now(ml_data):
    with neurodata.set_options(data_dir=str(ml_data)):
        ds = ArtifactDataset.from_catalog("burst_windows", params={"window": 10}, sample_dim="sample",
                                          inputs={"spatial": ["x", "y"]}, targets="label")
    assert ds.name == "burst_windows/window_10" and ds[3]["spatial"].shape == (10, 2)
    assert ds[3]["spatial"][:, 0].tolist() == [3 + p for p in range(10)]   # x = i % 7 + p
    with pytest.raises(ParamError, match="must be one of .*'adex_we_sweep'.*Got 'nope'"):
        ArtifactDataset.from_catalog("nope", sample_dim="sample", inputs="x")
    with pytest.raises(ParamError, match="takes \\['node'\\] from the catalog entry"):
        ArtifactDataset.from_catalog("burst_windows", node="window_5", sample_dim="sample", inputs="x")
    with pytest.raises(ParamError, match="not by an ArtifactReader"):
        ArtifactDataset.from_catalog("gfr_model", sample_dim="cell", inputs="x")


def test_pickles_without_handles_or_blocks(ml_data):
    ds = ann(ml_data)
    ds[0]
    assert ds.cache_info().blocks == 1
    copy = pickle.loads(pickle.dumps(ds))
    assert copy._ds is None and copy.cache_info() == (0, 0, 0, 0, ds.cache_info().max_bytes)
    assert copy[11]["isi"].tolist() == ds[11]["isi"].tolist()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"inputs": "nope"}, ParamError, r"names 'nope', which is not a variable of ann_batches. Expected one of \["),
        ({"inputs": "bin_soma_distance"}, ParamError, r"dims \('spatial_bin',\) lack the sample dim 'trial'"),
        ({"sample_dim": "cell"}, ParamError, r"'sample_dim' parameter .* must be a dim of ann_batches: \[.*\]. Got 'cell'"),
        ({"inputs": None, "targets": None}, ParamError, "must name at least one variable"),
        ({"inputs": 3}, ParamError, "must be a variable name, a list of names, or a mapping"),
        ({"inputs": {"x": []}}, ParamError, "must be a variable name"),
        ({"inputs": "isi", "targets": {"isi": "ap"}}, ParamError, r"\['isi'\] is given more than once"),
        ({"targets": {"both": ["ap", "vt_max_per_ms"]}}, ParamError, "must share their dims"),
        ({"inputs": "trial"}, ParamError, "dtype StringDType.*has no tensor type"),
        ({"dtypes": {"nope": "float32"}}, ParamError, r"names keys \['nope'\] that are not in the sample"),
        ({"dtypes": {"ap": "not a dtype"}}, ParamError, "expected a torch or numpy dtype"),
        ({"where": {"batch": 7}}, ParamError, r"selects batch = \[7\], which no sample of ann_batches has: \[0, 1, 2\]"),
        ({"where": {"ap": True}}, ParamError, "expected a variable of ann_batches along 'trial' only"),
        ({"transform": 3}, ParamError, "must be a callable on the sample dict or a mapping"),
        ({"cache_mib": -1}, ParamError, "must be a number >= 0. Got -1"),
        ({"node": "bin_20"}, ParamError, "is 'bin_20', but ann_batches is a Dataset"),
    ],
)
def test_bad_arguments_are_rejected(ml_data, kwargs, error, match):
    with pytest.raises(error, match=match):
        ann(ml_data, **kwargs)


def test_bad_sources_and_indices(ml_data):
    with pytest.raises(ParamError, match="must name one node of gfr_binned, a tree with nodes \\['bin_100', 'bin_20'\\]"):
        ArtifactDataset("gfr_binned", sample_dim="sweep", inputs="current", data_dir=ml_data)
    with pytest.raises(ParamError, match="must be one of \\['bin_100', 'bin_20'\\] for gfr_binned. Got 'bin_7'"):
        ArtifactDataset("gfr_binned", node="bin_7", sample_dim="sweep", inputs="current", data_dir=ml_data)
    with pytest.raises(ParamError, match="must be an artifact name, a store path or an xarray"):
        ArtifactDataset(42, sample_dim="trial", inputs="isi")
    with pytest.raises(neurodata.ArtifactNotBuilt):
        ArtifactDataset("ann_batches", sample_dim="trial", inputs="isi", data_dir=ml_data / "empty")
    ds = ann(ml_data)
    with pytest.raises(IndexError, match="index 12 is out of range for 12 samples"):
        ds[12]
    with pytest.raises(IndexError, match="index -13 is out of range"):
        ds[-13]
    with pytest.raises(TypeError, match="indices must be integers. Got slice"):
        ds[1:3]


def test_in_memory_values_match_the_store(ml_data, layout):
    stored = ann(ml_data, targets="vt_max_per_ms")
    memory = ArtifactDataset(layout.ann_batches(), sample_dim="trial", inputs="synapse_activation", targets="vt_max_per_ms")
    for i in (0, 6, 11):
        for key in ("synapse_activation", "vt_max_per_ms"):
            assert torch.equal(stored[i][key], memory[i][key])


def zero_activations(sample):
    sample["synapse_activation"].mul_(0)   # in place, on purpose
    return sample


def test_a_batch_of_items_equals_the_items_one_by_one(ml_data):
    ds = ann(ml_data, extras="batch")
    items = [11, 0, 6, -1, 4, 5]           # blocks 2, 0, 1, 2, 0, 1
    batch = ds.__getitems__(items)
    assert len(batch) == len(items)
    for i, sample in zip(items, batch, strict=True):
        assert all(torch.equal(sample[k], ds[i][k]) for k in ds.keys)
    assert ds.cache_info().misses == 3
    with pytest.raises(IndexError, match="index 12 is out of range for 12 samples"):
        ds.__getitems__([0, 12])
    with pytest.raises(TypeError, match="indices must be integers"):
        ds.__getitems__([0.5])


def test_a_batch_transform_gets_copies(ml_data):
    ds = ann(ml_data, transform=zero_activations)
    assert all(s["synapse_activation"].sum() == 0 for s in ds.__getitems__([1, 2, 7]))
    plain = ann(ml_data)
    plain._cache = ds._cache                  # the same cached blocks, read without the transform
    assert plain[2]["synapse_activation"][0, 0].tolist() == [2000, 2001, 2002, 2003]
