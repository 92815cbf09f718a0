"""Spike-time targets of the ANN: one-hot spikes, AP arrays and time since the last spike (ISI)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._exceptions import ParamError

__all__ = ["ap_array", "isi_array", "isi_at", "isi_from_spike_list", "spike_times_to_onehot", "time_grid"]


def check_time_range(min_time: float, max_time: float, step: float, *, step_name: str = "step") -> None:
    """Raise ParamError unless ``min_time < max_time`` are finite and *step* (called *step_name*
    in the message) is positive, all in ms."""
    if not (np.isfinite(min_time) and np.isfinite(max_time) and max_time > min_time):
        msg = f"'min_time' ({min_time!r}) must be finite and less than 'max_time' ({max_time!r}), in ms."
        raise ParamError(msg)
    if not (np.isfinite(step) and step > 0):
        msg = f"'{step_name}' must be a float in the range (0, inf) ms. Got {step!r} instead."
        raise ParamError(msg)


def time_grid(min_time: float, max_time: float, step: float) -> np.ndarray:
    """``np.arange(min_time, max_time, step)``: the start of every time step (ms), checked."""
    check_time_range(min_time, max_time, step)
    return np.arange(min_time, max_time, step, dtype=np.float64)


def _as_spike_matrix(st: Any) -> tuple[np.ndarray, pd.Index | None]:
    """Spike times as a (n_trials, n_spikes) float array, NaN-padded; plus the frame's index."""
    if isinstance(st, pd.DataFrame):
        return st.to_numpy(dtype=np.float64), st.index
    if isinstance(st, pd.Series):
        return st.to_numpy(dtype=np.float64)[None, :], None
    arr = np.asarray(st, dtype=np.float64)
    if arr.ndim == 1:
        return arr[None, :], None
    if arr.ndim != 2:
        msg = f"spike times must be 1-D (one trial) or 2-D (trials x spikes). Got shape {arr.shape} instead."
        raise ParamError(msg)
    return arr, None


def spike_times_to_onehot(spike_times: Any, min_time: float = 0, max_time: float = 505, time_step: float = 1) -> np.ndarray:
    """One-hot spike vector: True in every time step ``[t, t + time_step)`` holding a spike.

    ISF ``spike_times_to_onehot``. As in ISF, only spikes before `max_time` count: when
    `time_step` does not divide the window, the last step reaches past `max_time`, and a
    spike there (``[10.5]`` with ``(0, 10, 3)``) is dropped, not put in the last step.
    Bugs fixed: ISF indexed steps from 0 instead of `min_time` (wrong or IndexError for
    ``min_time > 0``), dropped a spike at exactly `min_time`, and failed on numpy arrays.
    Here spikes in ``[min_time, max_time)`` count.

    Parameters
    ----------
    spike_times : array-like of float, shape (n_spikes,)
        ms; NaNs are ignored.
    min_time, max_time, time_step : float
        ms.

    Returns
    -------
    ndarray of bool, shape (len(np.arange(min_time, max_time, time_step)),)
    """
    grid = time_grid(min_time, max_time, time_step)
    st = np.asarray(spike_times, dtype=np.float64)
    if st.ndim != 1:
        msg = f"spike_times_to_onehot: 'spike_times' must be 1-D. Got shape {st.shape} instead."
        raise ParamError(msg)
    st = st[st < max_time]
    return ap_array(st[None, :], min_time, max_time, time_step)[0][: len(grid)]


def isi_from_spike_list(st: Any, min_time: float = 0, max_time: float = 505, time_step: float = 1,
                        fillna: float = 1000.0) -> np.ndarray:
    """Time since the last spike at every time step of one trial (ISF ``compute_ISI_from_st_list``).

    Bugs fixed, so that it agrees with `isi_array`: ISF rejected numpy arrays, forgot spikes
    before `min_time`, used a strict ``<`` (a spike at ``t`` did not count) and returned the
    absolute time ``t`` when no spike preceded it. Here a spike at or before ``t`` counts and
    `fillna` is returned when there is none.

    Parameters
    ----------
    st : array-like of float, shape (n_spikes,)
        ms.
    min_time, max_time, time_step : float
        ms.
    fillna : float, default 1000.0
        Value (ms) where no spike precedes.

    Returns
    -------
    ndarray of float64, shape (len(np.arange(min_time, max_time, time_step)),)
    """
    arr = np.asarray(st, dtype=np.float64)
    if arr.ndim != 1:
        msg = f"isi_from_spike_list: 'st' must be 1-D. Got shape {arr.shape} instead."
        raise ParamError(msg)
    return isi_array(arr[None, :], min_time, max_time, fillna=fillna, step=time_step)[0]


def isi_at(st: Any, timepoint: float, fillna: float = 1000.0) -> Any:
    """Time since the last spike at or before `timepoint`, per trial (ISF ``compute_ISI_from_st``).

    Bugs fixed: ISF required `fillna` to be given, failed on a Series, and used ``np.NaN``
    (AttributeError on numpy 2).

    Parameters
    ----------
    st : DataFrame (trials x spikes), Series (one trial) or array of shape (n_trials, n_spikes)
        ms, NaN-padded.
    timepoint : float
        ms.
    fillna : float, default 1000.0

    Returns
    -------
    Series indexed like `st` for a DataFrame, else ndarray of float64, shape (n_trials,)
    """
    mat, index = _as_spike_matrix(st)
    masked = np.where(mat <= timepoint, mat, -np.inf)
    last = masked.max(axis=1, initial=-np.inf)
    out = np.where(np.isfinite(last), timepoint - last, fillna)
    return pd.Series(out, index=index) if index is not None else out


def isi_array(st: Any, min_time: float, max_time: float, fillna: float = 1000.0, step: float = 1) -> np.ndarray:
    """Time since the last spike at every step of ``np.arange(min_time, max_time, step)``.

    ISF ``compute_ISI_array``: a spike at exactly ``t`` gives 0, no earlier spike gives `fillna`.

    Parameters
    ----------
    st : DataFrame, Series or array of shape (n_trials, n_spikes)
        ms, NaN-padded.
    min_time, max_time, step : float
        ms.
    fillna : float, default 1000.0

    Returns
    -------
    ndarray of float64, shape (n_trials, n_steps)
    """
    grid = time_grid(min_time, max_time, step)
    mat, _ = _as_spike_matrix(st)
    srt = np.sort(np.where(np.isnan(mat), np.inf, mat), axis=1)
    srt = np.concatenate([srt, np.full((srt.shape[0], 1), np.inf)], axis=1)  # never empty
    out = np.empty((mat.shape[0], len(grid)))
    for r in range(mat.shape[0]):
        k = np.searchsorted(srt[r], grid, side="right") - 1
        last = np.where(k >= 0, srt[r][np.maximum(k, 0)], np.nan)
        out[r] = np.where(k >= 0, grid - last, fillna)
    return out


def ap_array(st: Any, min_time: float, max_time: float, step: float = 1) -> np.ndarray:
    """Whether a spike falls in ``[t, t + step)`` for every t of ``np.arange(min_time, max_time, step)``.

    ISF ``compute_AP_array``. Bugs fixed: ISF accepted only integer times and had an unused
    `fillna` argument.

    Parameters
    ----------
    st : DataFrame, Series or array of shape (n_trials, n_spikes)
        ms, NaN-padded.
    min_time, max_time, step : float
        ms.

    Returns
    -------
    ndarray of bool, shape (n_trials, n_steps)
    """
    grid = time_grid(min_time, max_time, step)
    mat, _ = _as_spike_matrix(st)
    out = np.zeros((mat.shape[0], len(grid)), dtype=bool)
    r, c = np.nonzero(np.isfinite(mat))
    t = mat[r, c]
    k = np.searchsorted(grid, t, side="right") - 1
    keep = (k >= 0) & (t < grid[np.maximum(k, 0)] + step)
    out[r[keep], k[keep]] = True
    return out
