"""NWB export of the spike artifacts: hand-checked units tables, session metadata, nwbinspector, rejections."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import numpy as np
import pytest

import neurodata
from neurodata import ArtifactNotBuilt, ParamError, SchemaViolation
from neurodata.cli import main
from neurodata.nwb import EXPORTABLE, SESSION_START_TIME, content_identifier, export_nwb, to_nwbfile
from neurodata.store import load_artifact, write_artifact

pynwb = pytest.importorskip("pynwb")
nwbinspector = pytest.importorskip("nwbinspector")

REPO = Path(__file__).resolve().parent.parent

# ei_spikes by hand: (time [ms], neuron id); 4 E neurons (0-1 cluster 0, 2-3 cluster 1), 2 I
# (4: cluster 0, 5: cluster 1); cluster 1 stimulated in (200, 400] ms. No spike time is a whole
# number of seconds (nwbinspector takes all-integer spike times for sample indices).
EI_SPIKES = [(100.0, 0), (200.0, 1), (250.0, 2), (300.0, 3), (400.0, 2), (500.0, 5), (600.0, 5), (999.9, 4)]
EI_TIMES_S = {0: [0.1], 1: [0.2], 2: [0.25, 0.4], 3: [0.3], 4: [0.9999], 5: [0.5, 0.6]}

# braingrid_spikes by hand on a 10 x 10 grid: (time step, neuron id = y * 10 + x), dt = 1e-4 s.
BG_WIDTH = 10
BG_SPIKES = [(15, 3), (15, 42), (17, 3), (2_345, 99), (2_346, 0), (2_346, 42), (9_001, 42)]
BG_TIMES_S = {0: [0.2346], 3: [0.0015, 0.0017], 42: [0.0015, 0.2346, 0.9001], 99: [0.2345]}
BG_STARTERS = np.arange(0, 100, 10)
BG_INHIBITORY = np.arange(5, 100, 10)

# What nwbinspector may still say below BEST_PRACTICE_VIOLATION (see docs/nwb.md).
ALLOWED_SUGGESTIONS = {
    "check_experimenter_exists",  # an artifact does not record who ran it (export_nwb(experimenter=...))
    "check_institution",  # nor where (export_nwb(institution=...))
    "check_column_binary_capability",  # a network of two clusters has cluster ids 0 and 1 only
    "check_single_row",  # one stimulus window
}


def _ei_dataset(spikes=EI_SPIKES):
    from neurodata import stage_params
    from neurodata.ei_network import SimulationResult, network_layout, spikes_dataset

    params = stage_params("ei_network", N_E=4, N_I=2, n_clusters=2, rep=1.5, warmup=50.0, simtime=1000.0,
                                  stim_clusters=[1], stim_starts=[200.0], stim_ends=[400.0], seed=7)
    t, n = np.array(spikes).T
    result = SimulationResult(time_ms=t, neuron=n.astype(np.int64), layout=network_layout(params), params=params,
                              num_connections=0, build_s=0.0, simulate_s=0.0, nest_version="3.10.0")
    return spikes_dataset(result)


def _write_ei(data_dir: Path, spikes=EI_SPIKES) -> Path:
    return write_artifact(_ei_dataset(spikes), "ei_spikes", params={"N_E": 4, "N_I": 2}, seeds={"seed": 7},
                          data_dir=data_dir)


def _write_braingrid(data_dir: Path) -> None:
    from neurodata.braingrid import BrainGridRecord, write_braingrid_h5
    from neurodata.braingrid.stages import STAGES

    steps, neurons = np.array(BG_SPIKES).T
    record = BrainGridRecord.from_raster(steps, neurons, width=BG_WIDTH, starters=BG_STARTERS,
                                         inhibitory=BG_INHIBITORY, n_epochs=1, tsim_s=1.0)
    write_braingrid_h5(data_dir / "braingrid_simulation.h5", record)
    STAGES["braingrid_spikes"]({"block_neurons": None, "block_mib": 1}, data_dir=data_dir)  # every param: no defaults in specs


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with the hand-made ei_spikes and braingrid_spikes artifacts."""
    folder = tmp_path_factory.mktemp("data")
    _write_ei(folder)
    _write_braingrid(folder)
    return folder


@pytest.fixture(scope="module")
def exported(data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("nwb")
    return {name: export_nwb(name, out / f"{name}.nwb", data_dir=data) for name in EXPORTABLE}


def _read(path: Path):
    """(units DataFrame, NWBFile fields) of an NWB file, read with pynwb and closed."""
    with pynwb.NWBHDF5IO(str(path), mode="r") as io:
        nwbfile = io.read()
        units = nwbfile.units.to_dataframe()
        info = {
            "identifier": nwbfile.identifier,
            "session_start_time": nwbfile.session_start_time,
            "session_description": nwbfile.session_description,
            "experiment_description": nwbfile.experiment_description,
            "related_publications": list(nwbfile.related_publications),
            "notes": nwbfile.notes,
            "resolution": nwbfile.units.resolution,
            "descriptions": {c.name: c.description for c in nwbfile.units.columns},
            "intervals": {k: v.to_dataframe() for k, v in nwbfile.intervals.items()},
            "subject": (nwbfile.subject.species, nwbfile.subject.sex, nwbfile.subject.age),
            "experimenter": nwbfile.experimenter,
        }
    return units, info


def _inspect(path: Path) -> list:
    return [m for m in nwbinspector.inspect_nwbfile(nwbfile_path=str(path)) if m is not None]


# --------------------------------------------------------------------------------------
# units tables


def test_ei_units_hand_checked(exported, data):
    units, info = _read(exported["ei_spikes"])
    assert units.index.tolist() == [0, 1, 2, 3, 4, 5]
    assert [len(t) for t in units["spike_times"]] == [1, 1, 2, 1, 1, 2]
    for unit, times in EI_TIMES_S.items():
        np.testing.assert_array_equal(units.loc[unit, "spike_times"], times)
    # against the artifact: seconds = ms / 1000, each unit's spikes in time order
    ds = load_artifact("ei_spikes", data_dir=data)
    for unit in range(6):
        mine = ds["time_ms"].values[ds["neuron"].values == unit] / 1000.0
        np.testing.assert_array_equal(units.loc[unit, "spike_times"], mine)
    assert units["population"].tolist() == ["E", "E", "E", "E", "I", "I"]
    assert units["cluster"].tolist() == [0, 0, 1, 1, 0, 1]
    assert units["stimulated"].tolist() == [False, False, True, True, False, False]
    np.testing.assert_array_equal(units["background_current"], ds["background_current"].values)
    np.testing.assert_array_equal(units["v_init"], ds["v_init"].values)
    assert info["descriptions"]["background_current"] == "constant background input I_e [pA]"
    assert info["descriptions"]["v_init"] == "initial membrane potential [mV]"
    assert info["resolution"] == pytest.approx(1e-4)  # dt = 0.1 ms
    for obs in units["obs_intervals"]:
        np.testing.assert_array_equal(obs, [[0.0, 1.0]])  # simtime 1000 ms after the warm-up
    windows = info["intervals"]["stimulus_windows"]
    assert windows[["start_time", "stop_time"]].values.tolist() == [[0.2, 0.4]]


def test_braingrid_units_hand_checked(exported, data):
    units, info = _read(exported["braingrid_spikes"])
    assert units.index.tolist() == list(range(100))
    counts = np.zeros(100, dtype=int)
    for _, neuron in BG_SPIKES:
        counts[neuron] += 1
    assert [len(t) for t in units["spike_times"]] == counts.tolist()
    for unit, times in BG_TIMES_S.items():
        np.testing.assert_allclose(units.loc[unit, "spike_times"], times, rtol=1e-15)
    ds = load_artifact("braingrid_spikes", data_dir=data)
    # BrainGrid keeps dt as a float32: the export multiplies the steps by the decimal 1e-4 it stands for
    assert ds.attrs["dt_s"] == float(np.float32(1e-4)) != 1e-4
    for unit in BG_TIMES_S:
        steps = ds["time_step"].values[ds["neuron"].values == unit]
        np.testing.assert_array_equal(units.loc[unit, "spike_times"], steps * 1e-4)
    assert units.loc[42, ["x", "y"]].tolist() == [2, 4]
    np.testing.assert_array_equal(units["x"], np.arange(100) % BG_WIDTH)
    np.testing.assert_array_equal(units["y"], np.arange(100) // BG_WIDTH)
    assert units.loc[5, "population"] == "I" and units.loc[5, "cell_type"] == 1
    assert units.loc[42, "population"] == "E" and units.loc[42, "cell_type"] == 2
    assert (units["population"] == "I").sum() == BG_INHIBITORY.size
    assert units.index[units["starter"]].tolist() == BG_STARTERS.tolist()
    assert "grid units" in info["descriptions"]["x"]
    assert info["resolution"] == pytest.approx(1e-4)
    np.testing.assert_allclose(units.loc[0, "obs_intervals"], [[0.0, 1.0]])  # one epoch of 1 s
    assert info["intervals"] == {}


# --------------------------------------------------------------------------------------
# session metadata


def test_session_metadata(exported, data):
    _, ei = _read(exported["ei_spikes"])
    _, bg = _read(exported["braingrid_spikes"])
    assert ei["session_start_time"] == SESSION_START_TIME == bg["session_start_time"]
    assert "Rostami" in ei["experiment_description"]
    assert ei["related_publications"] == ["doi:10.1038/s41467-024-49889-4"]
    assert "Kawasaki" in bg["experiment_description"]
    assert bg["related_publications"] == ["doi:10.1007/s00422-014-0611-9"]
    assert "4 E and 2 I neurons in 2 clusters" in ei["session_description"]
    assert "100 neurons on a 10 x 10 grid" in bg["session_description"]
    attrs = load_artifact("ei_spikes", data_dir=data).attrs
    for key in ("stage", "code_sha256", "stage_params", "seeds", "neurodata_version"):
        assert f"{key}: {attrs[key]}" in ei["notes"]
    assert ei["subject"] == ("http://purl.obolibrary.org/obo/NCBITaxon_32630", "O", "PT0.05S")  # 50 ms warm-up
    assert bg["subject"][2] == "PT0S"
    assert ei["identifier"] != bg["identifier"]


def test_identifier_follows_content_not_build(tmp_path):
    first = load_artifact("ei_spikes", data_dir=_write_ei(tmp_path / "a").parent)
    again = load_artifact("ei_spikes", data_dir=_write_ei(tmp_path / "b").parent)
    again.attrs["code_sha256"] = "0" * 64  # the same data, made by other code
    assert content_identifier(first) == content_identifier(again)
    uuid5 = r"[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
    assert re.fullmatch(uuid5, content_identifier(first))
    # the in-memory dataset (object strings) and the stored one (StringDType) hash alike
    in_memory = _ei_dataset()
    in_memory.attrs.update({k: v for k, v in first.attrs.items() if k not in in_memory.attrs})
    assert content_identifier(in_memory) == content_identifier(first)
    # one spike moved by one step: another identifier
    moved = [(100.1, 0), *EI_SPIKES[1:]]
    other = load_artifact("ei_spikes", data_dir=_write_ei(tmp_path / "c", moved).parent)
    assert content_identifier(other) != content_identifier(first)


def test_export_is_repeatable(exported, data, tmp_path):
    again = export_nwb("ei_spikes", tmp_path / "again.nwb", data_dir=data)
    assert _read(again)[1]["identifier"] == _read(exported["ei_spikes"])[1]["identifier"]


def test_lab_metadata_and_session_start(data, tmp_path):
    from datetime import UTC, datetime

    start = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    path = export_nwb("ei_spikes", tmp_path / "lab.nwb", data_dir=data, session_start_time=start,
                      experimenter="Doe, Jane", institution="Example University", lab="Example lab")
    _, info = _read(path)
    assert info["session_start_time"] == start
    assert list(info["experimenter"]) == ["Doe, Jane"]
    assert "fixed reference" not in info["notes"]
    names = {m.check_function_name for m in _inspect(path)}
    assert not names & {"check_experimenter_exists", "check_institution"}


# --------------------------------------------------------------------------------------
# nwbinspector


@pytest.mark.parametrize("name", EXPORTABLE)
def test_inspector_finds_no_violation(exported, name):
    messages = _inspect(exported[name])
    serious = [m for m in messages if m.importance.value >= nwbinspector.Importance.BEST_PRACTICE_VIOLATION.value]
    assert serious == [], [f"{m.importance.name} {m.check_function_name}: {m.message}" for m in serious]
    assert {m.check_function_name for m in messages} <= ALLOWED_SUGGESTIONS


def test_silent_network_exports_valid_empty_units(tmp_path):
    write_artifact(_ei_dataset(spikes=np.zeros((0, 2))), "ei_spikes", params={}, data_dir=tmp_path)
    path = export_nwb("ei_spikes", tmp_path / "silent.nwb", data_dir=tmp_path)
    units, _ = _read(path)
    assert [len(t) for t in units["spike_times"]] == [0] * 6
    assert pynwb.validate(path=str(path)) == []


# --------------------------------------------------------------------------------------
# rejections


def test_rejects_an_entry_that_is_not_a_spike_artifact(data, tmp_path):
    with pytest.raises(ParamError, match=r"'entry' parameter of export_nwb must be a spike artifact, one of "
                                         r"\['braingrid_spikes', 'ei_spikes'\].* Got 'ei_rates' instead"):
        export_nwb("ei_rates", tmp_path / "x.nwb", data_dir=data)
    assert not (tmp_path / "x.nwb").exists()


def test_rejects_a_path_without_nwb_suffix(data, tmp_path):
    with pytest.raises(ParamError, match=r"'path' parameter of export_nwb must be a file name ending in '\.nwb'"):
        export_nwb("ei_spikes", tmp_path / "spikes.h5", data_dir=data)


def test_rejects_naive_session_start(data, tmp_path):
    from datetime import datetime

    with pytest.raises(ParamError, match="timezone-aware datetime"):
        export_nwb("ei_spikes", tmp_path / "x.nwb", data_dir=data, session_start_time=datetime(2024, 1, 1))


def test_not_built(tmp_path):
    with pytest.raises(ArtifactNotBuilt, match="'braingrid_spikes' is not built"):
        export_nwb("braingrid_spikes", tmp_path / "x.nwb", data_dir=tmp_path)


def test_rejects_datasets_the_export_cannot_read():
    ds = _ei_dataset()
    no_dt = ds.drop_vars("cluster")
    del no_dt.attrs["dt_ms"]
    missing = r"lacks variable 'cluster', attr 'dt_ms'\. Expected an artifact satisfying schemas/ei_spikes\.yaml"
    with pytest.raises(SchemaViolation, match=missing):
        to_nwbfile(no_dt, "ei_spikes")
    stray = ds.copy()
    stray["neuron"] = stray["neuron"].copy(data=np.where(stray["neuron"].values == 4, 6, stray["neuron"].values))
    outside = r"spike 7 is of neuron 6, which is not in the neuron table \(neuron_id, 6 neurons\)"
    with pytest.raises(SchemaViolation, match=outside):
        to_nwbfile(stray, "ei_spikes")
    with pytest.raises(ParamError, match="Got None instead"):
        to_nwbfile(ds)  # not from the store: no artifact attr, none given


def test_failed_export_keeps_the_previous_file(data, tmp_path):
    dest = export_nwb("ei_spikes", tmp_path / "keep.nwb", data_dir=data)
    before = dest.read_bytes()
    with pytest.raises(ArtifactNotBuilt):
        export_nwb("ei_spikes", dest, data_dir=tmp_path / "empty")
    assert dest.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.nwb"]


# --------------------------------------------------------------------------------------
# command line and docs


def test_pynwb_loads_only_when_exporting():
    import subprocess
    import sys

    code = ("import sys, neurodata, neurodata.nwb; f = neurodata.export_nwb; "
            "print(int(any(m in sys.modules for m in ('pynwb', 'hdmf'))), f.__module__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["0", "neurodata.nwb"]


def test_cli_writes_the_file(data, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["export-nwb", "braingrid_spikes", "--data-dir", str(data)]) == 0
    assert "wrote braingrid_spikes.nwb" in capsys.readouterr().out
    units, _ = _read(tmp_path / "braingrid_spikes.nwb")
    assert sum(len(t) for t in units["spike_times"]) == len(BG_SPIKES)
    assert main(["export-nwb", "ei_spikes", "-o", "sub/ei.nwb", "--data-dir", str(data)]) == 0
    assert (tmp_path / "sub" / "ei.nwb").is_file()


def test_cli_rejects_other_entries(data, tmp_path, capsys):
    assert main(["export-nwb", "gfr_model", "-o", str(tmp_path / "x.nwb"), "--data-dir", str(data)]) == 2
    err = capsys.readouterr().err
    assert "must be a spike artifact, one of ['braingrid_spikes', 'ei_spikes']" in err and "'gfr_model'" in err


def test_docs_example_runs(data, tmp_path, monkeypatch, capsys):
    """The code blocks of docs/nwb.md, against this folder's artifacts instead of the tiny build."""
    text = (REPO / "docs" / "nwb.md").read_text()
    blocks = re.findall(r"```(bash|python)\n(.*?)```", text, flags=re.S)
    assert [kind for kind, _ in blocks] == ["bash", "python"]
    monkeypatch.chdir(tmp_path)
    with neurodata.set_options(data_dir=str(data)):
        for line in blocks[0][1].splitlines():
            if line.strip() and not line.startswith("#"):
                args = shlex.split(line)
                assert args[0] == "neurodata"
                assert main(args[1:]) == 0, line
        exec(compile(blocks[1][1], "docs/nwb.md", "exec"), {})
    out = capsys.readouterr().out
    assert "ei_spikes.nwb" in out and "braingrid_spikes.nwb" in out


# --------------------------------------------------------------------------------------
# a real NEST run


@pytest.mark.nest
def test_nest_network_round_trip(tmp_path):
    pytest.importorskip("nest")
    from neurodata import stage_params
    from neurodata.ei_network import simulate_ei_network, spikes_dataset

    result = simulate_ei_network(stage_params("ei_network", N_E=160, N_I=40, n_clusters=8, warmup=50.0, simtime=300.0,
                                              stim_clusters=[1], stim_starts=[100.0], stim_ends=[200.0], seed=11))
    assert result.time_ms.size > 100
    write_artifact(spikes_dataset(result), "ei_spikes", params={"N_E": 160}, seeds={"seed": 11}, data_dir=tmp_path)
    path = export_nwb("ei_spikes", tmp_path / "nest.nwb", data_dir=tmp_path)
    units, _ = _read(path)
    counts = np.bincount(result.neuron, minlength=200)
    assert [len(t) for t in units["spike_times"]] == counts.tolist()
    for unit in np.flatnonzero(counts)[:10]:
        mine = np.sort(result.time_ms[result.neuron == unit]) / 1e3
        np.testing.assert_array_equal(units.loc[unit, "spike_times"], mine)
    assert all(np.all(np.diff(t) > 0) for t in units["spike_times"])
    serious = [m for m in _inspect(path) if m.importance.value >= nwbinspector.Importance.BEST_PRACTICE_VIOLATION.value]
    assert serious == []
