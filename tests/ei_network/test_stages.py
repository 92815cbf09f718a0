"""The ei_network and ei_rates stages end to end on the tiny profile: stores, catalog, plots, determinism."""

import hashlib
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

import neurodata
from neurodata import ParamError
from neurodata.cli import main
from neurodata.ei_network.plots import PLOTS
from neurodata.ei_network.stages import ei_network, ei_rates
from neurodata.params import load_params, merge_profile
from neurodata.schemas import validate

pytest.importorskip("nest")
pytestmark = pytest.mark.nest

REPO = Path(__file__).resolve().parents[2]


def tiny(stage):
    """The stage's section of params.yaml with the tiny profile applied (what CI runs)."""
    profile = yaml.safe_load((REPO / "profiles" / "tiny.yaml").read_text())
    return merge_profile(load_params(stage, REPO / "params.yaml"), profile.get(stage, {}))


def digest(store: Path) -> dict[str, str]:
    return {str(p.relative_to(store)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(store.rglob("*")) if p.is_file() and p.name != "zarr.json"}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ei") / "data"
    paths = ei_network(tiny("ei_network"), data_dir=folder)
    paths += ei_rates(tiny("ei_rates"), data_dir=folder)
    return folder, paths


def test_stage_writes_the_three_artifacts(built):
    folder, paths = built
    assert [p.name for p in paths] == ["ei_spikes.zarr", "ei_weights.zarr", "ei_network.json", "ei_rates.zarr", "ei_rates.json"]
    import json

    metrics = json.loads((folder.parent / "metrics" / "ei_rates.json").read_text())
    rates = neurodata.load_artifact("ei_rates", data_dir=folder)
    assert [metrics["E_rate_Hz"], metrics["I_rate_Hz"]] == rates["population_rate"].values.tolist()
    e = rates["rate"].sel(population="E", epoch="stimulus").values[rates["stimulated"].values]
    assert metrics["stimulated_E_rate_Hz"]["stimulus"] == pytest.approx(e.mean())
    for name in ("ei_spikes", "ei_weights", "ei_rates"):
        ds = neurodata.load_artifact(name, data_dir=folder)
        validate(ds, name)
        for var_name, var in ds.variables.items():
            assert "long_name" in var.attrs, (name, var_name)
    spikes = neurodata.load_artifact("ei_spikes", data_dir=folder)
    p = tiny("ei_network")
    assert spikes.sizes["neuron_id"] == p["N_E"] + p["N_I"]
    assert spikes["time_ms"].attrs["units"] == "ms"
    assert spikes.attrs["seed"] == p["seed"] and spikes.attrs["threads"] == p["threads"]
    assert (spikes["stimulated"].values == ((spikes["population"].values == "E")
                                            & np.isin(spikes["cluster"].values, p["stim_clusters"]))).all()


def test_rates_match_the_spike_table(built):
    folder, _ = built
    spikes = neurodata.load_artifact("ei_spikes", data_dir=folder)
    rates = neurodata.load_artifact("ei_rates", data_dir=folder)
    n_e = spikes.attrs["N_E"]
    e_rate = float((spikes["neuron"] < n_e).sum()) / n_e / (spikes.attrs["simtime_ms"] / 1000.0)
    assert float(rates["population_rate"].sel(population="E")) == pytest.approx(e_rate)
    # the epoch rates, weighted by epoch duration, give back the whole-recording rate
    weighted = (rates["rate"] * rates["epoch_duration_ms"]).sum("epoch") / rates["epoch_duration_ms"].sum()
    per_pop = (weighted * rates["n_neurons"]).sum("cluster") / rates["n_neurons"].sum("cluster")
    np.testing.assert_allclose(per_pop.values, rates["population_rate"].values)


def test_catalog_reads_the_artifacts(built):
    folder, _ = built
    with neurodata.set_options(data_dir=str(folder)):
        cat = neurodata.open_catalog()
        for name in ("ei_spikes", "ei_weights", "ei_rates"):
            assert name in cat.entries
            ds = cat[name].read()
            assert isinstance(ds, xr.Dataset)
        assert cat["ei_weights"].read()["in_cluster_weight"].attrs["units"] == "pA"


def test_plots(built, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    folder, _ = built
    written = []
    for name, plot in PLOTS.items():
        written += plot(neurodata.open_artifact(name, data_dir=folder), tmp_path)
    assert [p.name for p in written] == ["ei_spikes_raster.png", "ei_rates_clusters.png"]
    assert all(p.stat().st_size > 10_000 for p in written)


def test_rerun_gives_byte_identical_chunks(built, tmp_path):
    folder, _ = built
    ei_network(tiny("ei_network"), data_dir=tmp_path)
    for name in ("ei_spikes", "ei_weights"):
        assert digest(tmp_path / f"{name}.zarr") == digest(folder / f"{name}.zarr")


def test_rates_stage_needs_spikes(tmp_path):
    with pytest.raises(neurodata.ArtifactNotBuilt, match="ei_spikes"):
        ei_rates({"bin_ms": 50.0}, data_dir=tmp_path)


def test_rates_stage_rejects_bad_bin(tmp_path):
    with pytest.raises(ParamError, match=r"'bin_ms' parameter of stage ei_rates must be a float in the range \(0, inf\)"):
        ei_rates({"bin_ms": 0}, data_dir=tmp_path)


def test_cli_rejects_bad_network_before_nest(tmp_path, capsys):
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"ei_network": {**tiny("ei_network"), "n_clusters": 7}}))
    code = main(["run", "ei_network", "--params", str(params), "--data-dir", str(tmp_path / "data")])
    assert code == 2
    assert "The 'N_E' parameter of stage ei_network must be a multiple of n_clusters=7" in capsys.readouterr().err
    assert not (tmp_path / "data" / "ei_spikes.zarr").exists()
