"""The culture ensemble: seed streams per culture, the culture coordinate, splits by culture,
baselines across cultures with their interval, and the figure of it."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
import xarray as xr

from neurodata import ParamError
from neurodata.braingrid import simulate_growth_network, spike_table, write_braingrid_h5
from neurodata.braingrid._artifacts import concat_cultures
from neurodata.braingrid._baselines import (
    MODELS,
    culture_cv_accuracy,
    culture_folds,
    t_interval,
    window_baselines,
)
from neurodata.braingrid._bursts import burst_table, culture_slices, ensemble_burst_table
from neurodata.braingrid._network import culture_stream
from neurodata.braingrid._summaries import baselines_metrics
from neurodata.braingrid._windows import _assign_splits, burst_windows, culture_splits
from neurodata.braingrid.hdf5 import open_braingrid_h5
from neurodata.braingrid.stages import STAGES
from neurodata.braingrid.stages_simulation import culture_file, culture_h5, simulate_culture
from neurodata.params import load_params
from neurodata.runner import run_sweep
from neurodata.seeds import rng

from .conftest import make_record, synthetic_raster

N_CULTURES = 4
GAP = 80  # 2000 spikes scaled to N = 400


def test_culture_streams_are_disjoint_children_of_the_seed():
    assert [culture_stream(c, k) for c in range(3) for k in range(3)] == list(range(9))
    assert culture_stream(0, 2) == 2  # culture 0 draws the single-culture run's streams
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="culture must be an int >= 0"):
            culture_stream(bad, 0)
    with pytest.raises(ValueError, match="stream must be 0, 1 or 2"):
        culture_stream(0, 3)


SMALL = dict(schedule="pregrowth", epoch_s=1.0, simulated_epochs=2, analytic_epochs=5, seed=3)


def test_culture_zero_is_the_single_run_and_cultures_differ():
    single = simulate_growth_network(10, **SMALL)
    zero = simulate_growth_network(10, culture=0, **SMALL)
    one = simulate_growth_network(10, culture=1, **SMALL)
    np.testing.assert_array_equal(zero.spike_steps, single.spike_steps)
    np.testing.assert_array_equal(zero.neurons.vthresh, single.neurons.vthresh)
    # culture 1 draws children 3..5: other thresholds (stream 3) and other spikes
    assert not np.array_equal(one.neurons.vthresh, zero.neurons.vthresh)
    assert not np.array_equal(one.spike_steps[:50], zero.spike_steps[:50])
    starters = zero.neurons.is_starter
    draws = rng(3, 3)  # make_neurons' draws: the noise SDs, then the starters' thresholds
    draws.uniform(1.0e-9, 1.5e-9, 100)
    np.testing.assert_array_equal(one.neurons.vthresh[starters], draws.uniform(13.565e-3, 13.655e-3, starters.sum()))


def _task_params() -> dict:
    return {**load_params("braingrid_simulation"), "width": 10, "epoch_s": 1, "simulated_epochs": 2,
            "analytic_epochs": 5, "seed": 3, "rho": None, "compression": None}


def test_culture_order_and_grouping_change_no_culture_file(tmp_path):
    """The task of a culture depends on its index only: run in another order, or alone, it writes the same bytes."""
    p = _task_params()
    forward, backward, alone = (tmp_path / d for d in ("fwd", "bwd", "alone"))
    for folder in (forward, backward, alone):
        folder.mkdir()
    attrs = {"stage": "braingrid_simulation"}
    task = lambda folder: (lambda c: simulate_culture(c, p=p, folder=str(folder), attrs=attrs))  # noqa: E731
    a = run_sweep(task(forward), [0, 1, 2], scheduler="synchronous")
    b = run_sweep(task(backward), [2, 1, 0], scheduler="synchronous")
    c = run_sweep(task(alone), [1], scheduler="synchronous")
    assert [r["sha256"] for r in a] == [r["sha256"] for r in reversed(b)]
    assert c[0]["sha256"] == a[1]["sha256"]
    assert (forward / culture_file(1)).read_bytes() == (alone / culture_file(1)).read_bytes()
    assert len({r["sha256"] for r in a}) == 3  # every culture its own data
    with h5py.File(forward / culture_file(2), "r") as f:
        assert f.attrs["culture"] == 2


def test_culture_file_names_have_one_home():
    assert culture_file(7) == "culture_007.h5"
    assert culture_h5(7) == "braingrid_cultures/culture_007.h5"


def test_culture_slices():
    assert culture_slices(np.array([0, 0, 1, 3, 3, 3])) == [(0, slice(0, 2)), (1, slice(2, 3)), (3, slice(3, 6))]
    assert culture_slices(np.array([], dtype=np.int64)) == []
    with pytest.raises(ParamError, match="sorted by culture"):
        culture_slices(np.array([1, 0]))


# --------------------------------------------------------------------------------------
# an ensemble of synthetic cultures (the derivation fixtures' raster, one seed per culture)


@pytest.fixture(scope="module")
def culture_tables(tmp_path_factory) -> list[xr.Dataset]:
    """The spike table of each of 4 synthetic cultures, read from its own BrainGrid file."""
    folder = tmp_path_factory.mktemp("cultures")
    tables = []
    for c in range(N_CULTURES):
        path = write_braingrid_h5(folder / culture_file(c), make_record(*synthetic_raster(seed=10 + c)))
        with open_braingrid_h5(path) as h5:
            tables.append(spike_table(h5, culture=c).load())
    return tables


@pytest.fixture(scope="module")
def ensemble(culture_tables) -> xr.Dataset:
    return concat_cultures(culture_tables, "spike", shared=("cell_x", "cell_y", "cell_type", "starter"),
                           artifact="braingrid_spikes")


def test_spike_table_culture_coordinate(culture_tables, ensemble):
    import neurodata

    sizes = [t.sizes["spike"] for t in culture_tables]
    assert ensemble.sizes["spike"] == sum(sizes)
    np.testing.assert_array_equal(ensemble["culture"].values, np.repeat(np.arange(N_CULTURES), sizes))
    np.testing.assert_array_equal(ensemble["spike"].values, np.arange(sum(sizes)))
    for (c, rows), table in zip(culture_slices(ensemble["culture"].values), culture_tables, strict=True):
        for var in ("time_step", "neuron", "x", "y"):
            np.testing.assert_array_equal(ensemble[var].values[rows], table[var].values)
    assert ensemble["culture"].attrs["units"] == "1"
    neurodata.validate(ensemble.assign_attrs(source="braingrid_cultures", n_cultures=N_CULTURES), "braingrid_spikes")


def test_concat_rejects_cultures_of_other_grids(culture_tables):
    other = culture_tables[1].copy()
    other["cell_type"] = other["cell_type"].copy(data=np.roll(other["cell_type"].values, 1))
    with pytest.raises(ValueError, match="another 'cell_type'"):
        concat_cultures([culture_tables[0], other], "spike", shared=("cell_type",))
    with pytest.raises(ValueError, match="n_steps"):
        concat_cultures([culture_tables[0], culture_tables[1].assign_attrs(n_steps=5)], "spike")


def test_ensemble_bursts_are_each_cultures_own(culture_tables, ensemble):
    kw = dict(n_neurons=400, n_steps=int(ensemble.attrs["n_steps"]))
    joined = ensemble_burst_table(ensemble["time_step"].values, ensemble["culture"].values, **kw)
    alone = [burst_table(t["time_step"].values, **kw) for t in culture_tables]
    assert joined.attrs["n_cultures"] == N_CULTURES
    assert joined.attrs["n_bursts_avalanche"] == sum(a.attrs["n_bursts_avalanche"] for a in alone)
    assert joined.attrs["avalanche_mean_isi_steps"] == [a.attrs["avalanche_mean_isi_steps"] for a in alone]
    for (c, rows), one in zip(culture_slices(joined["culture"].values), alone, strict=True):
        for var in ("start_step", "end_step", "n_spikes", "burst_id", "detector"):
            np.testing.assert_array_equal(joined[var].values[rows], one[var].values)
    np.testing.assert_array_equal(joined["burst"].values, np.arange(joined.sizes["burst"]))


def _windows(ensemble: xr.Dataset, split_by: str, **kw) -> xr.DataTree:
    bursts = ensemble_burst_table(ensemble["time_step"].values, ensemble["culture"].values, n_neurons=400,
                                  n_steps=int(ensemble.attrs["n_steps"]), detectors=["avalanche"])
    return burst_windows(ensemble["time_step"].values, ensemble["x"].values, ensemble["y"].values,
                         ensemble["neuron"].values, bursts["start_step"].values, windows=[5, 50], gap=GAP,
                         culture=ensemble["culture"].values, start_culture=bursts["culture"].values,
                         split_by=split_by, **kw)


def test_culture_splits_golden():
    # 4 cultures at (0.5, 0.25, 0.25): sizes 2, 1, 1 over rng(seed).permutation(4)
    perm = rng(5).permutation(4)
    expected = {int(perm[0]): "train", int(perm[1]): "train", int(perm[2]): "val", int(perm[3]): "test"}
    assert culture_splits([0, 1, 2, 3], (0.5, 0.25, 0.25), seed=5) == expected
    assert culture_splits([0, 1, 2], (0.7, 0.15, 0.15), seed=0) == dict(zip([0, 1, 2], _assign_splits(3, (0.7, 0.15, 0.15), 0)))
    assert sorted(culture_splits([0, 1, 2], (0.7, 0.15, 0.15), seed=0).values()) == ["test", "train", "val"]
    assert set(culture_splits([4, 9], (0.5, 0.0, 0.5), seed=0).values()) == {"train", "test"}
    with pytest.raises(ParamError, match=r"'split' parameter of stage burst_windows must be 'burst'.*Got 'culture' instead, with 2"):
        culture_splits([0, 1], (0.7, 0.15, 0.15), seed=0)


def test_split_by_culture_puts_each_culture_in_one_split(ensemble):
    tree = _windows(ensemble, "culture", split_fractions=(0.5, 0.25, 0.25), seed=5)
    expected = culture_splits(range(N_CULTURES), (0.5, 0.25, 0.25), seed=5)
    assert tree.attrs["split_by"] == "culture" and tree.attrs["n_cultures"] == N_CULTURES
    for name in ("window_5", "window_50"):
        node = tree[name].to_dataset()
        culture = node["culture"].values
        assert set(culture.tolist()) == set(range(N_CULTURES))
        assert (np.diff(culture) >= 0).all()  # samples ordered by culture
        for c in range(N_CULTURES):
            assert set(node["split"].values[culture == c].tolist()) == {expected[c]}


def test_windows_stay_inside_their_culture(ensemble, culture_tables):
    """Each culture's windows are those of the culture alone: no gap or window reaches into
    the previous culture's spikes."""
    tree = _windows(ensemble, "burst")
    for c, table in enumerate(culture_tables):
        bursts = burst_table(table["time_step"].values, n_neurons=400, n_steps=int(table.attrs["n_steps"]),
                             detectors=["avalanche"])
        alone = burst_windows(table["time_step"].values, table["x"].values, table["y"].values, table["neuron"].values,
                              bursts["start_step"].values, windows=[5, 50], gap=GAP)
        for name in ("window_5", "window_50"):
            node = tree[name].to_dataset()
            mine = node.isel(sample=node["culture"].values == c)
            ref = alone[name].to_dataset()
            assert mine.sizes["sample"] == ref.sizes["sample"] > 0
            for var in ("temporal", "x", "y", "neuron", "label", "onset_step", "start_step"):
                np.testing.assert_array_equal(mine[var].values, ref[var].values)


def test_split_by_burst_with_one_culture_is_the_single_culture_split(culture_tables):
    t = culture_tables[0]
    bursts = burst_table(t["time_step"].values, n_neurons=400, n_steps=int(t.attrs["n_steps"]), detectors=["avalanche"])
    args = (t["time_step"].values, t["x"].values, t["y"].values, t["neuron"].values, bursts["start_step"].values)
    plain = burst_windows(*args, windows=[5], gap=GAP)
    with_culture = burst_windows(*args, windows=[5], gap=GAP, culture=t["culture"].values,
                                 start_culture=np.zeros(bursts.sizes["burst"], dtype=np.int64), split_by="burst")
    np.testing.assert_array_equal(plain["window_5"]["split"].values, with_culture["window_5"]["split"].values)
    with pytest.raises(ParamError, match=r"'split' parameter of stage burst_windows must be 'burst'.*with 1 culture"):
        burst_windows(*args, windows=[5], gap=GAP, split_by="culture")
    with pytest.raises(ParamError, match="split_by must be one of"):
        burst_windows(*args, windows=[5], gap=GAP, split_by="neuron")


def test_windows_stage_rules(tmp_path):
    params = {**load_params("burst_windows"), "split": "culture", "split_fractions": [0.8, 0.2, 0.0]}
    with pytest.raises(ParamError, match="'split_fractions' parameter of stage burst_windows must give the test split"):
        STAGES["burst_windows"](params, data_dir=tmp_path)
    with pytest.raises(ParamError, match="'split' parameter of stage burst_windows must be one of"):
        STAGES["burst_windows"]({**params, "split": "cell"}, data_dir=tmp_path)


# --------------------------------------------------------------------------------------
# baselines across cultures


def test_t_interval_golden():
    mean, lo, hi = t_interval(np.array([0.8, 0.9, 1.0]))
    # t(0.975, 2) = 4.302653; sd = 0.1; half-width = 4.302653 * 0.1 / sqrt(3)
    assert mean == pytest.approx(0.9) and hi - mean == pytest.approx(4.302653 * 0.1 / np.sqrt(3), rel=1e-6)
    assert lo == pytest.approx(2 * mean - hi)
    mean, lo, hi = t_interval(np.array([0.7, np.nan, 0.9]))  # two finite values: a mean, no interval
    assert mean == pytest.approx(0.8) and np.isnan(lo) and np.isnan(hi)
    assert all(np.isnan(t_interval(np.array([]))))


def test_culture_folds_and_held_out_accuracy():
    assert [f.tolist() for f in culture_folds(np.array([0, 1, 2]))] == [[0], [1], [2]]
    assert [f.tolist() for f in culture_folds(np.arange(7), max_folds=5)] == [[0, 5], [1, 6], [2], [3], [4]]
    assert culture_folds(np.zeros(4, dtype=int))[0].tolist() == [0]
    # cultures 0-2: label 1 iff x <= 5; culture 3 flipped. Held out, 0-2 are right, 3 all wrong.
    x = np.tile([1.0, 2.0, 8.0, 9.0], 4)[:, None]
    culture = np.repeat(np.arange(4), 4)
    label = np.where(culture == 3, [0, 0, 1, 1] * 4, [1, 1, 0, 0] * 4)
    assert culture_cv_accuracy(x, label, culture, "threshold") == {0: 1.0, 1: 1.0, 2: 1.0, 3: 0.0}
    assert culture_cv_accuracy(x, label, np.zeros(16, dtype=int), "threshold") == {}  # nothing to hold out


def _baseline_tree(n_cultures: int, rng_: np.random.Generator) -> xr.DataTree:
    """Windows of *n_cultures* cultures, 20 bursts each: pre-burst dense and local, non-burst sparse."""
    nodes = {}
    for w in (5, 10):
        n = 20 * n_cultures
        label = np.tile([1, 0], n)
        step = np.where(label[:, None] == 1, 1, 20)
        temporal = np.cumsum(step * rng_.integers(1, 3, (2 * n, w)), axis=1)
        temporal -= temporal[:, :1]
        spread = np.where(label[:, None] == 1, 2, 40)
        x = rng_.integers(0, 1, (2 * n, w)) + rng_.integers(0, spread, (2 * n, w))
        y = rng_.integers(0, spread, (2 * n, w))
        culture = np.repeat(np.arange(n_cultures), 40)
        split = np.where(culture == 0, "test", "train") if n_cultures > 1 else np.tile(["train"] * 30 + ["test"] * 10, 1)
        nodes[f"window_{w}"] = xr.Dataset(
            {"temporal": (("sample", "position"), temporal), "x": (("sample", "position"), x),
             "y": (("sample", "position"), y), "label": ("sample", label.astype(np.int8)),
             "split": ("sample", split.astype(object))},
            coords={"culture": ("sample", culture)})
    return xr.DataTree.from_dict({"/": xr.Dataset(), **nodes})


@pytest.fixture(scope="module")
def baselines4() -> xr.Dataset:
    """The baselines of 4 synthetic cultures."""
    return window_baselines(_baseline_tree(4, np.random.default_rng(1)), seed=0)


def test_baselines_with_an_interval_across_cultures(baselines4):
    ds = baselines4
    assert ds["model"].values.tolist() == list(MODELS) == ["threshold", "decision_tree", "random_forest"]
    assert ds["culture"].values.tolist() == [0, 1, 2, 3]
    assert ds["culture_accuracy"].dims == ("window", "kind", "model", "culture")
    assert ds.attrs["ci_note"] == "95 % Student-t interval over the held-out accuracies of 4 cultures"
    mean, lo, hi = (ds[v].values for v in ("cv_accuracy", "cv_ci_low", "cv_ci_high"))
    assert np.isfinite(lo).all() and (lo <= mean).all() and (mean <= hi).all()
    # each cell is the t-interval of its per-culture accuracies
    per = ds["culture_accuracy"].values[1, 0, 1]
    np.testing.assert_allclose((mean[1, 0, 1], lo[1, 0, 1], hi[1, 0, 1]), t_interval(per))
    # separable windows: the threshold is right on every held-out culture
    np.testing.assert_array_equal(ds["culture_accuracy"].sel(model="threshold").values, 1.0)
    metrics = baselines_metrics(ds)
    assert metrics["n_cultures"] == 4.0
    assert metrics["window_10/spatial/random_forest/cv_ci_low"] == pytest.approx(float(lo[1, 1, 2]))
    assert all(isinstance(v, float) for v in metrics.values())


@pytest.mark.parametrize(("n_cultures", "note"), [(1, "no interval: 1 culture, none to hold out"),
                                                  (2, "no interval: 2 cultures, a 95 % interval across cultures needs >= 3")])
def test_baselines_say_when_there_is_no_interval(n_cultures, note):
    from neurodata.braingrid import format_baselines

    ds = window_baselines(_baseline_tree(n_cultures, np.random.default_rng(2)), seed=0)
    assert ds.attrs["ci_note"].startswith(note)
    assert np.isnan(ds["cv_ci_low"].values).all() and np.isnan(ds["cv_ci_high"].values).all()
    assert np.isfinite(ds["cv_accuracy"].values).all() == (n_cultures == 2)
    assert np.isfinite(ds["test_accuracy"].values).all()
    table = format_baselines(ds)
    assert f"CI: {ds.attrs['ci_note']}" in table
    assert ("[no CI]" in table) == (n_cultures == 2) and ("n/a" in table) == (n_cultures == 1)


def test_baselines_figure(baselines4, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.container import ErrorbarContainer

    from neurodata.braingrid.plots import PLOTS, baselines_accuracy_figure

    ds = baselines4
    fig = baselines_accuracy_figure(ds)
    assert [ax.get_title() for ax in fig.axes] == ["temporal", "spatial"]
    for ax in fig.axes:
        bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
        assert len(bars) == len(MODELS) and all(c.has_yerr for c in bars)
        assert ax.get_xlabel() == "window size (spikes)" and ax.get_xscale() == "log"
        assert [len(c.lines[0].get_xdata()) for c in bars] == [2, 2, 2]  # one point per window size
    assert fig.axes[0].get_ylabel() == "accuracy on held-out cultures (mean, 95 % CI)"
    assert "4 cultures" in fig._suptitle.get_text()
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == list(MODELS)
    # without an interval: the test split's accuracy, no bars, and the title says why
    fig = baselines_accuracy_figure(window_baselines(_baseline_tree(2, np.random.default_rng(2)), seed=0))
    assert fig.axes[0].get_ylabel() == "accuracy on the test split"
    assert not any(c.has_yerr for c in fig.axes[0].containers)
    assert "no interval: 2 cultures" in fig._suptitle.get_text()
    paths = PLOTS["braingrid_baselines"](ds, tmp_path)
    assert [Path(p).name for p in paths] == ["braingrid_baselines_accuracy.png"]
