"""The growth-network generator end to end: schedules, determinism, the stage and its checks."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
import xarray as xr
from _support import profile_params

from neurodata import ParamError, SchemaViolation
from neurodata.braingrid import (
    GrowthParams,
    check_braingrid_h5,
    checklist_h5,
    outgrowth,
    simulate_growth_network,
    write_braingrid_h5,
)
from neurodata.braingrid._checklist import ITEM7_BOUNDS, check_failures
from neurodata.braingrid.stages_simulation import H5_DIR, culture_h5, simulate
from neurodata.params import load_params


def params(stage: str, **overrides) -> dict:
    """The stage's section of params.yaml with *overrides*, unchecked (the stage checks them)."""
    return {**load_params(stage), **overrides}


TINY = {**profile_params("tiny")["braingrid_simulation"], "min_bursts": 1}  # the tiny profile's run


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """The tiny profile's two-culture run: (data folder, [culture 0's HDF5 file, the summary store])."""
    data_dir = tmp_path_factory.mktemp("run") / "data"  # its own parent: the stages write metrics/ there
    data_dir.mkdir()
    folder, store = [p for p in simulate(TINY, data_dir=data_dir) if p.suffix != ".json"]
    assert folder == data_dir / H5_DIR
    return data_dir, [data_dir / culture_h5(0), store]


def test_accelerated_schedule_grows_silent_neurons_by_the_closed_form():
    sim = simulate_growth_network(10, schedule="accelerated", epoch_s=1.0, simulated_epochs=3, seed=0)
    assert sim.analytic_epochs == 0 and sim.radii_history.shape == (4, 100)
    assert np.all(sim.radii_history[0] == 0.4) and np.all(sim.rates_history[0] == 0)
    g = GrowthParams(rho=0.01)
    for k in range(1, 4):
        expect = np.maximum(sim.radii_history[k - 1] + 0.01 * outgrowth(sim.rates_history[k], g), 0.1)
        np.testing.assert_allclose(sim.radii_history[k], expect)
    silent = ~sim.neurons.is_starter
    assert np.all(sim.rates_history[1:, silent] == 0)  # ordinary neurons never fire unconnected
    np.testing.assert_allclose(sim.radii_history[3, silent], 0.4 + 3 * 0.01 * outgrowth(np.zeros(1), g)[0])
    assert sim.spike_steps.size > 0 and np.all(np.diff(sim.spike_steps) >= 0)
    assert np.isin(sim.spike_neurons, np.flatnonzero(sim.neurons.is_starter)).all()


def test_pregrowth_schedule_records_every_epoch():
    sim = simulate_growth_network(10, schedule="pregrowth", epoch_s=1.0, simulated_epochs=2, analytic_epochs=30, seed=4)
    assert sim.n_epochs == 32
    st = sim.neurons.is_starter
    # every epoch's rates are its recorded spikes / Tsim, the uncoupled ones included
    epoch = sim.spike_steps // 10_000
    counts = np.zeros((32, 100))
    np.add.at(counts, (epoch, sim.spike_neurons), 1.0)
    np.testing.assert_array_equal(sim.rates_history[1:], counts / 1.0)
    assert np.all(np.diff(sim.spike_steps) >= 0) and sim.spike_steps.min() >= 1
    # uncoupled epochs: starters alone fire, at their own pace; the growth follows their rates epoch by epoch
    assert np.all(counts[:30, ~st] == 0) and counts[:30, st].sum() > 0
    assert np.unique(counts[:30, st]).size > 2  # per-epoch counts vary (no fixed intrinsic rate)
    np.testing.assert_allclose(sim.intrinsic_rates, counts[:30].mean(axis=0))
    g = GrowthParams(rho=0.01)
    for k in range(1, 33):
        expect = np.maximum(sim.radii_history[k - 1] + 0.01 * outgrowth(sim.rates_history[k], g), 0.1)
        np.testing.assert_allclose(sim.radii_history[k][~st], expect[~st])
    np.testing.assert_allclose(sim.radii_history[30, ~st], 0.4 + 30 * 0.01 * outgrowth(np.zeros(1), g)[0])
    assert np.all(np.diff(sim.n_synapses) >= 0) and sim.n_synapses[30] > 0


def test_uncoupled_epochs_do_not_depend_on_their_number():
    """A run with more uncoupled epochs extends one with fewer (one noise stream, epoch by epoch)."""
    kw = dict(schedule="pregrowth", epoch_s=1.0, simulated_epochs=1, seed=9)
    a = simulate_growth_network(10, analytic_epochs=5, **kw)
    b = simulate_growth_network(10, analytic_epochs=8, **kw)
    early_a, early_b = a.spike_steps < 5 * 10_000, b.spike_steps < 5 * 10_000
    np.testing.assert_array_equal(a.spike_steps[early_a], b.spike_steps[early_b])
    np.testing.assert_array_equal(a.spike_neurons[early_a], b.spike_neurons[early_b])
    np.testing.assert_array_equal(a.radii_history[:6], b.radii_history[:6])


def test_same_seed_same_run_other_seed_other_run():
    kw = dict(schedule="pregrowth", epoch_s=1.0, simulated_epochs=2, analytic_epochs=100)
    a = simulate_growth_network(10, seed=5, **kw)
    b = simulate_growth_network(10, seed=5, **kw)
    c = simulate_growth_network(10, seed=6, **kw)
    np.testing.assert_array_equal(a.spike_steps, b.spike_steps)
    np.testing.assert_array_equal(a.spike_neurons, b.spike_neurons)
    np.testing.assert_array_equal(a.radii_history, b.radii_history)
    assert a.spike_steps.size != c.spike_steps.size or not np.array_equal(a.spike_steps, c.spike_steps)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"width": 1}, "width must be an integer >= 2"),
        ({"schedule": "fast"}, "schedule must be one of"),
        ({"epoch_s": 0.5}, "epoch_s must be a whole number of seconds"),
        ({"simulated_epochs": 0}, "simulated_epochs must be >= 1"),
        ({"analytic_epochs": -1}, "needs analytic_epochs >= 0; got -1"),
    ],
)
def test_generator_rejects_bad_arguments(kwargs, match):
    args = {"width": 10, "schedule": "pregrowth", "epoch_s": 1.0, "simulated_epochs": 1}
    args.update(kwargs)
    width = args.pop("width")
    with pytest.raises(ValueError, match=match):
        simulate_growth_network(width, **args)


def test_stage_writes_a_checked_braingrid_file_with_bursts(tiny_run):
    data_dir, paths = tiny_run
    h5, store = paths
    assert h5.name == "culture_000.h5" and store.name == "braingrid_simulation.zarr"
    assert sorted(p.name for p in h5.parent.iterdir()) == ["culture_000.h5", "culture_001.h5"]
    report = check_braingrid_h5(h5)  # checklist items 1-5
    onset = TINY["analytic_epochs"]  # 14: the uncoupled epochs, then 3 coupled ones
    assert (onset, TINY["simulated_epochs"]) == (14, 3)
    assert report.n_neurons == 400 and report.n_epochs == 17 and report.n_starters == 40
    with h5py.File(h5, "r") as f:
        assert f["Tsim"][0] == 10.0
        assert f["simulationEndTime"][0] == pytest.approx(170.0)
        assert f.attrs["analyticEpochs"] == 14
        assert f.attrs["firstCoupledStep"] == 14 * 100_000
        assert f.attrs["culture"] == 0
        params = json.loads(f.attrs["stage_params"])
        assert params["width"] == 20 and params["seed"] == 1 and params["n_cultures"] == 2
        assert {"neurodata_version", "stage", "code_sha256", "seeds"} <= set(f.attrs)
        assert not {"git_commit", "created"} & set(f.attrs)  # same code and params, same bytes
        rates = f["ratesHistory"][:]
        starters = f["starterNeurons"][:]
        other = np.setdiff1d(np.arange(400), starters)
        assert np.all(rates[1:onset + 1, other] == 0)  # item 5: non-starters silent before onset
        assert np.all(rates[1:onset + 1, starters].sum(axis=0) > 0)  # the uncoupled epochs hold the starters' spikes
        check = json.loads(f.attrs["burstCheck"])
    # items 1-7 on the written file, bursts found as the original analysis finds them
    full = checklist_h5(h5, min_bursts=3)
    assert full.pop("failures") == []
    assert full == pytest.approx(check, nan_ok=True)
    assert check["n_bursts"] >= 3 and check["n_bursts_with_history"] == check["n_bursts"]  # item 6
    for key, (lo, hi) in ITEM7_BOUNDS.items():  # item 7
        assert lo <= check[key] <= hi, key
    assert check["first_burst_step"] >= onset * 100_000  # no burst while uncoupled


def matlab_avalanche_bursts(T, C, mean_isi, burst_min):
    """getAvalanches.m as spec §2.2 writes it, 1-based, one row at a time (row 0 clamped to 1).

    Returns (StartT, EndT, TotalSpikes, IBI) per burst."""
    T, C = [None, *T.tolist()], [None, *C.tolist()]
    S = [None] + [T[k + 1] - T[k] for k in range(1, len(T) - 1)]
    bursts, last, i = [], 1, 1
    while i < len(S) - 1:
        if S[i] < mean_isi or C[i] > 1:
            j = i + 1
            while j < len(S) - 1 and S[j] < mean_isi:
                j += 1
            start = max(i - 1, 1)
            total = sum(C[start : j + 1])
            if total > burst_min:
                bursts.append((T[start], T[j], total, T[start] - T[last]))
                last = j
            i = j + 1
        i += 1
    return bursts


def test_the_originals_meanisi_from_the_file_gives_the_bursts_of_braingrid_bursts(tiny_run):
    """meanISI = len(spikesHistory) * 100 / spikes over the whole file, as the original takes it."""
    from neurodata.braingrid.stages import STAGES

    data_dir, (h5, _) = tiny_run
    with h5py.File(h5, "r") as f:
        matrix = f["spikesProbedNeurons"][:]
        n_steps = f["spikesHistory"].shape[0] * 100
    steps = np.sort(matrix[matrix > 0].astype(np.int64))
    T, C = np.unique(steps, return_counts=True)
    mean_isi = n_steps / C.sum()
    reference = matlab_avalanche_bursts(T, C, mean_isi, burst_min=400)
    STAGES["braingrid_spikes"](params("braingrid_spikes"), data_dir=data_dir)
    STAGES["braingrid_bursts"](params("braingrid_bursts", detectors=["avalanche"]), data_dir=data_dir)
    ds = xr.open_zarr(data_dir / "braingrid_bursts.zarr")
    assert ds.attrs["avalanche_mean_isi_steps"][0] == pytest.approx(mean_isi, rel=1e-12)  # culture 0's file
    ds = ds.isel(burst=ds["culture"].values == 0)
    got = list(zip(*(ds[k].values.tolist() for k in ("start_step", "end_step", "n_spikes", "ibi_gap_steps")), strict=True))
    assert len(reference) >= 3 and got == reference


def test_check_failures_names_each_item():
    good = {"n_bursts": 120, "n_bursts_with_history": 120, "burst_min": 2500.0, "mean_isi_steps": 7.9,
            "median_spikes_per_neuron": 3.8, "median_width_ms": 110.0, "median_ibi_s": 4.5}
    assert check_failures(good, min_bursts=100) == []
    assert check_failures({**good, "n_bursts": 99}, min_bursts=100) == [
        "the avalanche detector (burst_min = 2500 spikes, meanISI = 7.90 steps) found 99 bursts, expected at least "
        "min_bursts = 100"]
    assert check_failures({**good, "n_bursts_with_history": 119}, 100) == [
        "item 6: 1 of 120 bursts are preceded by fewer than gap * N / 10 000 + 500 spikes"]
    assert check_failures({**good, "median_spikes_per_neuron": 2.0}, 100) == [
        "item 7: median_spikes_per_neuron is 2, expected [2.5, 10]"]
    assert check_failures({**good, "median_width_ms": 450.0}, 100) == ["item 7: median_width_ms is 450, expected [40, 400]"]
    assert check_failures({**good, "median_ibi_s": float("nan")}, 100) == [
        "item 7: median_ibi_s is nan, expected [1, 30]"]


def test_stage_summary_is_labelled_and_matches_the_file(tiny_run):
    data_dir, (h5, store) = tiny_run
    import hashlib

    ds = xr.open_zarr(store)
    assert ds.sizes == {"culture": 2, "epoch": 18, "neuron": 400}  # epoch 0 and 14 + 3
    for name in [*ds.data_vars, *ds.coords]:
        assert "long_name" in ds[name].attrs, name
    assert ds["radius"].attrs["units"] == "grid_unit" and ds["rate"].attrs["units"] == "Hz"
    assert ds["coupled"].values.sum() == 3 and not ds["coupled"].values[:15].any()
    for c in (0, 1):
        path = data_dir / str(ds["h5_file"].values[c])
        assert path == data_dir / culture_h5(c)
        with h5py.File(path, "r") as f:
            np.testing.assert_array_equal(ds["radius"].values[c], f["radiiHistory"][:])
            np.testing.assert_array_equal(ds["x"].values, f["xloc"][:])
            assert ds["n_bursts"].values[c] == json.loads(f.attrs["burstCheck"])["n_bursts"] >= 3
        assert ds["h5_sha256"].values[c] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert ds.attrs["burst_check_n_bursts"] == ds["n_bursts"].values.sum()


def test_stage_rejects_bad_params(tmp_path):
    with pytest.raises(ParamError, match="'width' parameter of stage braingrid_simulation"):
        simulate({**TINY, "width": 0}, data_dir=tmp_path)
    with pytest.raises(ParamError, match="Unknown parameter"):
        simulate({**TINY, "W": 20}, data_dir=tmp_path)
    with pytest.raises(ParamError, match="must be 0 with schedule 'accelerated'"):
        simulate({**TINY, "schedule": "accelerated"}, data_dir=tmp_path)
    for bad in (0, 1001, 2.5):
        with pytest.raises(ParamError, match=rf"'n_cultures' parameter of stage braingrid_simulation .*Got {bad}"):
            simulate({**TINY, "n_cultures": bad}, data_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_stage_without_bursts_fails_loudly_and_writes_nothing(tmp_path):
    params = {**TINY, "width": 10, "simulated_epochs": 1, "epoch_s": 1, "analytic_epochs": 0}
    with pytest.raises(SchemaViolation, match="culture 0: the avalanche detector .* found 0 bursts"):
        simulate(params, data_dir=tmp_path)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_stage_is_registered():
    from neurodata._registry import stages

    assert stages()["braingrid_simulation"] is simulate


def test_simulated_file_round_trips_through_the_writer(tmp_path):
    sim = simulate_growth_network(10, schedule="pregrowth", epoch_s=1.0, simulated_epochs=2, analytic_epochs=100, seed=2)
    path = write_braingrid_h5(tmp_path / "s.h5", sim.to_record(), n_rows=None)
    report = check_braingrid_h5(path)
    assert report.n_spikes == sim.spike_steps.size
    with h5py.File(path, "r") as f:
        m = f["spikesProbedNeurons"][:]
    for j in (0, 7, 55):
        col = m[:, j][m[:, j] > 0]
        np.testing.assert_array_equal(col, sim.spike_steps[sim.spike_neurons == j])


def test_catalog_reads_the_simulation_summary(tiny_run):
    import neurodata

    data_dir, (h5, store) = tiny_run
    with neurodata.set_options(data_dir=str(data_dir)):
        ds = neurodata.open_catalog().braingrid_simulation.read()
    assert ds.sizes["neuron"] == 400 and ds.sizes["culture"] == 2
    assert ds.attrs["artifact"] == "braingrid_simulation"
    assert str(ds["h5_file"].values[0]) == f"{H5_DIR}/{h5.name}"
    neurodata.validate(ds.load(), "braingrid_simulation")


def test_same_seed_gives_a_byte_identical_file(tmp_path):
    kw = dict(schedule="pregrowth", epoch_s=1.0, simulated_epochs=2, analytic_epochs=100, seed=2)
    a = write_braingrid_h5(tmp_path / "a.h5", simulate_growth_network(10, **kw).to_record({"seed": 2}))
    b = write_braingrid_h5(tmp_path / "b.h5", simulate_growth_network(10, **kw).to_record({"seed": 2}))
    assert a.read_bytes() == b.read_bytes()


def test_spike_table_of_the_ensemble_holds_each_cultures_file(tiny_run):
    from neurodata import open_artifact
    from neurodata.braingrid.stages import STAGES

    data_dir, _ = tiny_run
    STAGES["braingrid_spikes"](params("braingrid_spikes"), data_dir=data_dir)
    spikes = open_artifact("braingrid_spikes", data_dir=data_dir)
    culture = spikes["culture"].values
    assert spikes.attrs["n_cultures"] == 2 and spikes.attrs["source"] == H5_DIR
    for c in (0, 1):
        with h5py.File(data_dir / culture_h5(c), "r") as f:
            matrix = f["spikesProbedNeurons"][:]
        steps = np.sort(matrix[matrix > 0])
        mine = spikes["time_step"].values[culture == c]
        np.testing.assert_array_equal(mine, steps)  # sorted within the culture, every spike of its file
    assert (np.diff(culture) >= 0).all() and set(culture.tolist()) == {0, 1}


def test_a_damaged_or_missing_culture_file_is_refused(tiny_run, tmp_path):
    import shutil

    from neurodata import ArtifactCorrupt, ArtifactNotBuilt
    from neurodata.braingrid.stages import STAGES

    data_dir, _ = tiny_run
    copy = tmp_path / "data"
    shutil.copytree(data_dir / H5_DIR, copy / H5_DIR)
    shutil.copytree(data_dir / "braingrid_simulation.zarr", copy / "braingrid_simulation.zarr")
    with (copy / culture_h5(1)).open("ab") as fh:
        fh.write(b"\0")
    with pytest.raises(ArtifactCorrupt, match=r"culture_001\.h5: SHA-256 .* differs from"):
        STAGES["braingrid_spikes"](params("braingrid_spikes"), data_dir=copy)
    (copy / culture_h5(1)).unlink()
    with pytest.raises(ArtifactNotBuilt, match=r"culture_001\.h5 is missing, though braingrid_simulation lists it"):
        STAGES["braingrid_spikes"](params("braingrid_spikes"), data_dir=copy)
    assert not (copy / "braingrid_spikes.zarr").exists()
