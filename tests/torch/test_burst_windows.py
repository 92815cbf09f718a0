"""BurstWindows: one window size and split of burst_windows, temporal or spatial features."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from neurodata import ParamError  # noqa: E402
from neurodata.torch import BurstWindows  # noqa: E402


def test_temporal_windows_of_one_split(ml_data):
    ds = BurstWindows(window=10, split="test", data_dir=ml_data)
    assert ds.positions.tolist() == list(range(2, 30, 3))
    s = ds[1]   # sample 5: 10 * 5 + position
    assert s["temporal"].dtype == torch.float32 and s["temporal"].tolist() == [50.0 + p for p in range(10)]
    assert s["label"].dtype == torch.int64 and s["label"].item() == 1
    assert ds.labels.tolist() == [i % 2 for i in range(2, 30, 3)]


def test_spatial_windows_stack_x_and_y(ml_data):
    ds = BurstWindows(window=5, kind="spatial", split=None, data_dir=ml_data)
    assert len(ds) == 30 and ds.keys == ["spatial", "label"]
    s = ds[9]   # x = 9 % 7 + p, y = 9 % 5
    assert s["spatial"].shape == (5, 2)
    assert s["spatial"][:, 0].tolist() == [2.0 + p for p in range(5)] and s["spatial"][:, 1].tolist() == [4.0] * 5


def test_bad_arguments(ml_data):
    with pytest.raises(ParamError, match=r"'kind' parameter of BurstWindows must be one of \['temporal', 'spatial'\]"):
        BurstWindows(window=5, kind="both", data_dir=ml_data)
    with pytest.raises(ParamError, match="'split' parameter of BurstWindows must be one of"):
        BurstWindows(window=5, split="training", data_dir=ml_data)
    with pytest.raises(ParamError, match=r"\['window_10', 'window_5'\] for burst_windows. Got 'window_7'"):
        BurstWindows(window=7, data_dir=ml_data)
