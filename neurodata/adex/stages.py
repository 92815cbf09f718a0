"""DVC stages of the AdEx family: params -> science -> labelled templates -> the store.

Every stage has the same shape: ``@stage`` checks the params against the spec (one call, before
any work), the science runs in dask tasks through :func:`neurodata.runner.write_batches`
(one task and one Zarr chunk per batch of the swept values), and :mod:`._artifacts` labels the
store from its contract.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np

from .._pipeline import stage
from ..params import Interval, ListOf, Options
from ..runner import write_batches
from ..store import ArtifactWriter, load_artifact
from ._artifacts import expectation_template, rate_match_piece, rate_match_template, we_seed_piece, we_sweep_template
from ._fidelity import expectation_agreement, rate_match_agreement, seed_table_agreement
from ._model import STREAMS, input_rate_sums
from ._sweeps import PS_PER_NS, match_rate

__all__ = ["EXPECTATION_SPEC", "RATE_MATCH_SPEC", "STAGES", "WE_SWEEP_SPEC", "expectation", "rate_match", "we_sweep"]

_N = Interval(int, 1, None)
_T = Interval(float, 0, None, closed="neither")
_DT = Interval(float, 0, 10, closed="right")
_SEEDS = ListOf(Interval(int, 0, 2**32 - 1), unique=True)
_WE = ListOf(Interval(float, 0, None), unique=True, increasing=True)
_RNG = Options(STREAMS)

WE_SWEEP_SPEC = {"N": _N, "T": _T, "dt": _DT, "we": _WE, "seeds": _SEEDS, "rng": _RNG}
EXPECTATION_SPEC = {"N": _N, "T": _T, "dt": _DT, "we": _WE, "n_seeds": Interval(int, 4, 2**32), "rng": _RNG}
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


def _we_sweep_metrics(data_dir: Path) -> dict[str, Any]:
    sweep = load_artifact("adex_we_sweep", data_dir=data_dir)
    rate = sweep["output_rate"].mean("seed")
    return {"seed_table": seed_table_agreement(sweep),
            "mean_rate_Hz": {f"{we * 1000:g}pS": float(r) for we, r in zip(sweep["we"].values, rate.values, strict=True)}}


def _we_sweep_plots(data_dir: Path) -> dict[str, Any]:
    """The rate-vs-w_e curve (mean and s.e.m. over seeds) for ``dvc plots``."""
    import pandas as pd

    sweep = load_artifact("adex_we_sweep", data_dir=data_dir)
    rate = sweep["output_rate"]
    return {"adex_rate_vs_we": pd.DataFrame({
        "we_pS": sweep["we"].values * 1000, "output_rate_Hz": rate.mean("seed").values,
        "sem_Hz": (rate.std("seed", ddof=1) / max(rate.sizes["seed"], 1) ** 0.5).values if rate.sizes["seed"] > 1 else 0.0,
        "median_vm_mV": sweep["median_vm"].mean("seed").values})}


def _run_attrs(p: dict[str, Any], title: str) -> dict[str, Any]:
    return {"title": title, "N": p["N"], "T_s": p["T"], "dt_ms": p["dt"], "rng": p["rng"]}


@stage("adex_we_sweep", spec=WE_SWEEP_SPEC, metrics=_we_sweep_metrics, plots=_we_sweep_plots)
def we_sweep(p: dict[str, Any], *, data_dir: Path, scheduler: str | None = None) -> list[Path]:
    """Stage ``adex_we_sweep``: median Vm and output rate over the w_e x seed grid (one task per w_e)."""
    we_nS = np.asarray(p["we"]) / PS_PER_NS
    template = we_sweep_template(we_nS, np.asarray(p["seeds"]),
                                 _run_attrs(p, "N-to-1 AdEx: median Vm and output rate vs excitatory weight"))
    task = functools.partial(we_seed_piece, we_nS=list(we_nS), N=p["N"], T=p["T"], dt=p["dt"], seeds=p["seeds"], rng=p["rng"])
    with ArtifactWriter("adex_we_sweep", params=p, seeds={"seeds": p["seeds"]}, data_dir=data_dir) as writer:
        return [write_batches(writer, template, "we", task, scheduler=scheduler, desc="adex we sweep")]


def _rate_match_rows(start: int, stop: int, *, Ns: list[int], **kwargs: Any) -> Any:
    return rate_match_piece([match_rate(N, **kwargs) for N in Ns[start:stop]])


@stage("adex_rate_match", spec=RATE_MATCH_SPEC,
       metrics=lambda data_dir: rate_match_agreement(load_artifact("adex_rate_match", data_dir=data_dir)))
def rate_match(p: dict[str, Any], *, data_dir: Path, scheduler: str | None = None) -> list[Path]:
    """Stage ``adex_rate_match``: w_e giving the target output rate, per N (one task per N)."""
    attrs = {**_run_attrs(p, "N-to-1 AdEx: excitatory weight for a target output rate"), "target_rate_Hz": p["target_rate"],
             "root_finder": "brentq on [w0/4, 4 w0], xtol = w0/1000"}
    del attrs["N"]
    template = rate_match_template(np.asarray(p["N"]), attrs)
    task = functools.partial(_rate_match_rows, Ns=list(p["N"]), target_rate=p["target_rate"], T=p["T"], dt=p["dt"],
                             seeds=list(p["seeds"]), w0_ref_pS=p["w0_ref"], N_ref=p["N_ref"], rng=p["rng"])
    with ArtifactWriter("adex_rate_match", params=p, seeds={"seeds": p["seeds"]}, data_dir=data_dir) as writer:
        return [write_batches(writer, template, "N", task, scheduler=scheduler, desc="adex rate match")]


@stage("adex_expectation", spec=EXPECTATION_SPEC,
       metrics=lambda data_dir: expectation_agreement(load_artifact("adex_expectation", data_dir=data_dir)))
def expectation(p: dict[str, Any], *, data_dir: Path, scheduler: str | None = None) -> list[Path]:
    """Stage ``adex_expectation``: output rate and median Vm at a few w_e over seeds 0 .. n_seeds - 1.

    The w_e sweep's grid with many seeds, plus each seed's summed drawn input rates (so the
    expectation can be adjusted for them, see :mod:`._expectation`). One task per w_e.
    """
    we_nS = np.asarray(p["we"]) / PS_PER_NS
    seeds = list(range(p["n_seeds"]))
    sums = np.array([input_rate_sums(p["N"], seed, rng=p["rng"]) for seed in seeds])
    template = expectation_template(we_nS, np.asarray(seeds), sums, _run_attrs(
        p, "N-to-1 AdEx: output rate and median Vm over many seeds, for the model's expectation"))
    task = functools.partial(we_seed_piece, we_nS=list(we_nS), N=p["N"], T=p["T"], dt=p["dt"], seeds=seeds, rng=p["rng"])
    with ArtifactWriter("adex_expectation", params=p, seeds={"seeds": seeds}, data_dir=data_dir) as writer:
        return [write_batches(writer, template, "we", task, scheduler=scheduler, desc="adex expectation")]


STAGES = {s.name: s for s in (we_sweep, rate_match, expectation)}
