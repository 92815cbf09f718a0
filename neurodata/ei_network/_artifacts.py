"""The EI-network artifacts as labelled xarray objects: spike table, weight matrices, rates.

Values only; ``units`` and ``long_name`` come from the contracts (:func:`neurodata.schemas.label`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from .._exceptions import ParamError
from ..schemas import label
from ._simulate import SimulationResult
from ._weights import background_currents, clustered_weights, psp_peak_per_pa, rbn_weights, rheobase_current

POPULATIONS = ("E", "I")


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
            "time_ms": (("spike",), result.time_ms.astype(np.float64)),
            "neuron": (("spike",), result.neuron.astype(np.int64)),
            "population": (("neuron_id",), pop_names),
            "cluster": (("neuron_id",), layout.cluster.astype(np.int64)),
            "background_current": (("neuron_id",), layout.background_current),
            "v_init": (("neuron_id",), layout.v_init),
            "stimulated": (("neuron_id",), layout.stimulated),
            "stim_start_ms": (("stim_window",), np.asarray(p["stim_starts"], dtype=np.float64)),
            "stim_end_ms": (("stim_window",), np.asarray(p["stim_ends"], dtype=np.float64)),
        },
        coords={
            "neuron_id": (("neuron_id",), np.arange(n, dtype=np.int64)),
            "stim_window": (("stim_window",), np.arange(len(p["stim_starts"]), dtype=np.int64)),
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
            "stim_clusters": [int(c) for c in p["stim_clusters"] or []],
            "seed": int(p["seed"]),
            "threads": int(p["threads"]),
            "simulator": f"NEST {result.nest_version}",
            "num_connections": int(result.num_connections),
            "spike_time_convention": "end of the dt step in which V crossed threshold (NEST)",
        },
    )
    return label(ds, "ei_spikes")


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
    ds = xr.Dataset(
        data_vars={
            "js": (pp, js),
            "base_weight": (pp, w["base"]),
            "in_cluster_weight": (pp, w["in_cluster"]),
            "between_cluster_weight": (pp, w["between_cluster"]),
            "in_cluster_factor": (pp, w["plus"]),
            "between_cluster_factor": (pp, w["minus"]),
            "conn_prob": (pp, prob),
            "in_cluster_conn_prob": (pp, w["p_in_cluster"]),
            "between_cluster_conn_prob": (pp, w["p_between_cluster"]),
            "psp_peak_per_pA": (pp, psp),
            "base_psp_peak": (pp, psp * w["base"]),
            "indegree": (pp, indegree),
            "rheobase": (("population",), rheo),
            "background_current": (("population",), np.array(background_currents(params))),
        },
        coords={
            "post": (("post",), np.array(POPULATIONS, dtype=object)),
            "pre": (("pre",), np.array(POPULATIONS, dtype=object)),
            "population": (("population",), np.array(POPULATIONS, dtype=object)),
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
    return label(ds, "ei_weights")


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
    ds = xr.Dataset(
        data_vars={
            "rate": (("population", "cluster", "epoch"), rate),
            "population_rate": (("population",), population_rate),
            "rate_time": (("population", "cluster", "time_ms"), rate_time),
            "stimulated": (("cluster",), stim_clusters),
            "n_neurons": (("population", "cluster"), n_neurons.astype(np.int64)),
            "epoch_duration_ms": (("epoch",), np.asarray(durations, dtype=float)),
            "stim_start_ms": spikes["stim_start_ms"].variable.copy(),
            "stim_end_ms": spikes["stim_end_ms"].variable.copy(),
        },
        coords={
            "population": (("population",), np.array(POPULATIONS, dtype=object)),
            "cluster": (("cluster",), np.arange(q, dtype=np.int64)),
            "epoch": (("epoch",), np.array([name for name, _, _ in epochs], dtype=object)),
            "time_ms": (("time_ms",), edges[:-1] + widths / 2.0),
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
    return label(ds, "ei_rates")
