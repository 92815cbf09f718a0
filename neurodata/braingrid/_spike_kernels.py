"""Numba kernels of the spike table (time unit: simulation steps; all release the GIL).

:func:`scan_block` appends the spikes of one block of ``spikesProbedNeurons`` to their time
buckets (the fast path); :func:`sort_buckets` radix-sorts complete buckets and splits their
keys; :func:`count_block` counts the spikes per 10-ms bin of a block (the first pass for a
partially probed file); :func:`check_block` visits every slot to name the first bad one (the
slow path that diagnoses a file the fast path rejected).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._hdf5_layout import STEPS_PER_SPIKES_HISTORY_BIN as HISTORY_BIN_STEPS

__all__ = ["ERR_AFTER_PADDING", "ERR_NOT_INCREASING", "ERR_TOO_LARGE", "check_block", "count_block", "scan_block",
           "sort_buckets"]

#: Codes of :func:`check_block`'s first bad slot.
ERR_NOT_INCREASING = 1
ERR_AFTER_PADDING = 2
ERR_TOO_LARGE = 3
#: Radix of the per-bucket LSD sort (11 bits: 2048 counters, 16 KiB, stay in L1).
_RADIX_BITS = 11


@njit(nogil=True, cache=True)
def scan_block(block, col0, active, n_active, ids, id_bits, tmax, last, shift, cursor, ends, keys):  # pragma: no cover - numba
    """Fast path over one block (rows x cols, first column ``col0``) of the padded matrix.

    Walks each row over the columns still *active* (not yet past their last spike), so a
    column's zero padding is never visited spike by spike, and appends each spike as the key
    ``t << id_bits | id`` to its time bucket (``(t // 100) >> shift``; write cursor
    ``cursor[b]``, end ``ends[b]`` from ``spikesHistory``). ``last`` and ``active`` carry the
    columns' state across row blocks. The non-zero count of the whole block must equal the
    spikes taken, which proves that no spike follows a column's padding.

    Returns the spikes taken, or -1 at the first sign of bad input (not increasing, after the
    padding, outside the run, more spikes than ``spikesHistory`` counts): the caller then
    diagnoses the file with :func:`check_block` for a precise message.
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
def sort_buckets(todo, keys, bucket_starts, bin_starts, shift, id_bits, xloc, yloc, neuron, x, y, bad):  # pragma: no cover - numba
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
def check_block(block, col0, tmax, last, ended, counts, err):  # pragma: no cover - numba
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
                    err[0] = ERR_AFTER_PADDING if ended[g] else (ERR_NOT_INCREASING if v <= last[g] else ERR_TOO_LARGE)
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
def count_block(block, col0, active, n_active, last, tmax, counts):  # pragma: no cover - numba
    """Count the spikes of each 10-ms bin of one block into *counts*, walking each row over the
    columns still *active* (as :func:`scan_block`). Returns the spikes counted, or -1 at the
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

