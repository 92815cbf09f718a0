"""PyTorch datasets reading neurodata artifacts lazily from their Zarr stores."""

from __future__ import annotations

import importlib
from typing import Any

_classes = {
    "ANNBatches": "neurodata.torch._ann_batches",
    "BurstWindows": "neurodata.torch._burst_windows",
}


def __getattr__(name: str) -> Any:
    if name in _classes:
        return getattr(importlib.import_module(_classes[name]), name)
    msg = f"module 'neurodata.torch' has no attribute {name!r}"
    raise AttributeError(msg)


__all__ = sorted(_classes)
