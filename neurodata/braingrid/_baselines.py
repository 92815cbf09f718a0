"""Baselines for burst prediction from windows (spec 3.3-3.4).

* **threshold**: one threshold on a single number per window, fitted on the train split:
  the temporal width (last minus first step offset) for temporal windows, the bounding-box
  area of the spike coordinates for spatial windows. Spec 3.3 argues that this alone should
  separate most samples (pre-burst windows are dense in time and local in space).
* **decision_tree**: scikit-learn's ``DecisionTreeClassifier`` (defaults, seeded) on the raw
  window columns, as in Lundvall's ``predict_bursts`` (offsets; interleaved x, y).

Both are fitted on the ``train`` split and scored on ``val`` and ``test``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from .._exceptions import ParamError, SchemaViolation
from ._artifacts import baselines_dataset

__all__ = ["KINDS", "MODELS", "bbox_area", "fit_threshold", "format_baselines", "window_baselines", "window_features"]

KINDS = ("temporal", "spatial")
MODELS = ("threshold", "decision_tree")


def bbox_area(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Bounding-box area of each window's spike coordinates, grid units², shape (n_samples,)."""
    x = np.asarray(x, dtype=np.int64)
    y = np.asarray(y, dtype=np.int64)
    return (x.max(axis=1) - x.min(axis=1)) * (y.max(axis=1) - y.min(axis=1))


def window_features(node: xr.Dataset, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Raw feature matrix and the single threshold feature of one window node.

    Returns
    -------
    features : ndarray of shape (n_samples, w) (temporal) or (n_samples, 2 w) (spatial)
        Step offsets, or interleaved x0, y0, x1, y1, ...
    scalar : ndarray of shape (n_samples,)
        Width in steps (temporal) or bounding-box area in grid units² (spatial).
    """
    if kind == "temporal":
        temporal = np.asarray(node["temporal"].values, dtype=np.int64)
        return temporal, temporal[:, -1] - temporal[:, 0]
    if kind == "spatial":
        x = np.asarray(node["x"].values, dtype=np.int64)
        y = np.asarray(node["y"].values, dtype=np.int64)
        features = np.empty((x.shape[0], 2 * x.shape[1]), dtype=np.int64)
        features[:, 0::2] = x
        features[:, 1::2] = y
        return features, bbox_area(x, y)
    msg = f"kind must be one of {list(KINDS)}; got {kind!r}."
    raise ParamError(msg)


def fit_threshold(value: np.ndarray, label: np.ndarray) -> tuple[float, int]:
    """The single threshold on *value* that best separates *label* (0/1) on these samples.

    Parameters
    ----------
    value : ndarray of shape (n,)
    label : ndarray of shape (n,), 0 or 1

    Returns
    -------
    threshold : float
        Midpoint between two consecutive distinct values (or below/above all of them).
    sign : {1, -1}
        1: predict label 1 where ``value <= threshold``; -1: where ``value > threshold``.
    """
    value = np.asarray(value, dtype=np.float64)
    label = np.asarray(label).astype(bool)
    if value.size == 0:
        msg = "fit_threshold needs at least one sample."
        raise SchemaViolation(msg)
    order = np.argsort(value, kind="stable")
    v, lab = value[order], label[order]
    distinct = np.r_[v[1:] != v[:-1], True]  # cut after position k only between distinct values
    pos_le = np.r_[0, np.cumsum(lab)]  # label-1 samples among the first k
    k = np.arange(v.size + 1)
    neg_gt = (~lab).sum() - (k - pos_le)  # label-0 samples after the first k
    correct_le = pos_le + neg_gt  # "value <= cut -> 1"
    correct_gt = v.size - correct_le  # the opposite rule
    valid = np.r_[True, distinct]
    best_le = np.flatnonzero(valid)[np.argmax(correct_le[valid])]
    best_gt = np.flatnonzero(valid)[np.argmax(correct_gt[valid])]
    if correct_le[best_le] >= correct_gt[best_gt]:
        best, sign = best_le, 1
    else:
        best, sign = best_gt, -1
    lo = v[best - 1] if best > 0 else v[0] - 1.0
    hi = v[best] if best < v.size else v[-1] + 1.0
    return float((lo + hi) / 2), sign


def _threshold_predict(value: np.ndarray, threshold: float, sign: int) -> np.ndarray:
    below = np.asarray(value, dtype=np.float64) <= threshold
    return (below if sign == 1 else ~below).astype(np.int8)


def window_baselines(windows: xr.DataTree | Mapping[str, xr.Dataset], *, seed: int = 0) -> xr.Dataset:
    """Fit both baselines per window size and kind on ``train``; score them on ``val`` and ``test``.

    Parameters
    ----------
    windows : DataTree (nodes ``window_{w}``) or mapping of node name -> Dataset
        The ``burst_windows`` artifact.
    seed : int, default 0
        ``random_state`` of the decision tree.

    Returns
    -------
    xarray.Dataset
        Dims (window, kind, model): ``test_accuracy``, ``val_accuracy``; (window, kind):
        ``threshold`` and ``threshold_sign``; (window,): ``n_train``, ``n_val``, ``n_test``.

    Raises
    ------
    ValueError
        A window node has no train samples or a split without both labels in train.
    """
    from sklearn.tree import DecisionTreeClassifier

    nodes = {name: windows[name] for name in (windows.children if isinstance(windows, xr.DataTree) else windows)}
    nodes = {k: (v.to_dataset() if isinstance(v, xr.DataTree) else v) for k, v in nodes.items() if k.startswith("window_")}
    sizes = sorted(int(k.split("_", 1)[1]) for k in nodes)
    if not sizes:
        msg = "window_baselines: no 'window_<w>' node in the windows artifact."
        raise SchemaViolation(msg)
    shape = (len(sizes), len(KINDS), len(MODELS))
    test_acc = np.full(shape, np.nan)
    val_acc = np.full(shape, np.nan)
    thresholds = np.zeros(shape[:2])
    signs = np.zeros(shape[:2], dtype=np.int8)
    counts = {s: np.zeros(len(sizes), dtype=np.int64) for s in ("train", "val", "test")}
    for i, w in enumerate(sizes):
        node = nodes[f"window_{w}"]
        label = np.asarray(node["label"].values, dtype=np.int8)
        split = np.asarray(node["split"].values).astype(object)
        masks = {s: split == s for s in counts}
        for s in counts:
            counts[s][i] = int(masks[s].sum())
        train = masks["train"]
        if np.unique(label[train]).size < 2:
            msg = f"window_baselines: window {w} has {int(train.sum())} train samples without both labels; need pre- and non-burst windows."
            raise SchemaViolation(msg)
        for j, kind in enumerate(KINDS):
            features, scalar = window_features(node, kind)
            thr, sign = fit_threshold(scalar[train], label[train])
            thresholds[i, j], signs[i, j] = thr, sign
            tree = DecisionTreeClassifier(random_state=seed).fit(features[train], label[train])
            for split_name, target in (("test", test_acc), ("val", val_acc)):
                m = masks[split_name]
                if not m.any():
                    continue
                target[i, j, 0] = float(np.mean(_threshold_predict(scalar[m], thr, sign) == label[m]))
                target[i, j, 1] = float(np.mean(tree.predict(features[m]) == label[m]))
    values = {"test_accuracy": test_acc, "val_accuracy": val_acc, "threshold": thresholds, "threshold_sign": signs,
              "n_train": counts["train"], "n_val": counts["val"], "n_test": counts["test"]}
    return baselines_dataset(sizes, KINDS, MODELS, values, {"tree_random_state": int(seed), "fit_split": "train"})


def format_baselines(baselines: xr.Dataset) -> str:
    """A plain-text table of test accuracy per window size, kind and model.

    Parameters
    ----------
    baselines : xarray.Dataset
        The ``braingrid_baselines`` artifact (or :func:`window_baselines`' result).
    """
    b = baselines.load()
    kinds = [str(k) for k in b["kind"].values]
    models = [str(m) for m in b["model"].values]
    header = ["window", "n_test"] + [f"{k}/{m}" for k in kinds for m in models]
    rows = []
    for i, w in enumerate(b["window"].values):
        cells = [str(int(w)), str(int(b["n_test"].values[i]))]
        cells += [f"{b['test_accuracy'].values[i, j, m]:.3f}" for j in range(len(kinds)) for m in range(len(models))]
        rows.append(cells)
    widths = [max(len(h), *(len(r[c]) for r in rows)) for c, h in enumerate(header)]
    lines = ["Burst prediction baselines: accuracy on the test split (fitted on train)"]
    lines.append("  ".join(h.rjust(wd) for h, wd in zip(header, widths, strict=True)))
    lines += ["  ".join(cell.rjust(wd) for cell, wd in zip(r, widths, strict=True)) for r in rows]
    lines.append("threshold: one cut on window width (temporal) or bounding-box area (spatial); decision_tree: raw columns")
    return "\n".join(lines)
