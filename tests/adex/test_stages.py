"""The AdEx stages: params checked before work, atomic on failure, same result on any scheduler."""

import hashlib
from pathlib import Path

import pytest
import xarray as xr
import yaml

import neurodata.adex._sweeps as sweeps
from neurodata import ParamError
from neurodata.adex.stages import rate_match, we_sweep
from neurodata.cli import main

SWEEP = {"N": 500, "T": 0.5, "dt": 0.1, "we": [0.0, 100.0, 200.0], "seeds": [0, 1], "rng": "numpy"}
MATCH = {"N": [100, 400], "T": 1.0, "dt": 0.1, "seeds": [0, 1], "target_rate": 4.0, "w0_ref": 15.0, "N_ref": 6500, "rng": "numpy"}


def digest(store: Path) -> dict[str, str]:
    return {str(p.relative_to(store)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(store.rglob("*")) if p.is_file() and p.name != "zarr.json"}


def test_we_sweep_stage_writes_the_labelled_grid(data_dir):
    path, *_ = we_sweep(SWEEP, data_dir=data_dir, scheduler="synchronous")
    assert xr.open_zarr(path)["median_vm"].chunks == ((1, 1, 1), (2,))  # one chunk per task along we
    ds = xr.open_zarr(path).load()
    assert dict(ds.sizes) == {"we": 3, "seed": 2}
    assert ds["we"].attrs["units"] == "nS" and list(ds["we"].values) == [0.0, 0.1, 0.2]
    assert (ds["output_rate"].sel(we=0.0) == 0).all()
    assert (ds["output_rate"].sel(we=0.2) > ds["output_rate"].sel(we=0.1)).all()


@pytest.mark.parametrize("rng", ["numpy", "julia"])
def test_rate_match_stage(data_dir, rng):
    path, *_ = rate_match({**MATCH, "rng": rng}, data_dir=data_dir, scheduler="synchronous")
    ds = xr.open_zarr(path).load()
    assert ds.attrs["rng"] == rng
    assert list(ds["N"].values) == [100, 400]
    assert (abs(ds["rate"] - 4.0) < 0.3).all()
    assert (ds["factor"] == ds["w0"] / ds["we"]).all()
    assert ds["iterations"].dtype == "int64"


def test_local_cluster_run_equals_in_process_run(tmp_path):
    a, *_ = we_sweep(SWEEP, data_dir=tmp_path / "inprocess", scheduler="synchronous")
    b, *_ = we_sweep(SWEEP, data_dir=tmp_path / "cluster", scheduler="local")
    xr.testing.assert_identical(xr.open_zarr(a).load().drop_attrs(), xr.open_zarr(b).load().drop_attrs())
    assert digest(a) == digest(b)


@pytest.mark.parametrize("rng", ["numpy", "julia"])
def test_reruns_give_byte_identical_chunks(tmp_path, rng):
    a, *_ = we_sweep({**SWEEP, "rng": rng}, data_dir=tmp_path / "a", scheduler="synchronous")
    b, *_ = we_sweep({**SWEEP, "rng": rng}, data_dir=tmp_path / "b", scheduler="synchronous")
    assert digest(a) == digest(b)


def test_the_stream_is_recorded(data_dir):
    path, *_ = we_sweep(SWEEP, data_dir=data_dir, scheduler="synchronous")
    ds = xr.open_zarr(path)
    assert ds.attrs["rng"] == "numpy" and '"rng": "numpy"' in ds.attrs["stage_params"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"N": 0}, r"'N' parameter of stage adex_we_sweep must be an int in the range \[1, inf\)\. Got 0"),
        ({"T": 0.0}, r"'T' parameter .* \(0, inf\)\. Got 0\.0"),
        ({"T": -1}, r"'T' parameter"),
        ({"we": []}, r"'we' parameter .* Got \[\] instead"),
        ({"we": [-2.5, 5.0]}, r"'we' parameter .* Got \[-2\.5, 5\.0\] instead"),
        ({"typo": 1}, r"Unknown parameter\(s\) \['typo'\] for stage adex_we_sweep"),
        ({"rng": "Julia"}, r"'rng' parameter of stage adex_we_sweep must be one of \['numpy', 'julia'\]\. Got 'Julia' instead"),
    ],
)
def test_bad_params_fail_before_any_simulation(data_dir, monkeypatch, change, message):
    monkeypatch.setattr(sweeps, "simulate", lambda *a, **k: pytest.fail("simulated despite bad params"))
    with pytest.raises(ParamError, match=message):
        we_sweep({**SWEEP, **change}, data_dir=data_dir, scheduler="synchronous")
    assert list(data_dir.iterdir()) == []


def test_cli_exits_non_zero_on_bad_params_and_overwrites_nothing(data_dir, tmp_path, capsys):
    we_sweep(SWEEP, data_dir=data_dir, scheduler="synchronous")
    before = digest(data_dir / "adex_we_sweep.zarr")
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"adex_we_sweep": {**SWEEP, "N": -3}}))
    code = main(["run", "adex_we_sweep", "--params", str(params), "--data-dir", str(data_dir), "--scheduler", "synchronous"])
    assert code == 2
    assert "The 'N' parameter of stage adex_we_sweep must be an int" in capsys.readouterr().err
    assert digest(data_dir / "adex_we_sweep.zarr") == before
    assert sorted(p.name for p in data_dir.iterdir()) == ["adex_we_sweep.zarr"]


def test_a_stage_failing_midway_leaves_the_previous_artifact_intact(data_dir, monkeypatch):
    we_sweep(SWEEP, data_dir=data_dir, scheduler="synchronous")
    before = digest(data_dir / "adex_we_sweep.zarr")
    calls = {"n": 0}
    real = sweeps.simulate

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:  # the second w_e task, after the first one's region was written
            raise RuntimeError("injected failure")
        return real(*args, **kwargs)

    monkeypatch.setattr(sweeps, "simulate", flaky)
    with pytest.raises(RuntimeError, match="injected failure"):
        we_sweep({**SWEEP, "T": 0.25}, data_dir=data_dir, scheduler="synchronous")
    assert calls["n"] == 4
    assert digest(data_dir / "adex_we_sweep.zarr") == before
    assert sorted(p.name for p in data_dir.iterdir()) == ["adex_we_sweep.zarr"]
