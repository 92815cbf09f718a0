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

This module is the layout's one home (keys, dtypes, the constants of the format) and checks an
*open* file against it: :func:`check_layout` (keys, dtypes, shapes and the attribute; no
bulk data read) and :func:`check_open_file` (the checklist of spec §4.5 items 1-5, streaming
the spike matrix over column blocks). Opening, writing and checking files by path live in
:mod:`neurodata.braingrid.hdf5`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._exceptions import SchemaViolation

__all__ = [
    "DT_S",
    "EXC",
    "INH",
    "LAYOUT",
    "SPIKE_MATRIX_KEY",
    "SPIKE_UNIT_ATTR",
    "STEPS_PER_BURSTINESS_BIN",
    "STEPS_PER_SPIKES_HISTORY_BIN",
    "LayoutReport",
    "check_layout",
    "check_open_file",
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

BLOCK_BYTES = 64 * 2**20
"""Memory for one block of the spike matrix when writing or checking a file [bytes]."""



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



def check_open_file(
    f: Any, path: Any, block_bytes: int = BLOCK_BYTES, starter_thresh_v: tuple[float, float] = (0.013565, 0.013655)
) -> LayoutReport:
    """Check an open BrainGrid file against its layout and spec §4.5 items 1-5.

    See :func:`neurodata.braingrid.check_braingrid_h5` for the items checked.

    Parameters
    ----------
    f : h5py.File
        The open file.
    path : path-like or str
        Its name, for the messages.
    block_bytes : int, default 64 MiB
        Memory for one column block of the spike matrix [bytes].
    starter_thresh_v : (float, float)
        Allowed starter threshold range [V].

    Returns
    -------
    LayoutReport

    Raises
    ------
    neurodata.SchemaViolation
        Naming the key and the reason.
    """
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
