"""Contracts compiled to pandera.xarray: every kind of violation is caught and named."""

import numpy as np
import pytest
import xarray as xr

from neurodata import SchemaViolation
from neurodata.schemas import load_contract, register_check, registered_checks, validate


def test_valid_dataset_passes(sweep):
    validate(sweep(), "adex_we_sweep")


def test_contract_is_read_from_schemas_folder():
    contract = load_contract("adex_we_sweep")
    assert contract.kind == "dataset" and contract.version == 1
    assert set(contract.nodes["/"]["data_vars"]) == {"median_vm", "output_rate"}


@pytest.mark.parametrize(
    ("corrupt", "pattern"),
    [
        (lambda ds: ds.drop_vars("output_rate"), r"adex_we_sweep: output_rate: .*missing required data_var 'output_rate'"),
        (lambda ds: ds.assign(output_rate=ds.output_rate.astype("float32")), r"adex_we_sweep: output_rate: .*dtype.*float64.*float32"),
        (
            lambda ds: ds.assign(median_vm=ds.median_vm.transpose().rename(seed="s2", we="w2")),
            r"adex_we_sweep: median_vm: .*dim",
        ),
        (lambda ds: ds.assign(output_rate=ds.output_rate - 5), r"adex_we_sweep: output_rate: ge\(0\): .*failure cases: -4\.0"),
        (lambda ds: ds.assign(median_vm=ds.median_vm.assign_attrs(units=None) .drop_attrs()), r"adex_we_sweep: median_vm: units: missing 'units' attr \(expected 'mV'\)"),
        (lambda ds: ds.assign_coords(we=ds.we.assign_attrs(units="pS")), r"adex_we_sweep: we: units: expected 'nS', got 'pS'"),
        (lambda ds: ds.assign_coords(we=ds.we[::-1]), r"adex_we_sweep: we: monotonic_increasing"),
        (lambda ds: ds.drop_attrs(deep=False), r"adex_we_sweep: attrs: missing dataset attr 'N'"),
    ],
    ids=["missing-variable", "wrong-dtype", "wrong-dims", "out-of-range", "missing-units", "wrong-units", "custom-check", "missing-attr"],
)
def test_violations_name_artifact_variable_and_rule(corrupt, pattern, sweep):
    with pytest.raises(SchemaViolation, match=pattern):
        validate(corrupt(sweep()), "adex_we_sweep")


def test_all_violations_are_reported_together(sweep):
    bad = sweep().assign(output_rate=lambda d: d.output_rate * -1).drop_vars("median_vm")
    with pytest.raises(SchemaViolation) as info:
        validate(bad, "adex_we_sweep")
    text = str(info.value)
    assert "median_vm" in text and "output_rate" in text


def test_values_are_checked_on_dask_backed_data(sweep):
    bad = sweep().assign(output_rate=lambda d: d.output_rate * -1).chunk({"we": 1})
    assert bad.output_rate.chunks is not None
    with pytest.raises(SchemaViolation, match=r"output_rate: ge\(0\)"):
        validate(bad, "adex_we_sweep")


def test_a_store_larger_than_the_in_memory_limit_is_checked_chunk_by_chunk(sweep, monkeypatch):
    import neurodata.schemas as schemas

    monkeypatch.setattr(schemas, "IN_MEMORY_BYTES", 0)
    bad = sweep().assign(output_rate=lambda d: d.output_rate * -1).chunk({"we": 1})
    with pytest.raises(SchemaViolation, match=r"output_rate: ge\(0\)"):
        validate(bad, "adex_we_sweep")
    validate(sweep().chunk({"we": 1}), "adex_we_sweep")
    assert bad.output_rate.chunks is not None  # validation never loads the caller's dataset in place


@pytest.mark.parametrize("dtype", ["<U40", object, "T"])
def test_string_checks_work_on_every_string_dtype_and_after_a_zarr_round_trip(dtype, tmp_path):
    (tmp_path / "s.yaml").write_text(
        "artifact: s\ndata_vars: {name: {dims: [i], dtype: str, units: '1', long_name: file, "
        "checks: {str_matches: {pattern: 'culture_[0-9]{3}\\.h5'}, str_startswith: {prefix: culture_}}}}\n"
    )

    def ds(names):
        return xr.Dataset({"name": ("i", np.array(names, dtype=dtype), {"units": "1", "long_name": "file"})})

    validate(ds(["culture_000.h5", "culture_012.h5"]), "s", schema_dir=tmp_path)
    ds(["culture_000.h5"]).to_zarr(tmp_path / "s.zarr", zarr_format=3, consolidated=False)
    validate(xr.open_zarr(tmp_path / "s.zarr", consolidated=False), "s", schema_dir=tmp_path)
    with pytest.raises(SchemaViolation, match=r"name: str_matches\(\{'pattern'"):
        validate(ds(["culture_000.h5", "culture_000.h5x"]), "s", schema_dir=tmp_path)  # the whole string must match
    with pytest.raises(SchemaViolation, match=r"name: str_startswith"):
        validate(ds(["xculture_000.h5"]), "s", schema_dir=tmp_path)


def test_a_dataset_where_a_tree_is_expected_is_rejected(tmp_path, sweep):
    (tmp_path / "tree.yaml").write_text(
        "artifact: tree\nkind: datatree\nnode_pattern: 'window_*'\n"
        "node: {dims: [sample], data_vars: {label: {dims: [sample], dtype: int8, long_name: label, checks: {isin: [0, 1]}}}}\n"
    )
    with pytest.raises(SchemaViolation, match="expected an xarray.DataTree"):
        validate(sweep(), "tree", schema_dir=tmp_path)
    good = xr.Dataset({"label": ("sample", np.array([0, 1], dtype="int8"), {"long_name": "label"})})
    tree = xr.DataTree.from_dict({"window_5": good, "window_10": good})
    validate(tree, "tree", schema_dir=tmp_path)
    bad = good.assign(label=("sample", np.array([0, 2], dtype="int8"), {"long_name": "label"}))
    with pytest.raises(SchemaViolation, match=r"tree/window_10: label: isin\(\[0, 1\]\)"):
        validate(xr.DataTree.from_dict({"window_5": good, "window_10": bad}), "tree", schema_dir=tmp_path)
    with pytest.raises(SchemaViolation, match=r"no child node matches"):
        validate(xr.DataTree.from_dict({"other": good}), "tree", schema_dir=tmp_path)


def test_unknown_check_in_a_contract_is_an_error(tmp_path):
    (tmp_path / "x.yaml").write_text("artifact: x\ndata_vars: {v: {dims: [t], checks: {wobbly: {}}}}\n")
    ds = xr.Dataset({"v": ("t", [1.0], {"long_name": "v"})})
    with pytest.raises(ValueError, match=r"x: v: unknown check 'wobbly'\. Expected one of pandera's"):
        validate(ds, "x", schema_dir=tmp_path)


def test_custom_checks_are_registered_by_name():
    assert {"monotonic_increasing", "finite", "unique", "labels_present"} <= set(registered_checks())
    with pytest.raises(ValueError, match="already registered"):
        register_check("finite")(lambda da: True)


def test_unknown_artifact_lists_known_contracts():
    with pytest.raises(FileNotFoundError, match=r"No contract for artifact 'nope'.*adex_we_sweep"):
        load_contract("nope")


def test_validation_in_slices_checks_every_slice_and_whole_coordinates(sweep):
    ds = sweep(n_we=10, n_seed=3).chunk({"we": 2})
    validate(ds, "adex_we_sweep", slices=("we", 3))
    late_bad = ds.assign(output_rate=ds.output_rate.where(ds.we < 0.03, -1.0))
    with pytest.raises(SchemaViolation) as info:
        validate(late_bad, "adex_we_sweep", slices=("we", 3))
    assert str(info.value).count("output_rate: ge(0)") == 1  # reported once, found in the last slice
    # a coordinate broken only across slice boundaries is still caught
    swapped = ds.assign_coords(we=np.r_[ds.we.values[3:6], ds.we.values[:3], ds.we.values[6:]])
    with pytest.raises(SchemaViolation, match="we: monotonic_increasing"):
        validate(swapped, "adex_we_sweep", slices=("we", 3))


def test_sorted_within_compares_neighbours_of_one_group_only():
    """The spike table's order: culture, then time step. A drop at a culture's boundary is fine;
    one inside a culture is not, also where unsigned subtraction would wrap around."""
    import xarray as xr

    from neurodata._relations import check_relation

    def table(steps, cultures):
        return xr.Dataset({"time_step": ("spike", np.asarray(steps, dtype=np.uint64)),
                           "culture": ("spike", np.asarray(cultures, dtype=np.int16))})

    assert check_relation(table([3, 7, 7, 1, 2], [0, 0, 0, 1, 1]), "sorted_within(time_step, culture)") is None
    assert check_relation(table([5, 3, 9], [0, 0, 0]), "sorted_within(time_step, culture)") is not None
    assert check_relation(table([5, 3, 9], [0, 1, 1]), "sorted_within(time_step, culture)") is None
    assert check_relation(table([], []), "sorted_within(time_step, culture)") is None
