"""``ANNBatches``: the ``ann_batches`` artifact, one sample per trial (a preset of ArtifactDataset)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
import xarray as xr

from ._dataset import DEFAULT_CACHE_MIB, ArtifactDataset
from ._fields import parse_fields

__all__ = ["ANNBatches"]


class ANNBatches(ArtifactDataset):
    """Trials of the ``ann_batches`` artifact as ``{"synapse_activation": x, "ap": ..., ...}``.

    Parameters
    ----------
    source : str, path, xarray.Dataset or None
        Default: the built ``ann_batches`` artifact; or its store path, or an opened Dataset.
    data_dir : path, optional
        Folder of built artifacts (default: option ``data_dir``).
    rev : str, optional
        Git revision to read the artifact at (through DVC).
    inputs : str, list or mapping, default "synapse_activation"
    targets : str, list or mapping, default ["ap", "isi", "vt_max_per_ms"]
        Any variables along ``trial`` by name (targets added to the artifact later included).
        Every target is served as float32 (``ap``: 1.0 where a soma spike falls in the bin),
        the form loss functions take.
    transform : callable or mapping of key to callable, optional
        e.g. ``{"synapse_activation": torch.log1p}``.
    cache_mib : float, default 512
        See :class:`ArtifactDataset`.

    Items
    -----
    synapse_activation : float32 tensor of shape (2, n_spatial_bins, n_time)
        EXC/INH activations per spatial bin and time bin.
    ap, isi : float32 tensors of shape (n_time,)
        Spike in the bin (0/1), time since the last spike in ms.
    vt_max_per_ms : float32 tensor of shape (n_ms,)
        Maximal soma depolarisation per ms, in mV.

    Examples
    --------
    >>> from torch.utils.data import DataLoader  # doctest: +SKIP
    >>> batch = next(iter(DataLoader(ANNBatches(), batch_size=32, shuffle=True, num_workers=2)))  # doctest: +SKIP
    >>> batch["synapse_activation"].shape  # (32, 2, n_spatial_bins, n_time)  # doctest: +SKIP
    """

    def __init__(
        self,
        source: str | Path | xr.Dataset | None = None,
        *,
        data_dir: str | Path | None = None,
        rev: str | None = None,
        inputs: Any = "synapse_activation",
        targets: Any = ("ap", "isi", "vt_max_per_ms"),
        transform: Callable[[dict], dict] | Mapping[str, Callable] | None = None,
        cache_mib: float = DEFAULT_CACHE_MIB,
    ) -> None:
        keys = [f.key for f in parse_fields(targets, "target", type(self).__name__)]
        super().__init__("ann_batches" if source is None else source, sample_dim="trial", inputs=inputs,
                         targets=targets, data_dir=data_dir, rev=rev, dtypes=dict.fromkeys(keys, torch.float32),
                         transform=transform, cache_mib=cache_mib)

    @property
    def trial_ids(self) -> list[str]:
        """ISF sim_trial_index of every item."""
        return [str(t) for t in self.sample_coords]

    @property
    def spatial_bins(self) -> list[str]:
        """Names ``'<section>/<bin>'`` of axis 1 of ``synapse_activation``."""
        return [str(b) for b in self.dataset["spatial_bin"].values]
