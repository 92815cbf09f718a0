"""Reading a BrainGrid file for its spike table: the layout check and the blocks of the matrix.

:func:`read_layout` checks the keys the spike table needs against the layout
(:data:`neurodata.braingrid._hdf5_layout.LAYOUT`, their one home) and loads the small arrays;
:func:`iter_blocks` yields ``spikesProbedNeurons`` in blocks of a few MiB into one reused
buffer, straight from the file's bytes where the dataset allows it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._exceptions import SchemaViolation
from ..progress import progress
from ._hdf5_layout import LAYOUT, SPIKE_MATRIX_KEY, SPIKE_UNIT_ATTR, STEPS_PER_SPIKES_HISTORY_BIN

__all__ = ["READ_KEYS", "BrainGridLayout", "block_shape", "iter_blocks", "raw_offset", "read_layout"]

#: The keys of the layout the spike table reads (a BrainGrid run's file may hold more).
READ_KEYS = (SPIKE_MATRIX_KEY, "probedNeurons", "xloc", "yloc", "neuronTypes", "starterNeurons", "spikesHistory")


@dataclass(frozen=True)
class BrainGridLayout:
    """What :func:`check_layout` learned about a BrainGrid file.

    Attributes
    ----------
    n_rows, n_cols : int
        Shape of ``spikesProbedNeurons`` (max spikes per neuron, probed neurons).
    n_neurons : int
        Neurons in the network (length of ``xloc``).
    dt_s : float
        Seconds per time step (attribute ``attrPNUint``).
    n_steps : int
        Length of the run in steps, ``len(spikesHistory) * 100``.
    probed : ndarray of shape (n_cols,), int64
        Neuron id of each column.
    xloc, yloc : ndarray of shape (n_neurons,), int16
        Grid coordinates of each neuron.
    """

    n_rows: int
    n_cols: int
    n_neurons: int
    dt_s: float
    n_steps: int
    probed: np.ndarray
    xloc: np.ndarray
    yloc: np.ndarray
    neuron_types: np.ndarray
    starters: np.ndarray



def read_layout(h5: Mapping[str, Any], *, source: str = "the BrainGrid file") -> BrainGridLayout:
    """Check the keys, dtypes, shapes and small arrays of a BrainGrid HDF5 file.

    Parameters
    ----------
    h5 : h5py.File or mapping of name -> array-like with ``.shape``, ``.dtype`` (and ``.attrs``
        for ``spikesProbedNeurons``)
    source : str
        Name of the input used in error messages (e.g. the file path).

    Returns
    -------
    BrainGridLayout

    Raises
    ------
    neurodata.SchemaViolation
        A required key or the ``attrPNUint`` attribute is missing, a key has the wrong dtype,
        number of dimensions or a length inconsistent with the others, or ``probedNeurons`` /
        ``starterNeurons`` / ``neuronTypes`` hold invalid values.
    """
    missing = [key for key in READ_KEYS if key not in h5]
    if missing:
        msg = (
            f"{source}: missing HDF5 key(s) {missing}; a BrainGrid file needs {sorted(READ_KEYS)} "
            f"(found {sorted(h5.keys())})."
        )
        raise SchemaViolation(msg)
    for key in READ_KEYS:
        ndim, dtype = len(LAYOUT[key][0]), LAYOUT[key][1]
        dset = h5[key]
        if len(dset.shape) != ndim:
            msg = f"{source}: key {key!r} has shape {tuple(dset.shape)}; expected a {ndim}-D array."
            raise SchemaViolation(msg)
        if np.dtype(dset.dtype) != np.dtype(dtype):
            msg = f"{source}: key {key!r} has dtype {np.dtype(dset.dtype)}; expected {np.dtype(dtype)} (BrainGrid layout)."
            raise SchemaViolation(msg)
    spikes = h5["spikesProbedNeurons"]
    attrs = getattr(spikes, "attrs", {})
    if SPIKE_UNIT_ATTR not in attrs:
        msg = f"{source}: key 'spikesProbedNeurons' lacks its attribute {SPIKE_UNIT_ATTR!r} (seconds per time step)."
        raise SchemaViolation(msg)
    dt_s = float(np.asarray(attrs[SPIKE_UNIT_ATTR]).ravel()[0])
    if not (math.isfinite(dt_s) and dt_s > 0):
        msg = f"{source}: attribute {SPIKE_UNIT_ATTR!r} of 'spikesProbedNeurons' is {dt_s}; expected a positive step in seconds."
        raise SchemaViolation(msg)
    n_rows, n_cols = (int(s) for s in spikes.shape)
    xloc = np.asarray(h5["xloc"][()])
    yloc = np.asarray(h5["yloc"][()])
    types = np.asarray(h5["neuronTypes"][()])
    n_neurons = xloc.size
    for key, arr in (("yloc", yloc), ("neuronTypes", types)):
        if arr.size != n_neurons:
            msg = f"{source}: key {key!r} has length {arr.size}; expected {n_neurons} (the length of 'xloc')."
            raise SchemaViolation(msg)
    if n_neurons and (xloc.min() < 0 or yloc.min() < 0 or max(xloc.max(), yloc.max()) > np.iinfo(np.int16).max):
        msg = f"{source}: 'xloc'/'yloc' hold coordinates outside [0, 32767]."
        raise SchemaViolation(msg)
    probed = np.asarray(h5["probedNeurons"][()]).astype(np.int64)
    if probed.size != n_cols:
        msg = (
            f"{source}: key 'probedNeurons' has length {probed.size} but 'spikesProbedNeurons' has "
            f"{n_cols} columns; expected one column per probed neuron."
        )
        raise SchemaViolation(msg)
    if probed.size and (probed.min() < 0 or probed.max() >= n_neurons or np.unique(probed).size != probed.size):
        msg = f"{source}: key 'probedNeurons' must hold distinct neuron ids in [0, {n_neurons}); got {probed[:10]}..."
        raise SchemaViolation(msg)
    bad_types = np.setdiff1d(np.unique(types), [1, 2])
    if bad_types.size:
        msg = f"{source}: key 'neuronTypes' holds {bad_types.tolist()}; expected 1 (INH) or 2 (EXC)."
        raise SchemaViolation(msg)
    starters = np.asarray(h5["starterNeurons"][()]).astype(np.int64)
    if starters.size and (starters.min() < 0 or starters.max() >= n_neurons):
        msg = f"{source}: key 'starterNeurons' holds ids outside [0, {n_neurons})."
        raise SchemaViolation(msg)
    n_steps = int(h5["spikesHistory"].shape[0]) * STEPS_PER_SPIKES_HISTORY_BIN
    return BrainGridLayout(
        n_rows=n_rows,
        n_cols=n_cols,
        n_neurons=n_neurons,
        dt_s=dt_s,
        n_steps=n_steps,
        probed=probed,
        xloc=xloc.astype(np.int16),
        yloc=yloc.astype(np.int16),
        neuron_types=types.astype(np.int8),
        starters=np.sort(starters),
    )



def block_shape(spikes: Any, n_rows: int, n_cols: int, block_neurons: int | None, block_bytes: int) -> tuple[int, int]:
    """Columns and rows per block. On a contiguous (row-major) dataset the default block is the
    full row width: a narrower column block costs one HDF5 hyperslab segment per row
    (measured ~4x slower at 2048 of 10 000 columns). On a chunked dataset blocks follow
    the chunk columns."""
    if block_neurons is None:
        chunks = getattr(spikes, "chunks", None)
        block_neurons = n_cols if not chunks else max(1, min(n_cols, int(chunks[1]) * max(1, 1024 // int(chunks[1]))))
    block_neurons = max(1, min(int(block_neurons), max(n_cols, 1)))
    rows = max(1, int(block_bytes) // (8 * block_neurons))
    return block_neurons, min(rows, max(n_rows, 1))


def raw_offset(spikes: Any) -> tuple[str, int] | None:
    """(file path, byte offset) of the matrix when its bytes can be read straight from the file:
    an allocated, contiguous, unfiltered little-endian dataset of a plain file (HDF5's default
    ``sec2`` driver, no user block) that is long enough. Else None (read through HDF5)."""
    if not hasattr(os, "preadv"):  # Windows
        return None
    try:
        import h5py

        dcpl = spikes.id.get_create_plist()
        fid = spikes.file
        if (
            dcpl.get_layout() != h5py.h5d.CONTIGUOUS
            or dcpl.get_nfilters()
            or dcpl.get_external_count()
            or spikes.dtype != np.dtype("<u8")
            or fid.driver != "sec2"
            or fid.userblock_size
        ):
            return None
        offset = spikes.id.get_offset()
        path = fid.filename
        if offset is None or os.path.getsize(path) < offset + spikes.size * 8:
            return None
    except (AttributeError, TypeError, OSError, ValueError):  # not an h5py dataset, or not a plain file
        return None
    return path, int(offset)


def iter_blocks(
    spikes: Any, n_rows: int, n_cols: int, cols_per_block: int, rows_per_block: int, source: str
) -> Iterator[tuple[int, int, np.ndarray]]:
    """Yield ``(r0, c0, block)`` over the matrix, column blocks outer, row blocks inner, into
    one reused buffer (a block is valid until the next is requested).

    A contiguous dataset read in whole rows is read with ``os.preadv`` at its file offset:
    the bytes HDF5 would copy, without its per-call overhead (a third of the read time at
    4 MiB blocks). Anything else (chunked, compressed, column blocks, not a plain file) goes
    through ``read_direct``, or slicing for a mapping of arrays.
    """
    raw = raw_offset(spikes) if cols_per_block == n_cols else None
    fd = os.open(raw[0], os.O_RDONLY) if raw else None
    buf = np.empty(cols_per_block * rows_per_block, dtype=np.uint64)
    tasks = [(c0, r0) for c0 in range(0, n_cols, cols_per_block) for r0 in range(0, n_rows, rows_per_block)]
    try:
        for c0, r0 in progress(tasks, total=len(tasks), desc="spikesProbedNeurons blocks"):
            r1, c1 = min(n_rows, r0 + rows_per_block), min(n_cols, c0 + cols_per_block)
            block = buf[: (r1 - r0) * (c1 - c0)].reshape(r1 - r0, c1 - c0)
            try:
                if fd is not None:
                    got = os.preadv(fd, [block], raw[1] + 8 * r0 * n_cols)
                    if got != block.nbytes:
                        msg = f"read {got} of {block.nbytes} bytes"
                        raise OSError(msg)
                elif hasattr(spikes, "read_direct"):
                    spikes.read_direct(block, source_sel=np.s_[r0:r1, c0:c1])
                else:
                    block[...] = spikes[r0:r1, c0:c1]
            except OSError as exc:
                msg = f"{source}: reading 'spikesProbedNeurons' rows {r0}:{r1}, columns {c0}:{c1} failed ({exc}); the file may be truncated."
                raise SchemaViolation(msg) from exc
            yield r0, c0, block
    finally:
        if fd is not None:
            os.close(fd)

