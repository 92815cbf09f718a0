"""``GFRBinned``: the sweeps of one bin size of the ``gfr_binned`` artifact (a preset of ArtifactDataset)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .._exceptions import ParamError
from ._dataset import DEFAULT_CACHE_MIB, ArtifactDataset

__all__ = ["GFRBinned"]

_STIMULI = ("Long Square", "Ramp", "Noise 1", "Noise 2")


class GFRBinned(ArtifactDataset):
    """Onset-aligned binned sweeps as ``{"current": ..., "rate": ..., "n_bins": ..., "sweep_cell": ...}``.

    Sweeps of different lengths share the longest one's time bins: past ``n_bins`` both
    ``current`` and ``rate`` are NaN. Mask the loss with ``n_bins``, or replace the NaN with
    ``transform={"current": torch.nan_to_num, "rate": torch.nan_to_num}``.

    Parameters
    ----------
    bin_size : int, default 20
        Bin size in ms (node ``bin_{bin_size}`` of the artifact: 10, 20, 50 or 100 as built).
    stimuli : sequence of str, optional
        Sweeps of these stimuli only (``"Long Square"``, ``"Ramp"``, ``"Noise 1"``, ``"Noise 2"``).
    cells : sequence of int, optional
        Sweeps of these cells (specimen ids) only.
    data_dir : path, optional
        Folder of built artifacts (default: option ``data_dir``).
    rev : str, optional
        Git revision to read the artifact at (through DVC).
    transform : callable or mapping of key to callable, optional
    cache_mib : float, default 512
        See :class:`ArtifactDataset`.

    Items
    -----
    current : float32 tensor of shape (n_time_bins,)
        Mean injected current per bin, in pA.
    rate : float32 tensor of shape (n_time_bins,)
        Spike count / bin width, in spikes/ms.
    n_bins : int64 scalar tensor
        Number of bins the sweep fills.
    sweep_cell : int64 scalar tensor
        Specimen id of the sweep's cell.

    Examples
    --------
    >>> ds = GFRBinned(bin_size=20, stimuli=["Noise 1", "Noise 2"])  # doctest: +SKIP
    >>> ds[0]["current"].shape  # (n_time_bins,)  # doctest: +SKIP
    """

    def __init__(
        self,
        bin_size: int = 20,
        *,
        stimuli: Sequence[str] | None = None,
        cells: Sequence[int] | None = None,
        data_dir: str | Path | None = None,
        rev: str | None = None,
        transform: Callable[[dict], dict] | Mapping[str, Callable] | None = None,
        cache_mib: float = DEFAULT_CACHE_MIB,
    ) -> None:
        where: dict[str, Any] = {}
        if stimuli is not None:
            bad = [s for s in stimuli if s not in _STIMULI]
            if isinstance(stimuli, str) or bad:
                msg = (f"The 'stimuli' parameter of GFRBinned must be a list of {list(_STIMULI)}. "
                       f"Got {stimuli!r} instead.")
                raise ParamError(msg)
            where["stimulus_name"] = list(stimuli)
        if cells is not None:
            where["sweep_cell"] = [int(c) for c in cells]
        self.bin_size = int(bin_size)
        super().__init__("gfr_binned", sample_dim="sweep", node=f"bin_{self.bin_size}", inputs="current",
                         targets="rate", extras=["n_bins", "sweep_cell"], where=where or None, data_dir=data_dir,
                         rev=rev, transform=transform, cache_mib=cache_mib)
