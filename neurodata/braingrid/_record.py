"""A BrainGrid growth-simulation file in memory: the record the HDF5 writer takes.

Spikes are kept per probed neuron in CSR form (grouped by column, ascending within each), never
as BrainGrid's padded matrix; :func:`neurodata.braingrid.hdf5.write_braingrid_h5` pads them
block by block.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._exceptions import ParamError
from ._hdf5_layout import DT_S, EXC, INH

__all__ = ["BrainGridRecord", "spike_trains_from_events"]


def spike_trains_from_events(
    steps: np.ndarray, neurons: np.ndarray, n_neurons: int
) -> tuple[np.ndarray, np.ndarray]:
    """Group spike events into per-neuron trains (CSR form).

    Parameters
    ----------
    steps : ndarray of shape (n_spikes,), integer
        Spike time steps (dt = 1e-4 s), each >= 1.
    neurons : ndarray of shape (n_spikes,), integer
        Neuron index of each spike, in ``[0, n_neurons)``.
    n_neurons : int
        Number of neurons.

    Returns
    -------
    train_steps : ndarray of shape (n_spikes,), uint64
        Spike steps sorted by (neuron, step).
    counts : ndarray of shape (n_neurons,), int64
        Spikes per neuron; neuron j's train is
        ``train_steps[offsets[j]:offsets[j + 1]]`` with ``offsets = r_[0, cumsum(counts)]``.
    """
    steps = np.asarray(steps)
    neurons = np.asarray(neurons)
    if steps.shape != neurons.shape or steps.ndim != 1:
        msg = f"steps and neurons must be 1-D of equal length; got shapes {steps.shape} and {neurons.shape}"
        raise ParamError(msg)
    if neurons.size and (neurons.min() < 0 or neurons.max() >= n_neurons):
        msg = f"neurons must lie in [0, {n_neurons}); got range [{neurons.min()}, {neurons.max()}]"
        raise ParamError(msg)
    order = np.lexsort((steps, neurons))
    counts = np.bincount(neurons, minlength=n_neurons).astype(np.int64)
    return steps[order].astype(np.uint64), counts


@dataclass
class BrainGridRecord:
    """Everything a BrainGrid growth-simulation HDF5 file holds, in memory (compact form).

    Spikes are kept per neuron in CSR form (``spike_steps`` grouped by probed column,
    ascending within each column, ``spike_counts`` per column), never as the padded matrix.

    Attributes
    ----------
    xloc, yloc : ndarray of shape (n_neurons,), int
        Grid coordinates (grid units).
    neuron_types : ndarray of shape (n_neurons,), int
        1 = inhibitory, 2 = excitatory.
    neuron_thresh : ndarray of shape (n_neurons,), float
        Firing threshold [V].
    starter_neurons : ndarray of shape (n_starters,), int
        Ascending starter indices.
    probed_neurons : ndarray of shape (n_probed,), int
        Neuron index of each spike-matrix column.
    spike_steps : ndarray of shape (n_spikes,), uint64
        Spike time steps grouped by column, ascending within a column, each >= 1.
    spike_counts : ndarray of shape (n_probed,), int
        Spikes per column.
    radii_history : ndarray of shape (n_epochs + 1, n_neurons), float
        Radii [grid units]; row 0 = start radius.
    rates_history : ndarray of shape (n_epochs + 1, n_neurons), float
        Rates [Hz]; row 0 = 0.
    tsim_s : float
        Epoch length [s].
    attrs : dict
        Extra root attributes (provenance, schedule, scaled thresholds...).
    network_steps : ndarray of shape (n_network_spikes,), integer, optional
        Time steps of every spike of the network, probed or not, which ``spikesHistory`` and
        ``burstinessHist`` count (as BrainGrid's do). Default: *spike_steps*, right when every
        neuron is probed.
    """

    xloc: np.ndarray
    yloc: np.ndarray
    neuron_types: np.ndarray
    neuron_thresh: np.ndarray
    starter_neurons: np.ndarray
    probed_neurons: np.ndarray
    spike_steps: np.ndarray
    spike_counts: np.ndarray
    radii_history: np.ndarray
    rates_history: np.ndarray
    tsim_s: float
    attrs: dict[str, Any] = field(default_factory=dict)
    network_steps: np.ndarray | None = None

    @classmethod
    def from_raster(
        cls,
        steps: np.ndarray,
        neurons: np.ndarray,
        *,
        width: int,
        starters: np.ndarray,
        inhibitory: np.ndarray,
        n_epochs: int,
        tsim_s: float,
        radius: float = 0.4,
        thresh_v: tuple[float, float] = (0.015, 0.0136),
        probed: np.ndarray | None = None,
    ) -> BrainGridRecord:
        """The record of a given spike raster on a *width* x *width* grid, every neuron probed:
        for writing a BrainGrid-layout file from spikes that did not come from the growth
        simulation (test fixtures, benchmark files, spikes from another simulator).

        Parameters
        ----------
        steps, neurons : ndarray of shape (n_spikes,), integer
            Spike time steps (dt = 1e-4 s, each >= 1) and neuron ids (``y * width + x``).
        starters, inhibitory : ndarray of int
            Ids of the starter and of the inhibitory neurons (the rest are excitatory).
        n_epochs : int
            Growth epochs of *tsim_s* seconds; ``ratesHistory`` row e + 1 is the rate of each
            neuron in epoch e, counted from the raster.
        tsim_s : float
            Epoch length [s].
        radius : float, default 0.4
            Connection radius of every neuron in every epoch [grid units].
        thresh_v : (float, float)
            Firing threshold of the other neurons and of the starters [V].
        probed : ndarray of int, optional
            Neurons whose spikes the matrix holds, one column each in this order (default:
            all, ascending). The histograms and ``ratesHistory`` count every neuron's spikes,
            as BrainGrid's recorder does.
        """
        n = width * width
        steps = np.asarray(steps, dtype=np.int64)
        neurons = np.asarray(neurons, dtype=np.int64)
        probed = np.arange(n) if probed is None else np.asarray(probed, dtype=np.int64)
        column = np.full(n, -1, dtype=np.int64)
        column[probed] = np.arange(probed.size)
        kept = column[neurons] >= 0
        train_steps, counts = spike_trains_from_events(steps[kept], column[neurons[kept]], probed.size)
        types = np.full(n, EXC)
        types[np.asarray(inhibitory, dtype=np.int64)] = INH
        starters = np.sort(np.asarray(starters, dtype=np.int64))
        thresh = np.full(n, thresh_v[0], dtype=np.float32)
        thresh[starters] = thresh_v[1]
        rates = np.zeros((n_epochs + 1, n))
        np.add.at(rates, (steps // round(tsim_s / DT_S) + 1, neurons), 1.0 / tsim_s)
        return cls(
            xloc=np.arange(n) % width,
            yloc=np.arange(n) // width,
            neuron_types=types,
            neuron_thresh=thresh,
            starter_neurons=starters,
            probed_neurons=probed,
            spike_steps=train_steps,
            spike_counts=counts,
            radii_history=np.full((n_epochs + 1, n), radius),
            rates_history=rates,
            tsim_s=tsim_s,
            network_steps=None if probed.size == n else steps,
        )

    @property
    def n_neurons(self) -> int:
        """Number of neurons."""
        return int(np.asarray(self.xloc).shape[0])

    @property
    def n_epochs(self) -> int:
        """Number of growth epochs (rows of the histories minus one)."""
        return int(np.asarray(self.radii_history).shape[0]) - 1

    @property
    def end_step(self) -> int:
        """Total number of simulated steps, ``n_epochs * Tsim / dt``."""
        return round(self.n_epochs * self.tsim_s / DT_S)

    @property
    def n_seconds(self) -> int:
        """Number of 1-s ``burstinessHist`` bins."""
        return round(self.n_epochs * self.tsim_s)

    def check(self) -> None:
        """Check shapes, ranges and the per-column ordering; raise a ``neurodata.ParamError`` naming the field."""
        n = self.n_neurons
        for name in ("yloc", "neuron_types", "neuron_thresh"):
            shape = np.shape(getattr(self, name))
            if shape != (n,):
                msg = f"BrainGridRecord.{name} must have shape ({n},) like xloc; got {shape}"
                raise ParamError(msg)
        for name in ("radii_history", "rates_history"):
            shape = np.shape(getattr(self, name))
            if len(shape) != 2 or shape[1] != n or shape[0] < 1:
                msg = f"BrainGridRecord.{name} must have shape (n_epochs + 1, {n}); got {shape}"
                raise ParamError(msg)
        if np.shape(self.rates_history) != np.shape(self.radii_history):
            msg = (f"BrainGridRecord.rates_history shape {np.shape(self.rates_history)} differs from "
                   f"radii_history shape {np.shape(self.radii_history)}")
            raise ParamError(msg)
        if not self.tsim_s > 0 or abs(self.tsim_s / DT_S - round(self.tsim_s / DT_S)) > 1e-6:
            msg = f"BrainGridRecord.tsim_s must be a positive multiple of dt = {DT_S} s; got {self.tsim_s}"
            raise ParamError(msg)
        counts = np.asarray(self.spike_counts)
        if counts.shape != np.shape(self.probed_neurons):
            msg = (f"BrainGridRecord.spike_counts must have one entry per probed neuron "
                   f"({np.shape(self.probed_neurons)}); got {counts.shape}")
            raise ParamError(msg)
        if int(counts.sum()) != np.size(self.spike_steps):
            msg = (f"BrainGridRecord.spike_counts sum to {int(counts.sum())} but spike_steps has "
                   f"{np.size(self.spike_steps)}")
            raise ParamError(msg)
        steps = np.asarray(self.spike_steps, dtype=np.uint64)
        if steps.size:
            if steps.min() < 1 or steps.max() >= self.end_step:
                msg = (f"BrainGridRecord.spike_steps must lie in [1, {self.end_step}) (n_epochs * Tsim / dt); "
                       f"got range [{steps.min()}, {steps.max()}]")
                raise ParamError(msg)
            starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
            rising = np.diff(steps.astype(np.int64)) > 0
            rising[starts[counts > 0][1:] - 1] = True  # column boundaries need not rise
            if not rising.all():
                bad = int(np.flatnonzero(~rising)[0]) + 1
                col = int(np.searchsorted(np.cumsum(counts), bad, side="right"))
                msg = f"BrainGridRecord.spike_steps of column {col} are not strictly increasing"
                raise ParamError(msg)
        if self.network_steps is not None:
            net = np.asarray(self.network_steps, dtype=np.int64)
            if net.size < steps.size or (net.size and (net.min() < 1 or net.max() >= self.end_step)):
                msg = (f"BrainGridRecord.network_steps must hold every spike of the network, at least the "
                       f"{steps.size} probed ones, in [1, {self.end_step}); got {net.size} spikes"
                       + (f" in [{net.min()}, {net.max()}]" if net.size else ""))
                raise ParamError(msg)

