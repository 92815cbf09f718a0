"""BrainGrid growth-network simulations, their spike tables, bursts and pre-burst windows."""

# >>> braingrid generator (simulation and HDF5 layout)
from ._growth import GrowthParams, outgrowth, overlap_area
from ._hdf5_layout import LayoutReport
from ._record import BrainGridRecord, spike_trains_from_events
from .hdf5 import check_braingrid_h5, checklist_h5, open_braingrid_h5, write_braingrid_h5
from ._network import (
    GrowthSimulation,
    NeuronParams,
    SynapseParams,
    inhibitory_mask,
    make_neurons,
    simulate_growth_network,
    starter_mask,
)

_generator_names = [
    "BrainGridRecord",
    "GrowthParams",
    "GrowthSimulation",
    "LayoutReport",
    "NeuronParams",
    "SynapseParams",
    "check_braingrid_h5",
    "checklist_h5",
    "inhibitory_mask",
    "make_neurons",
    "open_braingrid_h5",
    "outgrowth",
    "overlap_area",
    "simulate_growth_network",
    "spike_trains_from_events",
    "starter_mask",
    "write_braingrid_h5",
]
# <<< braingrid generator

# >>> braingrid derivations (spike table, bursts, windows)
from ._baselines import fit_threshold, format_baselines, window_baselines
from ._bursts import allburst_frame, avalanche_bursts, binned_bursts, burst_table, inter_burst_intervals, spike_time_counts
from ._spike_table import spike_table, spike_table_arrays
from ._windows import burst_onsets, burst_windows, bursts_of_detector, original_min_gap_steps, scaled_gap, window_frames, window_width
from .reports import baseline_report

_derivation_names = [
    "allburst_frame",
    "avalanche_bursts",
    "baseline_report",
    "binned_bursts",
    "burst_onsets",
    "burst_table",
    "burst_windows",
    "bursts_of_detector",
    "fit_threshold",
    "format_baselines",
    "inter_burst_intervals",
    "original_min_gap_steps",
    "scaled_gap",
    "spike_table",
    "spike_table_arrays",
    "spike_time_counts",
    "window_baselines",
    "window_frames",
    "window_width",
]
# <<< braingrid derivations

__all__ = sorted([*_generator_names, *_derivation_names])
