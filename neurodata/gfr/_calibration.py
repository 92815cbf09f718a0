"""Figures of a synthetic population to compare with the Allen release (docs/gfr.md, "Calibration").

Pure functions on arrays; a stage publishes the result as a DVC metrics file.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = ["RELEASE_RETENTION", "calibration_metrics"]

#: cells kept per (bin_size, activation_bin_size) in the release (README, spec gfr.md §3.7) over the
#: 2333 cells of its metadata.csv (§2.1)
RELEASE_RETENTION = {(10, 20): 1003 / 2333, (10, 100): 769 / 2333, (20, 20): 1124 / 2333, (20, 100): 1407 / 2333,
                     (50, 100): 1524 / 2333, (100, 100): 1402 / 2333}


def _median(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    return float(np.median(values)) if values.size else float("nan")


def calibration_metrics(cell_class: np.ndarray, features: Mapping[str, np.ndarray], gamma: np.ndarray,
                        included: Mapping[tuple[int, int], np.ndarray]) -> dict[str, float]:
    """Flat figures of a population: retention per key, gamma quantiles, per-class feature medians.

    Parameters
    ----------
    cell_class : ndarray of str, shape (n_cells,)
        Class archetype of each cell (``fast_spiking``, ``excitatory``, ...).
    features : mapping of str to ndarray of shape (n_cells,)
        Measured features, e.g. ``rheobase`` [pA], ``input_resistance`` [MOhm], ``fi_slope`` [Hz/pA];
        NaN entries are ignored.
    gamma : ndarray of shape (n_cells,)
        Maximal firing rate in spikes/ms (NaN for a cell without an ISI).
    included : mapping of (int, int) to ndarray of bool, shape (n_cells,)
        Selection result per (bin_size, activation_bin_size).

    Returns
    -------
    dict of str to float
        ``retention_<bs>_<ab>`` (kept / all cells) and ``retention_release_<bs>_<ab>`` for the
        keys of the release; ``gamma_min``, ``gamma_q25``, ``gamma_median``, ``gamma_q75``,
        ``gamma_max`` over the cells with a gamma; ``<feature>_median_<class>`` and
        ``n_cells_<class>`` per class; ``n_cells``.
    """
    cell_class = np.asarray(cell_class).astype(str)
    n = cell_class.size
    out: dict[str, float] = {"n_cells": float(n)}
    for (bs, ab), inc in included.items():
        inc = np.asarray(inc, bool)
        if inc.shape != (n,):
            msg = f"The 'included' array of key ({bs}, {ab}) has shape {inc.shape}. Expected ({n},), one per cell."
            raise ValueError(msg)
        out[f"retention_{bs}_{ab}"] = float(inc.mean()) if n else float("nan")
        if (bs, ab) in RELEASE_RETENTION:
            out[f"retention_release_{bs}_{ab}"] = RELEASE_RETENTION[(bs, ab)]
    g = np.asarray(gamma, float)
    g = g[np.isfinite(g)]
    for name, q in (("gamma_min", 0.0), ("gamma_q25", 0.25), ("gamma_median", 0.5), ("gamma_q75", 0.75),
                    ("gamma_max", 1.0)):
        out[name] = float(np.quantile(g, q)) if g.size else float("nan")
    for cls in sorted(set(cell_class)):
        mine = cell_class == cls
        out[f"n_cells_{cls}"] = float(mine.sum())
        for feature, values in features.items():
            values = np.asarray(values, float)
            if values.shape != (n,):
                msg = f"The '{feature}' feature has shape {values.shape}. Expected ({n},), one per cell."
                raise ValueError(msg)
            out[f"{feature}_median_{cls}"] = _median(values[mine])
        out[f"gamma_median_{cls}"] = _median(np.asarray(gamma, float)[mine])
    return out
