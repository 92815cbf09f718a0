"""Figures of the BrainGrid artifacts for ``dvc metrics`` and ``dvc plots``: pure functions of
the labelled Datasets, flat or nested dicts of numbers (NaN where there is nothing to average)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ._bursts import DETECTORS

__all__ = ["baselines_metrics", "burst_size_histogram", "bursts_metrics", "simulation_metrics", "spikes_metrics",
           "windows_metrics"]


def _stat(fn: Any, x: np.ndarray) -> float:
    return float(fn(x)) if np.size(x) else float("nan")


def simulation_metrics(summary: xr.Dataset) -> dict[str, Any]:
    """The generator's burst check (``burst_check_*`` attrs: the ensemble's) and its networks
    (synapses, rate and radius averaged over cultures).

    Parameters
    ----------
    summary : xarray.Dataset
        The ``braingrid_simulation`` artifact.
    """
    check = {k.removeprefix("burst_check_"): v for k, v in summary.attrs.items() if k.startswith("burst_check_")}
    coupled = summary["coupled"].values
    n_bursts = summary["n_bursts"].values
    return {
        "burst_check": {k: int(v) if isinstance(v, int | np.integer) else float(v) for k, v in check.items()},
        "n_cultures": int(summary.sizes["culture"]),
        "n_bursts_min_culture": int(n_bursts.min()),
        "n_bursts_max_culture": int(n_bursts.max()),
        "n_neurons": int(summary.sizes["neuron"]),
        "n_epochs": int(summary.sizes["epoch"] - 1),
        "n_synapses_final": float(summary["n_synapses"].values[:, -1].mean()),
        "mean_rate_coupled_Hz": _stat(np.mean, summary["rate"].values[:, coupled]),
        "mean_radius_final": float(summary["radius"].values[:, -1].mean()),
    }


def spikes_metrics(spikes: xr.Dataset) -> dict[str, Any]:
    """Size of the spike table and the networks' mean rate [Hz] (per neuron, over every culture).

    Parameters
    ----------
    spikes : xarray.Dataset
        The ``braingrid_spikes`` artifact.
    """
    n_spikes = int(spikes.sizes["spike"])
    duration_s = int(spikes.attrs["n_steps"]) * float(spikes.attrs["dt_s"])
    n_neurons = int(spikes.attrs["n_neurons"])
    n_cultures = int(spikes.attrs.get("n_cultures", 1))
    probed_s = duration_s * max(int(spikes.attrs["n_probed"]), 1) * n_cultures
    return {
        "n_spikes": n_spikes,
        "n_cultures": n_cultures,
        "n_neurons": n_neurons,
        "n_probed": int(spikes.attrs["n_probed"]),
        "duration_s": duration_s,
        "mean_rate_Hz": n_spikes / probed_s if duration_s else float("nan"),
    }


def bursts_metrics(bursts: xr.Dataset, dt_s: float) -> dict[str, Any]:
    """Per detector: burst count, and median and mean of size, width [ms] and both IBIs [s].

    The first burst's intervals run from the start of the run and are left out.

    Parameters
    ----------
    bursts : xarray.Dataset
        The ``braingrid_bursts`` artifact.
    dt_s : float
        Seconds per step (the spike table's ``dt_s``).
    """
    detector = np.asarray(bursts["detector"].values).astype(object)
    out: dict[str, Any] = {}
    for det in bursts.attrs["detectors"].split(","):
        sel = detector == det
        size = bursts["n_spikes"].values[sel]
        width_ms = bursts["width_steps"].values[sel] * dt_s * 1e3
        gap_s = bursts["ibi_gap_steps"].values[sel][1:] * dt_s
        peak_s = bursts["ibi_peak_steps"].values[sel][1:] * dt_s
        out[det] = {
            "n_bursts": int(sel.sum()),
            "median_spikes": _stat(np.median, size),
            "median_width_ms": _stat(np.median, width_ms),
            "mean_width_ms": _stat(np.mean, width_ms),
            "median_ibi_gap_s": _stat(np.median, gap_s),
            "mean_ibi_gap_s": _stat(np.mean, gap_s),
            "median_ibi_peak_s": _stat(np.median, peak_s),
            "mean_ibi_peak_s": _stat(np.mean, peak_s),
        }
    return out


def burst_size_histogram(bursts: xr.Dataset, n_bins: int = 20) -> pd.DataFrame:
    """Bursts per size bin and detector (for ``dvc plots``): shared log-spaced bins of spikes per burst.

    Parameters
    ----------
    bursts : xarray.Dataset
        The ``braingrid_bursts`` artifact.
    n_bins : int, default 20
        Number of bins between the smallest and the largest burst.

    Returns
    -------
    pandas.DataFrame
        Columns ``size_lo``, ``size_hi`` (spikes, bin edges) and ``n_avalanche``, ``n_binned``
        (0 for a detector that did not run).
    """
    size = np.asarray(bursts["n_spikes"].values, dtype=float)
    detector = np.asarray(bursts["detector"].values).astype(object)
    lo, hi = (size.min(), size.max()) if size.size else (1.0, 2.0)
    edges = np.geomspace(max(lo, 1.0), max(hi, lo + 1.0), n_bins + 1)
    frame = {"size_lo": edges[:-1], "size_hi": edges[1:]}
    for det in DETECTORS:  # every column, so that the plot's fields exist whatever the detectors
        frame[f"n_{det}"] = np.histogram(size[detector == det], bins=edges)[0]
    return pd.DataFrame(frame)


def windows_metrics(tree: xr.DataTree) -> dict[str, Any]:
    """Per window size: samples per split and label, and the onsets used.

    Parameters
    ----------
    tree : xarray.DataTree
        The ``burst_windows`` artifact.
    """
    out: dict[str, Any] = {"n_onsets_used": int(tree.attrs["n_onsets_used"]), "gap_spikes": int(tree.attrs["gap_spikes"])}
    for name in sorted(tree.children, key=lambda k: int(k.split("_", 1)[1])):
        node = tree[name].to_dataset()
        split = np.asarray(node["split"].values).astype(object)
        label = np.asarray(node["label"].values)
        out[name] = {"n_samples": int(node.sizes["sample"]), "n_pre_burst": int((label == 1).sum()),
                     **{f"n_{s}": int((split == s).sum()) for s in ("train", "val", "test")}}
    return out


def baselines_metrics(baselines: xr.Dataset) -> dict[str, float]:
    """Accuracy of each baseline as a flat dict of numbers, keys ``window_<w>/<kind>/<model>/<figure>``.

    Figures: ``test`` and ``val`` (fitted on the train split), ``cv`` (mean over cultures of the
    held-out accuracy), ``cv_ci_low`` and ``cv_ci_high`` (95 %; NaN with fewer than 3 cultures,
    the artifact's ``ci_note`` says why); plus ``n_cultures``.

    Parameters
    ----------
    baselines : xarray.Dataset
        The ``braingrid_baselines`` artifact.
    """
    figures = {"test": "test_accuracy", "val": "val_accuracy", "cv": "cv_accuracy", "cv_ci_low": "cv_ci_low",
               "cv_ci_high": "cv_ci_high"}
    out: dict[str, float] = {"n_cultures": float(baselines.sizes.get("culture", 1))}
    for w in baselines["window"].values:
        for kind in baselines["kind"].values:
            for model in baselines["model"].values:
                sel = {"window": w, "kind": kind, "model": model}
                for key, var in figures.items():
                    if var in baselines:
                        out[f"window_{int(w)}/{kind}/{model}/{key}"] = float(baselines[var].sel(sel))
    return out
