"""Figures of the BrainGrid derivations: raster with bursts, window examples, width distributions."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from ..figures import save_figure
from ._baselines import bbox_area

__all__ = ["PLOTS", "plot_bursts", "plot_windows"]

_COLORS = {"avalanche": "C3", "binned": "C0"}


def _sibling(obj: xr.Dataset | xr.DataTree, name: str) -> xr.Dataset | None:
    """Another artifact from the folder *obj* was opened from (None if not built there)."""
    from ..store import is_built, open_artifact

    source = obj.encoding.get("source") if hasattr(obj, "encoding") else None
    folder = Path(source).parent if source else None
    if folder is None or not is_built(name, folder):
        return None
    return open_artifact(name, data_dir=folder)


def plot_bursts(bursts: xr.Dataset, out_dir: Path, *, spikes: xr.Dataset | None = None, span_s: float = 30.0) -> list[Path]:
    """Raster of the spike table around the first bursts, with each detector's bursts shaded.

    Writes ``braingrid_bursts_raster.png`` (the first *span_s* seconds after the first burst,
    rows = neuron id, starters in red) and ``braingrid_bursts_stats.png`` (size, width and
    the two inter-burst intervals, quiet gap and peak-to-peak, in panels of their own, each
    detector in its colour). *spikes* defaults to the ``braingrid_spikes`` artifact next to
    *bursts*.
    """
    bursts = bursts.load()
    spikes = spikes if spikes is not None else _sibling(bursts, "braingrid_spikes")
    dt_s = float(spikes.attrs.get("dt_s", 1e-4)) if spikes is not None else 1e-4
    detector = np.asarray(bursts["detector"].values).astype(object)
    start = np.asarray(bursts["start_step"].values)
    end = np.asarray(bursts["end_step"].values)
    out: list[Path] = []
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
    path = save_figure(fig, out_dir, "braingrid_bursts_raster")
    out.append(path)

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
    path = save_figure(fig, out_dir, "braingrid_bursts_stats")
    out.append(path)
    return out


def plot_windows(tree: xr.DataTree, out_dir: Path, *, n_examples: int = 4) -> list[Path]:
    """Examples of each window class, and window width / area distributions per label.

    Writes ``burst_windows_examples.png`` (for each window size: *n_examples* pre-burst and
    non-burst temporal windows as spike ticks, and their spatial positions) and
    ``burst_windows_widths.png`` (histograms of temporal width and bounding-box area per label
    and window size).
    """
    nodes = sorted((int(k.split("_", 1)[1]), k) for k in tree.children if k.startswith("window_"))
    out: list[Path] = []
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
    path = save_figure(fig, out_dir, "burst_windows_examples")
    out.append(path)

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
    path = save_figure(fig, out_dir, "burst_windows_widths")
    out.append(path)
    return out


PLOTS = {"braingrid_bursts": plot_bursts, "burst_windows": plot_windows}
