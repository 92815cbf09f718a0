"""ISF's file output of one batch (``.npy`` + a JSON sidecar): the I/O edge of the API.

The pipeline writes Zarr (stage ``isf_ann_batches``); this module keeps ISF's one-file-per-batch
output for users of the original layout.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ._activation import EI_LABELS, augment_with_spatial_bins, synapse_activation_array, time_bin_edges
from ._spatial_bins import spatial_bin_names as _bin_names

__all__ = ["save_synapse_activation_batch"]


def save_synapse_activation_batch(
    sa: pd.DataFrame,
    selected_stis: Sequence[str],
    batch_id: int,
    outdir: str | Path,
    section_distances_df: pd.DataFrame,
    spatial_bin_names: Sequence[str] | None = None,
    min_time: float = 0.0,
    max_time: float = 600.0,
    bin_size: float = 1.0,
    synaptic_weights: Mapping[str, float] | None = None,
    excitatory_celltypes: Sequence[str] = (),
    inhibitory_celltypes: Sequence[str] | None = None,
    tolerance: float = 0.1,
) -> Path:
    """Bin one batch of trials and save it as ``batch_<id>_SYNAPSE_ACTIVATION[_WEIGHTED].npy``.

    ISF ``save_SA_batch`` (a ``dask.delayed`` there; wrap this in ``dask.delayed`` for the same
    use). Bugs fixed: ISF ignored `synaptic_weights` and `bin_size`, and saved no labels; here
    weights give ``..._WEIGHTED.npy``, bins follow `bin_size`, and a sidecar
    ``batch_<id>_SYNAPSE_ACTIVATION.json`` lists the trial ids, ``['EXC', 'INH']``, the spatial
    bin names and the time-bin edges (ms).

    Parameters
    ----------
    sa : DataFrame
        ISF synapse-activation table (not yet augmented) indexed by sim_trial_index.
    selected_stis : sequence of str
        Trials of the batch, in output order.
    batch_id : int
    outdir : path
        Existing folder.
    section_distances_df : DataFrame
    spatial_bin_names : sequence of str, optional
        Default: all bins of `section_distances_df`.
    min_time, max_time, bin_size : float
        ms.
    synaptic_weights : mapping, optional
    excitatory_celltypes, inhibitory_celltypes : sequence of str
    tolerance : float
        µm.

    Returns
    -------
    Path
        Of the ``.npy`` file: float32 array (n_trials, 2, n_spatial_bins, n_time_bins).
    """
    outdir = Path(outdir)
    if not outdir.is_dir():
        msg = f"save_synapse_activation_batch: 'outdir' {str(outdir)!r} is not an existing folder."
        raise FileNotFoundError(msg)
    names = list(spatial_bin_names) if spatial_bin_names is not None else _bin_names(section_distances_df)
    sub = sa[sa.index.isin(list(selected_stis))]
    aug = augment_with_spatial_bins(sub, section_distances_df, synaptic_weights, excitatory_celltypes,
                                    inhibitory_celltypes, tolerance)
    weighted = bool(synaptic_weights)
    arr = synapse_activation_array(aug, selected_stis, names, min_time, max_time, bin_size, use_weights=weighted)
    stem = f"batch_{batch_id}_SYNAPSE_ACTIVATION" + ("_WEIGHTED" if weighted else "")
    path = outdir / f"{stem}.npy"
    np.save(path, arr)
    sidecar = {
        "dims": ["trial", "syn_type", "spatial_bin", "time"],
        "trial": [str(s) for s in selected_stis],
        "syn_type": list(EI_LABELS),
        "spatial_bin": names,
        "time_bin_edges_ms": time_bin_edges(min_time, max_time, bin_size).tolist(),
        "units": "nS" if weighted else "count",
    }
    (outdir / f"{stem}.json").write_text(json.dumps(sidecar, indent=1))
    return path
