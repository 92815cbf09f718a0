"""Figures of the gfr family: data vs model on Noise 2, EVR distributions per key, activation functions.

``PLOTS`` maps an artifact name to ``function(obj, out_dir, **inputs) -> list[Path]`` (used by
``neurodata plot``). A figure that needs another artifact takes it as a keyword argument named
after it (``gfr_binned=``): the caller opens it, no plot function opens a store.
Each ``*_figure`` function returns the matplotlib Figure; ``plot_*`` saves it.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from ..figures import save_figure
from ._artifacts import as_str
from ._dataset import keys_of, load_gfr_model, node_name, params_of
from ._fit import explained_variance_ratio

__all__ = ["PLOTS", "activations_figure", "evr_figure", "noise2_figure", "plot_activations", "plot_evr",
           "plot_noise2_examples", "plot_params"]

#: cells drawn per activation panel (the rest would hide each other)
MAX_ACTIVATIONS = 60


def _nodes(tree: xr.DataTree) -> list[tuple[tuple[int, int], xr.Dataset]]:
    return [(k, tree[node_name(*k)].to_dataset(inherit=False).load()) for k in keys_of(tree)]


def evr_figure(tree: xr.DataTree) -> plt.Figure:
    """Validation (Noise 1) and test (Noise 2) EVR of the fitted cells of every key, as violins.

    Parameters
    ----------
    tree : xarray.DataTree
        The ``gfr_params`` artifact.

    Returns
    -------
    matplotlib.figure.Figure
        One axes: per key a validation and a test violin (where a cell was fitted), x tick
        labels ``(bin, activation bin)`` with the included count, the selection threshold as
        a dashed line.
    """
    nodes = _nodes(tree)
    fig, ax = plt.subplots(figsize=(7, 4))
    for j, (name, color, dx) in enumerate((("val_evr", "C0", -0.15), ("test_evr", "C1", 0.15))):
        for i, (_, node) in enumerate(nodes):
            v = np.asarray(node[name].values)
            v = v[np.isfinite(v)]
            if v.size:
                parts = ax.violinplot(v, positions=[i + dx], widths=0.28, showmedians=True)
                for body in parts["bodies"]:
                    body.set_color(color)
                for line in ("cmedians", "cmins", "cmaxes", "cbars"):
                    parts[line].set_color(color)
        ax.plot([], [], color=color, lw=6, label=["validation (Noise 1)", "test (Noise 2)"][j])
    thr = float(tree.attrs["min_val_evr"])
    ax.axhline(thr, color="k", ls="--", lw=1, label=f"release threshold {thr}")
    ax.set_xticks(range(len(nodes)))
    ax.set_xticklabels([f"({k[0]}, {k[1]})\nn={int(n['included'].sum())}" for k, n in nodes])
    ax.set_xlabel("(bin size, activation bin size) [ms]; n = cells included")
    ax.set_ylabel("explained variance ratio")
    ax.legend(frameon=False, fontsize=8)
    return fig


def activations_figure(tree: xr.DataTree) -> plt.Figure:
    """Fitted activations g(z) of the fitted cells, one panel per activation bin size.

    Parameters
    ----------
    tree : xarray.DataTree
        The ``gfr_params`` artifact.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per activation bin size (increasing), one line per fitted cell (at most
        :data:`MAX_ACTIVATIONS`): g in Hz against z in pA from -0.5 sigma to 1.5 sigma.
    """
    import torch

    from ._model import PolynomialActivation

    by_act: dict[int, xr.Dataset] = {}
    for (_, ab), node in _nodes(tree):
        by_act.setdefault(ab, node)  # g depends on the cell and the activation bin only
    fig, axs = plt.subplots(1, max(1, len(by_act)), figsize=(4.5 * max(1, len(by_act)), 3.6), squeeze=False)
    for ax, (ab, node) in zip(axs[0], sorted(by_act.items()), strict=False):
        idx = np.flatnonzero(np.isfinite(node["g_b"].values))[:MAX_ACTIVATIONS]
        for i in idx:
            g = PolynomialActivation.from_params(params_of(node, int(i))["g"])
            sigma = float(node["max_current"].values[i])
            z = torch.linspace(-0.5 * sigma, 1.5 * sigma, 200)
            with torch.no_grad():
                f = g(z.reshape(-1, 1))[:, 0].numpy() * 1000.0
            ax.plot(z.numpy(), f, lw=0.8, alpha=0.7)
        ax.set_title(f"activation bin {ab} ms (degree {int(node.attrs['degree'])}), {idx.size} cells", fontsize=10)
        ax.set_xlabel("mean hidden state z (pA)")
        ax.set_ylabel("g(z) (Hz)")
    return fig


def noise2_figure(tree: xr.DataTree, gfr_binned: xr.DataTree, *, n_cells: int = 4) -> plt.Figure:
    """Observed Noise 2 rate (repeats and mean) vs the GFR prediction for the best included cells.

    Parameters
    ----------
    tree : xarray.DataTree
        The ``gfr_params`` artifact.
    gfr_binned : xarray.DataTree
        The ``gfr_binned`` artifact the models were fitted on.
    n_cells : int, default: 4
        Panels: the included cells with the highest test EVR of key (20, 20) (else of the first
        key with an included cell).

    Returns
    -------
    matplotlib.figure.Figure
        One axes per cell: a grey line per Noise 2 repeat, their mean (black) and the GFR
        prediction (red), rates in Hz against time in s; the title gives the test EVR.
    """
    nodes = _nodes(tree)
    key, node = next(((k, n) for k, n in nodes if k == (20, 20) and n["included"].any()),
                     next(((k, n) for k, n in nodes if n["included"].any()), (None, None)))
    fig, axs = plt.subplots(n_cells, 1, figsize=(9, 2.0 * n_cells), squeeze=False, sharex=True)
    if key is None:
        axs[0, 0].text(0.5, 0.5, "no included cell", ha="center", transform=axs[0, 0].transAxes)
        return fig
    data = gfr_binned[f"bin_{key[0]}"].to_dataset(inherit=False)
    names = as_str(data["stimulus_name"].values)
    order = np.argsort(-np.nan_to_num(np.asarray(node["test_evr"].values), nan=-np.inf))
    chosen = [i for i in order if bool(node["included"].values[i])][:n_cells]
    for ax, i in zip(axs[:, 0], chosen, strict=False):
        cid = int(node["cell"].values[i])
        sel = np.flatnonzero((np.asarray(data["sweep_cell"].values) == cid) & (names == "Noise 2"))
        L = int(np.asarray(data["n_bins"].values)[sel].max())
        rate = np.nan_to_num(np.asarray(data["rate"].values)[sel, :L].astype(np.float64))
        cur = np.nan_to_num(np.asarray(data["current"].values)[sel, :L].astype(np.float64))
        pred = load_gfr_model(tree, cid, *key).predict(cur[0])[0].numpy()
        t = np.arange(L) * key[0] / 1000.0
        for r in rate:
            ax.plot(t, r * 1000.0, color="0.8", lw=0.6)
        ax.plot(t, rate.mean(axis=0) * 1000.0, color="k", lw=1.0, label="data (mean of repeats)")
        ax.plot(t, pred * 1000.0, color="C3", lw=1.0, label="GFR")
        evr = explained_variance_ratio(rate, pred)
        ax.set_title(f"cell {cid} ({str(node['cre_line'].values[i]) or 'human'}), test EVR {evr:.2f}", fontsize=9)
        ax.set_ylabel("rate (Hz)")
    for ax in axs[len(chosen):, 0]:
        ax.set_visible(False)
    axs[0, 0].legend(frameon=False, fontsize=8, loc="upper right")
    axs[-1, 0].set_xlabel(f"time from Noise 2 onset (s), bins of {key[0]} ms, activation bin {key[1]} ms")
    return fig


def plot_evr(tree: xr.DataTree, out_dir: str | Path) -> list[Path]:
    """Write ``gfr_evr.png`` (:func:`evr_figure`)."""
    return [save_figure(evr_figure(tree), out_dir, "gfr_evr")]


def plot_activations(tree: xr.DataTree, out_dir: str | Path) -> list[Path]:
    """Write ``gfr_activations.png`` (:func:`activations_figure`)."""
    return [save_figure(activations_figure(tree), out_dir, "gfr_activations")]


def plot_noise2_examples(tree: xr.DataTree, out_dir: str | Path, *, gfr_binned: xr.DataTree) -> list[Path]:
    """Write ``gfr_noise2_examples.png`` (:func:`noise2_figure`)."""
    return [save_figure(noise2_figure(tree, gfr_binned), out_dir, "gfr_noise2_examples")]


def plot_params(tree: xr.DataTree, out_dir: str | Path, *, gfr_binned: xr.DataTree | None = None) -> list[Path]:
    """The figures of ``gfr_params``: EVR and activations; with *gfr_binned*, the Noise 2 examples too."""
    paths = plot_evr(tree, out_dir) + plot_activations(tree, out_dir)
    if gfr_binned is not None:
        paths += plot_noise2_examples(tree, out_dir, gfr_binned=gfr_binned)
    return paths


PLOTS = {"gfr_params": plot_params}
