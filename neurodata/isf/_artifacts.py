"""The isf artifacts as labelled xarray objects: the simrun, the spatial bins, the ANN batches.

Values only; ``units`` and ``long_name`` come from the contracts (:func:`neurodata.schemas.label`).

Layout of ``isf_simrun`` (one Dataset, all in one Zarr group):

* ``section`` dim: ``section_label``, ``section_parent``, ``section_parent_x``,
  ``section_length``, ``section_min_distance``, ``section_max_distance``;
* ``point`` dim: ``point_section``, ``point_x``/``y``/``z``, ``point_diameter`` (the 3D points);
* ``celltype`` dim: ``celltype_is_excitatory``, ``celltype_weight``, ``celltype_n_synapses``;
* ``sa_row`` x ``activation_slot``: ISF's synapse-activation table, one row per active
  synapse and trial: ``sim_trial_index``, ``synapse_type``, ``synapse_ID``, ``soma_distance``,
  ``section_ID``, ``section_pt_ID``, ``dendrite_label`` and ``activation_times`` (ms, NaN-padded);
  rows are sorted by trial, then synapse type and ID;
* ``trial`` dim (coordinate = ISF ``sim_trial_index`` strings ``'<run>/<000000>'``):
  ``sa_row_start``/``sa_row_count`` (row range of each trial), ``n_spikes``;
* ``trial`` x ``time``: ``soma_voltage`` (mV, every ``dt_ms`` from 0);
* ``trial`` x ``spike``: ``spike_times`` (ms, NaN-padded, 0 mV upward crossings);
* ``rec_site`` dim (coordinate = ISF's site keys ``..._somaDist_<µm>``, with
  ``rec_site_soma_distance``, ``rec_site_section``, ``rec_site_x``): the dendritic
  recording sites on the apical trunk (ISF's two-site ``apical_proximal_distal_rec_sites``);
  ``dendrite_voltage`` (trial x rec_site x time, mV) and ``dendrite_spike_times``
  (trial x rec_site x dendrite_spike, ms, −30 mV upward crossings as ISF detects them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr

from ..schemas import label
from ._activation import EI_LABELS

if TYPE_CHECKING:
    from ._ann_batches import AnnBatch
    from ._morphology import Morphology
    from ._simrun import SimrunResult
    from ._spatial_bins import SpatialBins

__all__ = ["ann_batch_piece", "ann_batches_template", "simrun_dataset", "spatial_bins_dataset"]


def _padded(rows: Sequence[np.ndarray]) -> np.ndarray:
    """Rows of different lengths as one NaN-padded (n_rows, max(1, longest)) array."""
    out = np.full((len(rows), max([1, *(len(r) for r in rows)])), np.nan)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out


def simrun_dataset(result: SimrunResult) -> xr.Dataset:
    """The ``isf_simrun`` artifact of a simulated simrun (layout: the module docstring).

    Parameters
    ----------
    result : SimrunResult
        From `neurodata.isf.simulate_simrun`.

    Returns
    -------
    xarray.Dataset
        Labelled from the ``isf_simrun`` contract.
    """
    from ._simrun import DENDRITE_SPIKE_THRESHOLD_MV, MODEL, SOMA_SPIKE_THRESHOLD_MV, activation_table

    morph, syn, types = result.morphology, result.synapses, result.cell_types
    n_trials, n_sites = result.n_trials, len(result.sites)
    table = activation_table(result.trial, result.synapse, result.time_ms, len(syn), n_trials)
    row_syn = table["row_synapse"]
    sti = np.asarray([f"simrun_seed{result.seed}/{i:06d}" for i in range(n_trials)], dtype=object)
    n_spk = np.array([len(s) for s in result.spike_times], dtype=np.int64)
    n_dsp = np.array([[len(result.dendrite_spike_times[j][r]) for j in range(n_sites)] for r in range(n_trials)],
                     dtype=np.int64).reshape(n_trials, n_sites)
    dsp = np.full((n_trials, n_sites, max(1, int(n_dsp.max()) if n_dsp.size else 1)), np.nan)
    for j in range(n_sites):
        for r, times in enumerate(result.dendrite_spike_times[j]):
            dsp[r, j, : len(times)] = times
    lo, hi = morph.section_distances()
    names = sorted(types)
    type_names = [f"{n}_{result.column}" for n in names]
    type_code = pd.Index(type_names).get_indexer(syn.synapse_type).astype(np.int16)
    ds = xr.Dataset(
        {
            "section_label": ("section", np.asarray(morph.label, dtype=object)),
            "section_parent": ("section", morph.parent),
            "section_parent_x": ("section", morph.parent_x),
            "section_length": ("section", morph.section_lengths()),
            "section_min_distance": ("section", lo),
            "section_max_distance": ("section", hi),
            "point_section": ("point", morph.point_section),
            "point_x": ("point", morph.xyz[:, 0]),
            "point_y": ("point", morph.xyz[:, 1]),
            "point_z": ("point", morph.xyz[:, 2]),
            "point_diameter": ("point", morph.diam),
            "celltype_is_excitatory": ("celltype", np.array([n in result.excitatory_celltypes for n in names])),
            "celltype_weight": ("celltype", np.array([float(types[n]["weight_nS"]) for n in names])),
            "celltype_n_synapses": ("celltype", np.array([int(types[n]["n"]) for n in names], dtype=np.int64)),
            "sim_trial_index": ("sa_row", sti[table["row_trial"]]),
            "synapse_type": ("sa_row", syn.synapse_type[row_syn]),
            "synapse_type_code": ("sa_row", type_code[row_syn]),
            "synapse_ID": ("sa_row", syn.synapse_ID[row_syn]),
            "soma_distance": ("sa_row", syn.soma_distance[row_syn]),
            "section_ID": ("sa_row", syn.section_ID[row_syn]),
            "section_pt_ID": ("sa_row", syn.section_pt_ID[row_syn]),
            "dendrite_label": ("sa_row", syn.dendrite_label[row_syn]),
            "activation_times": (("sa_row", "activation_slot"), table["activation_times"]),
            "sa_row_start": ("trial", table["row_start"]),
            "sa_row_count": ("trial", table["row_count"]),
            "soma_voltage": (("trial", "time"), result.soma_voltage),
            "spike_times": (("trial", "spike"), _padded(result.spike_times)),
            "n_spikes": ("trial", n_spk),
            "dendrite_voltage": (("trial", "rec_site", "time"), result.dendrite_voltage),
            "dendrite_spike_times": (("trial", "rec_site", "dendrite_spike"), dsp),
            "n_dendrite_spikes": (("trial", "rec_site"), n_dsp),
        },
        coords={
            "section": ("section", np.arange(morph.n_sections, dtype=np.int64)),
            "celltype": ("celltype", np.asarray(names, dtype=object)),
            "synapse_type_name": ("celltype", np.asarray(type_names, dtype=object)),
            "trial": ("trial", sti),
            "time": ("time", np.arange(result.soma_voltage.shape[1]) * result.dt_ms),
            "rec_site": ("rec_site", np.asarray([site.name for site in result.sites], dtype=object)),
            "rec_site_soma_distance": ("rec_site", np.array([site.soma_distance for site in result.sites])),
            "rec_site_section": ("rec_site", np.array([site.section for site in result.sites], dtype=np.int64)),
            "rec_site_x": ("rec_site", np.array([site.x for site in result.sites])),
        },
        attrs={
            "dt_ms": result.dt_ms, "t_stop_ms": result.t_stop_ms, "stimulus_time_ms": result.stimulus_time_ms,
            "column": result.column, "n_synapses": int(len(syn)), "model": MODEL,
            "soma_spike_threshold_mV": SOMA_SPIKE_THRESHOLD_MV,
            "dendrite_spike_threshold_mV": DENDRITE_SPIKE_THRESHOLD_MV,
        },
    )
    return label(ds, "isf_simrun")


def spatial_bins_dataset(morphology: Morphology, bins: SpatialBins, bin_size_goal_um: float) -> xr.Dataset:
    """The ``isf_spatial_bins`` artifact: bins of every section, their adjacency, the bin of every 3D point.

    Parameters
    ----------
    morphology : Morphology
        The simrun's cell.
    bins : SpatialBins
        From `neurodata.isf.spatial_bins_of`.
    bin_size_goal_um : float
        The goal bin width (µm).

    Returns
    -------
    xarray.Dataset
        Labelled from the ``isf_spatial_bins`` contract.
    """
    table, sdf = bins.table, bins.section_distances
    ds = xr.Dataset(
        {
            "bin_section": ("spatial_bin", table["section"].to_numpy(np.int64)),
            "bin_index": ("spatial_bin", table["bin"].to_numpy(np.int64)),
            "bin_label": ("spatial_bin", table["label"].to_numpy(object)),
            "bin_start_distance": ("spatial_bin", table["start"].to_numpy(np.float64)),
            "bin_end_distance": ("spatial_bin", table["end"].to_numpy(np.float64)),
            "bin_soma_distance": ("spatial_bin", table["centre"].to_numpy(np.float64)),
            "section_label": ("section", sdf["label"].to_numpy(object)),
            "section_min_distance": ("section", sdf["min_"].to_numpy(np.float64)),
            "section_max_distance": ("section", sdf["max_"].to_numpy(np.float64)),
            "section_n_bins": ("section", sdf["n_bins"].to_numpy(np.int64)),
            "section_bin_size": ("section", sdf["binsize"].to_numpy(np.float64)),
            "point_x": ("point", morphology.xyz[:, 0]),
            "point_y": ("point", morphology.xyz[:, 1]),
            "point_z": ("point", morphology.xyz[:, 2]),
            "point_section": ("point", morphology.point_section),
            "point_spatial_bin": ("point", bins.point_bin),
            "adjacency_from": ("adjacency", bins.adjacency[:, 0]),
            "adjacency_to": ("adjacency", bins.adjacency[:, 1]),
        },
        coords={
            "spatial_bin": ("spatial_bin", np.asarray(bins.names, dtype=object)),
            "section": ("section", np.arange(len(sdf), dtype=np.int64)),
        },
        attrs={"bin_size_goal_um": float(bin_size_goal_um)},
    )
    return label(ds, "isf_spatial_bins")


def _lazy(shape: tuple[int, ...], dtype: Any) -> da.Array:
    return da.zeros(shape, dtype=dtype, chunks=shape)


def ann_batches_template(
    trials: np.ndarray,
    bins: xr.Dataset,
    edges: np.ndarray,
    time_ms: np.ndarray,
    *,
    dendrite_site: str,
    dendrite_soma_distance: float,
    attrs: Mapping[str, Any],
) -> xr.Dataset:
    """The ``ann_batches`` store before its batch tasks fill it.

    Parameters
    ----------
    trials : ndarray of str, shape (n_trials,)
        The simrun's sim_trial_index.
    bins : xarray.Dataset
        The ``isf_spatial_bins`` artifact (its ``spatial_bin``, ``bin_section`` and
        ``bin_soma_distance``).
    edges : ndarray of float64, shape (n_time + 1,)
        Temporal bin edges (ms).
    time_ms : ndarray of float64, shape (n_ms,)
        Start of each 1 ms block of the voltage targets (ms).
    dendrite_site : str
        Key of the distal recording site.
    dendrite_soma_distance : float
        Its soma distance (µm).
    attrs : mapping
        Dataset attrs (the window, bin size, batch size, weighting, ``isi_fill_ms``).

    Returns
    -------
    xarray.Dataset
        Labelled from the ``ann_batches`` contract; variables lazy (zeros).
    """
    n_trials, n_bins, n_time, n_ms = len(trials), bins.sizes["spatial_bin"], len(edges) - 1, len(time_ms)
    per_ms, per_bin = ("trial", "time_ms"), ("trial", "time")
    ds = xr.Dataset(
        {
            "synapse_activation": (("trial", "syn_type", "spatial_bin", "time"), _lazy((n_trials, 2, n_bins, n_time), np.float32)),
            "vt_max_per_ms": (per_ms, _lazy((n_trials, n_ms), np.float32)),
            "ap": (per_bin, _lazy((n_trials, n_time), bool)),
            "isi": (per_bin, _lazy((n_trials, n_time), np.float32)),
            "vt_soma": (per_ms, _lazy((n_trials, n_ms), np.float32)),
            "vt_dend_max_per_ms": (per_ms, _lazy((n_trials, n_ms), np.float32)),
            "ap_dend": (per_bin, _lazy((n_trials, n_time), bool)),
            "isi_dend": (per_bin, _lazy((n_trials, n_time), np.float32)),
            "batch": ("trial", _lazy((n_trials,), np.int64)),
            "n_activations_outside": ("trial", _lazy((n_trials,), np.int64)),
        },
        coords={
            "trial": ("trial", np.asarray(trials).astype(object)),
            "syn_type": ("syn_type", np.asarray(EI_LABELS, dtype=object)),
            "spatial_bin": ("spatial_bin", np.asarray(bins["spatial_bin"].values).astype(object)),
            "bin_section": ("spatial_bin", np.asarray(bins["bin_section"].values).astype(np.int64)),
            "bin_soma_distance": ("spatial_bin", np.asarray(bins["bin_soma_distance"].values).astype(np.float64)),
            "time": ("time", np.asarray(edges[:-1], dtype=np.float64)),
            "time_ms": ("time_ms", np.asarray(time_ms, dtype=np.float64)),
            "dendrite_site": ((), np.array(dendrite_site, dtype=object)),
            "dendrite_soma_distance": ((), float(dendrite_soma_distance)),
        },
        attrs=dict(attrs),
    )
    return label(ds, "ann_batches")


def ann_batch_piece(batch: AnnBatch, batch_index: int) -> xr.Dataset:
    """The variables of one batch of trials of ``ann_batches`` (one task of the stage).

    Parameters
    ----------
    batch : AnnBatch
        With the dendritic targets.
    batch_index : int
        Position of the batch (the ``batch`` variable).

    Returns
    -------
    xarray.Dataset
        The template's variables for the batch's trials (dims as in `ann_batches_template`).
    """
    n = batch.synapse_activation.shape[0]
    return xr.Dataset({
        "synapse_activation": (("trial", "syn_type", "spatial_bin", "time"), batch.synapse_activation),
        "vt_max_per_ms": (("trial", "time_ms"), batch.vt_max_per_ms),
        "ap": (("trial", "time"), batch.ap),
        "isi": (("trial", "time"), batch.isi),
        "vt_soma": (("trial", "time_ms"), batch.vt_soma),
        "vt_dend_max_per_ms": (("trial", "time_ms"), batch.vt_dend_max_per_ms),
        "ap_dend": (("trial", "time"), batch.ap_dend),
        "isi_dend": (("trial", "time"), np.asarray(batch.isi_dend, dtype=np.float32)),
        "batch": ("trial", np.full(n, batch_index, dtype=np.int64)),
        "n_activations_outside": ("trial", batch.n_outside),
    })
