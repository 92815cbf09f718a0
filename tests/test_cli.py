"""The `neurodata` command on a small built artifact."""

import re

import pytest

from neurodata import ParamError, UnknownName
from neurodata.adex.stages import we_sweep
from neurodata.cli import main

SWEEP = {"N": 300, "T": 0.3, "dt": 0.1, "we": [0.0, 150.0], "seeds": [0, 1], "rng": "numpy"}


@pytest.fixture
def built(data_dir):
    we_sweep(SWEEP, data_dir=data_dir, scheduler="synchronous")
    return data_dir


def test_list_shows_built_state_dims_and_size(built, capsys):
    assert main(["list", "--data-dir", str(built)]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("adex_we_sweep"))
    assert "we, seed" in row and " yes " in row and "KiB" in row
    assert next(line for line in out.splitlines() if line.startswith("adex_rate_match")).split()[-1] == "-"


def test_describe_prints_coords_units_and_provenance(built, capsys):
    assert main(["describe", "adex_we_sweep", "--data-dir", str(built)]) == 0
    out = capsys.readouterr().out
    assert "dims: we=2, seed=2" in out
    assert "output_rate (we, seed) float64 [Hz]" in out
    assert "stage_params:" in out and '"N": 300' in out and "code_sha256:" in out


def test_validate_reports_ok_and_fails_on_a_value_outside_the_contract(built, capsys):
    assert main(["validate", "--data-dir", str(built)]) == 0
    assert "adex_we_sweep: ok" in capsys.readouterr().out
    import zarr

    from neurodata._manifest import write_manifest

    store = built / "adex_we_sweep.zarr"
    zarr.open_array(str(store / "output_rate"), mode="r+")[0, 0] = -1.0
    write_manifest(store)  # a store whose bytes are intact but whose values break the contract
    assert main(["validate", "adex_we_sweep", "--data-dir", str(built)]) == 1
    assert "output_rate: ge(0)" in capsys.readouterr().out


def test_validate_fails_on_bytes_changed_after_the_build(built, capsys):
    import zarr

    zarr.open_array(str(built / "adex_we_sweep.zarr" / "output_rate"), mode="r+")[0, 0] = 3.0  # valid value
    assert main(["validate", "adex_we_sweep", "--data-dir", str(built)]) == 1
    out = capsys.readouterr().out
    assert "adex_we_sweep: FAIL" in out and "adex_we_sweep: output_rate: manifest: chunk 'output_rate/c/0/0' has 29 bytes" in out


def test_validate_of_an_unbuilt_named_entry_fails(data_dir, capsys):
    assert main(["validate", "adex_rate_match", "--data-dir", str(data_dir)]) == 1
    assert "adex_rate_match: NOT BUILT (build it with `dvc repro pipelines/adex/dvc.yaml:adex_rate_match`" in capsys.readouterr().out


def test_plot_writes_pngs(built, tmp_path, capsys):
    assert main(["plot", "adex_we_sweep", "-o", str(tmp_path / "figs"), "--data-dir", str(built)]) == 0
    png = tmp_path / "figs" / "adex_we_sweep.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "no_such_stage"], "Unknown stage 'no_such_stage'. Stages: ["),
        (["describe", "adex_we_swep"], "Unknown artifact 'adex_we_swep': no catalog entry of that name. Did you mean 'adex_we_sweep'?"),
        (["plot", "nope"], "Unknown artifact 'nope': no catalog entry of that name."),
        (["plot", "gfr_cells"], "No figures for 'gfr_cells'"),
        (["validate", "../../x"], "Unknown artifact '../../x'"),
    ],
)
def test_unknown_names_are_errors_listing_the_choices(argv, message, data_dir, capsys):
    assert main([*argv, "--data-dir", str(data_dir)]) == 1
    assert message in capsys.readouterr().err


def test_describe_of_unbuilt_artifact_says_how_to_build(data_dir, capsys):
    assert main(["describe", "adex_rate_match", "--data-dir", str(data_dir)]) == 1
    err = capsys.readouterr().err
    assert "is not built" in err and "`dvc repro pipelines/adex/dvc.yaml:adex_rate_match`" in err


def test_a_profile_runs_as_a_dvc_experiment_of_its_overrides(tmp_path):
    from neurodata.cli.profile import experiment_command

    (tmp_path / "params.yaml").write_text("a: {x: 1, y: [1, 2], name: p}  # units stay\nb: {z: 3}\n")
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "small.yaml").write_text("a: {y: [5, 6], name: q, x: null}\n")
    assert experiment_command("small", tmp_path, queue=True) == [
        "dvc", "exp", "run", "--all-pipelines", "--name", "small", "--queue",
        "--set-param", "a.y=[5,6]", "--set-param", 'a.name="q"', "--set-param", "a.x=null"]
    (profiles / "bad.yaml").write_text("c: {y: 1}\n")
    with pytest.raises(ParamError, match=r"overrides section 'c', which params.yaml does not have"):
        experiment_command("bad", tmp_path)
    (profiles / "badkey.yaml").write_text("a: {w: 1}\n")
    with pytest.raises(ParamError, match=r"overrides a.w, which params.yaml does not have"):
        experiment_command("badkey", tmp_path)
    with pytest.raises(UnknownName, match=r"No profile 'huge'. Profiles: \['bad', 'badkey', 'small'\]"):
        experiment_command("huge", tmp_path)
    with pytest.raises(UnknownName, match=r"No profile '../small'"):  # a name, never a path
        experiment_command("../small", tmp_path)


def test_every_profile_overrides_only_what_params_yaml_has():
    from pathlib import Path

    from neurodata.cli.profile import profile_overrides

    root = Path(__file__).resolve().parent.parent
    for profile in (root / "profiles").glob("*.yaml"):
        assert profile_overrides(profile.stem, root)


def test_plot_passes_the_other_artifacts_a_figure_asks_for(built, tmp_path):
    """A plot function's keyword-only parameter named after an artifact gets it, opened, when built."""
    from neurodata.cli.plot import _inputs

    def figure(obj, out_dir, *, adex_we_sweep=None, adex_rate_match=None, span_s=1.0):
        return []

    got = _inputs(figure, built)
    assert sorted(got) == ["adex_we_sweep"]   # adex_rate_match is not built; span_s is no artifact
    assert got["adex_we_sweep"].sizes["we"] == len(SWEEP["we"])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, r"Cannot read the params file .*missing\.yaml: No such file or directory"),
        ("a: [1\n", r"is not valid YAML"),
        ("- 1\n", r"must map stage names to their parameters; got list"),
        ("adex_rate_match: {}\n", r"has no section 'adex_we_sweep'"),
    ],
)
def test_a_bad_params_file_is_a_one_line_param_error(content, message, tmp_path, data_dir, capsys):
    params = tmp_path / "missing.yaml"
    if content is not None:
        params.write_text(content)
    assert main(["run", "adex_we_sweep", "--params", str(params), "--data-dir", str(data_dir)], forkserver=False) == 2
    err = capsys.readouterr().err
    assert err.startswith("neurodata run: error: ParamError: ")
    assert re.search(message, err)
    assert "Traceback" not in err
