"""DVC stages of the AdEx family: thin wrappers that check params, run the sweeps, write the stores."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
import xarray as xr

from ..params import Interval, ListOf, Options, check_params
from ..runner import write_sweep
from ..store import ArtifactWriter
from ._model import STREAMS, input_rate_sums
from ._sweeps import PS_PER_NS, match_rate, we_sweep_slice

__all__ = ["STAGES", "expectation", "rate_match", "we_sweep"]

_N = Interval(int, 1, None)
_T = Interval(float, 0, None, closed="neither")
_DT = Interval(float, 0, 10, closed="right")
_SEEDS = ListOf(Interval(int, 0, 2**32 - 1), unique=True)
_RNG = Options(STREAMS, default="numpy")

WE_SWEEP_SPEC = {
    "N": _N,
    "T": _T,
    "dt": _DT,
    "we": ListOf(Interval(float, 0, None), unique=True, increasing=True),
    "seeds": _SEEDS,
    "rng": _RNG,
}
EXPECTATION_SPEC = {
    "N": _N,
    "T": _T,
    "dt": _DT,
    "we": ListOf(Interval(float, 0, None), unique=True, increasing=True),
    "n_seeds": Interval(int, 4, 2**32),
    "rng": _RNG,
}
RATE_MATCH_SPEC = {
    "N": ListOf(_N, unique=True, increasing=True),
    "T": _T,
    "dt": _DT,
    "seeds": _SEEDS,
    "target_rate": Interval(float, 0, None, closed="neither"),
    "w0_ref": Interval(float, 0, None, closed="neither"),
    "N_ref": _N,
    "rng": _RNG,
}


def _attrs(long_name: str, units: str) -> dict[str, str]:
    return {"long_name": long_name, "units": units}


def _lazy(shape: tuple[int, ...], dtype: Any) -> da.Array:
    return da.empty(shape, dtype=dtype, chunks=shape)


def _we_seed_grid(we_nS: np.ndarray, seeds: np.ndarray) -> tuple[dict[str, Any], dict[str, Any]]:
    """Lazy (we, seed) variables and the coords of a w_e x seed grid."""
    shape = (len(we_nS), len(seeds))
    data_vars = {
        "median_vm": (("we", "seed"), _lazy(shape, np.float64), _attrs("median membrane potential", "mV")),
        "output_rate": (("we", "seed"), _lazy(shape, np.float64), _attrs("output firing rate", "Hz")),
    }
    coords = {
        "we": ("we", we_nS, _attrs("excitatory synaptic weight (conductance jump per input spike)", "nS")),
        "seed": ("seed", seeds, {"long_name": "random seed of input rates and input spikes"}),
    }
    return data_vars, coords


def we_sweep(params: Mapping[str, Any], *, data_dir: Path, scheduler: str | None = None) -> list[Path]:
    """Stage ``adex_we_sweep``: median Vm and output rate over the w_e x seed grid.

    One dask task (and one Zarr chunk) per w_e value, each running every seed.
    """
    p = check_params(params, WE_SWEEP_SPEC, stage="adex_we_sweep")
    we_nS = np.asarray(p["we"]) / PS_PER_NS
    seeds = np.asarray(p["seeds"], dtype=np.int64)
    data_vars, coords = _we_seed_grid(we_nS, seeds)
    template = xr.Dataset(
        data_vars,
        coords=coords,
        attrs={
            "title": "N-to-1 AdEx: median Vm and output rate vs excitatory weight",
            "N": p["N"],
            "T_s": p["T"],
            "dt_ms": p["dt"],
            "rng": p["rng"],
        },
    )
    task = functools.partial(we_sweep_slice, N=p["N"], T=p["T"], dt=p["dt"], seeds=[int(s) for s in seeds], rng=p["rng"])
    with ArtifactWriter("adex_we_sweep", params=p, seeds=p["seeds"], data_dir=data_dir) as writer:
        path = write_sweep(writer, template, "we", task, list(we_nS), scheduler=scheduler, desc="adex we sweep")
    return [path]


def _rate_match_slice(N: int, **kwargs: Any) -> xr.Dataset:
    result = match_rate(N, **kwargs)
    return xr.Dataset(
        {
            "we": ("N", [result.we]),
            "rate": ("N", [result.rate]),
            "w0": ("N", [result.w0]),
            "factor": ("N", [result.factor]),
            "iterations": ("N", np.array([result.iterations], dtype=np.int64)),
        }
    )


def rate_match(params: Mapping[str, Any], *, data_dir: Path, scheduler: str | None = None) -> list[Path]:
    """Stage ``adex_rate_match``: w_e giving the target output rate, per N (one task per N)."""
    p = check_params(params, RATE_MATCH_SPEC, stage="adex_rate_match")
    Ns = np.asarray(p["N"], dtype=np.int64)
    n = len(Ns)
    template = xr.Dataset(
        {
            "we": ("N", _lazy((n,), np.float64), _attrs("excitatory weight giving the target rate", "nS")),
            "rate": ("N", _lazy((n,), np.float64), _attrs("mean output rate over seeds at we", "Hz")),
            "w0": ("N", _lazy((n,), np.float64), _attrs("initial guess 15 pS * 6500 / N", "nS")),
            "factor": ("N", _lazy((n,), np.float64), {"long_name": "w0 / we"}),
            "iterations": ("N", _lazy((n,), np.int64), {"long_name": "root-finder iterations"}),
        },
        coords={"N": ("N", Ns, {"long_name": "number of Poisson inputs"})},
        attrs={
            "title": "N-to-1 AdEx: excitatory weight for a target output rate",
            "target_rate_Hz": p["target_rate"],
            "T_s": p["T"],
            "dt_ms": p["dt"],
            "root_finder": "brentq on [w0/4, 4 w0], xtol = w0/1000",
            "rng": p["rng"],
        },
    )
    task = functools.partial(
        _rate_match_slice,
        target_rate=p["target_rate"],
        T=p["T"],
        dt=p["dt"],
        seeds=list(p["seeds"]),
        w0_ref_pS=p["w0_ref"],
        N_ref=p["N_ref"],
        rng=p["rng"],
    )
    with ArtifactWriter("adex_rate_match", params=p, seeds=p["seeds"], data_dir=data_dir) as writer:
        path = write_sweep(writer, template, "N", task, [int(N) for N in Ns], scheduler=scheduler, desc="adex rate match")
    return [path]


def expectation(params: Mapping[str, Any], *, data_dir: Path, scheduler: str | None = None) -> list[Path]:
    """Stage ``adex_expectation``: output rate and median Vm at a few w_e over seeds 0 .. n_seeds - 1.

    The w_e sweep's grid with many seeds, plus each seed's summed drawn input rates (so the
    expectation can be adjusted for them, see :mod:`._expectation`). One task per w_e.
    """
    p = check_params(params, EXPECTATION_SPEC, stage="adex_expectation")
    we_nS = np.asarray(p["we"]) / PS_PER_NS
    seeds = np.arange(p["n_seeds"], dtype=np.int64)
    sums = np.array([input_rate_sums(p["N"], int(seed), rng=p["rng"]) for seed in seeds])
    data_vars, coords = _we_seed_grid(we_nS, seeds)
    data_vars["exc_input_rate"] = ("seed", sums[:, 0], _attrs("summed drawn rates of the excitatory inputs", "Hz"))
    data_vars["inh_input_rate"] = ("seed", sums[:, 1], _attrs("summed drawn rates of the inhibitory inputs", "Hz"))
    template = xr.Dataset(
        data_vars,
        coords=coords,
        attrs={
            "title": "N-to-1 AdEx: output rate and median Vm over many seeds, for the model's expectation",
            "N": p["N"],
            "T_s": p["T"],
            "dt_ms": p["dt"],
            "rng": p["rng"],
        },
    )
    task = functools.partial(we_sweep_slice, N=p["N"], T=p["T"], dt=p["dt"], seeds=[int(s) for s in seeds], rng=p["rng"])
    seed_range = {"start": 0, "stop": p["n_seeds"]}  # seeds as range(start, stop)
    with ArtifactWriter("adex_expectation", params=p, seeds=seed_range, data_dir=data_dir) as writer:
        path = write_sweep(writer, template, "we", task, list(we_nS), scheduler=scheduler, desc="adex expectation")
    return [path]


STAGES = {"adex_we_sweep": we_sweep, "adex_rate_match": rate_match, "adex_expectation": expectation}
