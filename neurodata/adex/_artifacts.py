"""The AdEx artifacts as labelled xarray objects: the stores' templates and the pieces tasks fill.

Values only; ``units`` and ``long_name`` come from the contracts (:func:`neurodata.schemas.label`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dask.array as da
import numpy as np
import xarray as xr

from ..schemas import label
from ._sweeps import RateMatch, we_sweep_slice

__all__ = ["expectation_template", "rate_match_piece", "rate_match_template", "we_seed_piece", "we_sweep_template"]


def _lazy(shape: tuple[int, ...], dtype: Any) -> da.Array:
    return da.empty(shape, dtype=dtype, chunks=shape)


def _we_seed_grid(we_nS: np.ndarray, seeds: np.ndarray, attrs: Mapping[str, Any]) -> xr.Dataset:
    shape = (len(we_nS), len(seeds))
    return xr.Dataset(
        {"median_vm": (("we", "seed"), _lazy(shape, np.float64)), "output_rate": (("we", "seed"), _lazy(shape, np.float64))},
        coords={"we": ("we", np.asarray(we_nS, dtype=np.float64)), "seed": ("seed", np.asarray(seeds, dtype=np.int64))},
        attrs=dict(attrs),
    )


def we_sweep_template(we_nS: np.ndarray, seeds: np.ndarray, attrs: Mapping[str, Any]) -> xr.Dataset:
    """The ``adex_we_sweep`` store before its tasks fill it: (we, seed) median Vm and rate."""
    return label(_we_seed_grid(we_nS, seeds, attrs), "adex_we_sweep")


def expectation_template(we_nS: np.ndarray, seeds: np.ndarray, input_rate_sums: np.ndarray,
                         attrs: Mapping[str, Any]) -> xr.Dataset:
    """The ``adex_expectation`` store: the (we, seed) grid and each seed's summed drawn input rates [Hz]
    (*input_rate_sums* of shape (n_seeds, 2): excitatory, inhibitory)."""
    ds = _we_seed_grid(we_nS, seeds, attrs).assign(
        exc_input_rate=("seed", np.asarray(input_rate_sums)[:, 0]),
        inh_input_rate=("seed", np.asarray(input_rate_sums)[:, 1]),
    )
    return label(ds, "adex_expectation")


def we_seed_piece(start: int, stop: int, *, we_nS: Sequence[float], **kwargs: Any) -> xr.Dataset:
    """The rows ``we_nS[start:stop]`` of a (we, seed) grid (one task of a sweep)."""
    return xr.concat([we_sweep_slice(float(we), **kwargs) for we in we_nS[start:stop]], dim="we")


def rate_match_template(Ns: np.ndarray, attrs: Mapping[str, Any]) -> xr.Dataset:
    """The ``adex_rate_match`` store: w_e for the target rate, per number of inputs N."""
    n = len(Ns)
    ds = xr.Dataset(
        {name: ("N", _lazy((n,), dtype)) for name, dtype in
         (("we", np.float64), ("rate", np.float64), ("w0", np.float64), ("factor", np.float64), ("iterations", np.int64))},
        coords={"N": ("N", np.asarray(Ns, dtype=np.int64))},
        attrs=dict(attrs),
    )
    return label(ds, "adex_rate_match")


def rate_match_piece(results: Sequence[RateMatch]) -> xr.Dataset:
    """Rows of ``adex_rate_match`` from root-finder results (one per N)."""
    return xr.Dataset({
        "we": ("N", np.array([r.we for r in results])),
        "rate": ("N", np.array([r.rate for r in results])),
        "w0": ("N", np.array([r.w0 for r in results])),
        "factor": ("N", np.array([r.factor for r in results])),
        "iterations": ("N", np.array([r.iterations for r in results], dtype=np.int64)),
    })
