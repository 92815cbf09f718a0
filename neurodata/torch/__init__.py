"""PyTorch datasets of named tensors over neurodata artifacts, read lazily from their Zarr stores."""

from __future__ import annotations

import importlib
from typing import Any

# torch loads on first access, so `import neurodata.torch` stays cheap.
_classes = {
    "ANNBatches": "neurodata.torch._ann_batches",
    "ArtifactDataset": "neurodata.torch._dataset",
    "BlockShuffleSampler": "neurodata.torch._sampler",
    "BurstWindows": "neurodata.torch._burst_windows",
    "GFRBinned": "neurodata.torch._gfr_binned",
}


def __getattr__(name: str) -> Any:
    if name in _classes:
        return getattr(importlib.import_module(_classes[name]), name)
    msg = f"module 'neurodata.torch' has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = sorted(_classes)
