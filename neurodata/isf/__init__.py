"""ISF-style ANN batches: a synthetic L5PT simrun and the prepare_ANN_batches capability."""

from ._activation import (
    EI_LABELS,
    assign_spatial_bins,
    augment_with_spatial_bins,
    classify_celltypes,
    synapse_activation_array,
    temporal_binning,
    time_bin_edges,
)
from ._ann_batches import AnnBatch, accumulate_batch_rows, make_ann_batch, soma_targets
from ._batch_files import save_synapse_activation_batch
from ._biophysics import Biophysics, compartmentalize, detect_spikes, simulate_soma_voltage
from ._delayed import run_delayeds_incrementally
from ._morphology import Morphology, make_l5pt_morphology
from ._simrun import (
    cell_morphology,
    make_simrun,
    spike_times_frame,
    synapse_activation_frame,
    synaptic_weights,
    voltage_frame,
)
from ._spatial_bins import (
    bin_adjacency_in_section,
    bin_index,
    bin_soma_distances,
    neighbouring_spatial_bins,
    section_bin_size,
    section_distances,
    spatial_bin_adjacency,
    spatial_bin_names,
    spatial_bin_table,
)
from ._spikes import ap_array, isi_array, isi_at, isi_from_spike_list, spike_times_to_onehot
from ._synapses import DEFAULT_CELL_TYPES, SynapseTable, activation_times, celltype_of, place_synapses
from ._voltage import max_depolarization_per_ms, max_depolarization_per_ms_dask, max_per_ms, time_groups

__all__ = [
    "AnnBatch",
    "Biophysics",
    "DEFAULT_CELL_TYPES",
    "EI_LABELS",
    "Morphology",
    "SynapseTable",
    "accumulate_batch_rows",
    "activation_times",
    "ap_array",
    "assign_spatial_bins",
    "augment_with_spatial_bins",
    "bin_adjacency_in_section",
    "bin_index",
    "bin_soma_distances",
    "cell_morphology",
    "celltype_of",
    "classify_celltypes",
    "compartmentalize",
    "detect_spikes",
    "isi_array",
    "isi_at",
    "isi_from_spike_list",
    "make_ann_batch",
    "make_l5pt_morphology",
    "make_simrun",
    "max_depolarization_per_ms",
    "max_depolarization_per_ms_dask",
    "max_per_ms",
    "neighbouring_spatial_bins",
    "place_synapses",
    "run_delayeds_incrementally",
    "save_synapse_activation_batch",
    "section_bin_size",
    "section_distances",
    "simulate_soma_voltage",
    "soma_targets",
    "spatial_bin_adjacency",
    "spatial_bin_names",
    "spatial_bin_table",
    "spike_times_frame",
    "spike_times_to_onehot",
    "synapse_activation_array",
    "synapse_activation_frame",
    "synaptic_weights",
    "temporal_binning",
    "time_bin_edges",
    "time_groups",
    "voltage_frame",
]
