"""BrainGrid HDF5 -> spike table, streamed over blocks of ``spikesProbedNeurons``.

BrainGrid stores spikes as a padded matrix ``spikesProbedNeurons`` of shape
(max spikes per neuron, n probed neurons), uint64: column j holds the ascending time steps of
probed neuron ``probedNeurons[j]``, then zeros ("no spike") up to the longest column
(spec section 1.6). The seed notebook loads the whole matrix (30 GB for the original run),
transposes it, masks the zeros and sorts with pandas' unstable quicksort.

Here the matrix is read block by block (``block_neurons`` columns x as many rows as fit in
``block_bytes``), each block is checked (strictly increasing non-zero prefix, zeros only
after it, steps inside the run) and each spike is written, as one uint64 key
``time_step << id_bits | neuron``, straight into its 10-ms bin of the output: the bins'
sizes are known before reading from ``spikesHistory`` (BrainGrid's histogram of the same
spikes, checked against the matrix on the way). The bins are then sorted (a few keys each).
Peak memory is O(block + spikes) and does not depend on how much of the matrix is padding.
Because no two spikes share (time_step, neuron), the key order *is* the stable
(time_step, neuron) order: ties within a time step are broken by neuron id, which fixes the
seed's implementation-defined order (spec section 3.1, step 4).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr
from numba import njit

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
_ERR_HISTORY = 4


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


@njit(cache=True)
def _block_scatter(block, col0, ids, id_bits, tmax, last, ended, out, cursor, ends, err):  # pragma: no cover - numba
    """Write the spikes of one block (rows x cols) of the padded matrix as keys
    ``t << id_bits | id`` straight into their 10-ms bin of *out*.

    ``cursor[b]`` is the next free slot of bin b and ``ends[b]`` its end (from
    ``spikesHistory``); ``last``/``ended`` carry each column's state across row blocks.
    Returns 0, or -1 after writing (code, row, col, value) to ``err``.
    """
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
                b = v // HISTORY_BIN_STEPS
                if cursor[b] >= ends[b]:
                    err[0] = _ERR_HISTORY
                    err[1] = r
                    err[2] = g
                    err[3] = v
                    return -1
                out[cursor[b]] = (v << id_bits) | ids[g]
                cursor[b] += 1
            else:
                ended[g] = True
    return 0


@njit(cache=True)
def _insertion_sort(a, lo, hi):  # pragma: no cover - numba
    for i in range(lo + 1, hi):
        key = a[i]
        j = i - 1
        while j >= lo and a[j] > key:
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = key


@njit(cache=True)
def _sort_bins(out, starts, id_bits):  # pragma: no cover - numba
    """Sort each 10-ms bin ``out[starts[b]:starts[b+1]]``: a counting sort on the step within
    the bin, then insertion sort of each step's few keys (by neuron id)."""
    max_size = 0
    for b in range(starts.size - 1):
        max_size = max(max_size, starts[b + 1] - starts[b])
    tmp = np.empty(max_size, dtype=np.uint64)
    step_start = np.zeros(HISTORY_BIN_STEPS + 1, dtype=np.int64)
    for b in range(starts.size - 1):
        lo = starts[b]
        hi = starts[b + 1]
        size = hi - lo
        if size <= 16:
            if size > 1:
                _insertion_sort(out, lo, hi)
            continue
        base = np.uint64(b * HISTORY_BIN_STEPS)
        step_start[:] = 0
        for i in range(size):
            v = out[lo + i]
            tmp[i] = v
            step_start[np.int64((v >> id_bits) - base) + 1] += 1
        for k in range(HISTORY_BIN_STEPS):
            step_start[k + 1] += step_start[k]
        for i in range(size):
            v = tmp[i]
            k = np.int64((v >> id_bits) - base)
            out[lo + step_start[k]] = v
            step_start[k] += 1
        first = lo
        for k in range(HISTORY_BIN_STEPS):
            last = lo + step_start[k]
            if last - first > 32:
                out[first:last].sort()
            elif last - first > 1:
                _insertion_sort(out, first, last)
            first = last


@njit(cache=True)
def _split_keys(keys, id_bits, xloc, yloc, neuron, x, y):  # pragma: no cover - numba
    """Turn sorted keys into time steps (in place) and neuron ids with their coordinates."""
    for i in range(keys.size):
        k = keys[i]
        t = k >> id_bits
        nid = k - (t << id_bits)
        keys[i] = t
        neuron[i] = nid
        x[i] = xloc[nid]
        y[i] = yloc[nid]


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


def spike_table_arrays(
    h5: Mapping[str, Any],
    *,
    block_neurons: int | None = None,
    block_bytes: int = 32 * 2**20,
    source: str = "the BrainGrid file",
    layout: BrainGridLayout | None = None,
) -> tuple[dict[str, np.ndarray], BrainGridLayout]:
    """All spikes of a BrainGrid file, sorted by (time step, neuron), as plain arrays.

    Parameters
    ----------
    h5 : h5py.File or mapping
        The open BrainGrid file (see :func:`check_layout`); ``spikesProbedNeurons`` is read in
        blocks with ``read_direct`` when available, else by slicing.
    block_neurons : int, optional
        Columns per block (default: the full width for a contiguous dataset).
    block_bytes : int, default 32 MiB
        Size of one block buffer; rows per block = block_bytes / (8 * block_neurons).
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
        lies outside the run; or ``spikesHistory`` is not the 10-ms histogram of the matrix.
        The message names the key, column, neuron, row (or bin) and value.
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
    ids = layout.probed.astype(np.uint64)
    last = np.zeros(n_cols, dtype=np.uint64)
    ended = np.zeros(n_cols, dtype=np.bool_)
    err = np.zeros(4, dtype=np.uint64)
    # spikesHistory counts the spikes of every 10-ms bin (checklist 4.5.1), so each spike's
    # place in the time-sorted output is known up to its bin before the matrix is read: the
    # blocks scatter straight into their bins, which are then sorted (a few keys each).
    history = np.asarray(h5["spikesHistory"][()], dtype=np.int64)
    if history.size and history.min() < 0:
        msg = f"{source}: key 'spikesHistory' holds negative counts; expected spikes per 10-ms bin."
        raise ValueError(msg)
    starts = np.zeros(history.size + 1, dtype=np.int64)
    np.cumsum(history, out=starts[1:])
    keys = np.empty(int(starts[-1]), dtype=np.uint64)
    cursor = starts[:-1].copy()
    ends = starts[1:]
    cols_per_block, rows_per_block = _block_shape(spikes, n_rows, n_cols, block_neurons, block_bytes)
    buf = np.empty(cols_per_block * rows_per_block, dtype=np.uint64)
    direct = hasattr(spikes, "read_direct")
    for c0 in range(0, n_cols, cols_per_block):
        c1 = min(n_cols, c0 + cols_per_block)
        for r0 in range(0, n_rows, rows_per_block):
            r1 = min(n_rows, r0 + rows_per_block)
            block = buf[: (r1 - r0) * (c1 - c0)].reshape(r1 - r0, c1 - c0)
            try:
                if direct:
                    spikes.read_direct(block, source_sel=np.s_[r0:r1, c0:c1])
                else:
                    block[...] = spikes[r0:r1, c0:c1]
            except OSError as exc:
                msg = f"{source}: reading 'spikesProbedNeurons' rows {r0}:{r1}, columns {c0}:{c1} failed ({exc}); the file may be truncated."
                raise OSError(msg) from exc
            status = _block_scatter(block, c0, ids, np.uint64(id_bits), np.uint64(tmax), last, ended, keys, cursor, ends, err)
            if status < 0:
                _raise_block_error(err, r0, layout, source, history)
    del buf
    short = np.flatnonzero(cursor != ends)
    if short.size:
        b = int(short[0])
        msg = (
            f"{source}: key 'spikesHistory' bin {b} counts {int(history[b])} spikes but 'spikesProbedNeurons' holds "
            f"{int(cursor[b] - starts[b])} in steps [{b * HISTORY_BIN_STEPS}, {(b + 1) * HISTORY_BIN_STEPS}); "
            f"expected the histogram of the spike matrix ({short.size} bins differ)."
        )
        raise ValueError(msg)
    _sort_bins(keys, starts, np.uint64(id_bits))
    neuron = np.empty(keys.size, dtype=np.int32)
    x = np.empty(keys.size, dtype=np.int16)
    y = np.empty(keys.size, dtype=np.int16)
    _split_keys(keys, np.uint64(id_bits), layout.xloc, layout.yloc, neuron, x, y)
    return {"time_step": keys, "neuron": neuron, "x": x, "y": y}, layout


def _raise_block_error(err: np.ndarray, r0: int, layout: BrainGridLayout, source: str, history: np.ndarray) -> None:
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
    elif code == _ERR_HISTORY:
        b = value // HISTORY_BIN_STEPS
        msg = (
            f"{source}: key 'spikesHistory' bin {b} counts {int(history[b])} spikes but 'spikesProbedNeurons' "
            f"holds more in steps [{b * HISTORY_BIN_STEPS}, {(b + 1) * HISTORY_BIN_STEPS}) ({where}); "
            "expected the histogram of the spike matrix."
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
    block_bytes: int = 32 * 2**20,
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
        Attrs: ``dt_s``, ``n_steps``, ``n_neurons``, ``n_probed``, ``grid_width`` and
        ``first_simulated_step`` (steps grown in closed form before it by the generator's
        schedule (b), from the root attribute ``analyticEpochs``; 0 for a fully simulated run).
    """
    arrays, layout = spike_table_arrays(h5, block_neurons=block_neurons, block_bytes=block_bytes, source=source)
    starter = np.zeros(layout.n_neurons, dtype=bool)
    starter[layout.starters] = True
    # Schedule (b) files grow their first epochs in closed form: no spikes were simulated there.
    root_attrs = getattr(h5, "attrs", {})
    analytic_epochs = int(root_attrs.get("analyticEpochs", 0)) if "analyticEpochs" in root_attrs else 0
    tsim_s = float(np.asarray(h5["Tsim"][()]).ravel()[0]) if "Tsim" in h5 else 0.0
    first_simulated_step = round(analytic_epochs * tsim_s / layout.dt_s) if analytic_epochs else 0
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
            "first_simulated_step": int(first_simulated_step),
            "sort_order": "time_step, then neuron (stable; ties within a step by neuron id)",
        },
    )
