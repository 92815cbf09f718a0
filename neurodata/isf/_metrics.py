"""The figures of each isf artifact that DVC compares between builds (``metrics/<stage>.json``).

Pure functions of an artifact's Dataset (lazy or loaded): nested dicts of numbers.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import xarray as xr

from ._activity import simrun_activity_metrics

__all__ = ["ann_batches_metrics", "simrun_metrics", "spatial_bins_metrics"]


def simrun_metrics(simrun: xr.Dataset) -> dict[str, Any]:
    """Sizes and firing figures of an ``isf_simrun``.

    Parameters
    ----------
    simrun : Dataset
        An ``isf_simrun`` artifact.

    Returns
    -------
    dict
        ``n_trials``, ``n_synapses``, ``n_activation_rows`` (rows of ISF's table),
        ``n_soma_spikes``; ``activity``: `simrun_activity_metrics` (spontaneous rate,
        evoked spikes and latency, dendritic events at the distal site).
    """
    return {
        "n_trials": int(simrun.sizes["trial"]),
        "n_synapses": int(simrun.attrs["n_synapses"]),
        "n_activation_rows": int(simrun.sizes["sa_row"]),
        "n_soma_spikes": int(np.asarray(simrun["n_spikes"].values).sum()),
        "activity": simrun_activity_metrics(simrun),
    }


def spatial_bins_metrics(bins: xr.Dataset) -> dict[str, Any]:
    """Bin counts of an ``isf_spatial_bins``.

    Parameters
    ----------
    bins : Dataset
        An ``isf_spatial_bins`` artifact.

    Returns
    -------
    dict
        ``n_spatial_bins``, ``n_sections``, ``n_adjacent_pairs``; ``bins_per_label``
        (number of bins per section label); ``max_soma_distance_um`` (end of the furthest bin).
    """
    per_label = Counter(str(v) for v in np.asarray(bins["bin_label"].values))
    return {
        "n_spatial_bins": int(bins.sizes["spatial_bin"]),
        "n_sections": int(bins.sizes["section"]),
        "n_adjacent_pairs": int(bins.sizes["adjacency"]),
        "bins_per_label": dict(sorted(per_label.items())),
        "max_soma_distance_um": float(bins["bin_end_distance"].max()),
    }


def _fraction(flags: xr.DataArray) -> float:
    return float(flags.mean()) if flags.size else float("nan")


def ann_batches_metrics(ann: xr.Dataset) -> dict[str, Any]:
    """Sizes, activation counts and target balance of an ``ann_batches`` artifact.

    Parameters
    ----------
    ann : Dataset
        An ``ann_batches`` artifact (lazy: the reductions stream it chunk by chunk).

    Returns
    -------
    dict
        ``n_trials``, ``n_spatial_bins``, ``n_time_bins``, ``n_batches``;
        ``activations`` per class (``EXC``, ``INH``: the summed ``synapse_activation``, counts
        or nS-weighted sums) and ``n_activations_outside``; the balance of the targets:
        ``ap_positive_fraction`` and ``ap_dend_positive_fraction`` (bins with a soma /
        dendritic spike), ``isi_fill_fraction`` and ``isi_dend_fill_fraction`` (bins with no
        earlier spike, where the ISI is the fill value).
    """
    fill = float(ann.attrs["isi_fill_ms"])
    per_class = ann["synapse_activation"].sum(("trial", "spatial_bin", "time"), dtype=np.float64).compute()
    return {
        "n_trials": int(ann.sizes["trial"]),
        "n_spatial_bins": int(ann.sizes["spatial_bin"]),
        "n_time_bins": int(ann.sizes["time"]),
        "n_batches": int(np.unique(np.asarray(ann["batch"].values)).size),
        "activations": {str(k): float(v) for k, v in zip(ann["syn_type"].values, per_class.values, strict=True)},
        "n_activations_outside": int(ann["n_activations_outside"].sum()),
        "ap_positive_fraction": _fraction(ann["ap"]),
        "ap_dend_positive_fraction": _fraction(ann["ap_dend"]),
        "isi_fill_fraction": _fraction(ann["isi"] == fill),
        "isi_dend_fill_fraction": _fraction(ann["isi_dend"] == fill),
    }
