"""Labelled xarray views of the EI-clustered network: spike table, weight matrices, rates."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from .._exceptions import ParamError
from ._simulate import SimulationResult
from ._weights import background_currents, clustered_weights, psp_peak_per_pa, rbn_weights, rheobase_current

POPULATIONS = ("E", "I")


def _var(dims: tuple[str, ...], values: Any, long_name: str, units: str | None = None) -> xr.Variable:
    attrs = {"long_name": long_name}
    if units is not None:
        attrs["units"] = units
    return xr.Variable(dims, values, attrs)


def spikes_dataset(result: SimulationResult) -> xr.Dataset:
    """The spike table and neuron table of one simulation (artifact ``ei_spikes``).

    Parameters
    ----------
    result : SimulationResult
        Output of :func:`simulate_ei_network`.

    Returns
    -------
    xarray.Dataset
        Dims ``spike`` (``time_ms`` [ms] after the warm-up, ``neuron``: 0-based id, sorted by
        time then neuron), ``neuron_id`` (neuron table: ``population`` "E"/"I", ``cluster``,
        ``background_current`` [pA], ``v_init`` [mV], ``stimulated``) and ``stim_window``
        (``stim_start_ms``, ``stim_end_ms``). Attrs hold the sizes, times and run bookkeeping.
    """
    p, layout = result.params, result.layout
    n = layout.population.size
    pop_names = np.array(POPULATIONS, dtype=object)[layout.population]
    ds = xr.Dataset(
        data_vars={
            "time_ms": _var(("spike",), result.time_ms.astype(np.float64), "spike time after the warm-up", "ms"),
            "neuron": _var(("spike",), result.neuron.astype(np.int64), "id of the spiking neuron (index into neuron_id)"),
            "population": _var(("neuron_id",), pop_names, "population of the neuron (E or I)"),
            "cluster": _var(("neuron_id",), layout.cluster.astype(np.int64), "cluster of the neuron"),
            "background_current": _var(("neuron_id",), layout.background_current, "constant background input I_e", "pA"),
            "v_init": _var(("neuron_id",), layout.v_init, "initial membrane potential", "mV"),
            "stimulated": _var(("neuron_id",), layout.stimulated, "whether the neuron receives the step stimulus"),
            "stim_start_ms": _var(("stim_window",), np.asarray(p["stim_starts"], dtype=np.float64),
                                  "onset of the stimulus window after the warm-up", "ms"),
            "stim_end_ms": _var(("stim_window",), np.asarray(p["stim_ends"], dtype=np.float64),
                                "offset of the stimulus window after the warm-up", "ms"),
        },
        coords={
            "neuron_id": _var(("neuron_id",), np.arange(n, dtype=np.int64), "0-based neuron id (E first, cluster order)"),
            "stim_window": _var(("stim_window",), np.arange(len(p["stim_starts"]), dtype=np.int64),
                                "index of the stimulus window"),
        },
        attrs={
            "title": "EI-clustered network (Rostami et al. 2024) simulated with NEST: spikes after the warm-up",
            "N_E": int(p["N_E"]),
            "N_I": int(p["N_I"]),
            "n_clusters": int(p["n_clusters"]),
            "warmup_ms": float(p["warmup"]),
            "simtime_ms": float(p["simtime"]),
            "dt_ms": float(p["dt"]),
            "stim_amp_pA": float(p["stim_amp"]),
            "stim_clusters": [int(c) for c in p["stim_clusters"]],
            "seed": int(p["seed"]),
            "threads": int(p["threads"]),
            "simulator": f"NEST {result.nest_version}",
            "num_connections": int(result.num_connections),
            "spike_time_convention": "end of the dt step in which V crossed threshold (NEST)",
        },
    )
    return ds


def weights_dataset(params: Mapping[str, Any]) -> xr.Dataset:
    """Block weight matrices of the network (artifact ``ei_weights``).

    Parameters
    ----------
    params : mapping
        Checked network parameters.

    Returns
    -------
    xarray.Dataset
        Dims ``post`` and ``pre`` (``["E", "I"]``) and ``population``: ``js`` (RBN efficacies),
        ``base_weight``, ``in_cluster_weight``, ``between_cluster_weight`` [pA], the clustering
        factors ``in_cluster_factor`` and ``between_cluster_factor``, the connection probabilities
        ``conn_prob``, ``in_cluster_conn_prob`` and ``between_cluster_conn_prob``,
        ``psp_peak_per_pA`` [mV/pA], ``base_psp_peak`` [mV], expected ``indegree``, and per
        population ``rheobase`` and ``background_current`` [pA].
    """
    w = clustered_weights(params)
    js = np.asarray(params["js"], dtype=float) if params.get("js") is not None else rbn_weights(params)
    prob = np.asarray(params["baseline_conn_prob"], dtype=float)
    c_m = float(params["C_m"])
    taus_m = (params["tau_E"], params["tau_I"])
    taus_syn = (params["tau_syn_ex"], params["tau_syn_in"])
    psp = np.array([[psp_peak_per_pa(taus_m[a], taus_syn[b], c_m) for b in (0, 1)] for a in (0, 1)])
    sizes = np.array([params["N_E"], params["N_I"]], dtype=float)
    indegree = prob * sizes[None, :]
    rheo = np.array([rheobase_current(params["tau_E"], params["E_L"], params["V_th_E"], c_m),
                     rheobase_current(params["tau_I"], params["E_L"], params["V_th_I"], c_m)])
    pp = ("post", "pre")
    return xr.Dataset(
        data_vars={
            "js": _var(pp, js, "RBN synaptic efficacy js (PSC amplitude times sqrt(N_E + N_I))", "pA"),
            "base_weight": _var(pp, w["base"], "unclustered PSC amplitude j = s js / sqrt(N)", "pA"),
            "in_cluster_weight": _var(pp, w["in_cluster"], "PSC amplitude within a cluster", "pA"),
            "between_cluster_weight": _var(pp, w["between_cluster"], "PSC amplitude between clusters", "pA"),
            "in_cluster_factor": _var(pp, w["plus"], "in-cluster clustering factor (J+ or p+)", "1"),
            "between_cluster_factor": _var(pp, w["minus"], "between-cluster clustering factor (J- or p-)", "1"),
            "conn_prob": _var(pp, prob, "baseline connection probability", "1"),
            "in_cluster_conn_prob": _var(pp, w["p_in_cluster"],
                                         "connection probability within a cluster (above 1: multapse rounds)", "1"),
            "between_cluster_conn_prob": _var(pp, w["p_between_cluster"], "connection probability between clusters",
                                              "1"),
            "psp_peak_per_pA": _var(pp, psp, "peak PSP of a 1 pA exponential PSC", "mV/pA"),
            "base_psp_peak": _var(pp, psp * w["base"], "peak PSP of the unclustered weight", "mV"),
            "indegree": _var(pp, indegree, "expected number of inputs from the presynaptic population", "1"),
            "rheobase": _var(("population",), rheo, "rheobase current", "pA"),
            "background_current": _var(("population",), np.array(background_currents(params)),
                                       "mean background DC input", "pA"),
        },
        coords={
            "post": _var(("post",), np.array(POPULATIONS, dtype=object), "postsynaptic population"),
            "pre": _var(("pre",), np.array(POPULATIONS, dtype=object), "presynaptic population"),
            "population": _var(("population",), np.array(POPULATIONS, dtype=object), "population"),
        },
        attrs={
            "title": "Block weight matrices of the EI-clustered network (Rostami et al. 2024, Eqs. 7-10)",
            "clustering": str(params["clustering"]),
            "n_clusters": int(params["n_clusters"]),
            "N_E": int(params["N_E"]),
            "N_I": int(params["N_I"]),
            "index_convention": "row = postsynaptic population, column = presynaptic population",
        },
    )


def rates_dataset(spikes: xr.Dataset, bin_ms: float = 50.0) -> xr.Dataset:
    """Firing rates per population and cluster: in baseline and stimulus epochs and over time.

    A spike stamped at ``t`` belongs to a stimulus window ``(start, end]`` (NEST stamps a spike at
    the end of its step, so the window's first step stamps ``start + dt``); everything else in
    ``[0, simtime]`` is baseline. Rates average over all neurons of a group, silent ones included.

    Parameters
    ----------
    spikes : xarray.Dataset
        An ``ei_spikes`` dataset (:func:`spikes_dataset`).
    bin_ms : float, default: 50.0
        Width of the time bins of ``rate_time`` [ms], > 0; the last bin may be shorter.

    Returns
    -------
    xarray.Dataset
        ``rate`` (population, cluster, epoch) [Hz] with epochs ``baseline`` and (when there are
        stimulus windows) ``stimulus``; ``population_rate`` (population) [Hz] over the whole
        recording (the original example's E and I rates); ``rate_time`` (population, cluster,
        time_ms) [Hz] in bins centred on ``time_ms``; ``stimulated`` (cluster); ``n_neurons``
        (population, cluster); ``epoch_duration_ms`` (epoch); ``stim_start_ms``/``stim_end_ms``.
    """
    if not (isinstance(bin_ms, int | float) and not isinstance(bin_ms, bool) and np.isfinite(bin_ms) and bin_ms > 0):
        msg = f"rates_dataset: bin_ms must be a finite number > 0 [ms]. Got {bin_ms!r} instead."
        raise ParamError(msg)
    q = int(spikes.attrs["n_clusters"])
    simtime = float(spikes.attrs["simtime_ms"])
    population = np.asarray(spikes["population"].values).astype(object)
    pop_index = (population == "I").astype(np.int64)
    cluster = np.asarray(spikes["cluster"].values, dtype=np.int64)
    group = pop_index * q + cluster  # per neuron
    n_neurons = np.bincount(group, minlength=2 * q).reshape(2, q)
    times = np.asarray(spikes["time_ms"].values, dtype=float)
    spike_group = group[np.asarray(spikes["neuron"].values, dtype=np.int64)]

    starts = np.asarray(spikes["stim_start_ms"].values, dtype=float)
    ends = np.asarray(spikes["stim_end_ms"].values, dtype=float)
    in_stim = np.zeros(times.size, dtype=bool)
    for start, end in zip(starts, ends, strict=True):
        in_stim |= (times > start) & (times <= end)
    stim_ms = float(np.sum(ends - starts))
    # An epoch of zero duration (no windows, or windows covering the whole recording) is left out.
    candidates = (("baseline", ~in_stim, simtime - stim_ms), ("stimulus", in_stim, stim_ms))
    epochs = [(name, mask, duration) for name, mask, duration in candidates if duration > 0]
    durations = [duration for _, _, duration in epochs]
    rate = np.stack(
        [np.bincount(spike_group[mask], minlength=2 * q).reshape(2, q) / n_neurons / (duration / 1000.0)
         for _, mask, duration in epochs],
        axis=-1,
    )
    population_rate = np.bincount(pop_index[np.asarray(spikes["neuron"].values, dtype=np.int64)], minlength=2)
    population_rate = population_rate / np.bincount(pop_index, minlength=2) / (simtime / 1000.0)

    edges = np.arange(0.0, simtime, float(bin_ms))
    edges = np.append(edges, simtime)
    widths = np.diff(edges)
    bin_of_spike = np.clip(np.searchsorted(edges, times, side="right") - 1, 0, widths.size - 1)
    hist = np.bincount(spike_group * widths.size + bin_of_spike, minlength=2 * q * widths.size)
    rate_time = hist.reshape(2, q, widths.size) / n_neurons[:, :, None] / (widths[None, None, :] / 1000.0)

    stim_clusters = np.zeros(q, dtype=bool)
    stim_clusters[np.asarray(spikes.attrs.get("stim_clusters", []), dtype=np.int64)] = True
    return xr.Dataset(
        data_vars={
            "rate": _var(("population", "cluster", "epoch"), rate, "mean firing rate per neuron in the epoch", "Hz"),
            "population_rate": _var(("population",), population_rate, "mean firing rate over the whole recording",
                                    "Hz"),
            "rate_time": _var(("population", "cluster", "time_ms"), rate_time, "mean firing rate per neuron in a time bin",
                              "Hz"),
            "stimulated": _var(("cluster",), stim_clusters, "whether the cluster's E neurons receive the stimulus"),
            "n_neurons": _var(("population", "cluster"), n_neurons.astype(np.int64), "number of neurons in the group"),
            "epoch_duration_ms": _var(("epoch",), np.asarray(durations, dtype=float), "total duration of the epoch",
                                      "ms"),
            "stim_start_ms": spikes["stim_start_ms"].variable.copy(),
            "stim_end_ms": spikes["stim_end_ms"].variable.copy(),
        },
        coords={
            "population": _var(("population",), np.array(POPULATIONS, dtype=object), "population"),
            "cluster": _var(("cluster",), np.arange(q, dtype=np.int64), "cluster index"),
            "epoch": _var(("epoch",), np.array([name for name, _, _ in epochs], dtype=object), "baseline (outside) or stimulus (inside windows)"),
            "time_ms": _var(("time_ms",), edges[:-1] + widths / 2.0, "centre of the time bin after the warm-up", "ms"),
            "stim_window": spikes["stim_window"].variable.copy(),
        },
        attrs={
            "title": "Firing rates of the EI-clustered network per population and cluster",
            "bin_ms": float(bin_ms),
            "n_clusters": q,
            "simtime_ms": simtime,
            "stim_clusters": list(np.flatnonzero(stim_clusters).tolist()),
            "window_convention": "a spike stamped t is in a stimulus window when start < t <= end",
        },
    )
