"""Default parameters of the EI-clustered network and their validation (before NEST starts).

The names are those of the NEST example (``network_params.py``, ``sim_params.py``,
``stimulus_params.py``), merged into one flat mapping; ``seed`` is the example's ``randseed`` and
``threads`` its ``n_vp``. Units: potentials in mV, times in ms, currents in pA, capacitance in pF.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from numbers import Integral, Real
from typing import Any

import numpy as np

from .._exceptions import ParamError
from ._weights import CLUSTERING_MODES, cluster_factors

NEURON_TYPES = ("iaf_psc_exp",)

_DEFAULTS: dict[str, Any] = {
    # network (net_dict)
    "neuron_type": "iaf_psc_exp",
    "E_L": 0.0,  # resting potential [mV]
    "C_m": 1.0,  # membrane capacitance [pF]
    "tau_E": 20.0,  # membrane time constant of E [ms]
    "tau_I": 10.0,  # membrane time constant of I [ms]
    "t_ref": 5.0,  # absolute refractory period [ms]
    "V_th_E": 20.0,  # threshold of E [mV]
    "V_th_I": 20.0,  # threshold of I [mV]
    "V_r": 0.0,  # reset potential [mV]
    "tau_syn_ex": 5.0,  # excitatory synaptic time constant [ms]
    "tau_syn_in": 5.0,  # inhibitory synaptic time constant [ms]
    "delay": 0.1,  # delay of every recurrent synapse [ms]
    "I_th_E": 1.25,  # background input of E in units of its rheobase (None: use I_xE)
    "I_th_I": 0.78,  # background input of I in units of its rheobase (None: use I_xI)
    "I_xE": None,  # absolute background input of E [pA], used only when I_th_E is None
    "I_xI": None,  # absolute background input of I [pA], used only when I_th_I is None
    "delta_I_xE": 0.0,  # relative spread of the E background input, U[1 - d/2, 1 + d/2]
    "delta_I_xI": 0.0,  # relative spread of the I background input
    "V_m": "rand",  # initial potential [mV] or "rand": V_th - 20 * LogNormal(0, 1)
    "N_E": 4000,
    "N_I": 1000,
    "n_clusters": 20,
    "baseline_conn_prob": [[0.2, 0.5], [0.5, 0.5]],  # [post, pre]
    "gei": 1.2,
    "gie": 1.0,
    "gii": 1.0,
    "s": 1.0,
    "fixed_indegree": False,
    "clustering": "weight",
    "rj": 0.82,
    "rep": 6.0,
    "js": None,  # optional 2x2 override of the RBN efficacies
    # simulation (sim_dict)
    "warmup": 1000.0,  # [ms], spikes before it are discarded
    "simtime": 10000.0,  # recorded time [ms]
    "dt": 0.1,  # resolution [ms]
    "seed": 55,
    "threads": 1,
    # stimulus (stim_dict)
    "stim_clusters": [2, 3, 4],
    "stim_amp": 0.15,  # [pA]
    "stim_starts": [2000.0, 6000.0],  # [ms] after the warm-up
    "stim_ends": [3500.0, 7500.0],  # [ms] after the warm-up
}


def default_network_params() -> dict[str, Any]:
    """Return a fresh copy of the default parameters of the NEST EI-clustered example.

    Returns
    -------
    dict
        Flat mapping of every parameter (see the module docstring for units). ``threads``
        defaults to 1 (the example uses 4): on the 2-core project machine one thread builds the
        network in half the time and simulates as fast as four, two threads were measured 4x
        slower, and a thread count that does not depend on the machine keeps the default
        artifact reproducible everywhere (NEST's random streams depend on the thread count).
    """
    return copy.deepcopy(_DEFAULTS)


def _fail(name: str, expected: str, value: Any) -> None:
    msg = f"The {name!r} parameter of ei_network must be {expected}. Got {value!r} instead."
    raise ParamError(msg)


def _is_int(value: Any) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(float(value))


def _on_grid(value: float, dt: float) -> bool:
    return abs(value / dt - round(value / dt)) < 1e-9


def check_network_params(params: Mapping[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    """Validate network, simulation and stimulus parameters, filling in defaults.

    Every check runs before NEST is imported, so a bad value never starts a simulation.

    Parameters
    ----------
    params : mapping, optional
        Parameters to check; missing keys take the values of :func:`default_network_params`.
    **overrides
        Further values, applied on top of *params*.

    Returns
    -------
    dict
        The complete, checked parameters; ``baseline_conn_prob`` and ``js`` as nested lists.

    Raises
    ------
    neurodata.ParamError
        For an unknown key or a value out of its range: negative or zero sizes, probabilities
        outside [0, 1], a cluster count that does not divide N_E or N_I, a neuron type other than
        ``iaf_psc_exp``, stimulus windows outside the recorded time, and so on.
    """
    merged = default_network_params()
    given = {**(dict(params) if params is not None else {}), **overrides}
    unknown = sorted(set(given) - set(merged))
    if unknown:
        msg = f"Unknown parameter(s) {unknown} for ei_network. Expected a subset of {sorted(merged)}."
        raise ParamError(msg)
    merged.update(given)
    p = merged

    if p["neuron_type"] not in NEURON_TYPES:
        _fail("neuron_type", f"one of {NEURON_TYPES} (the weight recipe assumes exponential current synapses)",
              p["neuron_type"])
    for name in ("N_E", "N_I", "n_clusters", "threads", "seed"):
        if not _is_int(p[name]) or p[name] < 1:
            _fail(name, "an integer >= 1", p[name])
    if p["seed"] > 2**31 - 1:
        _fail("seed", "an integer in [1, 2**31 - 1] (NEST's rng_seed)", p["seed"])
    q = p["n_clusters"]
    for name in ("N_E", "N_I"):
        if p[name] % q:
            _fail(name, f"a multiple of n_clusters={q} (every cluster gets N/n_clusters neurons)", p[name])

    for name in ("C_m", "tau_E", "tau_I", "tau_syn_ex", "tau_syn_in", "dt", "simtime"):
        if not _is_real(p[name]) or p[name] <= 0:
            _fail(name, "a finite number > 0", p[name])
    for name in ("E_L", "V_th_E", "V_th_I", "V_r", "stim_amp", "gei", "gie", "gii", "s", "rj", "rep",
                 "t_ref", "warmup", "delay", "delta_I_xE", "delta_I_xI"):
        if not _is_real(p[name]):
            _fail(name, "a finite number", p[name])
    for name in ("t_ref", "warmup", "gei", "gie", "gii", "s", "rj"):
        if p[name] < 0:
            _fail(name, "a number >= 0", p[name])
    if p["rep"] <= 0:
        _fail("rep", "a number > 0 (1 = no clustering)", p["rep"])
    for name in ("delta_I_xE", "delta_I_xI"):
        if not 0 <= p[name] <= 2:
            _fail(name, "a number in [0, 2] (the jitter factor U[1 - d/2, 1 + d/2] must stay >= 0)", p[name])
    for name in ("V_th_E", "V_th_I"):
        if p[name] <= p["E_L"]:
            _fail(name, f"above E_L={p['E_L']} mV", p[name])
        if p["V_r"] >= p[name]:
            _fail("V_r", f"below {name}={p[name]} mV", p["V_r"])
    if p["V_m"] != "rand" and not _is_real(p["V_m"]):
        _fail("V_m", "'rand' or a finite number [mV]", p["V_m"])
    for pop in ("E", "I"):
        rel, absolute = f"I_th_{pop}", f"I_x{pop}"
        if p[rel] is None:
            if not _is_real(p[absolute]):
                _fail(absolute, f"a finite number [pA] when {rel} is None", p[absolute])
        elif not _is_real(p[rel]):
            _fail(rel, "a finite number (background input in rheobase units) or None", p[rel])
    if not isinstance(p["fixed_indegree"], bool):
        _fail("fixed_indegree", "True or False", p["fixed_indegree"])
    if p["clustering"] not in CLUSTERING_MODES:
        _fail("clustering", f"one of {CLUSTERING_MODES}", p["clustering"])

    dt = float(p["dt"])
    if p["delay"] < dt:
        _fail("delay", f"at least dt={dt} ms (NEST's minimum delay)", p["delay"])
    for name in ("warmup", "simtime", "delay"):
        if not _on_grid(float(p[name]), dt):
            _fail(name, f"a multiple of dt={dt} ms", p[name])

    prob = np.asarray(p["baseline_conn_prob"], dtype=object)
    if prob.shape != (2, 2) or not all(_is_real(v) for v in prob.ravel()):
        _fail("baseline_conn_prob", "a 2x2 matrix of numbers [[EE, EI], [IE, II]] (row = post, column = pre)",
              p["baseline_conn_prob"])
    prob = prob.astype(float)
    if np.any((prob < 0) | (prob > 1)):
        _fail("baseline_conn_prob", "a 2x2 matrix of probabilities in [0, 1]", p["baseline_conn_prob"])
    if p["js"] is None:
        if np.any(prob == 0):
            _fail("baseline_conn_prob", "> 0 everywhere when js is None (the RBN weight recipe divides by it)",
                  p["baseline_conn_prob"])
    else:
        js = np.asarray(p["js"], dtype=object)
        if js.shape != (2, 2) or not all(_is_real(v) for v in js.ravel()):
            _fail("js", "None or a 2x2 matrix of numbers [[EE, EI], [IE, II]]", p["js"])
        p["js"] = js.astype(float).tolist()
    p["baseline_conn_prob"] = prob.tolist()

    if p["clustering"] == "probabilities" and p["rep"] < 1:
        _fail("rep", "a number >= 1 with probability clustering (its I factor is 1 + (rep - 1) ** rj)", p["rep"])
    plus, minus = cluster_factors(q, float(p["rep"]), float(p["rj"]), p["clustering"])
    if np.any(minus < 0):
        _fail("rep", f"small enough that the between-cluster factors (Q - J+)/(Q - 1) stay >= 0 for "
              f"n_clusters={q} and rj={p['rj']} (in-cluster factors {plus.tolist()})", p["rep"])

    _check_stimulus(p)
    return p


def _check_stimulus(p: dict[str, Any]) -> None:
    if p["stim_clusters"] is None:
        p["stim_clusters"] = []
    clusters = p["stim_clusters"]
    q = p["n_clusters"]
    if not isinstance(clusters, list | tuple) or not all(_is_int(c) and 0 <= c < q for c in clusters):
        _fail("stim_clusters", f"None or a list of distinct cluster indices in [0, {q - 1}]", clusters)
    if len(set(clusters)) != len(clusters):
        _fail("stim_clusters", "a list of distinct cluster indices", clusters)
    starts, ends = p["stim_starts"], p["stim_ends"]
    for name, values in (("stim_starts", starts), ("stim_ends", ends)):
        if not isinstance(values, list | tuple) or not all(_is_real(v) for v in values):
            _fail(name, "a list of times [ms] after the warm-up", values)
    if len(starts) != len(ends):
        _fail("stim_ends", f"a list as long as stim_starts ({len(starts)} windows)", ends)
    dt, simtime, warmup = float(p["dt"]), float(p["simtime"]), float(p["warmup"])
    previous_end = -math.inf
    for start, end in zip(starts, ends, strict=True):
        if not 0 <= start < end <= simtime:
            _fail("stim_starts", f"windows with 0 <= start < end <= simtime={simtime} ms; window ({start}, {end})",
                  starts)
        if start < previous_end:
            _fail("stim_starts", "sorted, non-overlapping windows", starts)
        if not (_on_grid(start, dt) and _on_grid(end, dt)):
            _fail("stim_starts", f"window bounds on the dt={dt} ms grid; window ({start}, {end})", starts)
        if start + warmup < 2 * dt:
            _fail("stim_starts", f"at least 2*dt after the start of the run (warmup + start >= {2 * dt} ms)",
                  starts)
        previous_end = end
    p["stim_clusters"] = [int(c) for c in clusters]
    p["stim_starts"] = [float(v) for v in starts]
    p["stim_ends"] = [float(v) for v in ends]
