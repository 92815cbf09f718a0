"""DVC stages of the EI-network family: check params, simulate with NEST, write the stores.

``ei_network`` runs the generator once and writes ``ei_spikes`` and ``ei_weights``;
``ei_rates`` derives the rates from ``ei_spikes``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .._pipeline import stage
from ..params import Boolean, Constraint, Interval, ListOf, Nullable, Options, Rule
from ..store import load_artifact, write_artifact
from ._artifacts import rates_dataset, spikes_dataset, weights_dataset
from ._simulate import NEURON_TYPES, simulate_ei_network
from ._weights import CLUSTERING_MODES, cluster_factors

__all__ = ["EI_NETWORK_RULES", "EI_NETWORK_SPEC", "EI_RATES_SPEC", "STAGES", "ei_network", "ei_rates"]


class _RandOrNumber(Constraint):
    """``"rand"`` or a finite number (the initial membrane potential V_m)."""

    def describe(self) -> str:
        return "'rand' or a finite float [mV]"

    def normalize(self, value: Any) -> Any:
        if value == "rand":
            return value
        return Interval(float, None, None).normalize(value)


_POS = Interval(float, 0, None, closed="neither")
_NONNEG = Interval(float, 0, None)
_REAL = Interval(float, None, None)
_MATRIX = ListOf(ListOf(Interval(float, 0, 1), min_len=2, max_len=2), min_len=2, max_len=2)

EI_NETWORK_SPEC: dict[str, Constraint] = {
    "neuron_type": Options(NEURON_TYPES),
    "E_L": _REAL,
    "C_m": _POS,
    "tau_E": _POS,
    "tau_I": _POS,
    "t_ref": _NONNEG,
    "V_th_E": _REAL,
    "V_th_I": _REAL,
    "V_r": _REAL,
    "tau_syn_ex": _POS,
    "tau_syn_in": _POS,
    "delay": _POS,
    "I_th_E": Nullable(_REAL),
    "I_th_I": Nullable(_REAL),
    "I_xE": Nullable(_REAL),
    "I_xI": Nullable(_REAL),
    "delta_I_xE": Interval(float, 0, 2),
    "delta_I_xI": Interval(float, 0, 2),
    "V_m": _RandOrNumber(),
    "N_E": Interval(int, 1, None),
    "N_I": Interval(int, 1, None),
    "n_clusters": Interval(int, 1, None),
    "baseline_conn_prob": _MATRIX,
    "gei": _NONNEG,
    "gie": _NONNEG,
    "gii": _NONNEG,
    "s": _NONNEG,
    "fixed_indegree": Boolean(),
    "clustering": Options(CLUSTERING_MODES),
    "rj": _NONNEG,
    "rep": _POS,
    "js": Nullable(ListOf(ListOf(_REAL, min_len=2, max_len=2), min_len=2, max_len=2)),
    "warmup": _NONNEG,
    "simtime": _POS,
    "dt": _POS,
    "seed": Interval(int, 1, 2**31 - 1),
    "threads": Interval(int, 1, None),
    "stim_clusters": Nullable(ListOf(Interval(int, 0, None), min_len=0, unique=True)),
    "stim_amp": _REAL,
    "stim_starts": ListOf(_NONNEG, min_len=0, increasing=True),
    "stim_ends": ListOf(_NONNEG, min_len=0, increasing=True),
}


def _on_grid(*names: str) -> Any:
    return lambda p: all(abs(p[n] / p["dt"] - round(p[n] / p["dt"])) < 1e-9 for n in names)


def _windows(p: Mapping[str, Any]) -> list[tuple[float, float]]:
    return list(zip(p["stim_starts"], p["stim_ends"], strict=False))


def _between_cluster_factors_ok(p: Mapping[str, Any]) -> bool:
    _, minus = cluster_factors(p["n_clusters"], p["rep"], p["rj"], p["clustering"])
    return bool(np.all(minus >= 0))


EI_NETWORK_RULES = (
    Rule("N_E % n_clusters == 0", param="N_E", must="be a multiple of n_clusters={n_clusters} (every cluster gets N/n_clusters neurons)"),
    Rule("N_I % n_clusters == 0", param="N_I", must="be a multiple of n_clusters={n_clusters} (every cluster gets N/n_clusters neurons)"),
    Rule("V_th_E > E_L", param="V_th_E", must="be above E_L={E_L} mV"),
    Rule("V_th_I > E_L", param="V_th_I", must="be above E_L={E_L} mV"),
    Rule("V_r < min(V_th_E, V_th_I)", param="V_r", must="be below both thresholds (V_th_E={V_th_E}, V_th_I={V_th_I} mV)"),
    Rule("I_xE is not None", when="I_th_E is None", param="I_xE", must="be a finite number [pA] when I_th_E is None"),
    Rule("I_xI is not None", when="I_th_I is None", param="I_xI", must="be a finite number [pA] when I_th_I is None"),
    Rule("delay >= dt", param="delay", must="be at least dt={dt} ms (NEST's minimum delay)"),
    Rule(_on_grid("warmup"), param="warmup", must="be a multiple of dt={dt} ms"),
    Rule(_on_grid("simtime"), param="simtime", must="be a multiple of dt={dt} ms"),
    Rule(_on_grid("delay"), param="delay", must="be a multiple of dt={dt} ms"),
    Rule(lambda p: all(v > 0 for row in p["baseline_conn_prob"] for v in row), when="js is None",
         param="baseline_conn_prob", must="be > 0 everywhere when js is None (the RBN weight recipe divides by it)"),
    Rule("rep >= 1", when="clustering == 'probabilities'", param="rep",
         must="be >= 1 with probability clustering (its I factor is 1 + (rep - 1) ** rj)"),
    Rule(_between_cluster_factors_ok, param="rep",
         must="be small enough that the between-cluster factors (Q - J+)/(Q - 1) stay >= 0 for n_clusters={n_clusters} and rj={rj}"),
    Rule(lambda p: all(c < p["n_clusters"] for c in p["stim_clusters"] or []), param="stim_clusters",
         must="be None or a list of distinct cluster indices below n_clusters={n_clusters}"),
    Rule("len(stim_ends) == len(stim_starts)", param="stim_ends", must="be a list as long as stim_starts"),
    Rule(lambda p: all(0 <= a < b <= p["simtime"] for a, b in _windows(p)), param="stim_starts",
         must="give windows with 0 <= start < end <= simtime={simtime} ms (stim_ends={stim_ends})"),
    Rule(lambda p: all(b <= a2 for (_, b), (a2, _) in zip(_windows(p), _windows(p)[1:], strict=False)),
         param="stim_starts", must="give sorted, non-overlapping windows (stim_ends={stim_ends})"),
    Rule(lambda p: all(abs(t / p["dt"] - round(t / p["dt"])) < 1e-9 for w in _windows(p) for t in w),
         param="stim_starts", must="give window bounds on the dt={dt} ms grid (stim_ends={stim_ends})"),
    Rule(lambda p: all(a + p["warmup"] >= 2 * p["dt"] for a, _ in _windows(p)), param="stim_starts",
         must="start at least 2*dt after the start of the run (warmup + start >= 2 dt, warmup={warmup} ms)"),
)
EI_RATES_SPEC: dict[str, Constraint] = {"bin_ms": _POS}


def _network_metrics(data_dir: Path) -> dict[str, Any]:
    spikes = load_artifact("ei_spikes", data_dir=data_dir)
    return {"n_spikes": spikes.sizes["spike"], "n_neurons": spikes.sizes["neuron_id"],
            "num_connections": spikes.attrs["num_connections"]}


def _rates_metrics(data_dir: Path) -> dict[str, Any]:
    """Population rates (the original example's E and I rates) and the stimulus effect, in Hz."""
    rates = load_artifact("ei_rates", data_dir=data_dir)
    e_rate, i_rate = (float(r) for r in rates["population_rate"].values)
    metrics: dict[str, Any] = {"E_rate_Hz": e_rate, "I_rate_Hz": i_rate}
    if "stimulus" in rates["epoch"].values:
        e = rates["rate"].sel(population="E")
        metrics["stimulated_E_rate_Hz"] = {epoch: float(e.sel(epoch=epoch).where(rates["stimulated"]).mean())
                                           for epoch in ("baseline", "stimulus")}
    return metrics


@stage("ei_network", spec=EI_NETWORK_SPEC, rules=EI_NETWORK_RULES, metrics=_network_metrics)
def ei_network(p: dict[str, Any], *, data_dir: Path, scheduler: str | None = None) -> list[Path]:
    """Stage ``ei_network``: simulate the network with NEST; write ``ei_spikes`` and ``ei_weights``.

    Every parameter is checked (the spec and its rules) before NEST is imported. One NEST run
    is one process, parallelised by NEST's own ``threads``: *scheduler* is unused.

    Returns
    -------
    list of Path
        The ``ei_spikes`` and ``ei_weights`` stores.
    """
    result = simulate_ei_network(p)
    seeds = {"seed": p["seed"]}
    return [
        write_artifact(spikes_dataset(result), "ei_spikes", params=p, seeds=seeds, data_dir=data_dir),
        write_artifact(weights_dataset(p), "ei_weights", params=p, seeds=seeds, data_dir=data_dir),
    ]


@stage("ei_rates", spec=EI_RATES_SPEC, metrics=_rates_metrics)
def ei_rates(p: dict[str, Any], *, data_dir: Path, scheduler: str | None = None) -> list[Path]:
    """Stage ``ei_rates``: rates per population and cluster, per epoch and in time bins of ``bin_ms`` [ms]."""
    spikes = load_artifact("ei_spikes", data_dir=data_dir, verify=True)
    return [write_artifact(rates_dataset(spikes, bin_ms=p["bin_ms"]), "ei_rates", params=p, data_dir=data_dir)]


STAGES = {s.name: s for s in (ei_network, ei_rates)}
