"""Figures that summarise the gfr artifacts for DVC metrics: counts and medians as nested dicts of numbers.

Pure functions on arrays; the stages read their artifacts and publish the result as
``metrics/<stage>.json``.
"""

from __future__ import annotations

import numpy as np

from ._pipeline import exclusion_counts
from ._stimuli import STIMULUS_NAMES

__all__ = ["cell_counts", "key_summary"]


def _labels(values: np.ndarray) -> np.ndarray:
    """Labels of any string dtype (numpy StringDType as read from Zarr, object, unicode) as unicode."""
    return np.array([str(v) for v in np.asarray(values).ravel()], dtype=str)


def _snake(name: str) -> str:
    return name.lower().replace(" ", "_")


def _median(values: np.ndarray) -> float:
    values = np.asarray(values, np.float64)
    values = values[np.isfinite(values)]
    return float(np.median(values)) if values.size else float("nan")


def cell_counts(stimulus_name: np.ndarray, missing_noise: np.ndarray, cell_class: np.ndarray, rheobase: np.ndarray,
                n_spikes: int) -> dict[str, int | dict[str, int]]:
    """Cells, sweeps and spikes of a recorded population (``gfr_cells``).

    Parameters
    ----------
    stimulus_name : ndarray of str, shape (n_sweeps,)
        Stimulus of each sweep.
    missing_noise : ndarray of str, shape (n_cells,)
        The noise stimulus a cell was not recorded on ('' for none).
    cell_class : ndarray of str, shape (n_cells,)
        Class archetype of each cell.
    rheobase : ndarray of shape (n_cells,)
        Rheobase [pA] (NaN for a cell silent up to the search's end).
    n_spikes : int
        Spikes of all sweeps.

    Returns
    -------
    dict
        ``n_cells``, ``n_sweeps``, ``n_spikes``, ``n_cells_without_rheobase``, ``sweeps`` per
        stimulus (``long_square``, ``ramp``, ``noise_1``, ``noise_2``), ``cells_missing`` per noise
        stimulus and ``cells_per_class``.
    """
    names, missing, classes = _labels(stimulus_name), _labels(missing_noise), _labels(cell_class)
    return {
        "n_cells": int(classes.size),
        "n_sweeps": int(names.size),
        "n_spikes": int(n_spikes),
        "n_cells_without_rheobase": int(np.count_nonzero(~np.isfinite(np.asarray(rheobase, np.float64)))),
        "sweeps": {_snake(s): int(np.count_nonzero(names == s)) for s in STIMULUS_NAMES},
        "cells_missing": {_snake(s): int(np.count_nonzero(missing == s)) for s in ("Noise 1", "Noise 2")},
        "cells_per_class": {c: int(np.count_nonzero(classes == c)) for c in sorted(set(classes))},
    }


def key_summary(val_evr: np.ndarray, test_evr: np.ndarray, included: np.ndarray,
                reasons: np.ndarray) -> dict[str, float | int | dict[str, int]]:
    """EVR medians and cell counts of one (bin_size, activation_bin_size) key of ``gfr_params``.

    Parameters
    ----------
    val_evr, test_evr : ndarray of shape (n_cells,)
        Validation (Noise 1) and test (Noise 2) EVR, NaN for cells not fitted.
    included : ndarray of bool, shape (n_cells,)
        The release criteria hold.
    reasons : ndarray of str, shape (n_cells,)
        Exclusion reasons ('' if included).

    Returns
    -------
    dict
        ``n_candidates``, ``n_fitted`` (a defined validation EVR), ``n_included``;
        ``val_evr_median`` and ``test_evr_median`` over the fitted cells,
        ``test_evr_median_included`` over the included ones (NaN where there are none); and
        ``excluded``: the excluded cells per reason (:func:`exclusion_counts`).
    """
    val, test = np.asarray(val_evr, np.float64), np.asarray(test_evr, np.float64)
    inc = np.asarray(included, bool)
    return {
        "n_candidates": int(inc.size),
        "n_fitted": int(np.count_nonzero(np.isfinite(val))),
        "n_included": int(np.count_nonzero(inc)),
        "val_evr_median": _median(val),
        "test_evr_median": _median(test[np.isfinite(val)]),
        "test_evr_median_included": _median(test[inc]),
        "excluded": exclusion_counts(reasons),
    }
