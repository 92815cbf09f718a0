"""``BurstWindows``: one window size of the ``burst_windows`` artifact (a preset of ArtifactDataset)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import dask
import numpy as np
import torch

from .._exceptions import ParamError
from ._dataset import DEFAULT_CACHE_MIB, ArtifactDataset

__all__ = ["BurstWindows"]

_INPUTS = {"temporal": "temporal", "spatial": ["x", "y"]}
_SPLITS = ("train", "val", "test")


class BurstWindows(ArtifactDataset):
    """Pre-burst / non-burst windows of one size and one split as ``{kind: features, "label": label}``.

    Parameters
    ----------
    window : int
        Window size in spikes (node ``window_{window}`` of the artifact).
    kind : {"temporal", "spatial"}, default "temporal"
        ``"temporal"``: features of shape (window,), step offsets from the window's first
        spike. ``"spatial"``: features of shape (window, 2), the (x, y) grid position of each spike.
    split : {"train", "val", "test"} or None, default "train"
        Samples of this split only (None: all samples).
    data_dir : path, optional
        Folder of built artifacts (default: option ``data_dir``).
    rev : str, optional
        Git revision to read the artifact at (through DVC).
    transform : callable or mapping of key to callable, optional
    cache_mib : float, default 512
        See :class:`ArtifactDataset`.

    Items
    -----
    temporal or spatial : float32 tensor of shape (window,) or (window, 2)
        In steps (temporal) or grid units (spatial).
    label : int64 scalar tensor
        1 = pre-burst window, 0 = non-burst window.

    Examples
    --------
    >>> from torch.utils.data import DataLoader  # doctest: +SKIP
    >>> ds = BurstWindows(window=50, kind="spatial")  # doctest: +SKIP
    >>> batch = next(iter(DataLoader(ds, batch_size=64, shuffle=True)))  # doctest: +SKIP
    >>> batch["spatial"].shape, batch["label"].shape  # (64, 50, 2), (64,)  # doctest: +SKIP
    """

    def __init__(
        self,
        window: int,
        kind: str = "temporal",
        split: str | None = "train",
        *,
        data_dir: str | Path | None = None,
        rev: str | None = None,
        transform: Callable[[dict], dict] | Mapping[str, Callable] | None = None,
        cache_mib: float = DEFAULT_CACHE_MIB,
    ) -> None:
        if kind not in _INPUTS:
            msg = f"The 'kind' parameter of BurstWindows must be one of {list(_INPUTS)}. Got {kind!r} instead."
            raise ParamError(msg)
        if split is not None and split not in _SPLITS:
            msg = (f"The 'split' parameter of BurstWindows must be one of {list(_SPLITS)} or None. "
                   f"Got {split!r} instead.")
            raise ParamError(msg)
        self.window, self.kind, self.split = int(window), kind, split
        super().__init__("burst_windows", sample_dim="sample", node=f"window_{self.window}",
                         inputs={kind: _INPUTS[kind]}, targets="label", where={"split": split} if split else None, data_dir=data_dir, rev=rev,
                         dtypes={kind: torch.float32}, transform=transform, cache_mib=cache_mib)

    @property
    def labels(self) -> np.ndarray:
        """Labels of the dataset's samples, shape (len(self),)."""
        with dask.config.set(scheduler="synchronous"):
            return np.asarray(self.dataset["label"].values)[self.positions]
