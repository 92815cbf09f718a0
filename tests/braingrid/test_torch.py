"""neurodata.torch.BurstWindows through a DataLoader with worker processes."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from neurodata.store import open_artifact  # noqa: E402
from neurodata.torch import BurstWindows  # noqa: E402


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("kind", "shape"), [("temporal", (10,)), ("spatial", (10, 2))])
def test_dataloader_with_two_workers(built_data, kind, shape):
    from torch.utils.data import DataLoader

    ds = BurstWindows(window=10, kind=kind, split="train", data_dir=built_data)
    node = open_artifact("burst_windows", data_dir=built_data)["window_10"].to_dataset().load()
    train = np.flatnonzero(node["split"].values.astype(object) == "train")
    assert len(ds) == train.size > 0
    loader = DataLoader(ds, batch_size=7, num_workers=2, shuffle=False, timeout=60)
    batches = list(loader)
    x, y = torch.cat([b[kind] for b in batches]), torch.cat([b["label"] for b in batches])
    assert x.shape == (train.size, *shape) and x.dtype == torch.float32
    assert y.dtype == torch.int64
    np.testing.assert_array_equal(y.numpy(), node["label"].values[train])
    if kind == "temporal":
        np.testing.assert_array_equal(x.numpy(), node["temporal"].values[train])
    else:
        np.testing.assert_array_equal(x[..., 0].numpy(), node["x"].values[train])
    assert set(y.tolist()) == {0, 1}


def test_bad_arguments(built_data):
    with pytest.raises(ValueError, match="'kind' parameter of BurstWindows must be one of"):
        BurstWindows(window=5, kind="both", data_dir=built_data)
    with pytest.raises(ValueError, match=r"\['window_10', 'window_5', 'window_50'\] for burst_windows. Got 'window_7'"):
        BurstWindows(window=7, data_dir=built_data)
    ds = BurstWindows(window=5, split=None, data_dir=built_data)
    with pytest.raises(IndexError):
        ds[len(ds)]
