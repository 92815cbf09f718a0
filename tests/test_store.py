"""The store: atomic, validated, provenanced, deterministic Zarr v3."""

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import zarr

from neurodata import ArtifactNotBuilt, SchemaViolation
from neurodata.store import artifact_path, default_encoding, load_artifact, open_artifact, store_size, write_artifact


def chunk_hashes(store: Path) -> dict[str, str]:
    """sha256 of every array chunk/shard file (everything but the zarr.json metadata)."""
    return {
        str(p.relative_to(store)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(store.rglob("*"))
        if p.is_file() and p.name != "zarr.json"
    }


def test_write_then_read_round_trips_with_provenance(data_dir, sweep):
    ds = sweep()
    path = write_artifact(ds, "adex_we_sweep", params={"N": 10, "we": [0.0]}, seeds={"seeds": [0, 1]})
    assert path == data_dir / "adex_we_sweep.zarr"
    back = load_artifact("adex_we_sweep")
    xr.testing.assert_equal(back, ds)
    attrs = back.attrs
    assert json.loads(attrs["stage_params"]) == {"N": 10, "we": [0.0]}
    assert json.loads(attrs["seeds"]) == {"seeds": [0, 1]}
    with pytest.raises(TypeError, match="seeds must be None or a mapping"):  # one shape for every family
        write_artifact(ds, "adex_we_sweep", params={}, seeds=[0, 1])
    assert attrs["schema"] == "schemas/adex_we_sweep.yaml" and attrs["schema_version"] == 1
    from neurodata._code import code_digest, import_closure

    assert attrs["neurodata_version"] and attrs["stage"] == "adex_we_sweep"
    assert attrs["code_sha256"] == code_digest(import_closure("neurodata.adex.stages"))
    assert not {"git_commit", "created", "git_dirty"} & set(attrs)  # nothing that changes between identical builds
    assert back["median_vm"].attrs["units"] == "mV"


def test_store_is_zarr_v3_consolidated_compressed_with_explicit_chunks(data_dir, sweep):
    path = write_artifact(sweep(), "adex_we_sweep", params={}, encoding={"median_vm": {"chunks": (1, 2)}})
    root = json.loads((path / "zarr.json").read_text())
    assert root["zarr_format"] == 3
    assert "consolidated_metadata" in root and root["consolidated_metadata"]["metadata"]
    meta = json.loads((path / "median_vm" / "zarr.json").read_text())
    assert meta["chunk_grid"]["configuration"]["chunk_shape"] == [1, 2]
    assert any(codec["name"] == "zstd" for codec in meta["codecs"])


def test_large_arrays_are_sharded_into_few_files(data_dir, sweep):
    big = sweep(n_we=2000, n_seed=1000)  # 16 MB per variable
    path = write_artifact(big, "adex_we_sweep", params={})
    meta = json.loads((path / "median_vm" / "zarr.json").read_text())
    assert meta["codecs"][0]["name"] == "sharding_indexed"
    _, n_files = store_size(path)
    assert n_files < 20
    enc = default_encoding(big)
    assert "shards" in enc["median_vm"] and "shards" not in enc["we"]


def test_same_input_gives_byte_identical_chunks(tmp_path, sweep):
    ds = sweep(n_we=50, n_seed=7)
    a = write_artifact(ds, "adex_we_sweep", params={}, data_dir=tmp_path / "a")
    b = write_artifact(ds, "adex_we_sweep", params={}, data_dir=tmp_path / "b")
    assert chunk_hashes(a) == chunk_hashes(b) != {}


def test_invalid_data_is_not_written_and_previous_store_survives(data_dir, sweep):
    path = write_artifact(sweep(), "adex_we_sweep", params={"first": True})
    before = chunk_hashes(path)
    bad = sweep().assign(output_rate=lambda d: d.output_rate * -1)
    with pytest.raises(SchemaViolation):
        write_artifact(bad, "adex_we_sweep", params={"first": False})
    assert chunk_hashes(path) == before
    assert json.loads(load_artifact("adex_we_sweep").attrs["stage_params"]) == {"first": True}
    assert [p.name for p in data_dir.iterdir()] == ["adex_we_sweep.zarr"]


def test_interrupted_write_leaves_no_temporary_folder_and_keeps_old_store(data_dir, sweep, monkeypatch):
    path = write_artifact(sweep(), "adex_we_sweep", params={})
    before = chunk_hashes(path)

    def explode(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(xr.Dataset, "to_zarr", explode)
    with pytest.raises(KeyboardInterrupt):
        write_artifact(sweep(n_we=5), "adex_we_sweep", params={})
    assert chunk_hashes(path) == before
    assert [p.name for p in data_dir.iterdir()] == ["adex_we_sweep.zarr"]


def test_datatree_round_trip(tmp_path, monkeypatch):
    schemas = tmp_path / "schemas"
    schemas.mkdir()
    (schemas / "tree_demo.yaml").write_text(
        "artifact: tree_demo\nkind: datatree\nnode_pattern: 'w*'\n"
        "node: {data_vars: {x: {dims: [t], dtype: float64, units: s}}}\n"
    )
    import neurodata.schemas as schemas_module

    monkeypatch.setattr(schemas_module, "contracts_dir", lambda: schemas)
    node = xr.Dataset({"x": ("t", np.arange(3.0), {"units": "s"})})
    tree = xr.DataTree.from_dict({"w1": node, "w2": node * 2})
    path = write_artifact(tree, "tree_demo", params={"k": 1}, data_dir=tmp_path / "d")
    back = open_artifact("tree_demo", data_dir=tmp_path / "d")
    assert isinstance(back, xr.DataTree)
    xr.testing.assert_equal(back["w2"].to_dataset().load(), node * 2)
    assert zarr.open_group(str(path), mode="r").attrs["schema"] == "schemas/tree_demo.yaml"


def test_opening_an_unbuilt_artifact_says_how_to_build_it(data_dir):
    with pytest.raises(ArtifactNotBuilt, match=r"'adex_we_sweep' is not built: .* build it with `dvc repro pipelines/adex/dvc.yaml:adex_we_sweep`"):
        open_artifact("adex_we_sweep")
    assert not artifact_path("adex_we_sweep").exists()


def test_atomic_output_moves_files_and_folders_into_place_or_leaves_nothing(tmp_path):
    from neurodata.store import atomic_output

    dest = tmp_path / "table.csv"
    dest.write_text("old")
    with pytest.raises(RuntimeError), atomic_output(dest) as tmp:
        tmp.write_text("half")
        raise RuntimeError("stage failed")
    assert dest.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["table.csv"]
    with atomic_output(dest) as tmp:
        tmp.write_text("new")
    assert dest.read_text() == "new"
    folder = tmp_path / "exports"
    with atomic_output(folder) as tmp:
        tmp.mkdir()
        (tmp / "a.csv").write_text("1")
    assert (folder / "a.csv").read_text() == "1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exports", "table.csv"]
