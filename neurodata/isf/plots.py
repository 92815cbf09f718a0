"""Figures of the isf family: morphology by spatial bin, one trial's activation heatmap, voltage with APs."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from matplotlib.collections import LineCollection

from ..figures import save_figure

__all__ = ["PLOTS", "plot_ann_batches", "plot_simrun", "plot_spatial_bins"]


def plot_spatial_bins(ds: xr.Dataset, out_dir: Path) -> list[Path]:
    """The morphology (x-y projection) with each spatial bin in its own colour: ``isf_spatial_bins.png``."""
    ds = ds.load()
    xy = np.stack([ds["point_x"].values, ds["point_y"].values], axis=1)
    sec = ds["point_section"].values
    pbin = ds["point_spatial_bin"].values
    same = sec[1:] == sec[:-1]
    segs = np.stack([xy[:-1][same], xy[1:][same]], axis=1)
    colour_of_bin = np.random.default_rng(0).permutation(ds.sizes["spatial_bin"])
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
    path = save_figure(fig, out_dir, "isf_spatial_bins")
    return [path]


def plot_ann_batches(ds: xr.Dataset, out_dir: Path, trial: int | None = None) -> list[Path]:
    """Activation heatmap of one trial (EXC, INH; bins sorted by soma distance) and its targets: ``ann_batches.png``.

    By default the first trial with an AP (else the first trial).
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
        fig.colorbar(mesh, ax=ax, label=one["synapse_activation"].attrs.get("units", ""))
    axs[2].plot(one["time_ms"].values, one["vt_max_per_ms"].values, color="k", lw=1)
    ap_t = t[one["ap"].values]
    axs[2].plot(ap_t, np.full(ap_t.shape, float(one["vt_max_per_ms"].max()) + 5), "rv", ms=5, label="AP")
    axs[2].set_ylabel("max Vm / ms\n(mV)")
    axs[3].plot(t, one["isi"].values, color="C0")
    axs[3].set_ylabel("ISI (ms)")
    axs[3].set_xlabel("time (ms)")
    axs[0].set_title(f"trial {one['trial'].values}")
    path = save_figure(fig, out_dir, "ann_batches")
    return [path]


def plot_simrun(ds: xr.Dataset, out_dir: Path, n_trials: int = 3) -> list[Path]:
    """Soma and distal-dendrite voltage of the first trials with their APs marked: ``isf_simrun.png``."""
    from ._landmarks import distal_recording_site

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
    path = save_figure(fig, out_dir, "isf_simrun")
    return [path]


PLOTS = {"isf_simrun": plot_simrun, "isf_spatial_bins": plot_spatial_bins, "ann_batches": plot_ann_batches}
