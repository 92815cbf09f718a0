"""Faithful re-implementations of the seed notebook's approach (Lundvall, get_training_data),
used only as the baseline of benchmarks/braingrid_spike_table.py and braingrid_windows.py.

Written from the notebook's description (spec braingrid.md section 3), with its I/O to S3
removed: ``create_spike_matrix`` loads the whole padded matrix as uint32, transposes and
flattens it, masks the zero padding with numpy.ma, repeats each neuron's (x, y) per row,
builds a DataFrame and sorts it with pandas' default (unstable quicksort);
``get_training_data`` scans every spike in a Python loop for each window size. The only
change: results are returned instead of written to CSV, and the shuffle is left out.
"""

from __future__ import annotations

import gc

import numpy as np
import numpy.ma as ma
import pandas as pd


def create_spike_matrix(f) -> pd.DataFrame:
    """The seed's spike table: DataFrame time_step, xloc, yloc sorted by time_step."""
    spikes = np.array(f["/spikesProbedNeurons"], dtype="uint32")
    xloc = np.array(f["/xloc"], dtype="uint8")
    yloc = np.array(f["/yloc"], dtype="uint8")
    m, n = spikes.shape
    spikes = np.transpose(spikes).flatten().reshape(m * n, 1)
    mask = ma.masked_equal(spikes, 0).reshape(m * n)
    xloc = np.compress(mask, np.repeat(xloc, m).reshape(m * n, 1), axis=0)
    yloc = np.compress(mask, np.repeat(yloc, m).reshape(m * n, 1), axis=0)
    xy = np.concatenate((xloc, yloc), axis=1)
    del xloc
    del yloc
    gc.collect()
    spikes_loc = pd.DataFrame(np.concatenate((np.compress(mask, spikes, axis=0), xy), axis=1))
    del spikes
    gc.collect()
    spikes_loc.rename(columns={0: "time_step", 1: "xloc", 2: "yloc"}, inplace=True)
    spikes_loc.sort_values(by="time_step", inplace=True)
    spikes_loc.reset_index(drop=True, inplace=True)
    return spikes_loc


def get_training_data(windows, gap, spikes, x, y, mask, n) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """The seed's window extraction: a Python loop over every spike, per window size.

    Returns {w: (temp_traindata, space_traindata)} (not shuffled, not saved).
    """
    m = spikes.shape[0]
    out = {}
    for w in windows:
        temp_preburst = np.ones((n, w + 1))
        temp_nonburst = np.zeros((n, w + 1))
        space_preburst = np.ones((n, w * 2 + 1))
        space_nonburst = np.zeros((n, w * 2 + 1))
        index = 0
        for i in range(1, m):
            if not mask[i - 1] and mask[i]:
                if spikes[i] - spikes[i - gap] >= gap:
                    temp_preburst[index, 0:w] = spikes[i - w : i] - spikes[i - w]
                    temp_nonburst[index, 0:w] = spikes[i - w - gap : i - gap] - spikes[i - w - gap]
                    space_preburst[index, 0 : w * 2] = np.concatenate(
                        (x[i - w : i].reshape(w, 1), y[i - w : i].reshape(w, 1)), axis=1
                    ).flatten()
                    space_nonburst[index, 0 : w * 2] = np.concatenate(
                        (x[i - w - gap : i - gap].reshape(w, 1), y[i - w - gap : i - gap].reshape(w, 1)), axis=1
                    ).flatten()
                    index += 1
        if index < n:
            temp_preburst = np.delete(temp_preburst, np.s_[index:n], 0)
            temp_nonburst = np.delete(temp_nonburst, np.s_[index:n], 0)
            space_preburst = np.delete(space_preburst, np.s_[index:n], 0)
            space_nonburst = np.delete(space_nonburst, np.s_[index + 1 : n], 0)
        temp_traindata = np.vstack((temp_preburst, temp_nonburst)).astype(int)
        space_traindata = np.vstack((space_preburst, space_nonburst)).astype(int)
        out[w] = (temp_traindata, space_traindata)
    return out
