"""BrainGrid HDF5 -> spike table, streamed over blocks of ``spikesProbedNeurons``.

BrainGrid stores spikes as a padded matrix ``spikesProbedNeurons`` of shape
(max spikes per neuron, n probed neurons), uint64: column j holds the ascending time steps of
probed neuron ``probedNeurons[j]``, then zeros ("no spike") up to the longest column
(spec section 1.6). The seed notebook loads the whole matrix (30 GB for the original run),
transposes it, masks the zeros and sorts with pandas' unstable quicksort.

Here the matrix is read in blocks of a few MiB (whole rows, or ``block_neurons`` columns), and
a numba kernel walks each row over the columns that have not reached their padding yet,
checking each spike (strictly increasing, inside the run) and appending it, as one uint64 key
``time_step << id_bits | neuron``, to its *time bucket* (a run of 10-ms bins holding a few
thousand spikes). The buckets' sizes are known before reading, from ``spikesHistory``
(BrainGrid's histogram of the same spikes), so the keys land in their final stretch of the
output. A bucket is complete once it holds all its spikes; a second thread radix-sorts the
complete buckets while the scan goes on (row-major scanning fills them roughly in time order),
checks each 10-ms bin against ``spikesHistory`` and splits the keys into the output columns.
A block's non-zero count must equal the spikes taken from it, so no spike after a column's
padding goes unnoticed. Any check failing sends the file to a slow, slot-by-slot diagnosis
that names the first problem. Peak memory is O(block + spikes) and does not depend on how
much of the matrix is padding.

BrainGrid's configs that probe a subset of the neurons (``probedNeurons`` shorter than
``xloc``) still count every neuron in ``spikesHistory``. For such a file a first pass counts
the probed spikes per bin (checking that ``spikesHistory`` holds at least as many), and those
counts size the buckets; a file probing every neuron is read in one pass.

Because no two spikes share (time_step, neuron), the key order *is* the stable
(time_step, neuron) order: ties within a time step are broken by neuron id, which fixes the
seed's implementation-defined order (spec section 3.1, step 4).
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import mmap
import os
import queue
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr
from numba import njit

from ..progress import progress

__all__ = ["BrainGridLayout", "LAYOUT", "check_layout", "spike_table", "spike_table_arrays"]

#: Keys of the BrainGrid HDF5 file read by the derivations: (ndim, numpy dtype) as in spec 1.6.
LAYOUT: dict[str, tuple[int, str]] = {
    "spikesProbedNeurons": (2, "uint64"),
    "probedNeurons": (1, "int32"),
    "xloc": (1, "int32"),
    "yloc": (1, "int32"),
    "neuronTypes": (1, "int32"),
    "starterNeurons": (1, "int32"),
    "spikesHistory": (1, "int32"),
}
#: Attribute of ``spikesProbedNeurons``: seconds per time step (sic, BrainGrid's spelling).
DT_ATTR = "attrPNUint"
#: Steps per bin of ``spikesHistory`` (10 ms at dt = 0.1 ms).
HISTORY_BIN_STEPS = 100

_ERR_NOT_INCREASING = 1
_ERR_AFTER_PADDING = 2
_ERR_TOO_LARGE = 3


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


def check_layout(h5: Mapping[str, Any], *, source: str = "the BrainGrid file") -> BrainGridLayout:
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
    KeyError
        A required key or the ``attrPNUint`` attribute is missing.
    TypeError
        A key has the wrong dtype.
    ValueError
        A key has the wrong number of dimensions or a length inconsistent with the others,
        or ``probedNeurons`` / ``starterNeurons`` / ``neuronTypes`` hold invalid values.
    """
    missing = [key for key in LAYOUT if key not in h5]
    if missing:
        msg = (
            f"{source}: missing HDF5 key(s) {missing}; a BrainGrid file needs {sorted(LAYOUT)} "
            f"(found {sorted(h5.keys())})."
        )
        raise KeyError(msg)
    for key, (ndim, dtype) in LAYOUT.items():
        dset = h5[key]
        if len(dset.shape) != ndim:
            msg = f"{source}: key {key!r} has shape {tuple(dset.shape)}; expected a {ndim}-D array."
            raise ValueError(msg)
        if np.dtype(dset.dtype) != np.dtype(dtype):
            msg = f"{source}: key {key!r} has dtype {np.dtype(dset.dtype)}; expected {np.dtype(dtype)} (BrainGrid layout)."
            raise TypeError(msg)
    spikes = h5["spikesProbedNeurons"]
    attrs = getattr(spikes, "attrs", {})
    if DT_ATTR not in attrs:
        msg = f"{source}: key 'spikesProbedNeurons' lacks its attribute {DT_ATTR!r} (seconds per time step)."
        raise KeyError(msg)
    dt_s = float(np.asarray(attrs[DT_ATTR]).ravel()[0])
    if not (math.isfinite(dt_s) and dt_s > 0):
        msg = f"{source}: attribute {DT_ATTR!r} of 'spikesProbedNeurons' is {dt_s}; expected a positive step in seconds."
        raise ValueError(msg)
    n_rows, n_cols = (int(s) for s in spikes.shape)
    xloc = np.asarray(h5["xloc"][()])
    yloc = np.asarray(h5["yloc"][()])
    types = np.asarray(h5["neuronTypes"][()])
    n_neurons = xloc.size
    for key, arr in (("yloc", yloc), ("neuronTypes", types)):
        if arr.size != n_neurons:
            msg = f"{source}: key {key!r} has length {arr.size}; expected {n_neurons} (the length of 'xloc')."
            raise ValueError(msg)
    if n_neurons and (xloc.min() < 0 or yloc.min() < 0 or max(xloc.max(), yloc.max()) > np.iinfo(np.int16).max):
        msg = f"{source}: 'xloc'/'yloc' hold coordinates outside [0, 32767]."
        raise ValueError(msg)
    probed = np.asarray(h5["probedNeurons"][()]).astype(np.int64)
    if probed.size != n_cols:
        msg = (
            f"{source}: key 'probedNeurons' has length {probed.size} but 'spikesProbedNeurons' has "
            f"{n_cols} columns; expected one column per probed neuron."
        )
        raise ValueError(msg)
    if probed.size and (probed.min() < 0 or probed.max() >= n_neurons or np.unique(probed).size != probed.size):
        msg = f"{source}: key 'probedNeurons' must hold distinct neuron ids in [0, {n_neurons}); got {probed[:10]}..."
        raise ValueError(msg)
    bad_types = np.setdiff1d(np.unique(types), [1, 2])
    if bad_types.size:
        msg = f"{source}: key 'neuronTypes' holds {bad_types.tolist()}; expected 1 (INH) or 2 (EXC)."
        raise ValueError(msg)
    starters = np.asarray(h5["starterNeurons"][()]).astype(np.int64)
    if starters.size and (starters.min() < 0 or starters.max() >= n_neurons):
        msg = f"{source}: key 'starterNeurons' holds ids outside [0, {n_neurons})."
        raise ValueError(msg)
    n_steps = int(h5["spikesHistory"].shape[0]) * HISTORY_BIN_STEPS
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


# --------------------------------------------------------------------------------------
# numba kernels (time unit: simulation steps)

#: Radix of the per-bucket LSD sort (11 bits: 2048 counters, 16 KiB, stay in L1).
_RADIX_BITS = 11
#: Target number of spikes per time bucket (its sort works in L2), and most buckets (the
#: scan's write cursors, one cache line each, stay in L2).
_BUCKET_SPIKES = 8192
_MAX_BUCKETS = 2048


@njit(nogil=True, cache=True)
def _scan_block(block, col0, active, n_active, ids, id_bits, tmax, last, shift, cursor, ends, keys):  # pragma: no cover - numba
    """Fast path over one block (rows x cols, first column ``col0``) of the padded matrix.

    Walks each row over the columns still *active* (not yet past their last spike), so a
    column's zero padding is never visited spike by spike, and appends each spike as the key
    ``t << id_bits | id`` to its time bucket (``(t // 100) >> shift``; write cursor
    ``cursor[b]``, end ``ends[b]`` from ``spikesHistory``). ``last`` and ``active`` carry the
    columns' state across row blocks. The non-zero count of the whole block must equal the
    spikes taken, which proves that no spike follows a column's padding.

    Returns the spikes taken, or -1 at the first sign of bad input (not increasing, after the
    padding, outside the run, more spikes than ``spikesHistory`` counts): the caller then
    diagnoses the file with :func:`_check_block` for a precise message.
    """
    rows = block.shape[0]
    na = n_active[0]
    taken = 0
    for r in range(rows):
        if na == 0:
            break
        k = 0
        for j in range(na):
            c = active[j]
            v = block[r, c - col0]
            if v == 0:  # the column's padding starts here: drop it from the active list
                continue
            active[k] = c
            k += 1
            if v <= last[c] or v >= tmax:
                return -1
            last[c] = v
            b = (v // np.uint64(HISTORY_BIN_STEPS)) >> shift
            p = cursor[b]
            if p >= ends[b]:
                return -1
            keys[p] = (v << id_bits) | ids[c]
            cursor[b] = p + 1
        taken += k
        na = k
    n_active[0] = na
    nonzero = 0
    flat = block.ravel()
    for i in range(flat.size):
        if flat[i] != 0:
            nonzero += 1
    return taken if nonzero == taken else -1


@njit(nogil=True, cache=True)
def _sort_buckets(todo, keys, bucket_starts, bin_starts, shift, id_bits, xloc, yloc, neuron, x, y, bad):  # pragma: no cover - numba
    """Sort the time buckets *todo* of *keys* in place, each by an LSD radix sort of the key
    relative to the bucket's first step (so ties within a step come out by neuron id); check
    that the bucket's 10-ms bins hold exactly ``spikesHistory``'s counts (``bad[b] = 1``
    otherwise); split the keys into time steps (in place), neuron ids and coordinates."""
    n_bins = bin_starts.size - 1
    radix = 1 << _RADIX_BITS
    mask = np.uint64(radix - 1)
    for b in todo:
        lo = bucket_starts[b]
        n = bucket_starts[b + 1] - lo
        if n == 0:
            continue
        bin0 = b << shift
        bin1 = min(n_bins, (b + 1) << shift)
        base = np.uint64(bin0 * HISTORY_BIN_STEPS) << id_bits
        span = np.uint64((bin1 - bin0) * HISTORY_BIN_STEPS) << id_bits
        bits = 1
        while (np.uint64(1) << np.uint64(bits)) < span:
            bits += 1
        n_pass = (bits + _RADIX_BITS - 1) // _RADIX_BITS
        src = np.empty(n, np.uint64)
        dst = np.empty(n, np.uint64)
        counts = np.zeros((n_pass, radix), np.int64)
        for i in range(n):
            v = keys[lo + i] - base  # wraps to a huge value below the bucket
            if v >= span:
                bad[b] = 1
            src[i] = v
            for q in range(n_pass):
                counts[q, (v >> np.uint64(q * _RADIX_BITS)) & mask] += 1
        if bad[b]:
            continue
        for q in range(n_pass):
            total = 0
            for d in range(radix):
                c = counts[q, d]
                counts[q, d] = total
                total += c
            sh = np.uint64(q * _RADIX_BITS)
            for i in range(n):
                v = src[i]
                d = (v >> sh) & mask
                dst[counts[q, d]] = v
                counts[q, d] += 1
            src, dst = dst, src
        # Sorted: each bin's slice holds exactly its spikes iff its first and last are inside it.
        for k in range(bin0, bin1):
            s = bin_starts[k] - lo
            e = bin_starts[k + 1] - lo
            if e > s:
                if (src[s] >> id_bits) < np.uint64((k - bin0) * HISTORY_BIN_STEPS) or (src[e - 1] >> id_bits) >= np.uint64(
                    (k + 1 - bin0) * HISTORY_BIN_STEPS
                ):
                    bad[b] = 1
        t0 = np.uint64(bin0 * HISTORY_BIN_STEPS)
        for i in range(n):
            key = src[i]
            t = key >> id_bits
            nid = key - (t << id_bits)
            keys[lo + i] = t + t0
            neuron[lo + i] = nid
            x[lo + i] = xloc[nid]
            y[lo + i] = yloc[nid]


@njit(nogil=True, cache=True)
def _check_block(block, col0, tmax, last, ended, counts, err):  # pragma: no cover - numba
    """Diagnosis (slow path, every slot): the first bad slot of a block in row-major order,
    as (code, row, col, value) in *err* (returns -1), while counting the spikes of each 10-ms
    bin into *counts*. ``last``/``ended`` carry each column's state across row blocks."""
    rows, cols = block.shape
    for r in range(rows):
        for c in range(cols):
            v = block[r, c]
            g = col0 + c
            if v != 0:
                if ended[g] or v <= last[g] or v >= tmax:
                    err[0] = _ERR_AFTER_PADDING if ended[g] else (_ERR_NOT_INCREASING if v <= last[g] else _ERR_TOO_LARGE)
                    err[1] = r
                    err[2] = g
                    err[3] = v
                    return -1
                last[g] = v
                counts[v // HISTORY_BIN_STEPS] += 1
            else:
                ended[g] = True
    return 0


@njit(nogil=True, cache=True)
def _count_block(block, col0, active, n_active, last, tmax, counts):  # pragma: no cover - numba
    """Count the spikes of each 10-ms bin of one block into *counts*, walking each row over the
    columns still *active* (as :func:`_scan_block`). Returns the spikes counted, or -1 at the
    first sign of bad input (not increasing, after the padding, outside the run)."""
    rows = block.shape[0]
    na = n_active[0]
    taken = 0
    for r in range(rows):
        if na == 0:
            break
        k = 0
        for j in range(na):
            c = active[j]
            v = block[r, c - col0]
            if v == 0:
                continue
            active[k] = c
            k += 1
            if v <= last[c] or v >= tmax:
                return -1
            last[c] = v
            counts[v // np.uint64(HISTORY_BIN_STEPS)] += 1
        taken += k
        na = k
    n_active[0] = na
    nonzero = 0
    flat = block.ravel()
    for i in range(flat.size):
        if flat[i] != 0:
            nonzero += 1
    return taken if nonzero == taken else -1


# --------------------------------------------------------------------------------------
# reading blocks of spikesProbedNeurons


def _block_shape(spikes: Any, n_rows: int, n_cols: int, block_neurons: int | None, block_bytes: int) -> tuple[int, int]:
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


def _raw_offset(spikes: Any) -> tuple[str, int] | None:
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


def _iter_blocks(
    spikes: Any, n_rows: int, n_cols: int, cols_per_block: int, rows_per_block: int, source: str
) -> Iterator[tuple[int, int, np.ndarray]]:
    """Yield ``(r0, c0, block)`` over the matrix, column blocks outer, row blocks inner, into
    one reused buffer (a block is valid until the next is requested).

    A contiguous dataset read in whole rows is read with ``os.preadv`` at its file offset:
    the bytes HDF5 would copy, without its per-call overhead (a third of the read time at
    4 MiB blocks). Anything else (chunked, compressed, column blocks, not a plain file) goes
    through ``read_direct``, or slicing for a mapping of arrays.
    """
    raw = _raw_offset(spikes) if cols_per_block == n_cols else None
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
                raise OSError(msg) from exc
            yield r0, c0, block
    finally:
        if fd is not None:
            os.close(fd)


_MADV_POPULATE_WRITE = 23  # Linux >= 5.14


def _populate(arr: np.ndarray) -> None:
    """Map the pages of a fresh array in one call (``madvise(MADV_POPULATE_WRITE)``; contents
    unchanged, safe while other threads write to it). A no-op where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        page = mmap.PAGESIZE
        start = -(-arr.ctypes.data // page) * page
        end = (arr.ctypes.data + arr.nbytes) // page * page
        if end > start:
            libc.madvise(ctypes.c_void_p(start), ctypes.c_size_t(end - start), ctypes.c_int(_MADV_POPULATE_WRITE))
    except (OSError, AttributeError):  # no C library to load, or no madvise
        pass


class _BucketSorter:
    """Sorts time buckets on a second thread while the scan goes on.

    A bucket is final once the scan has appended all the spikes ``spikesHistory`` gives it.
    Row-major scanning fills the buckets roughly in time order (a column's later rows hold its
    later spikes), so most are handed over (:meth:`dispatch`) while the matrix is still being
    read; :meth:`finish` sorts the rest on both threads. The kernels release the GIL.
    """

    def __init__(
        self, keys: np.ndarray, bucket_starts: np.ndarray, bin_starts: np.ndarray, shift: int, id_bits: int, layout: BrainGridLayout
    ) -> None:
        n = keys.size
        self.neuron = np.empty(n, dtype=np.int32)
        self.x = np.empty(n, dtype=np.int16)
        self.y = np.empty(n, dtype=np.int16)
        self.bad = np.zeros(bucket_starts.size - 1, dtype=np.uint8)
        self._args = (keys, bucket_starts, bin_starts, shift, np.uint64(id_bits), layout.xloc, layout.yloc,
                      self.neuron, self.x, self.y, self.bad)  # fmt: skip
        self._ends = bucket_starts[1:]
        self._handed = np.zeros(bucket_starts.size - 1, dtype=bool)
        self._todo: queue.SimpleQueue = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="braingrid-bucket-sorter", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        # While no bucket is waiting, map the pages of the keys and outputs ahead of their
        # first writes, in 16-MiB pieces: faulting fresh pages one by one on the scan's
        # thread costs more, and much more on a VM whose host hands out the memory lazily.
        pieces = [(arr, i, i + (16 * 2**20) // arr.itemsize)
                  for arr in (self.neuron, self.x, self.y, self._args[0]) for i in range(0, arr.size, (16 * 2**20) // arr.itemsize)]  # fmt: skip
        pieces.reverse()
        while True:
            try:
                todo = self._todo.get_nowait() if pieces else self._todo.get()
            except queue.Empty:
                arr, i, j = pieces.pop()
                _populate(arr[i:j])
                continue
            if todo is None:
                return
            try:
                _sort_buckets(todo, *self._args)
            except BaseException as exc:  # re-raised by finish  # noqa: BLE001
                self._error = exc

    def dispatch(self, cursor: np.ndarray) -> None:
        """Hand over the buckets that *cursor* shows full."""
        ready = np.flatnonzero((cursor == self._ends) & ~self._handed)
        if ready.size:
            self._handed[ready] = True
            self._todo.put(ready)

    def finish(self) -> bool:
        """Sort the remaining buckets on both threads; True if every bucket matched ``spikesHistory``."""
        rest = np.flatnonzero(~self._handed)
        for part in np.array_split(rest, min(rest.size, 32)) if rest.size else ():
            self._todo.put(part)
        while True:  # the calling thread helps until the queue is empty
            try:
                todo = self._todo.get_nowait()
            except queue.Empty:
                break
            _sort_buckets(todo, *self._args)
        self.close()
        if self._error is not None:
            raise self._error
        return not self.bad.any()

    def close(self) -> None:
        """Stop the thread (after the work already handed over)."""
        if self._thread.is_alive():
            self._todo.put(None)
            self._thread.join()


def spike_table_arrays(
    h5: Mapping[str, Any],
    *,
    block_neurons: int | None = None,
    block_bytes: int = 4 * 2**20,
    source: str = "the BrainGrid file",
    layout: BrainGridLayout | None = None,
) -> tuple[dict[str, np.ndarray], BrainGridLayout]:
    """All spikes of a BrainGrid file, sorted by (time step, neuron), as plain arrays.

    Parameters
    ----------
    h5 : h5py.File or mapping
        The open BrainGrid file (see :func:`check_layout`); ``spikesProbedNeurons`` is read in
        blocks (see :func:`_iter_blocks`).
    block_neurons : int, optional
        Columns per block (default: the full width for a contiguous dataset).
    block_bytes : int, default 4 MiB
        Size of the block buffer; rows per block = block_bytes / (8 * block_neurons). A few
        MiB keep each block in cache between its read and its scan.
    source : str
        Name of the input for error messages.
    layout : BrainGridLayout, optional
        The result of :func:`check_layout`, if already computed.

    Returns
    -------
    arrays : dict
        ``time_step`` (uint64, steps), ``neuron`` (int32), ``x``, ``y`` (int16, grid units),
        each of shape (n_spikes,).
    layout : BrainGridLayout

    Raises
    ------
    ValueError
        A column is not strictly increasing, holds a spike after its zero padding, or a spike
        lies outside the run; or ``spikesHistory`` is not the 10-ms histogram of the matrix
        (when ``probedNeurons`` is a subset of the neurons: counts fewer spikes in a bin than
        the matrix holds). The message names the key, column, neuron, row (or bin) and value.
    OSError
        The file cannot be read (for example truncated); the message names the rows.
    """
    layout = layout if layout is not None else check_layout(h5, source=source)
    spikes = h5["spikesProbedNeurons"]
    n_rows, n_cols = layout.n_rows, layout.n_cols
    id_bits = max(int(layout.n_neurons - 1).bit_length(), 1)
    # Time steps must lie below the run's length (checklist 4.5.3), which bounds the keys.
    tmax = max(layout.n_steps, 1)
    if int(tmax).bit_length() + id_bits > 63:
        msg = f"{source}: key 'spikesHistory' implies {tmax} steps, too many to key (time_step << {id_bits} | neuron) in uint64."
        raise ValueError(msg)
    history = np.asarray(h5["spikesHistory"][()], dtype=np.int64)
    if history.size and history.min() < 0:
        msg = f"{source}: key 'spikesHistory' holds negative counts; expected spikes per 10-ms bin."
        raise ValueError(msg)
    cols_per_block, rows_per_block = _block_shape(spikes, n_rows, n_cols, block_neurons, block_bytes)
    partial = n_cols < layout.n_neurons
    if partial:
        # BrainGrid's spikesHistory counts every neuron, the matrix only the probed ones: a
        # first pass counts the probed spikes per bin, which must not exceed spikesHistory's.
        history = _probed_bin_counts(spikes, layout, history, tmax, cols_per_block, rows_per_block, source)
    # spikesHistory counts the spikes of every 10-ms bin (checklist 4.5.1), so each spike's
    # place in the time-sorted output is known up to its bin before the matrix is read: the
    # blocks append each spike to its time bucket (2**shift bins, a few thousand spikes),
    # which are then sorted independently.
    bin_starts = np.zeros(history.size + 1, dtype=np.int64)
    np.cumsum(history, out=bin_starts[1:])
    n_spikes = int(bin_starts[-1])
    n_buckets = min(_MAX_BUCKETS, max(1, n_spikes // _BUCKET_SPIKES))
    shift = max(0, math.ceil(math.log2(max(history.size, 1) / n_buckets)))
    bucket_starts = np.append(bin_starts[:: 1 << shift], n_spikes) if history.size % (1 << shift) else bin_starts[:: 1 << shift].copy()
    cursor = bucket_starts[:-1].copy()
    keys = np.empty(n_spikes, dtype=np.uint64)
    ids = layout.probed.astype(np.uint64)
    last = np.zeros(n_cols, dtype=np.uint64)
    active = np.arange(n_cols, dtype=np.int64)
    n_active = np.zeros(1, dtype=np.int64)
    sorter = _BucketSorter(keys, bucket_starts, bin_starts, shift, id_bits, layout)
    ok = False
    try:
        with contextlib.closing(_iter_blocks(spikes, n_rows, n_cols, cols_per_block, rows_per_block, source)) as blocks:
            for r0, c0, block in blocks:
                if r0 == 0:  # a new column block: all its columns are active
                    n_active[0] = block.shape[1]
                    active[: block.shape[1]] = np.arange(c0, c0 + block.shape[1])
                taken = _scan_block(block, c0, active, n_active, ids, np.uint64(id_bits), np.uint64(tmax), last,
                                    np.uint64(shift), cursor, bucket_starts[1:], keys)  # fmt: skip
                if taken < 0:
                    break
                sorter.dispatch(cursor)
            else:
                ok = np.array_equal(cursor, bucket_starts[1:]) and sorter.finish()
    finally:
        sorter.close()
    if ok:
        return {"time_step": keys, "neuron": sorter.neuron, "x": sorter.x, "y": sorter.y}, layout
    del keys
    _diagnose(spikes, layout, history, cols_per_block, rows_per_block, source)
    msg = f"{source}: 'spikesProbedNeurons' failed the fast checks but passed the slow ones; please report this file."
    raise RuntimeError(msg)


def _probed_bin_counts(
    spikes: Any, layout: BrainGridLayout, history: np.ndarray, tmax: int, cols_per_block: int, rows_per_block: int,
    source: str,
) -> np.ndarray:
    """Spikes per 10-ms bin of the probed columns (a first pass over the matrix); raise a
    ValueError naming the first bad slot, or the first bin where ``spikesHistory`` counts
    fewer spikes than the probed neurons fired."""
    counts = np.zeros(history.size, dtype=np.int64)
    last = np.zeros(layout.n_cols, dtype=np.uint64)
    active = np.arange(layout.n_cols, dtype=np.int64)
    n_active = np.zeros(1, dtype=np.int64)
    ok = True
    with contextlib.closing(_iter_blocks(spikes, layout.n_rows, layout.n_cols, cols_per_block, rows_per_block, source)) as blocks:
        for r0, c0, block in blocks:
            if r0 == 0:
                n_active[0] = block.shape[1]
                active[: block.shape[1]] = np.arange(c0, c0 + block.shape[1])
            if _count_block(block, c0, active, n_active, last, np.uint64(tmax), counts) < 0:
                ok = False
                break
    if not ok or np.any(counts > history):
        _diagnose(spikes, layout, history, cols_per_block, rows_per_block, source)
    return counts


def _diagnose(
    spikes: Any, layout: BrainGridLayout, history: np.ndarray, cols_per_block: int, rows_per_block: int, source: str
) -> None:
    """Read the matrix again, slot by slot, and raise a ValueError naming its first problem
    (or the first bin where ``spikesHistory`` differs from the matrix' histogram; with a
    subset of the neurons probed, where it counts fewer spikes than the matrix holds)."""
    last = np.zeros(layout.n_cols, dtype=np.uint64)
    ended = np.zeros(layout.n_cols, dtype=np.bool_)
    counts = np.zeros(history.size, dtype=np.int64)
    err = np.zeros(4, dtype=np.uint64)
    tmax = np.uint64(max(layout.n_steps, 1))
    with contextlib.closing(_iter_blocks(spikes, layout.n_rows, layout.n_cols, cols_per_block, rows_per_block, source)) as blocks:
        for r0, c0, block in blocks:
            if _check_block(block, c0, tmax, last, ended, counts, err) < 0:
                _raise_block_error(err, r0, layout, source)
    partial = layout.n_cols < layout.n_neurons
    differ = np.flatnonzero(counts > history if partial else counts != history)
    if differ.size:
        b = int(differ[0])
        expected = (
            f"expected at least the spikes of the {layout.n_cols} probed neurons ({differ.size} bins count fewer)"
            if partial
            else f"expected the histogram of the spike matrix ({differ.size} bins differ)"
        )
        msg = (
            f"{source}: key 'spikesHistory' bin {b} counts {int(history[b])} spikes but 'spikesProbedNeurons' holds "
            f"{int(counts[b])} in steps [{b * HISTORY_BIN_STEPS}, {(b + 1) * HISTORY_BIN_STEPS}); {expected}."
        )
        raise ValueError(msg)


def _raise_block_error(err: np.ndarray, r0: int, layout: BrainGridLayout, source: str) -> None:
    code, row, col, value = (int(v) for v in err)
    row += r0
    where = f"column {col} (neuron {int(layout.probed[col])}), row {row}"
    if code == _ERR_NOT_INCREASING:
        msg = (
            f"{source}: key 'spikesProbedNeurons' {where}: time step {value} is not greater than the "
            "previous spike of that column; expected each column to be strictly increasing."
        )
    elif code == _ERR_AFTER_PADDING:
        msg = (
            f"{source}: key 'spikesProbedNeurons' {where}: spike at time step {value} after the column's "
            "zero padding; expected zeros only after the last spike."
        )
    else:
        msg = (
            f"{source}: key 'spikesProbedNeurons' {where}: time step {value} is not below the run's "
            f"{layout.n_steps} steps (len('spikesHistory') * 100); expected every spike inside the run."
        )
    raise ValueError(msg)


def spike_table(
    h5: Mapping[str, Any],
    *,
    block_neurons: int | None = None,
    block_bytes: int = 4 * 2**20,
    source: str = "the BrainGrid file",
) -> xr.Dataset:
    """The spike table of a BrainGrid file as a labelled Dataset.

    Parameters
    ----------
    h5 : h5py.File or mapping
        The open BrainGrid file (layout of spec section 1.6).
    block_neurons, block_bytes, source
        See :func:`spike_table_arrays`.

    Returns
    -------
    xarray.Dataset
        Dim ``spike`` (sorted by time step, then neuron): ``time_step`` (uint64, steps),
        ``neuron`` (int32), ``x``, ``y`` (int16, grid units). Dim ``cell`` (all neurons):
        ``cell_x``, ``cell_y``, ``cell_type`` (1 INH, 2 EXC), ``starter`` (bool).
        Attrs: ``dt_s``, ``n_steps``, ``n_neurons``, ``n_probed``, ``grid_width``.
    """
    arrays, layout = spike_table_arrays(h5, block_neurons=block_neurons, block_bytes=block_bytes, source=source)
    starter = np.zeros(layout.n_neurons, dtype=bool)
    starter[layout.starters] = True
    grid_width = int(layout.xloc.max()) + 1 if layout.n_neurons else 0
    return xr.Dataset(
        {
            "time_step": ("spike", arrays["time_step"], {"units": "step", "long_name": "time step of the spike (dt_s seconds each)"}),
            "neuron": ("spike", arrays["neuron"], {"long_name": "id of the spiking neuron"}),
            "x": ("spike", arrays["x"], {"units": "grid_unit", "long_name": "x position of the spiking neuron"}),
            "y": ("spike", arrays["y"], {"units": "grid_unit", "long_name": "y position of the spiking neuron"}),
            "cell_x": ("cell", layout.xloc, {"units": "grid_unit", "long_name": "x position of the neuron"}),
            "cell_y": ("cell", layout.yloc, {"units": "grid_unit", "long_name": "y position of the neuron"}),
            "cell_type": ("cell", layout.neuron_types, {"long_name": "neuron type (1 inhibitory, 2 excitatory)"}),
            "starter": ("cell", starter, {"long_name": "endogenously active (starter) neuron"}),
        },
        coords={"cell": ("cell", np.arange(layout.n_neurons, dtype=np.int32), {"long_name": "neuron id"})},
        attrs={
            "dt_s": layout.dt_s,
            "n_steps": layout.n_steps,
            "n_neurons": layout.n_neurons,
            "n_probed": layout.n_cols,
            "grid_width": grid_width,
            "sort_order": "time_step, then neuron (stable; ties within a step by neuron id)",
        },
    )
