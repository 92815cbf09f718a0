"""BrainGrid's growth-simulation HDF5 layout: the contract, a writer and a checker.

The layout is that of BrainGrid's ``Hdf5GrowthRecorder`` as read by Lundvall's notebooks
(spec ``braingrid.md`` §1.6). All datasets sit at the file root, 1-D or 2-D:

==========================  ============================  =======  ==========================================
key                         shape                         dtype    meaning
==========================  ============================  =======  ==========================================
``Tsim``                    (1,)                          ``<f4``  epoch (growth cycle) duration [s]
``simulationEndTime``       (1,)                          ``<f4``  last simulated step x dt [s]
``burstinessHist``          (n_seconds,)                  ``<i4``  network spike count per 1 s bin
``spikesHistory``           (100 * n_seconds,)            ``<i4``  network spike count per 10 ms bin
``xloc``, ``yloc``          (n_neurons,)                  ``<i4``  grid coordinates, ``x = i % W``, ``y = i // W``
``neuronTypes``             (n_neurons,)                  ``<i4``  1 = inhibitory, 2 = excitatory
``neuronThresh``            (n_neurons,)                  ``<f4``  firing threshold [V]
``starterNeurons``          (n_starters,)                 ``<i4``  ascending indices of the starter neurons
``probedNeurons``           (n_probed,)                   ``<i4``  neuron index of each spike-matrix column
``spikesProbedNeurons``     (max_spikes, n_probed)        ``<u8``  column j: spike time steps of probed neuron
                                                                   j, ascending; 0 (the fill value) = no spike
``radiiHistory``            (n_epochs + 1, n_neurons)     ``<f4``  row 0 = start radius; row k = radius after
                                                                   epoch k [grid units]
``ratesHistory``            (n_epochs + 1, n_neurons)     ``<f4``  row 0 = 0; row k = rate in epoch k [Hz]
==========================  ============================  =======  ==========================================

``spikesProbedNeurons`` carries one attribute, ``attrPNUint`` (sic, ``<f4`` scalar), the
seconds per time step (1e-4). ``n_seconds = round(n_epochs * Tsim)``. Step 0 can never be a
spike (it is the padding value); BrainGrid's first possible spike is at step 1 or later
because neurons start below threshold.

:func:`write_braingrid_h5` writes a layout-valid file atomically from a
:class:`BrainGridRecord`; the spike matrix is written in row blocks, so the padded matrix is
never held whole. :func:`check_layout` checks keys, dtypes, shapes and the attribute of an
open file (cheap, no data read); :func:`check_braingrid_h5` runs the file-level checklist of
spec §4.5 items 1-5, streaming the spike matrix over column blocks.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._exceptions import SchemaViolation
from ..store import atomic_output

__all__ = [
    "DT_S",
    "EXC",
    "INH",
    "LAYOUT",
    "SPIKE_MATRIX_KEY",
    "SPIKE_UNIT_ATTR",
    "STEPS_PER_BURSTINESS_BIN",
    "STEPS_PER_SPIKES_HISTORY_BIN",
    "BrainGridRecord",
    "LayoutReport",
    "check_braingrid_h5",
    "check_layout",
    "spike_trains_from_events",
    "write_braingrid_h5",
]

DT_S = 1e-4
"""Simulation time step [s] (BrainGrid ``DEFAULT_dt``)."""
STEPS_PER_SPIKES_HISTORY_BIN = 100
"""Time steps per ``spikesHistory`` bin (10 ms)."""
STEPS_PER_BURSTINESS_BIN = 10_000
"""Time steps per ``burstinessHist`` bin (1 s)."""
INH = 1
"""``neuronTypes`` code of an inhibitory neuron."""
EXC = 2
"""``neuronTypes`` code of an excitatory neuron."""
SPIKE_MATRIX_KEY = "spikesProbedNeurons"
SPIKE_UNIT_ATTR = "attrPNUint"

LAYOUT: dict[str, tuple[tuple[str, ...], str]] = {
    "Tsim": (("1",), "<f4"),
    "simulationEndTime": (("1",), "<f4"),
    "burstinessHist": (("n_seconds",), "<i4"),
    "spikesHistory": (("n_10ms_bins",), "<i4"),
    "xloc": (("n_neurons",), "<i4"),
    "yloc": (("n_neurons",), "<i4"),
    "neuronTypes": (("n_neurons",), "<i4"),
    "neuronThresh": (("n_neurons",), "<f4"),
    "starterNeurons": (("n_starters",), "<i4"),
    "probedNeurons": (("n_probed",), "<i4"),
    SPIKE_MATRIX_KEY: (("max_spikes", "n_probed"), "<u8"),
    "radiiHistory": (("n_epochs_plus_1", "n_neurons"), "<f4"),
    "ratesHistory": (("n_epochs_plus_1", "n_neurons"), "<f4"),
}
"""Key -> (symbolic shape, dtype) of every dataset of the layout (spec §1.6)."""

_BLOCK_BYTES = 64 * 2**20


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
        raise ValueError(msg)
    if neurons.size and (neurons.min() < 0 or neurons.max() >= n_neurons):
        msg = f"neurons must lie in [0, {n_neurons}); got range [{neurons.min()}, {neurons.max()}]"
        raise ValueError(msg)
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
        """Check shapes, ranges and the per-column ordering; raise ValueError naming the field."""
        n = self.n_neurons
        for name in ("yloc", "neuron_types", "neuron_thresh"):
            shape = np.shape(getattr(self, name))
            if shape != (n,):
                msg = f"BrainGridRecord.{name} must have shape ({n},) like xloc; got {shape}"
                raise ValueError(msg)
        for name in ("radii_history", "rates_history"):
            shape = np.shape(getattr(self, name))
            if len(shape) != 2 or shape[1] != n or shape[0] < 1:
                msg = f"BrainGridRecord.{name} must have shape (n_epochs + 1, {n}); got {shape}"
                raise ValueError(msg)
        if np.shape(self.rates_history) != np.shape(self.radii_history):
            msg = (f"BrainGridRecord.rates_history shape {np.shape(self.rates_history)} differs from "
                   f"radii_history shape {np.shape(self.radii_history)}")
            raise ValueError(msg)
        if not self.tsim_s > 0 or abs(self.tsim_s / DT_S - round(self.tsim_s / DT_S)) > 1e-6:
            msg = f"BrainGridRecord.tsim_s must be a positive multiple of dt = {DT_S} s; got {self.tsim_s}"
            raise ValueError(msg)
        counts = np.asarray(self.spike_counts)
        if counts.shape != np.shape(self.probed_neurons):
            msg = (f"BrainGridRecord.spike_counts must have one entry per probed neuron "
                   f"({np.shape(self.probed_neurons)}); got {counts.shape}")
            raise ValueError(msg)
        if int(counts.sum()) != np.size(self.spike_steps):
            msg = (f"BrainGridRecord.spike_counts sum to {int(counts.sum())} but spike_steps has "
                   f"{np.size(self.spike_steps)}")
            raise ValueError(msg)
        steps = np.asarray(self.spike_steps, dtype=np.uint64)
        if steps.size:
            if steps.min() < 1 or steps.max() >= self.end_step:
                msg = (f"BrainGridRecord.spike_steps must lie in [1, {self.end_step}) (n_epochs * Tsim / dt); "
                       f"got range [{steps.min()}, {steps.max()}]")
                raise ValueError(msg)
            starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
            rising = np.diff(steps.astype(np.int64)) > 0
            rising[starts[counts > 0][1:] - 1] = True  # column boundaries need not rise
            if not rising.all():
                bad = int(np.flatnonzero(~rising)[0]) + 1
                col = int(np.searchsorted(np.cumsum(counts), bad, side="right"))
                msg = f"BrainGridRecord.spike_steps of column {col} are not strictly increasing"
                raise ValueError(msg)
        if self.network_steps is not None:
            net = np.asarray(self.network_steps, dtype=np.int64)
            if net.size < steps.size or (net.size and (net.min() < 1 or net.max() >= self.end_step)):
                msg = (f"BrainGridRecord.network_steps must hold every spike of the network, at least the "
                       f"{steps.size} probed ones, in [1, {self.end_step}); got {net.size} spikes"
                       + (f" in [{net.min()}, {net.max()}]" if net.size else ""))
                raise ValueError(msg)


def write_braingrid_h5(
    path: str | os.PathLike,
    record: BrainGridRecord,
    *,
    n_rows: int | None = None,
    compression: str | None = None,
    block_bytes: int = _BLOCK_BYTES,
) -> Path:
    """Write a BrainGrid-layout HDF5 file atomically.

    The spike matrix ``spikesProbedNeurons`` (``max_spikes x n_probed`` uint64, zero-padded,
    fill value 0) is written in row blocks of at most *block_bytes*, so memory stays
    O(block + spikes). ``burstinessHist``, ``spikesHistory`` and ``simulationEndTime`` are
    derived from the spikes, which keeps checklist item 1 true by construction. The file is
    written to a temporary name in the destination folder and renamed into place.

    Parameters
    ----------
    path : path-like
        Destination ``.h5`` file.
    record : BrainGridRecord
        The data to write.
    n_rows : int, optional
        Rows of the spike matrix; default (and minimum) the largest per-column count. A larger
        value adds zero padding (used to show that readers do not grow with padding).
    compression : {None, "gzip"}, default None
        None writes contiguous, uncompressed datasets like BrainGrid; "gzip" compresses the
        spike matrix in chunks (readers see identical data).
    block_bytes : int, default 64 MiB
        Size of one row block written at a time.

    Returns
    -------
    Path
        The written file.
    """
    import h5py

    record.check()
    path = Path(path)
    counts = np.asarray(record.spike_counts, dtype=np.int64)
    steps = np.asarray(record.spike_steps, dtype=np.uint64)
    n_probed = counts.shape[0]
    max_count = int(counts.max()) if n_probed else 0
    rows = max_count if n_rows is None else int(n_rows)
    if rows < max_count:
        msg = f"n_rows must be >= the largest per-neuron spike count {max_count}; got {n_rows}"
        raise ValueError(msg)
    if compression not in (None, "gzip"):
        msg = f"compression must be None or 'gzip'; got {compression!r}"
        raise ValueError(msg)
    n_sec = record.n_seconds
    steps_i = (steps if record.network_steps is None else np.asarray(record.network_steps)).astype(np.int64)
    burstiness = np.bincount(steps_i // STEPS_PER_BURSTINESS_BIN, minlength=n_sec).astype("<i4")
    history = np.bincount(steps_i // STEPS_PER_SPIKES_HISTORY_BIN,
                          minlength=n_sec * (STEPS_PER_BURSTINESS_BIN // STEPS_PER_SPIKES_HISTORY_BIN)).astype("<i4")

    with atomic_output(path) as tmp, h5py.File(tmp, "w") as f:
        f.create_dataset("Tsim", data=np.array([record.tsim_s], dtype="<f4"))
        f.create_dataset("simulationEndTime", data=np.array([record.end_step * DT_S], dtype="<f4"))
        f.create_dataset("burstinessHist", data=burstiness)
        f.create_dataset("spikesHistory", data=history)
        f.create_dataset("xloc", data=np.asarray(record.xloc, dtype="<i4"))
        f.create_dataset("yloc", data=np.asarray(record.yloc, dtype="<i4"))
        f.create_dataset("neuronTypes", data=np.asarray(record.neuron_types, dtype="<i4"))
        f.create_dataset("neuronThresh", data=np.asarray(record.neuron_thresh, dtype="<f4"))
        f.create_dataset("starterNeurons", data=np.asarray(record.starter_neurons, dtype="<i4"))
        f.create_dataset("probedNeurons", data=np.asarray(record.probed_neurons, dtype="<i4"))
        f.create_dataset("radiiHistory", data=np.asarray(record.radii_history, dtype="<f4"))
        f.create_dataset("ratesHistory", data=np.asarray(record.rates_history, dtype="<f4"))
        kw: dict[str, Any] = {"fillvalue": np.uint64(0)}
        if compression == "gzip":
            kw.update(compression="gzip", compression_opts=4,
                      chunks=(max(1, min(rows, 1024)), max(1, min(n_probed, 256))))
        ds = f.create_dataset(SPIKE_MATRIX_KEY, shape=(rows, n_probed), dtype="<u8", **kw)
        ds.attrs.create(SPIKE_UNIT_ATTR, np.float32(DT_S), dtype="<f4")
        _write_spike_rows(ds, steps, counts, max_count, block_bytes)
        for key, value in record.attrs.items():
            f.attrs[key] = value
    return path


def _write_spike_rows(ds: Any, steps: np.ndarray, counts: np.ndarray, max_count: int, block_bytes: int) -> None:
    """Fill rows ``[0, max_count)`` of the spike matrix from CSR trains, one row block at a time."""
    n_probed = counts.shape[0]
    if max_count == 0 or n_probed == 0:
        return
    offsets = np.concatenate([[0], np.cumsum(counts)])
    column = np.repeat(np.arange(n_probed, dtype=np.int64), counts)
    rank = np.arange(steps.shape[0], dtype=np.int64) - offsets[column]
    order = np.argsort(rank, kind="stable")  # spikes grouped by row, then by column
    rank_sorted = rank[order]
    rows_per_block = max(1, block_bytes // (8 * n_probed))
    for r0 in range(0, max_count, rows_per_block):
        r1 = min(max_count, r0 + rows_per_block)
        lo, hi = np.searchsorted(rank_sorted, [r0, r1])
        sel = order[lo:hi]
        block = np.zeros((r1 - r0, n_probed), dtype=np.uint64)
        block[rank[sel] - r0, column[sel]] = steps[sel]
        ds[r0:r1, :] = block


@dataclass
class LayoutReport:
    """What :func:`check_braingrid_h5` found in a layout-valid file.

    Attributes
    ----------
    n_neurons, n_probed, n_starters, n_epochs, n_rows : int
        Sizes read from the file (``n_rows`` = rows of the spike matrix).
    tsim_s : float
        Epoch length [s].
    end_step : int
        ``n_epochs * Tsim / dt``: no spike may reach it.
    spike_counts : ndarray of shape (n_probed,), int64
        Spikes per column (length of the non-zero prefix).
    n_spikes : int
        Total spikes.
    """

    n_neurons: int
    n_probed: int
    n_starters: int
    n_epochs: int
    n_rows: int
    tsim_s: float
    end_step: int
    spike_counts: np.ndarray
    n_spikes: int


def _violation(path: Any, key: str, problem: str) -> SchemaViolation:
    return SchemaViolation(f"BrainGrid HDF5 {str(path)!r}, key {key!r}: {problem}")


def check_layout(f: Any) -> dict[str, int]:
    """Check keys, dtypes, shapes and the ``attrPNUint`` attribute of an open BrainGrid file.

    No bulk data is read (only the scalars ``Tsim`` and the attribute).

    Parameters
    ----------
    f : h5py.File
        The open file.

    Returns
    -------
    dict
        The sizes: ``n_neurons``, ``n_probed``, ``n_starters``, ``n_epochs``, ``n_rows``,
        ``n_seconds``, ``end_step``.

    Raises
    ------
    neurodata.SchemaViolation
        Naming the key and what was expected: a key missing, a wrong dtype or shape, a wrong
        or missing attribute, or sizes that disagree with each other.
    """
    name = getattr(f, "filename", "<file>")
    for key, (dims, dtype) in LAYOUT.items():
        if key not in f:
            raise _violation(name, key, f"missing; a BrainGrid growth file has keys {sorted(LAYOUT)}")
        ds = f[key]
        if not hasattr(ds, "dtype"):
            raise _violation(name, key, "is a group, expected a dataset")
        if ds.ndim != len(dims):
            raise _violation(name, key, f"has shape {ds.shape}, expected {len(dims)}-D {dims}")
        if np.dtype(ds.dtype) != np.dtype(dtype):
            raise _violation(name, key, f"has dtype {np.dtype(ds.dtype).str}, expected {dtype}")
    n = f["xloc"].shape[0]
    sizes = {"n_neurons": n, "n_probed": f["probedNeurons"].shape[0], "n_starters": f["starterNeurons"].shape[0],
             "n_epochs": f["radiiHistory"].shape[0] - 1, "n_rows": f[SPIKE_MATRIX_KEY].shape[0]}
    for key in ("yloc", "neuronTypes", "neuronThresh"):
        if f[key].shape != (n,):
            raise _violation(name, key, f"has shape {f[key].shape}, expected ({n},) like xloc")
    for key in ("radiiHistory", "ratesHistory"):
        if f[key].shape[1] != n or f[key].shape[0] < 1:
            raise _violation(name, key, f"has shape {f[key].shape}, expected (n_epochs + 1, {n})")
    if f["ratesHistory"].shape != f["radiiHistory"].shape:
        raise _violation(name, "ratesHistory", f"has shape {f['ratesHistory'].shape}, expected "
                         f"{f['radiiHistory'].shape} like radiiHistory")
    if f[SPIKE_MATRIX_KEY].shape[1] != sizes["n_probed"]:
        raise _violation(name, SPIKE_MATRIX_KEY, f"has {f[SPIKE_MATRIX_KEY].shape[1]} columns, expected one per "
                         f"probed neuron ({sizes['n_probed']})")
    for key in ("Tsim", "simulationEndTime"):
        if f[key].shape != (1,):
            raise _violation(name, key, f"has shape {f[key].shape}, expected (1,)")
    attrs = f[SPIKE_MATRIX_KEY].attrs
    if SPIKE_UNIT_ATTR not in attrs:
        raise _violation(name, SPIKE_MATRIX_KEY, f"lacks the attribute {SPIKE_UNIT_ATTR!r} (seconds per step)")
    if not np.isclose(float(np.asarray(attrs[SPIKE_UNIT_ATTR]).ravel()[0]), DT_S, rtol=1e-6):
        raise _violation(name, SPIKE_MATRIX_KEY, f"attribute {SPIKE_UNIT_ATTR!r} is {attrs[SPIKE_UNIT_ATTR]}, "
                         f"expected {DT_S} s per step")
    tsim = float(f["Tsim"][0])
    if not tsim > 0:
        raise _violation(name, "Tsim", f"is {tsim}, expected a positive epoch length in s")
    n_sec = round(sizes["n_epochs"] * tsim)
    sizes["n_seconds"] = n_sec
    sizes["end_step"] = round(sizes["n_epochs"] * tsim / DT_S)
    if f["burstinessHist"].shape != (n_sec,):
        raise _violation(name, "burstinessHist", f"has shape {f['burstinessHist'].shape}, expected ({n_sec},) = "
                         "n_epochs * Tsim one-second bins")
    n_bins = n_sec * (STEPS_PER_BURSTINESS_BIN // STEPS_PER_SPIKES_HISTORY_BIN)
    if f["spikesHistory"].shape != (n_bins,):
        raise _violation(name, "spikesHistory", f"has shape {f['spikesHistory'].shape}, expected ({n_bins},) = "
                         "n_epochs * Tsim * 100 ten-ms bins")
    return sizes


def _check_columns(name: Any, ds: Any, j0: int, block: np.ndarray, end_step: int) -> np.ndarray:
    """Check a (n_rows, b) column block; return the per-column spike counts."""
    nonzero = block != 0
    counts = nonzero.sum(axis=0).astype(np.int64)
    rows = np.arange(block.shape[0])[:, None]
    # zeros only after the non-zero prefix: every non-zero entry sits in a row < its column's count
    if np.any(nonzero & (rows >= counts[None, :])):
        j = j0 + int(np.flatnonzero((nonzero & (rows >= counts[None, :])).any(axis=0))[0])
        raise _violation(name, SPIKE_MATRIX_KEY, f"column {j} has a zero (no spike) before a spike; padding "
                         "zeros must come after all spikes")
    if block.shape[0] > 1:
        inc = np.diff(block.astype(np.int64), axis=0) > 0
        inner = rows[1:] < counts[None, :]
        bad = inner & ~inc
        if bad.any():
            j = int(np.flatnonzero(bad.any(axis=0))[0])
            r = int(np.flatnonzero(bad[:, j])[0]) + 1
            raise _violation(name, SPIKE_MATRIX_KEY, f"column {j0 + j} is not strictly increasing at row {r} "
                             f"({block[r - 1, j]} then {block[r, j]})")
    if block.size and int(block.max()) >= end_step:
        j = int(np.flatnonzero((block >= end_step).any(axis=0))[0])
        raise _violation(name, SPIKE_MATRIX_KEY, f"column {j0 + j} has spike step {int(block[:, j].max())} >= "
                         f"n_epochs * Tsim / dt = {end_step}")
    return counts


def open_braingrid_h5(path: str | os.PathLike) -> Any:
    """Open a BrainGrid HDF5 file read-only (an ``h5py.File``, usable in ``with``).

    Raises
    ------
    neurodata.SchemaViolation
        If the file is not readable HDF5 (truncated, or another format).
    """
    import h5py

    try:
        return h5py.File(path, "r")
    except OSError as err:
        msg = f"BrainGrid HDF5 {str(path)!r} cannot be opened as HDF5 (truncated or not an HDF5 file): {err}"
        raise SchemaViolation(msg) from err


def check_braingrid_h5(
    path: str | os.PathLike,
    *,
    block_bytes: int = _BLOCK_BYTES,
    starter_thresh_v: tuple[float, float] = (0.013565, 0.013655),
) -> LayoutReport:
    """Check a BrainGrid HDF5 file against its layout and the checklist of spec §4.5 (items 1-5).

    1. ``spikesHistory.sum() == burstinessHist.sum() ==`` non-zero entries of the spike matrix,
       and both histograms equal the binned spikes; when ``probedNeurons`` is a subset of the
       neurons (BrainGrid's histograms count every neuron), each bin holds at least the
       probed spikes instead;
    2. each column strictly increasing over its non-zero prefix, zeros only after it;
    3. every spike step ``< n_epochs * Tsim / dt``;
    4. ``radiiHistory[0] == 0.4``, ``ratesHistory[0] == 0``, and for each simulated epoch k
       ``ratesHistory[k] == spikes in epoch k / Tsim`` for every epoch k and probed neuron;
    5. starters' ``neuronThresh`` in ``starter_thresh_v`` and starter indices valid; the
       non-starter rates are 0 before the network's first non-starter spike (by construction
       of item 4).

    Items 6-7 (bursts) are checked by the generator stage with the avalanche detector.
    The spike matrix is read in column blocks of at most *block_bytes*.

    Parameters
    ----------
    path : path-like
        The file.
    block_bytes : int, default 64 MiB
        Memory for one column block of the spike matrix.
    starter_thresh_v : (float, float)
        Allowed starter threshold range [V].

    Returns
    -------
    LayoutReport

    Raises
    ------
    neurodata.SchemaViolation
        Naming the key and the reason; also for a file that is not readable HDF5 (truncated).
    FileNotFoundError
        If *path* does not exist.
    """
    path = Path(path)
    if not path.exists():
        msg = f"BrainGrid HDF5 file {str(path)!r} does not exist"
        raise FileNotFoundError(msg)
    try:
        with open_braingrid_h5(path) as f:
            return _check_open_file(f, path, block_bytes, starter_thresh_v)
    except OSError as err:
        msg = f"BrainGrid HDF5 {str(path)!r} could not be read to the end (truncated?): {err}"
        raise SchemaViolation(msg) from err


def _check_open_file(f: Any, path: Path, block_bytes: int, starter_thresh_v: tuple[float, float]) -> LayoutReport:
    sizes = check_layout(f)
    n, n_probed, end_step = sizes["n_neurons"], sizes["n_probed"], sizes["end_step"]
    xloc, yloc = f["xloc"][:], f["yloc"][:]
    if xloc.min(initial=0) < 0 or yloc.min(initial=0) < 0:
        raise _violation(path, "xloc", "has negative grid coordinates")
    types = f["neuronTypes"][:]
    if not np.isin(types, (INH, EXC)).all():
        raise _violation(path, "neuronTypes", f"has values {sorted(set(types.tolist()) - {INH, EXC})}, expected "
                         f"{INH} (INH) or {EXC} (EXC)")
    probed = f["probedNeurons"][:]
    if probed.size and (probed.min() < 0 or probed.max() >= n):
        raise _violation(path, "probedNeurons", f"indices must lie in [0, {n})")
    starters = f["starterNeurons"][:]
    if starters.size and (starters.min() < 0 or starters.max() >= n or np.any(np.diff(starters) <= 0)):
        raise _violation(path, "starterNeurons", f"must be ascending indices in [0, {n})")
    thresh = f["neuronThresh"][:]
    lo, hi = starter_thresh_v
    if starters.size and not np.all((thresh[starters] >= np.float32(lo)) & (thresh[starters] <= np.float32(hi))):
        raise _violation(path, "neuronThresh", f"starter thresholds outside [{lo}, {hi}] V")

    ds = f[SPIKE_MATRIX_KEY]
    rows = sizes["n_rows"]
    tsim = float(f["Tsim"][0])
    steps_per_epoch = round(tsim / DT_S)
    n_epochs = sizes["n_epochs"]
    epoch_counts = np.zeros((n_epochs, n_probed), dtype=np.int64)
    history = np.zeros(f["spikesHistory"].shape[0], dtype=np.int64)
    burstiness = np.zeros(f["burstinessHist"].shape[0], dtype=np.int64)
    counts = np.zeros(n_probed, dtype=np.int64)
    width = max(1, block_bytes // max(1, 8 * rows))
    for j0 in range(0, n_probed, width):
        j1 = min(n_probed, j0 + width)
        block = ds[:, j0:j1]
        counts[j0:j1] = _check_columns(path, ds, j0, block, end_step)
        spikes = block[block != 0].astype(np.int64)
        cols = np.nonzero(block)[1]
        history += np.bincount(spikes // STEPS_PER_SPIKES_HISTORY_BIN, minlength=history.size)
        burstiness += np.bincount(spikes // STEPS_PER_BURSTINESS_BIN, minlength=burstiness.size)
        flat = (spikes // steps_per_epoch) * n_probed + cols + j0
        epoch_counts += np.bincount(flat, minlength=epoch_counts.size).reshape(epoch_counts.shape)
    n_spikes = int(counts.sum())
    partial = np.unique(probed).size < n
    for key, expect in (("spikesHistory", history), ("burstinessHist", burstiness)):
        got = f[key][:].astype(np.int64)
        if partial:
            if np.any(got < expect):
                b = int(np.flatnonzero(got < expect)[0])
                raise _violation(path, key, f"bin {b} holds {int(got[b])} spikes, expected at least the "
                                 f"{int(expect[b])} of the probed neurons in {SPIKE_MATRIX_KEY}")
            continue
        if got.sum() != n_spikes:
            raise _violation(path, key, f"sums to {int(got.sum())}, expected the {n_spikes} spikes of "
                             f"{SPIKE_MATRIX_KEY}")
        if not np.array_equal(got, expect):
            b = int(np.flatnonzero(got != expect)[0])
            raise _violation(path, key, f"bin {b} holds {int(got[b])}, expected {int(expect[b])} spikes")
    radii = f["radiiHistory"][:]
    rates = f["ratesHistory"][:]
    if not np.allclose(radii[0], 0.4, atol=1e-6):
        raise _violation(path, "radiiHistory", "row 0 must be the start radius 0.4")
    if not np.all(rates[0] == 0):
        raise _violation(path, "ratesHistory", "row 0 must be 0")
    spike_rates = epoch_counts / tsim
    for k in range(n_epochs):
        if not np.allclose(rates[k + 1, probed], spike_rates[k], rtol=1e-5, atol=1e-6):
            j = int(np.flatnonzero(~np.isclose(rates[k + 1, probed], spike_rates[k], rtol=1e-5, atol=1e-6))[0])
            raise _violation(path, "ratesHistory", f"row {k + 1} gives neuron {int(probed[j])} {rates[k + 1, probed[j]]:g} Hz, "
                             f"but {SPIKE_MATRIX_KEY} holds {int(epoch_counts[k, j])} spikes in epoch {k + 1} "
                             f"(expected {spike_rates[k, j]:g} Hz = spikes / Tsim)")
    return LayoutReport(n_neurons=n, n_probed=n_probed, n_starters=sizes["n_starters"], n_epochs=n_epochs,
                        n_rows=rows, tsim_s=tsim, end_step=end_step, spike_counts=counts, n_spikes=n_spikes)
