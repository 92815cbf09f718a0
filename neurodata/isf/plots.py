"""Figures of the isf family: morphology by spatial bin, one trial's activation heatmap, voltage with APs.

Each ``*_figure`` function draws a figure from one artifact and returns it (tests check its
content); the ``plot_*`` functions of `PLOTS` save it (``neurodata plot <artifact>``).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from ..figures import save_figure
from ..seeds import rng
from ._landmarks import distal_recording_site

__all__ = [
    "PLOTS",
    "ann_batches_figure",
    "plot_ann_batches",
    "plot_simrun",
    "plot_spatial_bins",
    "simrun_figure",
    "spatial_bins_figure",
]


def spatial_bins_figure(ds: xr.Dataset) -> Figure:
    """The morphology (x-y projection) with each spatial bin in its own colour.

    Parameters
    ----------
    ds : Dataset
        An ``isf_spatial_bins`` artifact.

    Returns
    -------
    Figure
        One axes: a line segment between consecutive 3D points of a section, coloured by the
        bin of its second point (20 colours, bins shuffled so neighbours differ), and the soma.
    """
    ds = ds.load()
    xy = np.stack([ds["point_x"].values, ds["point_y"].values], axis=1)
    sec = ds["point_section"].values
    pbin = ds["point_spatial_bin"].values
    same = sec[1:] == sec[:-1]
    segs = np.stack([xy[:-1][same], xy[1:][same]], axis=1)
    colour_of_bin = rng(0).permutation(ds.sizes["spatial_bin"])
    colours = plt.get_cmap("tab20")(colour_of_bin[pbin[1:][same]] % 20)
    fig, ax = plt.subplots(figsize=(5, 8))
    ax.add_collection(LineCollection(segs, colors=colours, linewidths=1.5))
    soma = np.array([str(v) == "Soma" for v in ds["bin_label"].values])
    ax.plot(0, 0, "o", color="k", ms=8, label="soma (bin " + ", ".join(str(v) for v in ds["spatial_bin"].values[soma]) + ")")
    ax.autoscale()
    ax.set_aspect("equal")
    ax.set_xlabel("x (µm)")
    ax.set_ylabel("y (µm, towards pia)")
    ax.set_title(f"{ds.sizes['spatial_bin']} spatial bins (goal {ds.attrs.get('bin_size_goal_um')} µm)")
    ax.legend(frameon=False, loc="lower right", fontsize=8)
    return fig


def plot_spatial_bins(ds: xr.Dataset, out_dir: Path) -> list[Path]:
    """`spatial_bins_figure` as ``<out_dir>/isf_spatial_bins.png``."""
    return [save_figure(spatial_bins_figure(ds), out_dir, "isf_spatial_bins")]


def ann_batches_figure(ds: xr.Dataset, trial: int | None = None) -> Figure:
    """Activation heatmaps of one trial (EXC, INH; bins sorted by soma distance) and its targets.

    Parameters
    ----------
    ds : Dataset
        An ``ann_batches`` artifact.
    trial : int, optional
        Position of the trial; default the first trial with an AP (else the first trial).

    Returns
    -------
    Figure
        Four stacked axes sharing time (ms): the EXC and INH activations (with colour bars),
        the maximum voltage per ms at the soma and the distal dendrite with the APs and
        dendritic spikes marked, and both ISIs.
    """
    if trial is None:
        with_ap = np.flatnonzero(ds["ap"].any("time").values)
        trial = int(with_ap[0]) if with_ap.size else 0
    one = ds.isel(trial=trial).load()
    order = np.argsort(one["bin_soma_distance"].values, kind="stable")
    t = one["time"].values
    fig, axs = plt.subplots(4, 1, figsize=(7, 9), sharex=True, gridspec_kw={"height_ratios": [3, 3, 1.2, 1.2]})
    for ax, syn in zip(axs[:2], ["EXC", "INH"], strict=True):
        img = one["synapse_activation"].sel(syn_type=syn).values[order]
        dist = one["bin_soma_distance"].values[order]
        mesh = ax.pcolormesh(np.r_[t, t[-1] + float(ds.attrs["bin_size_ms"])], np.arange(len(dist) + 1), img,
                             cmap="magma", shading="flat")
        ticks = np.linspace(0, len(dist) - 1, 5).astype(int)
        ax.set_yticks(ticks + 0.5, [f"{dist[k]:.0f}" for k in ticks])
        ax.set_ylabel(f"{syn}: bin soma\ndistance (µm)")
        fig.colorbar(mesh, ax=ax, label="summed weight (nS)" if int(ds.attrs.get("weighted", 0)) else "activations")
    top = float(max(one["vt_max_per_ms"].max(), one["vt_dend_max_per_ms"].max())) + 5
    axs[2].plot(one["time_ms"].values, one["vt_dend_max_per_ms"].values, color="C1", lw=1, label="distal dendrite")
    axs[2].plot(one["time_ms"].values, one["vt_max_per_ms"].values, color="k", lw=1, label="soma")
    for flag, colour, name in (("ap", "r", "AP"), ("ap_dend", "C1", "dendritic spike")):
        times = t[one[flag].values]
        axs[2].plot(times, np.full(times.shape, top), "v", color=colour, ms=5, label=name)
    axs[2].set_ylabel("max Vm / ms\n(mV)")
    axs[2].legend(frameon=False, fontsize=7, loc="upper left", ncol=2)
    axs[3].plot(t, one["isi"].values, color="k", label="soma")
    axs[3].plot(t, one["isi_dend"].values, color="C1", label="distal dendrite")
    axs[3].set_ylabel("ISI (ms)")
    axs[3].set_xlabel("time (ms)")
    axs[0].set_title(f"trial {one['trial'].values}")
    return fig


def plot_ann_batches(ds: xr.Dataset, out_dir: Path, trial: int | None = None) -> list[Path]:
    """`ann_batches_figure` as ``<out_dir>/ann_batches.png``."""
    return [save_figure(ann_batches_figure(ds, trial), out_dir, "ann_batches")]


def simrun_figure(ds: xr.Dataset, n_trials: int = 3) -> Figure:
    """Soma and distal-dendrite voltage of the first trials, their APs and the whisker stimulus.

    Parameters
    ----------
    ds : Dataset
        An ``isf_simrun`` artifact.
    n_trials : int, default 3
        How many trials (one axes each, titled by its sim_trial_index).

    Returns
    -------
    Figure
        Per axes: the distal dendrite's and the soma's voltage (mV) over time (ms), the APs
        (markers) and the stimulus (a dashed vertical line).
    """
    n = min(n_trials, ds.sizes["trial"])
    part = ds[["soma_voltage", "spike_times", "dendrite_voltage"]].isel(trial=slice(0, n)).load()
    sites = [str(x) for x in ds["rec_site"].values]
    j = sites.index(distal_recording_site(sites))
    distance = float(ds["rec_site_soma_distance"].values[j])
    t = ds["time"].values
    fig, axs = plt.subplots(n, 1, figsize=(7, 2.2 * n), sharex=True, squeeze=False)
    for r, ax in enumerate(axs[:, 0]):
        ax.plot(t, part["dendrite_voltage"].values[r, j], color="C1", lw=0.7, label=f"dendrite ({distance:.0f} µm)")
        ax.plot(t, part["soma_voltage"].values[r], color="k", lw=0.7, label="soma")
        st = part["spike_times"].values[r]
        st = st[np.isfinite(st)]
        ax.plot(st, np.full(st.shape, 35.0), "rv", ms=6, label="AP (0 mV crossing)")
        ax.axvline(float(ds.attrs["stimulus_time_ms"]), color="C0", ls="--", lw=1, label="whisker stimulus")
        ax.set_ylabel("Vm (mV)")
        ax.set_title(str(part["trial"].values[r]), fontsize=9)
    axs[0, 0].legend(frameon=False, fontsize=8, loc="upper left")
    axs[-1, 0].set_xlabel("time (ms)")
    return fig


def plot_simrun(ds: xr.Dataset, out_dir: Path, n_trials: int = 3) -> list[Path]:
    """`simrun_figure` as ``<out_dir>/isf_simrun.png``."""
    return [save_figure(simrun_figure(ds, n_trials), out_dir, "isf_simrun")]


PLOTS = {"isf_simrun": plot_simrun, "isf_spatial_bins": plot_spatial_bins, "ann_batches": plot_ann_batches}
