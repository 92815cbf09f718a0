"""DVC stages of the EI-network family: check params, simulate with NEST, write the stores.

``ei_network`` runs the generator once and writes ``ei_spikes`` and ``ei_weights``;
``ei_rates`` derives the rates from ``ei_spikes``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..params import Boolean, Constraint, Interval, ListOf, Nullable, Options, check_params
from ..store import load_artifact, write_artifact
from ._datasets import rates_dataset, spikes_dataset, weights_dataset
from ._params import NEURON_TYPES, check_network_params
from ._simulate import simulate_ei_network
from ._weights import CLUSTERING_MODES

__all__ = ["EI_NETWORK_SPEC", "EI_RATES_SPEC", "STAGES", "ei_network", "ei_rates"]


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
    "I_xE": Nullable(_REAL, default=None),
    "I_xI": Nullable(_REAL, default=None),
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
    "js": Nullable(ListOf(ListOf(_REAL, min_len=2, max_len=2), min_len=2, max_len=2), default=None),
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
EI_RATES_SPEC: dict[str, Constraint] = {"bin_ms": _POS}


def ei_network(params: Mapping[str, Any], *, data_dir: Path, scheduler: str | None = None) -> list[Path]:
    """Stage ``ei_network``: simulate the network with NEST; write ``ei_spikes`` and ``ei_weights``.

    Every parameter is checked (stage constraints, then the network's cross-checks such as
    cluster divisibility) before NEST is imported.

    Parameters
    ----------
    params : mapping
        The ``ei_network`` section of params.yaml (keys of :data:`EI_NETWORK_SPEC`).
    data_dir : Path
        Artifact folder.
    scheduler : str, optional
        Unused: one NEST run is one process, parallelised by NEST's own ``threads``.

    Returns
    -------
    list of Path
        The ``ei_spikes`` and ``ei_weights`` stores.

    Raises
    ------
    neurodata.ParamError
        Before any simulation, for an unknown, missing or invalid parameter.
    """
    p = check_params(params, EI_NETWORK_SPEC, stage="ei_network")
    net = check_network_params(p)
    result = simulate_ei_network(net)
    spikes = spikes_dataset(result)
    weights = weights_dataset(net)
    seeds = {"seed": int(p["seed"]), "threads": int(p["threads"])}
    return [
        write_artifact(spikes, "ei_spikes", params=p, seeds=seeds, data_dir=data_dir),
        write_artifact(weights, "ei_weights", params=p, seeds=seeds, data_dir=data_dir),
    ]


def ei_rates(params: Mapping[str, Any], *, data_dir: Path, scheduler: str | None = None) -> list[Path]:
    """Stage ``ei_rates``: rates per population and cluster, per epoch and in time bins.

    Parameters
    ----------
    params : mapping
        The ``ei_rates`` section: ``bin_ms`` [ms], the width of the ``rate_time`` bins.
    data_dir : Path
        Artifact folder; ``ei_spikes`` must be built there.
    scheduler : str, optional
        Unused.

    Returns
    -------
    list of Path
        The ``ei_rates`` store.
    """
    p = check_params(params, EI_RATES_SPEC, stage="ei_rates")
    spikes = load_artifact("ei_spikes", data_dir=data_dir, verify=True)
    rates = rates_dataset(spikes, bin_ms=p["bin_ms"])
    return [write_artifact(rates, "ei_rates", params=p, seeds=None, data_dir=data_dir)]


STAGES = {"ei_network": ei_network, "ei_rates": ei_rates}
