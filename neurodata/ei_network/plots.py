"""Figures of the EI-network family: the raster coloured by cluster and the cluster rates over time.

``PLOTS`` maps an artifact name to ``function(obj, out_dir) -> list[Path]`` (used by
``neurodata plot``). matplotlib is imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

__all__ = ["PLOTS", "cluster_colorgroups", "plot_ei_rates", "plot_ei_spikes", "raster_plot", "rates_plot"]


def cluster_colorgroups(spikes: xr.Dataset, cmap: str = "tab20") -> list[tuple[Any, int, int]]:
    """One ``(colour, first id, stop id)`` group per (population, cluster), E and I of a cluster alike.

    Parameters
    ----------
    spikes : xarray.Dataset
        An ``ei_spikes`` dataset.
    cmap : str, default: "tab20"
        Matplotlib colormap; cluster k takes colour ``k mod cmap.N``.

    Returns
    -------
    list of (colour, int, int)
        Half-open neuron-id ranges ``[start, stop)`` in id order.
    """
    import matplotlib as mpl

    colours = mpl.colormaps[cmap]
    n_e, n_i, q = int(spikes.attrs["N_E"]), int(spikes.attrs["N_I"]), int(spikes.attrs["n_clusters"])
    groups = []
    for offset, size in ((0, n_e // q), (n_e, n_i // q)):
        for k in range(q):
            # tab20 pairs similar hues (0/1, 2/3, ...): take the even colours first so that
            # neighbouring clusters differ strongly.
            index = (2 * k) % colours.N + ((2 * k) // colours.N) % 2
            colour = colours(index % colours.N)  # tab20: 20 distinct colours, then repeats
            groups.append((colour, offset + k * size, offset + (k + 1) * size))
    return groups


def raster_plot(
    spikes: xr.Dataset,
    tlim: Sequence[float] | None = None,
    colorgroups: Sequence[tuple[Any, int, int]] | None = None,
    ax: Any = None,
    markersize: float = 0.5,
) -> Any:
    """Raster of spike times against neuron id, coloured by neuron-id groups (default: by cluster).

    Follows the seed's ``raster_plot``: one ``.`` marker per spike for each ``(colour, start,
    stop)`` group of ids in ``[start, stop)``, x limits *tlim* (default: the spike-time range),
    labels "Time [ms]" and "Neuron ID". Differences: the default groups colour each cluster
    (:func:`cluster_colorgroups`) instead of one black group, the y range covers every neuron
    (the seed's default group drops the neuron with the largest id), E and I are separated by a
    line, and stimulus windows are shaded.

    Parameters
    ----------
    spikes : xarray.Dataset
        An ``ei_spikes`` dataset: ``time_ms`` and ``neuron`` of shape (n_spikes,).
    tlim : (float, float), optional
        Time limits [ms].
    colorgroups : sequence of (colour, int, int), optional
    ax : matplotlib Axes, optional
        Drawn into a new figure if None.
    markersize : float, default: 0.5

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(10, 6))
    times = np.asarray(spikes["time_ms"].values, dtype=float)
    ids = np.asarray(spikes["neuron"].values, dtype=np.int64)
    n = int(spikes.sizes["neuron_id"])
    if tlim is None:
        tlim = (float(times.min()), float(times.max())) if times.size else (0.0, float(spikes.attrs["simtime_ms"]))
    if colorgroups is None:
        colorgroups = cluster_colorgroups(spikes)
    for colour, start, stop in colorgroups:
        sel = (ids >= start) & (ids < stop)
        ax.plot(times[sel], ids[sel], color=colour, marker=".", linestyle="None", markersize=markersize)
    for start, end in zip(spikes["stim_start_ms"].values, spikes["stim_end_ms"].values, strict=True):
        ax.axvspan(float(start), float(end), color="0.85", zorder=0, linewidth=0)
    ax.axhline(int(spikes.attrs["N_E"]) - 0.5, color="k", linewidth=0.5)
    ax.set_xlim(tlim)
    ax.set_ylim([0, n])
    ax.set_xlabel("Time [ms]")
    ax.set_ylabel("Neuron ID")
    return ax


def rates_plot(rates: xr.Dataset, axes: Sequence[Any] | None = None) -> Any:
    """Rates per cluster over time (E and I heat maps) with the stimulus windows marked.

    Parameters
    ----------
    rates : xarray.Dataset
        An ``ei_rates`` dataset: ``rate_time`` (population, cluster, time_ms) [Hz].
    axes : sequence of two matplotlib Axes, optional
        E and I panels; a new figure if None.

    Returns
    -------
    matplotlib Figure
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    if axes is None:
        fig, axes = plt.subplots(2, 1, figsize=(10, 7), sharex=True, constrained_layout=True)
    else:
        fig = axes[0].figure
    t = np.asarray(rates["time_ms"].values, dtype=float)
    half = float(rates.attrs["bin_ms"]) / 2.0
    q = int(rates.sizes["cluster"])
    stimulated = np.flatnonzero(np.asarray(rates["stimulated"].values))
    for ax, pop in zip(axes, ("E", "I"), strict=True):
        values = np.asarray(rates["rate_time"].sel(population=pop).values, dtype=float)
        image = ax.imshow(values, aspect="auto", origin="lower", interpolation="nearest", cmap="viridis",
                          extent=(t[0] - half, t[-1] + half, -0.5, q - 0.5))
        fig.colorbar(image, ax=ax, label=f"{pop} rate [Hz]")
        for start, end in zip(rates["stim_start_ms"].values, rates["stim_end_ms"].values, strict=True):
            ax.axvline(float(start), color="w", linestyle="--", linewidth=1)
            ax.axvline(float(end), color="w", linestyle=":", linewidth=1)
        if pop == "E" and stimulated.size:
            ax.plot(np.full(stimulated.size, t[0] - half), stimulated, marker=">", color="r", linestyle="None",
                    clip_on=False, label="stimulated cluster")
            ax.legend(loc="upper right", fontsize="small")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(f"{pop} cluster")
    axes[-1].set_xlabel("Time after warm-up [ms]")
    axes[0].set_title("Rates per cluster (dashed: stimulus onset, dotted: offset)")
    return fig


def plot_ei_spikes(spikes: xr.Dataset, out_dir: str | Path) -> list[Path]:
    """Write ``ei_spikes_raster.png``: the raster coloured by cluster over the whole recording."""
    from ..figures import save_figure

    spikes = spikes.load()
    ax = raster_plot(spikes, tlim=(0.0, float(spikes.attrs["simtime_ms"])))
    ax.set_title(f"EI-clustered network, {spikes.attrs['n_clusters']} clusters (grey: stimulus windows)")
    return [save_figure(ax.figure, out_dir, "ei_spikes_raster")]


def plot_ei_rates(rates: xr.Dataset, out_dir: str | Path) -> list[Path]:
    """Write ``ei_rates_clusters.png``: rates per cluster over time with the stimulus windows marked."""
    from ..figures import save_figure

    return [save_figure(rates_plot(rates.load()), out_dir, "ei_rates_clusters")]


PLOTS = {"ei_spikes": plot_ei_spikes, "ei_rates": plot_ei_rates}
