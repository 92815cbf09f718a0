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
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from .._exceptions import SchemaViolation
from ._artifacts import spikes_dataset
from ._bucket_sort import BucketSorter
from ._hdf5_layout import STEPS_PER_SPIKES_HISTORY_BIN as HISTORY_BIN_STEPS
from ._spike_kernels import ERR_AFTER_PADDING, ERR_NOT_INCREASING, check_block, count_block, scan_block
from ._spike_reader import BrainGridLayout, block_shape, iter_blocks, read_layout

__all__ = ["spike_table", "spike_table_arrays"]

#: Target number of spikes per time bucket (its sort works in L2), and most buckets (the
#: scan's write cursors, one cache line each, stay in L2).
_BUCKET_SPIKES = 8192
_MAX_BUCKETS = 2048


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
        The open BrainGrid file (see :func:`~._spike_reader.read_layout`); ``spikesProbedNeurons`` is read in
        blocks (see :func:`~._spike_reader.iter_blocks`).
    block_neurons : int, optional
        Columns per block (default: the full width for a contiguous dataset).
    block_bytes : int, default 4 MiB
        Size of the block buffer; rows per block = block_bytes / (8 * block_neurons). A few
        MiB keep each block in cache between its read and its scan.
    source : str
        Name of the input for error messages.
    layout : BrainGridLayout, optional
        The result of :func:`~._spike_reader.read_layout`, if already computed.

    Returns
    -------
    arrays : dict
        ``time_step`` (uint64, steps), ``neuron`` (int32), ``x``, ``y`` (int16, grid units),
        each of shape (n_spikes,).
    layout : BrainGridLayout

    Raises
    ------
    neurodata.SchemaViolation
        The layout is broken (see :func:`~._spike_reader.read_layout`), a column is not strictly increasing, holds a spike after its zero padding, or a spike
        lies outside the run; or ``spikesHistory`` is not the 10-ms histogram of the matrix
        (when ``probedNeurons`` is a subset of the neurons: counts fewer spikes in a bin than
        the matrix holds). The message names the key, column, neuron, row (or bin) and value.
    neurodata.SchemaViolation
        The file cannot be read (for example truncated); the message names the rows.
    """
    layout = layout if layout is not None else read_layout(h5, source=source)
    spikes = h5["spikesProbedNeurons"]
    n_rows, n_cols = layout.n_rows, layout.n_cols
    id_bits = max(int(layout.n_neurons - 1).bit_length(), 1)
    # Time steps must lie below the run's length (checklist 4.5.3), which bounds the keys.
    tmax = max(layout.n_steps, 1)
    if int(tmax).bit_length() + id_bits > 63:
        msg = f"{source}: key 'spikesHistory' implies {tmax} steps, too many to key (time_step << {id_bits} | neuron) in uint64."
        raise SchemaViolation(msg)
    history = np.asarray(h5["spikesHistory"][()], dtype=np.int64)
    if history.size and history.min() < 0:
        msg = f"{source}: key 'spikesHistory' holds negative counts; expected spikes per 10-ms bin."
        raise SchemaViolation(msg)
    cols_per_block, rows_per_block = block_shape(spikes, n_rows, n_cols, block_neurons, block_bytes)
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
    sorter = BucketSorter(keys, bucket_starts, bin_starts, shift, id_bits, layout)
    ok = False
    try:
        with contextlib.closing(iter_blocks(spikes, n_rows, n_cols, cols_per_block, rows_per_block, source)) as blocks:
            for r0, c0, block in blocks:
                if r0 == 0:  # a new column block: all its columns are active
                    n_active[0] = block.shape[1]
                    active[: block.shape[1]] = np.arange(c0, c0 + block.shape[1])
                taken = scan_block(block, c0, active, n_active, ids, np.uint64(id_bits), np.uint64(tmax), last,
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
    SchemaViolation naming the first bad slot, or the first bin where ``spikesHistory`` counts
    fewer spikes than the probed neurons fired."""
    counts = np.zeros(history.size, dtype=np.int64)
    last = np.zeros(layout.n_cols, dtype=np.uint64)
    active = np.arange(layout.n_cols, dtype=np.int64)
    n_active = np.zeros(1, dtype=np.int64)
    ok = True
    with contextlib.closing(iter_blocks(spikes, layout.n_rows, layout.n_cols, cols_per_block, rows_per_block, source)) as blocks:
        for r0, c0, block in blocks:
            if r0 == 0:
                n_active[0] = block.shape[1]
                active[: block.shape[1]] = np.arange(c0, c0 + block.shape[1])
            if count_block(block, c0, active, n_active, last, np.uint64(tmax), counts) < 0:
                ok = False
                break
    if not ok or np.any(counts > history):
        _diagnose(spikes, layout, history, cols_per_block, rows_per_block, source)
    return counts



def _diagnose(
    spikes: Any, layout: BrainGridLayout, history: np.ndarray, cols_per_block: int, rows_per_block: int, source: str
) -> None:
    """Read the matrix again, slot by slot, and raise a SchemaViolation naming its first problem
    (or the first bin where ``spikesHistory`` differs from the matrix' histogram; with a
    subset of the neurons probed, where it counts fewer spikes than the matrix holds)."""
    last = np.zeros(layout.n_cols, dtype=np.uint64)
    ended = np.zeros(layout.n_cols, dtype=np.bool_)
    counts = np.zeros(history.size, dtype=np.int64)
    err = np.zeros(4, dtype=np.uint64)
    tmax = np.uint64(max(layout.n_steps, 1))
    with contextlib.closing(iter_blocks(spikes, layout.n_rows, layout.n_cols, cols_per_block, rows_per_block, source)) as blocks:
        for r0, c0, block in blocks:
            if check_block(block, c0, tmax, last, ended, counts, err) < 0:
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
        raise SchemaViolation(msg)



def _raise_block_error(err: np.ndarray, r0: int, layout: BrainGridLayout, source: str) -> None:
    code, row, col, value = (int(v) for v in err)
    row += r0
    where = f"column {col} (neuron {int(layout.probed[col])}), row {row}"
    if code == ERR_NOT_INCREASING:
        msg = (
            f"{source}: key 'spikesProbedNeurons' {where}: time step {value} is not greater than the "
            "previous spike of that column; expected each column to be strictly increasing."
        )
    elif code == ERR_AFTER_PADDING:
        msg = (
            f"{source}: key 'spikesProbedNeurons' {where}: spike at time step {value} after the column's "
            "zero padding; expected zeros only after the last spike."
        )
    else:
        msg = (
            f"{source}: key 'spikesProbedNeurons' {where}: time step {value} is not below the run's "
            f"{layout.n_steps} steps (len('spikesHistory') * 100); expected every spike inside the run."
        )
    raise SchemaViolation(msg)



def spike_table(
    h5: Mapping[str, Any],
    *,
    block_neurons: int | None = None,
    block_bytes: int = 4 * 2**20,
    source: str = "the BrainGrid file",
    culture: int = 0,
) -> xr.Dataset:
    """The spike table of a BrainGrid file (one culture) as a labelled Dataset.

    Parameters
    ----------
    h5 : h5py.File or mapping
        The open BrainGrid file (layout of spec section 1.6).
    block_neurons : int, optional
        Columns per block (see :func:`spike_table_arrays`).
    block_bytes : int, default 4 MiB
        Size of the block buffer [bytes].
    source : str
        Name of the input for error messages.
    culture : int, default 0
        The file's culture (coordinate ``culture`` of every spike).

    Returns
    -------
    xarray.Dataset
        Dim ``spike`` (sorted by time step, then neuron; coordinate ``culture``): ``time_step`` (uint64, steps),
        ``neuron`` (int32), ``x``, ``y`` (int16, grid units). Dim ``cell`` (all neurons):
        ``cell_x``, ``cell_y``, ``cell_type`` (1 INH, 2 EXC), ``starter`` (bool).
        Attrs: ``dt_s``, ``n_steps``, ``n_neurons``, ``n_probed``, ``grid_width``.
    """
    arrays, layout = spike_table_arrays(h5, block_neurons=block_neurons, block_bytes=block_bytes, source=source)
    return spikes_dataset(arrays, layout, culture)
