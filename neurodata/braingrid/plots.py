"""Figures of the BrainGrid derivations: raster with bursts, window examples, width distributions,
baseline accuracy per window size.

``PLOTS`` maps an artifact name to ``function(obj, out_dir, **inputs) -> list[Path]`` (used by
``neurodata plot``). A figure that needs another artifact takes it as a keyword argument named
after it (``braingrid_spikes=``): the caller opens it, no plot function opens a store. Each
``*_figure`` function returns the matplotlib Figure; ``plot_*`` saves it.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from ..figures import save_figure
from ._baselines import bbox_area
from ._hdf5_layout import DT_S

__all__ = ["PLOTS", "baselines_accuracy_figure", "bursts_raster_figure", "bursts_stats_figure", "plot_baselines",
           "plot_bursts", "plot_windows", "windows_examples_figure", "windows_widths_figure"]

_COLORS = {"avalanche": "C3", "binned": "C0"}


def bursts_raster_figure(bursts: xr.Dataset, spikes: xr.Dataset | None = None, *, span_s: float = 30.0) -> plt.Figure:
    """Raster of the spike table around the first bursts, with each detector's bursts shaded.

    Parameters
    ----------
    bursts : xarray.Dataset
        The ``braingrid_bursts`` artifact.
    spikes : xarray.Dataset, optional
        The ``braingrid_spikes`` artifact: the raster's dots (rows = neuron id, starters red);
        without it only the bursts are drawn.
    span_s : float, default 30
        Seconds shown, from 2 s before the first burst [s].
    """
    bursts = bursts.load()
    dt_s = float(spikes.attrs["dt_s"]) if spikes is not None else DT_S
    detector = np.asarray(bursts["detector"].values).astype(object)
    start = np.asarray(bursts["start_step"].values)
    end = np.asarray(bursts["end_step"].values)
    fig, ax = plt.subplots(figsize=(10, 4.5))
    t0 = int(start.min()) - int(2.0 / dt_s) if start.size else 0
    t1 = t0 + int(span_s / dt_s)
    if spikes is not None:
        ts = np.asarray(spikes["time_step"].values).astype(np.int64)
        lo, hi = np.searchsorted(ts, [t0, t1])
        nid = np.asarray(spikes["neuron"].values[lo:hi])
        starter = np.asarray(spikes["starter"].values)[nid]
        times = ts[lo:hi] * dt_s
        ax.plot(times[~starter], nid[~starter], ",", color="0.2", rasterized=True)
        ax.plot(times[starter], nid[starter], ",", color="C3", rasterized=True)
        ax.set_ylabel("neuron id (starters red)")
    for det, color in _COLORS.items():
        sel = (detector == det) & (end >= t0) & (start <= t1)
        for i, j in enumerate(np.flatnonzero(sel)):
            ax.axvspan(start[j] * dt_s, (end[j] + 1) * dt_s, color=color, alpha=0.25, lw=0, label=f"{det} burst" if i == 0 else None)
    ax.set_xlim(t0 * dt_s, t1 * dt_s)
    ax.set_xlabel("time (s)")
    ax.set_title(f"BrainGrid raster, N = {bursts.attrs.get('n_neurons')}, with detected bursts")
    ax.legend(loc="upper right", fontsize=8)
    return fig


def bursts_stats_figure(bursts: xr.Dataset, dt_s: float = DT_S) -> plt.Figure:
    """Size, width and the two inter-burst intervals (quiet gap, peak-to-peak), one panel each,
    each detector in its colour.

    Parameters
    ----------
    bursts : xarray.Dataset
        The ``braingrid_bursts`` artifact.
    dt_s : float, default 1e-4
        Seconds per step [s].
    """
    detector = np.asarray(bursts["detector"].values).astype(object)
    fig, axs = plt.subplots(1, 4, figsize=(14, 3.2))
    for det, color in _COLORS.items():
        sel = detector == det
        if not sel.any():
            continue
        axs[0].hist(bursts["n_spikes"].values[sel], bins=30, color=color, alpha=0.6, label=det)
        axs[1].hist(bursts["width_steps"].values[sel] * dt_s * 1e3, bins=30, color=color, alpha=0.6)
        # the first burst's intervals run from the start of the run: left out
        axs[2].hist(bursts["ibi_gap_steps"].values[sel][1:] * dt_s, bins=30, color=color, alpha=0.6)
        axs[3].hist(bursts["ibi_peak_steps"].values[sel][1:] * dt_s, bins=30, color=color, alpha=0.6)
    axs[0].set_xlabel("spikes per burst")
    axs[1].set_xlabel("burst width (ms)")
    axs[2].set_xlabel("quiet gap: start - previous end (s)")
    axs[2].set_title("IBI of getAvalanches.m", fontsize=9)
    axs[3].set_xlabel("peak-to-peak interval (s)")
    axs[3].set_title("Interval of getBinnedBurstInfo.m", fontsize=9)
    axs[0].legend(fontsize=8)
    return fig


def plot_bursts(bursts: xr.Dataset, out_dir: str | Path, *, braingrid_spikes: xr.Dataset | None = None,
                span_s: float = 30.0) -> list[Path]:
    """Write ``braingrid_bursts_raster.png`` (:func:`bursts_raster_figure`) and
    ``braingrid_bursts_stats.png`` (:func:`bursts_stats_figure`).

    Parameters
    ----------
    bursts : xarray.Dataset
        The ``braingrid_bursts`` artifact.
    out_dir : path
        Folder of the PNG files.
    braingrid_spikes : xarray.Dataset, optional
        The spike table, for the raster's dots and its ``dt_s``.
    span_s : float, default 30
        Seconds of the raster [s].
    """
    dt_s = float(braingrid_spikes.attrs["dt_s"]) if braingrid_spikes is not None else DT_S
    return [save_figure(bursts_raster_figure(bursts, braingrid_spikes, span_s=span_s), out_dir, "braingrid_bursts_raster"),
            save_figure(bursts_stats_figure(bursts, dt_s), out_dir, "braingrid_bursts_stats")]


def _nodes(tree: xr.DataTree) -> list[tuple[int, str]]:
    return sorted((int(k.split("_", 1)[1]), k) for k in tree.children if k.startswith("window_"))


def windows_examples_figure(tree: xr.DataTree, *, n_examples: int = 4) -> plt.Figure:
    """For each window size: *n_examples* pre-burst and non-burst temporal windows as spike
    ticks (left), and their spatial positions (right).

    Parameters
    ----------
    tree : xarray.DataTree
        The ``burst_windows`` artifact.
    n_examples : int, default 4
        Windows drawn per class and size.
    """
    nodes = _nodes(tree)
    fig, axs = plt.subplots(len(nodes), 2, figsize=(10, 2.2 * len(nodes)), squeeze=False)
    for row, (w, key) in enumerate(nodes):
        node = tree[key].to_dataset().load()
        label = node["label"].values
        for cls, color, name in ((1, "C3", "pre-burst"), (0, "C0", "non-burst")):
            idx = np.flatnonzero(label == cls)[:n_examples]
            for k, s in enumerate(idx):
                offs = node["temporal"].values[s]
                y0 = k + (0 if cls == 1 else n_examples + 1)
                axs[row, 0].plot(offs, np.full(w, y0), "|", color=color, ms=6, label=name if k == 0 else None)
                axs[row, 1].plot(node["x"].values[s], node["y"].values[s], ".", color=color, ms=4, alpha=0.7, label=name if k == 0 else None)
        axs[row, 0].set_ylabel(f"w = {w}")
        axs[row, 0].set_yticks([])
        axs[row, 1].set_aspect("equal")
    axs[0, 0].set_title("temporal windows (step offset from first spike)")
    axs[0, 1].set_title("spatial windows (x, y of each spike)")
    axs[0, 0].legend(fontsize=7, loc="upper right")
    axs[-1, 0].set_xlabel("steps")
    axs[-1, 1].set_xlabel("x (grid units)")
    return fig


def windows_widths_figure(tree: xr.DataTree) -> plt.Figure:
    """Histograms of temporal width and bounding-box area per label, one column per window size.

    Parameters
    ----------
    tree : xarray.DataTree
        The ``burst_windows`` artifact.
    """
    nodes = _nodes(tree)
    fig, axs = plt.subplots(2, len(nodes), figsize=(3.2 * len(nodes), 5.5), squeeze=False)
    for col, (w, key) in enumerate(nodes):
        node = tree[key].to_dataset().load()
        label = node["label"].values
        width = node["temporal"].values[:, -1] - node["temporal"].values[:, 0]
        area = bbox_area(node["x"].values, node["y"].values)
        for cls, color, name in ((1, "C3", "pre-burst"), (0, "C0", "non-burst")):
            sel = label == cls
            axs[0, col].hist(width[sel], bins=30, color=color, alpha=0.6, label=name)
            axs[1, col].hist(area[sel], bins=30, color=color, alpha=0.6, label=name)
        axs[0, col].set_title(f"w = {w}")
        axs[0, col].set_xlabel("width (steps)")
        axs[1, col].set_xlabel("bounding-box area (grid units²)")
    axs[0, 0].legend(fontsize=8)
    return fig


def plot_windows(tree: xr.DataTree, out_dir: str | Path, *, n_examples: int = 4) -> list[Path]:
    """Write ``burst_windows_examples.png`` (:func:`windows_examples_figure`) and
    ``burst_windows_widths.png`` (:func:`windows_widths_figure`).

    Parameters
    ----------
    tree : xarray.DataTree
        The ``burst_windows`` artifact.
    out_dir : path
        Folder of the PNG files.
    n_examples : int, default 4
        Windows drawn per class and size in the examples.
    """
    return [save_figure(windows_examples_figure(tree, n_examples=n_examples), out_dir, "burst_windows_examples"),
            save_figure(windows_widths_figure(tree), out_dir, "burst_windows_widths")]


def baselines_accuracy_figure(baselines: xr.Dataset) -> plt.Figure:
    """Accuracy against window size, one panel per kind, one line per model, with 95 % bars
    across cultures.

    Draws the cross-culture mean (``cv_accuracy``) with its interval (``cv_ci_low``,
    ``cv_ci_high``) as error bars where there is one; where there is none (fewer than 3
    cultures) it draws the test-split accuracy without bars and says so in the title, rather
    than inventing an interval.

    Parameters
    ----------
    baselines : xarray.Dataset
        The ``braingrid_baselines`` artifact.

    Returns
    -------
    matplotlib.figure.Figure
        ``len(kind)`` axes, each with one errorbar container per model, x log-scaled.
    """
    b = baselines.load()
    windows = np.asarray(b["window"].values, dtype=float)
    kinds = [str(k) for k in b["kind"].values]
    models = [str(m) for m in b["model"].values]
    has_ci = "cv_ci_low" in b and bool(np.isfinite(b["cv_ci_low"].values).any())
    fig, axs = plt.subplots(1, len(kinds), figsize=(5.0 * len(kinds), 4.0), squeeze=False, sharey=True)
    for j, kind in enumerate(kinds):
        ax = axs[0, j]
        for m, model in enumerate(models):
            if has_ci:
                mean = b["cv_accuracy"].values[:, j, m]
                err = np.vstack([mean - b["cv_ci_low"].values[:, j, m], b["cv_ci_high"].values[:, j, m] - mean])
            else:
                mean, err = b["test_accuracy"].values[:, j, m], None
            ax.errorbar(windows * (1 + 0.04 * (m - 1)), mean, yerr=err, marker="o", capsize=3, color=f"C{m}",
                        label=model)
        ax.set_xscale("log")
        ax.set_xlabel("window size (spikes)")
        ax.set_title(kind)
        ax.axhline(0.5, color="0.6", lw=0.8, ls=":")
    axs[0, 0].set_ylabel("accuracy on held-out cultures (mean, 95 % CI)" if has_ci else "accuracy on the test split")
    axs[0, 0].legend(fontsize=8)
    note = (f"{int(b.sizes.get('culture', 1))} cultures" if has_ci
            else f"no interval: {b.attrs.get('ci_note', 'fewer than 3 cultures')}")
    fig.suptitle(f"Burst-prediction baselines ({note})", fontsize=9)
    return fig


def plot_baselines(baselines: xr.Dataset, out_dir: str | Path) -> list[Path]:
    """Write ``braingrid_baselines_accuracy.png`` (:func:`baselines_accuracy_figure`).

    Parameters
    ----------
    baselines : xarray.Dataset
        The ``braingrid_baselines`` artifact.
    out_dir : path
        Folder of the PNG file.
    """
    return [save_figure(baselines_accuracy_figure(baselines), out_dir, "braingrid_baselines_accuracy")]


PLOTS = {"braingrid_bursts": plot_bursts, "burst_windows": plot_windows, "braingrid_baselines": plot_baselines}
