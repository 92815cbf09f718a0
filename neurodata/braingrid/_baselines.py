"""Baselines for burst prediction from windows (spec 3.3-3.4).

* **threshold**: one threshold on a single number per window, fitted on the train split:
  the temporal width (last minus first step offset) for temporal windows, the bounding-box
  area of the spike coordinates for spatial windows. Spec 3.3 argues that this alone should
  separate most samples (pre-burst windows are dense in time and local in space).
* **decision_tree**: scikit-learn's ``DecisionTreeClassifier`` (defaults, seeded) on the raw
  window columns, as in Lundvall's ``predict_bursts`` (offsets; interleaved x, y);
* **random_forest**: the original study's ``RandomForestClassifier(max_depth=2,
  n_estimators=10)`` (spec 3.4; seeded here) on the same columns.

Each is scored two ways:

* fitted on the ``train`` split, scored on ``val`` and ``test`` (the windows' split);
* across cultures (:func:`culture_cv_accuracy`): grouped cross-validation with whole cultures
  held out (``k = min(n_cultures, 5)`` folds of cultures, in culture order), the accuracy on
  each held-out culture's samples, and over cultures the mean with a 95 % Student-t confidence
  interval, ``mean ± t(0.975, n - 1) · sd / sqrt(n)``. The interval needs at least
  :data:`MIN_CULTURES_FOR_CI` cultures with samples; with fewer it is NaN and ``ci_note`` says
  why (no interval is invented); with one culture there is nothing to hold out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from .._exceptions import ParamError, SchemaViolation
from ._artifacts import baselines_dataset

__all__ = [
    "KINDS",
    "MIN_CULTURES_FOR_CI",
    "MODELS",
    "bbox_area",
    "culture_cv_accuracy",
    "culture_folds",
    "fit_threshold",
    "format_baselines",
    "t_interval",
    "window_baselines",
    "window_features",
]

KINDS = ("temporal", "spatial")
MODELS = ("threshold", "decision_tree", "random_forest")
#: Cultures with samples needed for a confidence interval across cultures.
MIN_CULTURES_FOR_CI = 3
#: Most folds of the cross-validation across cultures.
MAX_FOLDS = 5


class _ThresholdModel:
    """:func:`fit_threshold` as a classifier on the scalar feature (column 0 of X)."""

    def fit(self, x: np.ndarray, y: np.ndarray) -> _ThresholdModel:
        self.threshold, self.sign = fit_threshold(x[:, 0], y)
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        return _threshold_predict(x[:, 0], self.threshold, self.sign)


def _model(name: str, seed: int) -> Any:
    """A fresh, unfitted model of :data:`MODELS`."""
    if name == "threshold":
        return _ThresholdModel()
    if name == "decision_tree":
        from sklearn.tree import DecisionTreeClassifier

        return DecisionTreeClassifier(random_state=seed)
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(max_depth=2, n_estimators=10, random_state=seed, n_jobs=1)


def t_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and two-sided Student-t confidence interval of *values* (NaN ignored).

    Parameters
    ----------
    values : ndarray of shape (n,)
        One accuracy per culture.
    level : float, default 0.95

    Returns
    -------
    mean, low, high : float
        NaN interval when fewer than :data:`MIN_CULTURES_FOR_CI` values are finite.

    Examples
    --------
    >>> [round(v, 4) for v in t_interval(np.array([0.8, 0.9, 1.0]))]
    [0.9, 0.6516, 1.1484]
    """
    from scipy.stats import t

    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("nan"), float("nan"), float("nan")
    mean = float(v.mean())
    if v.size < MIN_CULTURES_FOR_CI:
        return mean, float("nan"), float("nan")
    half = float(t.ppf(0.5 + level / 2, v.size - 1) * v.std(ddof=1) / np.sqrt(v.size))
    return mean, mean - half, mean + half


def culture_folds(cultures: np.ndarray, max_folds: int = MAX_FOLDS) -> list[np.ndarray]:
    """The held-out cultures of each fold: the cultures in ascending order, dealt round-robin
    into ``min(n_cultures, max_folds)`` folds.

    Parameters
    ----------
    cultures : ndarray of shape (n_samples,)
        Culture of each sample.
    max_folds : int, default 5
        Most folds.

    Examples
    --------
    >>> [f.tolist() for f in culture_folds(np.array([3, 0, 1, 3, 2, 4, 5, 6]), max_folds=3)]
    [[0, 3, 6], [1, 4], [2, 5]]
    """
    unique = np.unique(np.asarray(cultures))
    k = min(unique.size, max_folds)
    return [unique[f::k] for f in range(k)]


def culture_cv_accuracy(features: np.ndarray, label: np.ndarray, culture: np.ndarray, model: str, seed: int = 0,
                        max_folds: int = MAX_FOLDS) -> dict[int, float]:
    """Accuracy on each culture's samples of *model* fitted on the other folds' cultures.

    Parameters
    ----------
    features : ndarray of shape (n_samples, n_features)
        Model inputs (for ``threshold``: the scalar feature in column 0).
    label : ndarray of shape (n_samples,), 0 or 1
    culture : ndarray of shape (n_samples,)
        Culture of each sample.
    model : str
        One of :data:`MODELS`.
    seed : int, default 0
        ``random_state`` of the tree and the forest.
    max_folds : int, default 5

    Returns
    -------
    dict of int -> float
        Held-out accuracy per culture; empty with fewer than 2 cultures. A fold whose training
        cultures hold only one label is skipped (its cultures are left out).
    """
    culture = np.asarray(culture)
    label = np.asarray(label)
    out: dict[int, float] = {}
    folds = culture_folds(culture, max_folds)
    if len(folds) < 2:
        return out
    for held in folds:
        test = np.isin(culture, held)
        train = ~test
        if np.unique(label[train]).size < 2:
            continue
        predicted = _model(model, seed).fit(features[train], label[train]).predict(features[test])
        correct = predicted == label[test]
        for c in held:
            mine = culture[test] == c
            if mine.any():
                out[int(c)] = float(correct[mine].mean())
    return out


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


def _ci_note(n_cultures: int) -> str:
    if n_cultures < 2:
        return f"no interval: {n_cultures} culture, none to hold out (cv_* are NaN)"
    if n_cultures < MIN_CULTURES_FOR_CI:
        return (f"no interval: {n_cultures} cultures, a 95 % interval across cultures needs >= {MIN_CULTURES_FOR_CI} "
                "(cv_accuracy is their mean, cv_ci_* are NaN)")
    return f"95 % Student-t interval over the held-out accuracies of {n_cultures} cultures"


def window_baselines(windows: xr.DataTree | Mapping[str, xr.Dataset], *, seed: int = 0) -> xr.Dataset:
    """Fit every baseline per window size and kind on ``train``, score it on ``val`` and ``test``,
    and cross-validate it across cultures.

    Parameters
    ----------
    windows : DataTree (nodes ``window_{w}``) or mapping of node name -> Dataset
        The ``burst_windows`` artifact.
    seed : int, default 0
        ``random_state`` of the decision tree and the forest.

    Returns
    -------
    xarray.Dataset
        Dims (window, kind, model): ``test_accuracy``, ``val_accuracy``, ``cv_accuracy`` (mean
        over cultures), ``cv_ci_low``, ``cv_ci_high`` (95 %); (window, kind, model, culture):
        ``culture_accuracy`` (held out); (window, kind): ``threshold`` and ``threshold_sign``;
        (window,): ``n_train``, ``n_val``, ``n_test``. Attrs ``cv_scheme``, ``ci_note``.

    Raises
    ------
    neurodata.SchemaViolation
        A window node has no train samples or a train split without both labels.
    """
    nodes = {name: windows[name] for name in (windows.children if isinstance(windows, xr.DataTree) else windows)}
    nodes = {k: (v.to_dataset() if isinstance(v, xr.DataTree) else v) for k, v in nodes.items() if k.startswith("window_")}
    sizes = sorted(int(k.split("_", 1)[1]) for k in nodes)
    if not sizes:
        msg = "window_baselines: no 'window_<w>' node in the windows artifact."
        raise SchemaViolation(msg)
    cultures = np.unique(np.concatenate([
        np.asarray(nodes[f"window_{w}"]["culture"].values) if "culture" in nodes[f"window_{w}"].coords
        else np.zeros(1, dtype=np.int64) for w in sizes])).astype(np.int64)
    shape = (len(sizes), len(KINDS), len(MODELS))
    test_acc = np.full(shape, np.nan)
    val_acc = np.full(shape, np.nan)
    per_culture = np.full((*shape, cultures.size), np.nan)
    cv = {name: np.full(shape, np.nan) for name in ("cv_accuracy", "cv_ci_low", "cv_ci_high")}
    thresholds = np.zeros(shape[:2])
    signs = np.zeros(shape[:2], dtype=np.int8)
    counts = {s: np.zeros(len(sizes), dtype=np.int64) for s in ("train", "val", "test")}
    for i, w in enumerate(sizes):
        node = nodes[f"window_{w}"]
        label = np.asarray(node["label"].values, dtype=np.int8)
        split = np.asarray(node["split"].values).astype(object)
        culture = (np.asarray(node["culture"].values) if "culture" in node.coords
                   else np.zeros(label.size, dtype=np.int64))
        masks = {s: split == s for s in counts}
        for s in counts:
            counts[s][i] = int(masks[s].sum())
        train = masks["train"]
        if np.unique(label[train]).size < 2:
            msg = f"window_baselines: window {w} has {int(train.sum())} train samples without both labels; need pre- and non-burst windows."
            raise SchemaViolation(msg)
        for j, kind in enumerate(KINDS):
            features, scalar = window_features(node, kind)
            for m, name in enumerate(MODELS):
                x = scalar[:, None] if name == "threshold" else features
                fitted = _model(name, seed).fit(x[train], label[train])
                if name == "threshold":
                    thresholds[i, j], signs[i, j] = fitted.threshold, fitted.sign
                for split_name, target in (("test", test_acc), ("val", val_acc)):
                    sel = masks[split_name]
                    if sel.any():
                        target[i, j, m] = float(np.mean(fitted.predict(x[sel]) == label[sel]))
                held = culture_cv_accuracy(x, label, culture, name, seed)
                for c, acc in held.items():
                    per_culture[i, j, m, int(np.searchsorted(cultures, c))] = acc
                mean, low, high = t_interval(np.array(list(held.values())))
                cv["cv_accuracy"][i, j, m], cv["cv_ci_low"][i, j, m], cv["cv_ci_high"][i, j, m] = mean, low, high
    values = {"test_accuracy": test_acc, "val_accuracy": val_acc, **cv, "culture_accuracy": per_culture,
              "threshold": thresholds, "threshold_sign": signs,
              "n_train": counts["train"], "n_val": counts["val"], "n_test": counts["test"]}
    attrs = {"tree_random_state": int(seed), "fit_split": "train", "n_cultures": int(cultures.size),
             "cv_scheme": (f"grouped k-fold over cultures (k = min(n_cultures, {MAX_FOLDS}), cultures dealt round-robin "
                           "in ascending order); accuracy per held-out culture"),
             "ci_note": _ci_note(int(cultures.size))}
    return baselines_dataset(sizes, KINDS, MODELS, values, attrs, cultures=cultures)


def format_baselines(baselines: xr.Dataset) -> str:
    """A plain-text table of accuracy per window size, kind and model: on the test split, and
    across cultures (mean over held-out cultures with its 95 % interval, or the note saying why
    there is none).

    Parameters
    ----------
    baselines : xarray.Dataset
        The ``braingrid_baselines`` artifact (or :func:`window_baselines`' result).
    """
    b = baselines.load()
    kinds = [str(k) for k in b["kind"].values]
    models = [str(m) for m in b["model"].values]

    def table(title: str, cell: Any, extra: str) -> list[str]:
        header = ["window", extra] + [f"{k}/{m}" for k in kinds for m in models]
        rows = []
        for i, w in enumerate(b["window"].values):
            cells = [str(int(w)), str(int(b["n_test"].values[i])) if extra == "n_test" else str(int(b.sizes.get("culture", 1)))]
            cells += [cell(i, j, m) for j in range(len(kinds)) for m in range(len(models))]
            rows.append(cells)
        widths = [max(len(h), *(len(r[c]) for r in rows)) for c, h in enumerate(header)]
        return [title, "  ".join(h.rjust(wd) for h, wd in zip(header, widths, strict=True)),
                *("  ".join(c.rjust(wd) for c, wd in zip(r, widths, strict=True)) for r in rows)]

    lines = table("Burst prediction baselines: accuracy on the test split (fitted on train)",
                  lambda i, j, m: f"{b['test_accuracy'].values[i, j, m]:.3f}", "n_test")
    if "cv_accuracy" in b:
        def cv_cell(i: int, j: int, m: int) -> str:
            mean, lo, hi = (b[v].values[i, j, m] for v in ("cv_accuracy", "cv_ci_low", "cv_ci_high"))
            if not np.isfinite(mean):
                return "n/a"
            return f"{mean:.3f} [{lo:.3f}, {hi:.3f}]" if np.isfinite(lo) else f"{mean:.3f} [no CI]"

        lines += ["", f"Across cultures: mean accuracy on held-out cultures [95 % CI] ({b.attrs.get('cv_scheme', '')})",
                  *table("", cv_cell, "cultures")[1:], f"CI: {b.attrs.get('ci_note', '')}"]
    lines.append("threshold: one cut on window width (temporal) or bounding-box area (spatial); decision_tree: raw "
                 "columns; random_forest: the original's RandomForestClassifier(max_depth=2, n_estimators=10)")
    return "\n".join(lines)
