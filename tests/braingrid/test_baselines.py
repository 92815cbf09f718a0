"""Baselines: the single threshold and the decision tree per window size and kind."""

from __future__ import annotations

import numpy as np
import xarray as xr

from neurodata.braingrid import fit_threshold, format_baselines, window_baselines


def test_fit_threshold_golden():
    thr, sign = fit_threshold(np.array([1, 2, 3, 10, 11, 12]), np.array([1, 1, 1, 0, 0, 0]))
    assert (thr, sign) == (6.5, 1)
    thr, sign = fit_threshold(np.array([1, 2, 3, 10, 11, 12]), np.array([0, 0, 0, 1, 1, 1]))
    assert (thr, sign) == (6.5, -1)
    # ties cannot be split: every cut between distinct values (0.5, 1.5, 2.5) is right on 2 of
    # 4 samples either way; the first cut with the "<= -> 1" rule wins the tie
    thr, sign = fit_threshold(np.array([1, 1, 2, 2]), np.array([1, 0, 1, 0]))
    assert (thr, sign) == (0.5, 1)
    # a cut inside the tied 1s would be right on 4 of 5; the best cut between distinct values is
    # after them (right on 3 of 5: 1, 1 -> 1 and 3 -> 0; the 0 among the 1s and the 1 at 3 wrong)
    thr, sign = fit_threshold(np.array([1, 1, 1, 3, 3]), np.array([1, 1, 0, 0, 1]))
    assert (thr, sign) == (2.0, 1)


def _node(w: int, n: int, rng: np.random.Generator) -> xr.Dataset:
    label = np.tile([1, 0], n)
    step = np.where(label[:, None] == 1, 1, 20)  # pre-burst windows dense, non-burst sparse
    temporal = np.cumsum(step * rng.integers(1, 3, (2 * n, w)), axis=1)
    temporal -= temporal[:, :1]
    spread = np.where(label[:, None] == 1, 3, 40)
    x = rng.integers(0, spread, (2 * n, w))
    y = rng.integers(0, spread, (2 * n, w))
    split = np.repeat(np.array(["train", "val", "test"])[rng.integers(0, 3, n)], 2)
    split[:4] = ["train", "train", "test", "test"]
    return xr.Dataset(
        {
            "temporal": (("sample", "position"), temporal),
            "x": (("sample", "position"), x),
            "y": (("sample", "position"), y),
            "label": ("sample", label.astype(np.int8)),
            "split": ("sample", split.astype(object)),
        }
    )


def test_separable_windows_are_classified_perfectly():
    rng = np.random.default_rng(0)
    tree = xr.DataTree.from_dict({"/": xr.Dataset(), "window_5": _node(5, 60, rng), "window_10": _node(10, 60, rng)})
    ds = window_baselines(tree)
    assert ds["window"].values.tolist() == [5, 10]
    assert ds["test_accuracy"].dims == ("window", "kind", "model")
    acc = ds["test_accuracy"]
    np.testing.assert_array_equal(acc.sel(model="threshold").values, 1.0)  # width / area separate exactly
    np.testing.assert_array_equal(acc.sel(model="decision_tree", kind="temporal").values, 1.0)
    assert (acc.sel(model="decision_tree", kind="spatial").values >= 0.9).all()  # raw coordinates: harder
    assert (ds["threshold_sign"].values == 1).all()  # pre-burst: narrow and compact
    table = format_baselines(ds)
    assert "temporal/threshold" in table and "1.000" in table
