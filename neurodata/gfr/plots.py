"""Figures of the gfr family: data vs model on Noise 2, EVR distributions per key, activation functions."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from ..figures import save_figure
from ._artifacts import as_str
from ._dataset import KEYS, key_of_node, node_name, params_of

__all__ = ["PLOTS", "plot_activations", "plot_evr", "plot_noise2_examples", "plot_params"]


def _nodes(tree: xr.DataTree) -> list[tuple[tuple[int, int], xr.Dataset]]:
    keys = [k for k in KEYS if node_name(*k) in tree.children]
    keys += sorted(key_of_node(n) for n in tree.children if n.startswith("bin_") and key_of_node(n) not in keys)
    return [(k, tree[node_name(*k)].to_dataset(inherit=False).load()) for k in keys]


def plot_evr(tree: xr.DataTree, out_dir: Path) -> list[Path]:
    """Validation (Noise 1) and test (Noise 2) EVR of every fitted cell per key: ``gfr_evr.png``."""
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
    thr = float(tree.attrs.get("min_val_evr", 0.5))
    ax.axhline(thr, color="k", ls="--", lw=1, label=f"release threshold {thr}")
    ax.set_xticks(range(len(nodes)))
    ax.set_xticklabels([f"({k[0]}, {k[1]})\nn={int(n['included'].sum())}" for k, n in nodes])
    ax.set_xlabel("(bin size, activation bin size) [ms]; n = cells included")
    ax.set_ylabel("explained variance ratio")
    ax.legend(frameon=False, fontsize=8)
    path = save_figure(fig, out_dir, "gfr_evr")
    return [path]


def plot_activations(tree: xr.DataTree, out_dir: Path) -> list[Path]:
    """Fitted activations g(z) of every fitted cell, one panel per activation bin: ``gfr_activations.png``."""
    import torch

    from ._model import PolynomialActivation

    by_act: dict[int, xr.Dataset] = {}
    for (_, ab), node in _nodes(tree):
        by_act.setdefault(ab, node)  # g depends on the cell and the activation bin only
    fig, axs = plt.subplots(1, max(1, len(by_act)), figsize=(4.5 * max(1, len(by_act)), 3.6), squeeze=False)
    for ax, (ab, node) in zip(axs[0], sorted(by_act.items()), strict=False):
        idx = np.flatnonzero(np.isfinite(node["g_b"].values))
        for i in idx[:60]:
            g = PolynomialActivation.from_params(params_of(node, int(i))["g"])
            sigma = float(node["max_current"].values[i])
            z = torch.linspace(-0.5 * sigma, 1.5 * sigma, 200)
            with torch.no_grad():
                f = g(z.reshape(-1, 1))[:, 0].numpy() * 1000.0
            ax.plot(z.numpy(), f, lw=0.8, alpha=0.7)
        ax.set_title(f"activation bin {ab} ms (degree {int(node.attrs['degree'])}), {min(idx.size, 60)} cells",
                     fontsize=10)
        ax.set_xlabel("mean hidden state z (pA)")
        ax.set_ylabel("g(z) (Hz)")
    path = save_figure(fig, out_dir, "gfr_activations")
    return [path]


def plot_noise2_examples(tree: xr.DataTree, out_dir: Path, *, n_cells: int = 4,
                         binned: xr.DataTree | None = None) -> list[Path]:
    """Observed Noise 2 rate (repeats and mean) vs the GFR prediction for example cells: ``gfr_noise2_examples.png``.

    The binned sweeps come from *binned*, or from ``gfr_binned`` beside the ``gfr_params`` store.
    """
    from ..store import open_artifact
    from ._dataset import load_gfr_model
    from ._fit import explained_variance_ratio

    if binned is None:
        source = tree.encoding.get("source")
        binned = open_artifact("gfr_binned", data_dir=Path(source).parent if source else None)
    key, node = next(((k, n) for k, n in _nodes(tree) if k == (20, 20) and n["included"].any()),
                     next(((k, n) for k, n in _nodes(tree) if n["included"].any()), (None, None)))
    fig, axs = plt.subplots(n_cells, 1, figsize=(9, 2.0 * n_cells), squeeze=False, sharex=True)
    if key is None:
        axs[0, 0].text(0.5, 0.5, "no included cell", ha="center", transform=axs[0, 0].transAxes)
    else:
        data = binned[f"bin_{key[0]}"].to_dataset(inherit=False)
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
    path = save_figure(fig, out_dir, "gfr_noise2_examples")
    return [path]


def plot_params(tree: xr.DataTree, out_dir: Path) -> list[Path]:
    """All figures of ``gfr_params``."""
    return [*plot_noise2_examples(tree, out_dir), *plot_evr(tree, out_dir), *plot_activations(tree, out_dir)]


PLOTS = {"gfr_params": plot_params}
