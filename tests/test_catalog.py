"""The intake catalog: found from anywhere in the checkout, one entry per artifact, readable at any git revision."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from _support import pipeline_stages

import neurodata
from neurodata.adex.stages import we_sweep
from neurodata.catalog import catalog_path, entry_artifact

REPO = Path(__file__).resolve().parent.parent


def test_catalog_is_found_from_a_subfolder(monkeypatch):
    monkeypatch.chdir(REPO / "neurodata" / "cli")
    assert catalog_path() == REPO / "catalog" / "catalog.yaml"
    cat = neurodata.open_catalog()
    assert "adex_we_sweep" in cat.entries


def test_every_entry_has_description_dims_units_and_a_contract():
    cat = neurodata.open_catalog()
    for name, entry in cat.entries.items():
        meta = entry.metadata
        assert meta.get("description"), name
        assert isinstance(meta.get("units"), dict), name
        if entry.output_instance.startswith("xarray:"):
            assert meta.get("dims"), name
        artifact = entry_artifact(cat, name)
        assert (REPO / "schemas" / f"{artifact}.yaml").is_file(), name


def test_every_contract_and_dvc_output_has_a_catalog_entry():
    cat = neurodata.open_catalog()
    artifacts = {entry_artifact(cat, name) for name in cat.entries}
    contracts = {p.stem for p in (REPO / "schemas").glob("*.yaml")}
    assert contracts <= artifacts
    stages = pipeline_stages(REPO)
    outs = {Path(o if isinstance(o, str) else next(iter(o))).name for s in stages.values() for o in s.get("outs", [])}
    zarr_outs = {o.removesuffix(".zarr") for o in outs if o.endswith(".zarr")}
    assert zarr_outs <= artifacts
    assert set(cat) == set(cat.entries)  # every entry is listed (intake iterates aliases)


def test_every_dvc_stage_is_a_registered_stage_reading_its_own_params():
    from neurodata._registry import stages

    registered = stages()
    dvc = pipeline_stages(REPO)
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    for name, stage in dvc.items():
        assert stage["cmd"] == f"neurodata run {name}" and stage["wdir"] == "../..", name
        assert name in registered, name
        assert stage["params"] == [name] and name in params, name


def test_read_an_artifact_through_the_catalog(data_dir):
    we_sweep({"N": 200, "T": 0.2, "dt": 0.1, "we": [0.0, 100.0], "seeds": [0], "rng": "numpy"}, data_dir=data_dir, scheduler="synchronous")
    ds = neurodata.open_catalog().adex_we_sweep.read()
    assert dict(ds.sizes) == {"we": 2, "seed": 1}
    assert ds["output_rate"].attrs["units"] == "Hz"


def _run(cmd: list[str], cwd: Path, env: dict[str, str]) -> None:
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{result.stdout}\n{result.stderr}"


@pytest.mark.slow
def test_catalog_reads_any_revision_through_dvc(tmp_path):
    """A temporary git+DVC repo, a local remote, two revisions of one artifact; read both by rev."""
    repo, remote = tmp_path / "repo", tmp_path / "remote"
    (repo / "catalog").mkdir(parents=True)
    (repo / "schemas").mkdir()
    shutil.copy(REPO / "catalog" / "catalog.yaml", repo / "catalog")
    shutil.copy(REPO / "schemas" / "adex_we_sweep.yaml", repo / "schemas")
    stage = {**pipeline_stages(REPO)["adex_we_sweep"], "deps": ["schemas/adex_we_sweep.yaml"]}  # the code lives in the installed package
    (repo / "pipelines" / "adex").mkdir(parents=True)
    (repo / "pipelines" / "adex" / "dvc.yaml").write_text(yaml.safe_dump({"stages": {"adex_we_sweep": stage}}))
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ["PATH"], "NEURODATA_SCHEDULER": "synchronous",
           "DVC_NO_ANALYTICS": "1", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}  # fmt: skip
    env.pop("NEURODATA_DATA_DIR", None)
    dvc = [str(Path(bin_dir) / "dvc")]
    _run(["git", "init", "-q"], repo, env)
    _run([*dvc, "init", "-q"], repo, env)
    _run([*dvc, "remote", "add", "-d", "local", str(remote)], repo, env)
    _run(["git", "add", "-A"], repo, env)
    _run(["git", "commit", "-qm", "init"], repo, env)  # the remote is committed before any tag
    for tag, we in (("v1", [0.0, 100.0]), ("v2", [0.0, 50.0, 100.0, 150.0])):
        sweep = {"N": 200, "T": 0.2, "dt": 0.1, "we": we, "seeds": [0, 1], "rng": "numpy"}
        (repo / "params.yaml").write_text(yaml.safe_dump({"adex_we_sweep": sweep}))
        _run([*dvc, "repro", "-q", "--all-pipelines"], repo, env)
        _run(["git", "add", "-A"], repo, env)
        _run(["git", "commit", "-qm", tag], repo, env)
        _run(["git", "tag", tag], repo, env)
        _run([*dvc, "push", "-q"], repo, env)
    # Nothing local any more: the reads must come from the remote through DVC.
    shutil.rmtree(repo / "data" / "adex_we_sweep.zarr")
    shutil.rmtree(repo / ".dvc" / "cache")
    cat = neurodata.open_catalog(repo / "catalog" / "catalog.yaml")
    v1 = cat(rev="v1").adex_we_sweep.read()
    v2 = cat(rev="v2").adex_we_sweep.read()
    assert list(v1["we"].values * 1000) == [0.0, 100.0]
    assert list(v2["we"].values * 1000) == [0.0, 50.0, 100.0, 150.0]
    assert v2["median_vm"].load().sel(we=0.15).min() > v2["median_vm"].load().sel(we=0.0).max() + 1
    with pytest.raises(neurodata.ArtifactNotBuilt, match="at revision 'HEAD~2'"):
        cat(rev="HEAD~2").adex_we_sweep.read()
