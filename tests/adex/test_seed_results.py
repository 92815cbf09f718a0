"""With the seed's Julia stream the seed's own results come out, row for row; the default
numpy stream keeps its numbers."""

import numpy as np
import pytest
import xarray as xr

from neurodata.adex import (
    SEED_RATE_MATCH,
    compare_per_seed,
    match_rate,
    rate_match_agreement,
    seed_per_seed_table,
    seed_table_agreement,
    simulate,
)
from neurodata.adex.stages import we_sweep

SEED_SWEEP = {"N": 6500, "T": 10.0, "dt": 0.1, "seeds": list(range(10)), "rng": "julia"}


@pytest.mark.parametrize(
    ("seed", "we_pS", "n_spikes", "median_vm"),
    [
        (3, 12.0, 11, -52.99841036218947),  # spot checks of the seed's saved results
        (0, 15.0, 47, -54.16833168572867),
        (9, 30.0, 115, -53.282189),  # the notebook's printed rows (6 decimals)
        (5, 30.0, 127, -53.365445),
    ],
)
def test_julia_stream_gives_the_seeds_rows(seed, we_pS, n_spikes, median_vm):
    result = simulate(6500, 10.0, we_pS / 1000, seed, rng="julia")
    assert result.n_spikes == n_spikes
    assert result.output_rate == n_spikes / 10.0
    decimals = len(repr(median_vm).split(".")[1])
    assert result.median_vm == pytest.approx(median_vm, abs=max(1e-9, 0.5 * 10.0**-decimals))


def test_the_sweep_stage_reproduces_all_180_rows(data_dir):
    we = sorted(seed_per_seed_table()["we_pS"].unique())
    path, *_ = we_sweep({**SEED_SWEEP, "we": we}, data_dir=data_dir, scheduler="synchronous")
    sweep = xr.open_zarr(path).load()
    assert sweep.attrs["rng"] == "julia"
    metrics = seed_table_agreement(sweep)
    assert metrics == {
        "rows_compared": 180,
        "rows_matching": 180,
        "seed_rows": 180,
        "max_abs_rate_diff_Hz": 0.0,
        "max_abs_median_vm_diff_mV": pytest.approx(0, abs=1e-9),
    }


def test_agreement_counts_what_differs():
    rows = seed_per_seed_table()
    grid = rows.pivot(index="we_pS", columns="seed")
    sweep = xr.Dataset(
        {
            "output_rate": (("we", "seed"), grid["output_rate_Hz"].to_numpy().copy()),
            "median_vm": (("we", "seed"), grid["median_vm_mV"].to_numpy().copy()),
        },
        coords={"we": grid.index.to_numpy() / 1000, "seed": np.arange(10)},
        attrs={"N": 6500, "T_s": 10.0, "dt_ms": 0.1},
    )
    assert seed_table_agreement(sweep)["rows_matching"] == 180
    sweep["output_rate"][3, 4] += 0.1
    sweep["median_vm"][5, 6] += 2e-9
    sweep["median_vm"][7, 8] += 0.5e-9
    metrics = seed_table_agreement(sweep)
    assert metrics["rows_matching"] == 178
    assert metrics["max_abs_rate_diff_Hz"] == pytest.approx(0.1)
    assert metrics["max_abs_median_vm_diff_mV"] == pytest.approx(2e-9, rel=1e-3)
    # another N or T is another experiment: nothing to compare, and it says so
    other = sweep.assign_attrs(N=1000)
    assert compare_per_seed(other).empty
    assert seed_table_agreement(other)["rows_compared"] == 0
    assert np.isnan(seed_table_agreement(other)["max_abs_rate_diff_Hz"])


@pytest.mark.parametrize("N", [20, 800])
def test_julia_stream_finds_the_seeds_root_to_every_printed_digit(N):
    found = match_rate(N, target_rate=4.0, T=10.0, dt=0.1, seeds=list(range(10)), rng="julia")
    seed = SEED_RATE_MATCH.set_index("N").loc[N]
    assert abs(found.we - seed.we_printed_nS) <= seed.printed_resolution_nS
    assert found.iterations == seed.iterations
    assert round(found.rate, 2) == seed.rate_Hz
    match = xr.Dataset(
        {"we": ("N", [found.we]), "rate": ("N", [found.rate]), "factor": ("N", [found.factor]),
         "iterations": ("N", [found.iterations])},
        coords={"N": [N]},
        attrs={"T_s": 10.0, "dt_ms": 0.1, "target_rate_Hz": 4.0, "seeds": "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"},
    )  # fmt: skip
    assert rate_match_agreement(match) == {
        "rows_compared": 1,
        "rows_digits_matching": 1,
        "rows_iterations_matching": 1,
        "rows_within_tolerance": 1,
        "max_abs_rel_we_diff": pytest.approx(0, abs=2e-8),
    }
    # other seeds (or T, or target) are another root: nothing to compare
    assert rate_match_agreement(match.assign_attrs(seeds="[0, 1]"))["rows_compared"] == 0


def test_numpy_stream_keeps_its_numbers():
    """The default stream's result before the Julia stream was added (same bytes)."""
    result = simulate(6500, 10.0, 0.015, 0)
    assert result.n_spikes == 38
    assert result.median_vm == -53.698969871178406


def test_an_unknown_stream_is_a_clear_error():
    with pytest.raises(ValueError, match=r"Unknown random stream rng='mt19937'\. Expected one of \['numpy', 'julia'\]"):
        simulate(10, 0.1, 0.1, 0, rng="mt19937")
