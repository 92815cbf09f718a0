"""Voltage targets of the ANN: maximum depolarisation per millisecond."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._exceptions import ParamError

__all__ = ["max_depolarization_per_ms", "max_depolarization_per_ms_dask", "max_per_ms", "time_groups"]


def time_groups(vt: Any, dt_ms: float = 0.025) -> list[int]:
    """Millisecond group of every voltage sample: ``[i // samples_per_ms for i in range(n)]``.

    ISF ``get_time_groups`` (which assumed dt = 0.025 ms, 40 samples per ms; the last group
    may be partial).

    Parameters
    ----------
    vt : DataFrame, array of shape (n_trials, n_samples), or int
        The traces, or their number of samples.
    dt_ms : float, default 0.025
        Sampling step; 1 / dt_ms must be a whole number of samples per ms.

    Returns
    -------
    list of int, length n_samples
    """
    n = int(vt) if isinstance(vt, int | np.integer) else int(np.shape(vt)[1])
    per_ms = _samples_per_ms(dt_ms)
    return [i // per_ms for i in range(n)]


def _samples_per_ms(dt_ms: float) -> int:
    per_ms = 1.0 / dt_ms if dt_ms > 0 else np.nan
    if not np.isfinite(per_ms) or abs(per_ms - round(per_ms)) > 1e-9:
        msg = f"'dt_ms' must divide 1 ms into a whole number of samples (e.g. 0.025). Got {dt_ms!r} instead."
        raise ParamError(msg)
    return int(round(per_ms))


def max_per_ms(values: np.ndarray, dt_ms: float = 0.025) -> np.ndarray:
    """Row-wise maximum over consecutive 1 ms blocks of samples.

    Parameters
    ----------
    values : ndarray, shape (n_trials, n_samples)
        mV.
    dt_ms : float, default 0.025

    Returns
    -------
    ndarray, shape (n_trials, ceil(n_samples * dt_ms))
        Same dtype as `values`; a partial last block gives the max of its samples.
    """
    values = np.asarray(values)
    if values.ndim != 2:
        msg = f"max_per_ms: 'values' must be 2-D (trials x samples). Got shape {values.shape} instead."
        raise ParamError(msg)
    per_ms = _samples_per_ms(dt_ms)
    n_trials, n = values.shape
    n_groups = -(-n // per_ms)
    if n_groups * per_ms != n:
        fill = np.full((n_trials, n_groups * per_ms - n), -np.inf, dtype=np.float64)
        values = np.concatenate([values.astype(np.float64), fill], axis=1).astype(values.dtype)
    return values.reshape(n_trials, n_groups, per_ms).max(axis=2)


def max_depolarization_per_ms(vt_pandas: pd.DataFrame, dt_ms: float = 0.025) -> pd.DataFrame:
    """Maximum voltage in every 1 ms block of a trials x samples frame (ISF ``get_max_per_ms_on_pandas_dataframe``).

    Bug fixed: ISF grouped with ``groupby(list, axis=1)``, which pandas reads as a list of
    column labels whenever the float time columns contain 0.0, 1.0, ... (traces starting at
    0 ms), returning an empty frame; it is a TypeError on pandas 3. Here the blocks are
    positional (every ``1 / dt_ms`` columns), whatever the column labels.

    Parameters
    ----------
    vt_pandas : DataFrame, shape (n_trials, n_samples)
        mV; columns are the sample times.
    dt_ms : float, default 0.025

    Returns
    -------
    DataFrame, shape (n_trials, n_ms)
        Same index; integer columns 0..n_ms-1 (ms since the first sample), as in ISF.
    """
    vals = max_per_ms(vt_pandas.to_numpy(), dt_ms) if vt_pandas.shape[1] else np.zeros((len(vt_pandas), 0))
    return pd.DataFrame(vals, index=vt_pandas.index, columns=range(vals.shape[1]))


def max_depolarization_per_ms_dask(vt_dask: Any, dt_ms: float = 0.025) -> Any:
    """`max_depolarization_per_ms` on every partition of a dask DataFrame (ISF ``get_max_depolarization_per_ms``).

    Parameters
    ----------
    vt_dask : dask.dataframe.DataFrame, shape (n_trials, n_samples)
    dt_ms : float, default 0.025

    Returns
    -------
    dask.dataframe.DataFrame, shape (n_trials, n_ms)
        Lazy; float64 columns 0..n_ms-1.
    """
    n_groups = -(-len(vt_dask.columns) // _samples_per_ms(dt_ms))
    meta = pd.DataFrame({g: pd.Series(dtype="float64") for g in range(n_groups)})
    meta.index = meta.index.astype(vt_dask.index.dtype)

    def part(frame: pd.DataFrame) -> pd.DataFrame:
        return max_depolarization_per_ms(frame, dt_ms).astype("float64")

    return vt_dask.map_partitions(part, meta=meta)
