"""EI-clustered spiking network (Rostami et al. 2024) simulated with NEST: weights, spikes, rates."""

from ._datasets import rates_dataset, spikes_dataset, weights_dataset
from ._params import check_network_params, default_network_params
from ._simulate import NetworkLayout, SimulationResult, network_layout, simulate_ei_network
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
    "NetworkLayout",
    "SimulationResult",
    "background_currents",
    "base_weights",
    "check_network_params",
    "cluster_colorgroups",
    "cluster_factors",
    "clustered_weights",
    "default_network_params",
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
