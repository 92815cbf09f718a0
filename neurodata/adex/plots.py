"""Figures of the AdEx family, as in the seed notebook."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from ..figures import save_figure
from ._sweeps import PS_PER_NS

__all__ = ["PLOTS", "plot_rate_match", "plot_we_sweep"]


def _dots_and_means(ax: plt.Axes, x_pS: np.ndarray, values: xr.DataArray) -> None:
    """One dot per seed, and the mean over seeds as a line."""
    ax.plot(x_pS, values.mean("seed"), "-", lw=2, color="C0", label="mean over seeds", clip_on=False)
    xs = np.repeat(x_pS, values.sizes["seed"])
    ax.plot(xs, values.transpose("we", "seed").values.ravel(), "k.", ms=4, mec="none", label="one seed", clip_on=False)


def plot_we_sweep(ds: xr.Dataset, out_dir: Path) -> list[Path]:
    """Median Vm and output rate vs w_e (dots per seed, mean line): ``adex_we_sweep.png``."""
    ds = ds.load()
    x = ds["we"].values * PS_PER_NS
    fig, axs = plt.subplots(2, 1, figsize=(4.5, 6), sharex=True)
    _dots_and_means(axs[0], x, ds["median_vm"])
    axs[0].set_ylabel("Median $V_m$ (mV)")
    axs[1].axhline(0, color="black", lw=1)
    _dots_and_means(axs[1], x, ds["output_rate"])
    axs[1].set_ylabel("Output firing rate (Hz)")
    axs[1].set_xlabel(r"$\Delta g_\mathrm{exc}$ (pS)")
    axs[0].legend(frameon=False, fontsize=8)
    fig.suptitle(f"N-to-1 AdEx, N = {ds.attrs.get('N')}, T = {ds.attrs.get('T_s')} s")
    path = save_figure(fig, out_dir, "adex_we_sweep")
    return [path]


def plot_rate_match(ds: xr.Dataset, out_dir: Path) -> list[Path]:
    """w_e needed for the target rate vs N, log-log, with the initial guess: ``adex_rate_match.png``."""
    ds = ds.load()
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.loglog(ds["N"], ds["w0"], ".-", label="Initial guess 15 pS · 6500 / N")
    ax.loglog(ds["N"], ds["we"], ".-", label=r"Actual $\Delta g_\mathrm{exc}$ needed")
    ax.set_xlabel("Number of inputs $N$")
    ax.set_ylabel(r"Synaptic strength $\Delta g_\mathrm{exc}$ (nS)")
    ax.set_title(f"Input needed to reach {ds.attrs.get('target_rate_Hz')} Hz output")
    ax.legend(frameon=False)
    path = save_figure(fig, out_dir, "adex_rate_match")
    return [path]


PLOTS = {"adex_we_sweep": plot_we_sweep, "adex_rate_match": plot_rate_match}
