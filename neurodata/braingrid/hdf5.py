"""BrainGrid HDF5 files by path: write one atomically, open one, check one (file I/O).

The layout itself (keys, dtypes, constants) and the checks of an open file live in
:mod:`neurodata.braingrid._hdf5_layout`; the in-memory record in :mod:`._record`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import atomic_output
from .._exceptions import ParamError, SchemaViolation
from ._hdf5_layout import (
    BLOCK_BYTES,
    DT_S,
    SPIKE_MATRIX_KEY,
    SPIKE_UNIT_ATTR,
    STEPS_PER_BURSTINESS_BIN,
    STEPS_PER_SPIKES_HISTORY_BIN,
    LayoutReport,
    check_open_file,
)
from ._checklist import burst_check, check_failures
from ._record import BrainGridRecord
from ._spike_table import spike_table_arrays

__all__ = ["check_braingrid_h5", "checklist_h5", "open_braingrid_h5", "write_braingrid_h5"]


def write_braingrid_h5(
    path: str | os.PathLike,
    record: BrainGridRecord,
    *,
    n_rows: int | None = None,
    compression: str | None = None,
    block_bytes: int = BLOCK_BYTES,
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
        raise ParamError(msg)
    if compression not in (None, "gzip"):
        msg = f"compression must be None or 'gzip'; got {compression!r}"
        raise ParamError(msg)
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



def open_braingrid_h5(path: str | os.PathLike) -> Any:
    """Open a BrainGrid HDF5 file read-only (an ``h5py.File``, usable in ``with``).

    Parameters
    ----------
    path : path-like
        The file.

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
    block_bytes: int = BLOCK_BYTES,
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
            return check_open_file(f, path, block_bytes, starter_thresh_v)
    except OSError as err:
        msg = f"BrainGrid HDF5 {str(path)!r} could not be read to the end (truncated?): {err}"
        raise SchemaViolation(msg) from err


def checklist_h5(path: str | os.PathLike, *, min_bursts: int = 1, mean_isi_steps: float | None = None) -> dict[str, Any]:
    """All seven items of spec §4.5 on a written BrainGrid file.

    Items 1-5 by :func:`~neurodata.braingrid.check_braingrid_h5` (raises on the first
    failure); items 6-7 by :func:`burst_check` on the file's spikes with meanISI from the
    file's length, as the original analysis takes it.

    Parameters
    ----------
    path : path-like
        The HDF5 file.
    min_bursts : int, default 1
        Item 7 fails with fewer bursts.
    mean_isi_steps : float, optional
        A fixed avalanche threshold instead of the original's rule.

    Returns
    -------
    dict
        The :func:`burst_check` figures plus ``failures`` (list of messages, empty when every
        item passes).

    Raises
    ------
    neurodata.SchemaViolation
        Items 1-5 fail, or the file is unreadable.
    """
    check_braingrid_h5(path)
    with open_braingrid_h5(path) as f:
        arrays, layout = spike_table_arrays(f, source=str(path))
        starter = np.zeros(layout.n_neurons, dtype=bool)
        starter[layout.starters] = True
        rates = f["ratesHistory"][:]
        first_coupled = int(f.attrs.get("analyticEpochs", 0)) + 1
    check = burst_check(arrays["time_step"], n_steps=layout.n_steps, n_neurons=layout.n_neurons, starter=starter,
                        rates=rates, first_coupled_epoch=first_coupled, dt_s=layout.dt_s,
                        mean_isi_steps=mean_isi_steps)
    check["failures"] = check_failures(check, min_bursts)
    return check
