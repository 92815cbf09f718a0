"""EI-clustered spiking network (Rostami et al. 2024) simulated with NEST: weights, spikes, rates."""

from ._artifacts import rates_dataset, spikes_dataset, weights_dataset
from ._simulate import NEURON_TYPES, NetworkLayout, SimulationResult, network_layout, simulate_ei_network
from ._weights import (
    background_currents,
    base_weights,
    cluster_factors,
    clustered_weights,
    psp_peak_per_pa,
    rbn_weights,
    rheobase_current,
)
from .plots import cluster_colorgroups, raster_plot, rates_plot

__all__ = [
    "NEURON_TYPES",
    "NetworkLayout",
    "SimulationResult",
    "background_currents",
    "base_weights",
    "cluster_colorgroups",
    "cluster_factors",
    "clustered_weights",
    "network_layout",
    "psp_peak_per_pa",
    "raster_plot",
    "rates_dataset",
    "rates_plot",
    "rbn_weights",
    "rheobase_current",
    "simulate_ei_network",
    "spikes_dataset",
    "weights_dataset",
]
