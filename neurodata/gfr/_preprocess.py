"""Preprocessing as the GFR pipeline runs it: onset alignment, binning, and the maximal firing rate.

Binned current is the bin mean in pA; binned rate is spike count / bin width in spikes/ms.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._stimuli import KIND_CODES, noise_layout, sweep_current

__all__ = ["bin_recordings", "bin_sweep", "bin_sweeps", "max_firing_rate", "onset_index"]


def onset_index(current: np.ndarray) -> int:
    """First sample where the injected current changes (``diff(I) != 0``), 0 if it never does.

    Sequences start at this sample, i.e. one sample before the first change of current
    (step onset, ramp start or first noise epoch), as ``obtain_firing_rate_and_current_given_time_bin``.

    Parameters
    ----------
    current : ndarray of shape (n_samples,)
        Injected current in pA.

    Returns
    -------
    int
    """
    nz = np.flatnonzero(np.diff(current) != 0)
    return int(nz[0]) if nz.size else 0


def bin_sweep(current: np.ndarray, spike_samples: np.ndarray, *, bin_ms: float, dt: float,
              is_ramp: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Bin one sweep from its current onset: mean current [pA] and rate [spikes/ms] per bin.

    Parameters
    ----------
    current : ndarray of shape (n_samples,)
        Injected current in pA, sampled every *dt* ms.
    spike_samples : ndarray of shape (n_spikes,)
        Sample index of each spike (``int(t * sampling_rate)``).
    bin_ms : float
        Bin width in ms.
    dt : float
        Sampling step in ms.
    is_ramp : bool, default: False
        Ramp sweeps end at the peak of the current (``argmax(I)``), as in the original.

    Returns
    -------
    current_binned, rate_binned : ndarray of shape (n_bins,)
        The trailing partial bin is dropped.
    """
    end = current.size
    if is_ramp:
        peak = int(np.argmax(current))
        if peak > 0:
            end = min(end, peak)
    begin = onset_index(current[:end])
    n_samp = int(round(bin_ms / dt))
    n_bins = (end - begin) // n_samp
    cur = current[begin: begin + n_bins * n_samp].reshape(n_bins, n_samp).mean(axis=1)
    rel = spike_samples[(spike_samples >= begin) & (spike_samples < begin + n_bins * n_samp)] - begin
    counts = np.bincount(rel // n_samp, minlength=n_bins)[:n_bins]
    return cur, counts / bin_ms


def bin_sweeps(kind: np.ndarray, amplitude: np.ndarray, onset_ms: np.ndarray, duration_ms: np.ndarray,
               n_samples: np.ndarray, spike_sweep: np.ndarray, spike_time: np.ndarray, *, bin_sizes: list[int],
               dt: float, noise_waveforms: np.ndarray) -> dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Bin every sweep at every bin size.

    Parameters
    ----------
    kind, amplitude, onset_ms, duration_ms, n_samples : ndarray of shape (n_sweeps,)
        The sweep recipes (see :func:`sweep_current`).
    spike_sweep : ndarray of shape (n_spikes,)
        Sweep row of each spike.
    spike_time : ndarray of shape (n_spikes,)
        Spike time in s from sweep start.
    bin_sizes : list of int
        Bin widths in ms.
    dt : float
        Sampling step in ms.
    noise_waveforms : ndarray of shape (2, n_noise)
        Noise 1 / Noise 2 layouts in units of rheobase.

    Returns
    -------
    dict
        ``{bin_ms: (current, rate, n_bins)}`` with ``current``/``rate`` of shape
        (n_sweeps, max n_bins) (NaN beyond a sweep's own ``n_bins``) in pA and spikes/ms.
    """
    n_sw = kind.size
    # sample index of each spike; the small offset undoes float round-off of k * dt
    samples = np.floor(spike_time * 1000.0 / dt + 1e-6).astype(np.int64)
    starts = np.searchsorted(spike_sweep, np.arange(n_sw + 1))
    per_bin: dict[int, list] = {b: [] for b in bin_sizes}
    for s in range(n_sw):
        cur = sweep_current(int(kind[s]), float(amplitude[s]), float(onset_ms[s]), float(duration_ms[s]),
                            int(n_samples[s]), dt=dt, noise_waveforms=noise_waveforms)
        sp = samples[starts[s]:starts[s + 1]]
        for b in bin_sizes:
            per_bin[b].append(bin_sweep(cur, sp, bin_ms=b, dt=dt, is_ramp=kind[s] == KIND_CODES["Ramp"]))
    out = {}
    for b, lst in per_bin.items():
        n_bins = np.array([c.size for c, _ in lst], dtype=np.int64)
        width = int(n_bins.max()) if n_sw else 0
        cur = np.full((n_sw, width), np.nan)
        rate = np.full((n_sw, width), np.nan)
        for s, (c, r) in enumerate(lst):
            cur[s, : c.size] = c
            rate[s, : r.size] = r
        out[b] = (cur, rate, n_bins)
    return out


def max_firing_rate(spike_sweep: np.ndarray, spike_time: np.ndarray, sweep_cell: np.ndarray,
                    n_cells: int) -> np.ndarray:
    """gamma: the maximum of 1/ISI over all within-sweep ISIs of each cell, in spikes/ms.

    Parameters
    ----------
    spike_sweep : ndarray of shape (n_spikes,)
        Sweep row of each spike, sorted (then by time).
    spike_time : ndarray of shape (n_spikes,)
        Spike times in s.
    sweep_cell : ndarray of shape (n_sweeps,)
        Cell row of each sweep.
    n_cells : int

    Returns
    -------
    ndarray of shape (n_cells,)
        NaN for a cell without any ISI (the original skips such a cell).
    """
    out = np.full(n_cells, np.nan)
    if spike_time.size < 2:
        return out
    same = spike_sweep[1:] == spike_sweep[:-1]
    isi = np.diff(spike_time)[same]
    cell = sweep_cell[spike_sweep[1:][same]]
    inv = np.where(isi > 0, 1.0 / np.where(isi > 0, isi, 1.0), np.nan) / 1000.0
    np.fmax.at(out, cell, inv)
    return out


def bin_recordings(table: pd.DataFrame, spike_sweep: np.ndarray, spike_time: np.ndarray, n_cells: int, *,
                   bin_sizes: list[int], dt: float, noise_seeds: list[int]) -> tuple[dict[int, tuple], np.ndarray]:
    """Bin every recorded sweep at every bin size, and gamma per cell: what ``gfr_binned`` holds.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per sweep: ``cell`` (row of the cell), ``kind``, ``amplitude``, ``onset_ms``,
        ``duration_ms``, ``n_samples`` (``sweep_table`` of a ``gfr_cells`` Dataset).
    spike_sweep : ndarray of int, shape (n_spikes,)
        Sweep row of each spike, sorted (then by time).
    spike_time : ndarray of shape (n_spikes,)
        Spike times in s from sweep start.
    n_cells : int
        Cells of the population.
    bin_sizes : list of int
        Bin widths in ms.
    dt : float
        Sampling step in ms.
    noise_seeds : list of int
        Phase seeds of Noise 1 and Noise 2 (the noise currents are rebuilt from them).

    Returns
    -------
    binned : dict
        ``{bin_ms: (current, rate, n_bins)}`` (see :func:`bin_sweeps`).
    gamma : ndarray of shape (n_cells,)
        Maximal firing rate in spikes/ms (see :func:`max_firing_rate`).
    """
    waves = np.stack([noise_layout(int(s), dt=dt) for s in noise_seeds])
    binned = bin_sweeps(table["kind"].to_numpy(), table["amplitude"].to_numpy(), table["onset_ms"].to_numpy(),
                        table["duration_ms"].to_numpy(), table["n_samples"].to_numpy(), spike_sweep, spike_time,
                        bin_sizes=bin_sizes, dt=dt, noise_waveforms=waves)
    return binned, max_firing_rate(spike_sweep, spike_time, table["cell"].to_numpy(), n_cells)
