"""Screening and selection: missing noise sweeps, NaN rates and empty sweeps are reported, not fitted."""

import numpy as np
import pytest

from neurodata.gfr._fit import FitConfig
from neurodata.gfr._pipeline import EXCLUSION_REASONS, exclusion_counts, fit_block, screen_cells, select
from neurodata.gfr._summaries import cell_counts, key_summary


def binned_block(names, n_bins, L=6, nan_at=None):
    rng = np.random.default_rng(0)
    cur = rng.uniform(0, 100, (len(names), L))
    rate = rng.poisson(cur / 100.0) / 20.0
    for s, n in enumerate(n_bins):
        cur[s, n:] = np.nan
        rate[s, n:] = np.nan
    if nan_at is not None:
        rate[nan_at, 1] = np.nan
    return cur, rate, np.array(n_bins)


NAMES = np.array(["Long Square", "Long Square", "Ramp", "Noise 1", "Noise 1", "Noise 2", "Noise 2"])


def test_reasons_name_each_problem():
    names = np.concatenate([NAMES, NAMES[:5], NAMES, NAMES])
    cell = np.repeat([0, 1, 2, 3], [7, 5, 7, 7])
    n_bins = [6] * 26
    n_bins[12 + 5] = 0                                          # cell 2: an empty Noise 2 sweep
    binned = {20: binned_block(names, n_bins, nan_at=19 + 2)}   # cell 3: NaN in its Ramp sweep
    reasons = screen_cells(4, cell, names, binned, np.array([0.1, 0.1, 0.1, 0.1]), require_noise_sweeps=True)
    assert reasons[0] == ""
    assert reasons[1] == "missing Noise 2 sweeps"
    assert reasons[2] == "empty sweeps: Noise 2 sweep 17"
    assert reasons[3] == "NaN rates or currents in Ramp sweep 21"
    gamma_nan = screen_cells(1, cell[:7], names[:7], binned, np.array([np.nan]), require_noise_sweeps=True)
    assert "max firing rate undefined" in gamma_nan[0]
    lenient = screen_cells(2, cell[:12], names[:12], binned, np.array([0.1, 0.1]), require_noise_sweeps=False)
    assert list(lenient) == ["", ""]


def test_excluded_cells_are_not_fitted():
    names = np.concatenate([NAMES, NAMES[:5]])
    cell = np.repeat([0, 1], [7, 5])
    binned = {b: binned_block(names, [6] * 12) for b in (20, 100)}
    cfg = FitConfig(activation_epochs=3, activation_repeats=1, activation_lr=0.05, hparams=[(1e-2, 2)])
    reasons, fits = fit_block(cell, names, binned, np.array([0.2, 0.2]), np.array([900000001, 900000002]),
                              keys=[(20, 20), (100, 100)], degrees={20: 1, 100: 3}, config=cfg, seed=0,
                              require_noise_sweeps=True)
    assert list(reasons) == ["", "missing Noise 2 sweeps"]
    for f in fits.values():
        assert np.isfinite(f["a"][0]).all() and np.isnan(f["a"][1]).all() and f["restart"][1] == -1


def test_selection_thresholds_and_reasons():
    included, why = select(np.array([0.7, 0.4, np.nan, 0.8, 0.9]), np.array([0.1, 0.1, 0.1, 0.5, 0.1]),
                           np.array(["", "", "", "", "missing Noise 1 sweeps"], dtype=object), min_val_evr=0.5,
                           max_train_loss=0.45)
    assert included.tolist() == [True, False, False, False, False]
    assert why[1] == "val_evr 0.400 <= 0.5" and why[3] == "train_loss 0.500 >= 0.45"
    assert why[2].startswith("validation EVR is NaN") and why[4] == "missing Noise 1 sweeps"


def test_exclusion_counts_name_each_reason_once_per_cell():
    reasons = np.array(["", "missing Noise 2 sweeps; no inter-spike interval in any sweep (max firing rate undefined)",
                        "val_evr 0.412 <= 0.5", "train_loss 0.500 >= 0.45", "",
                        "validation EVR is NaN (no fit with a defined EVR on Noise 1)",
                        "empty sweeps: Noise 2 sweep 17", "NaN rates or currents in Ramp sweep 21"], dtype=object)
    counts = exclusion_counts(reasons)
    assert counts == {"excluded": 6, "no_long_square": 0, "missing_noise_1": 0, "missing_noise_2": 1,
                      "empty_sweeps": 1, "nan_values": 1, "no_isi": 1, "val_evr_nan": 1, "val_evr": 1,
                      "train_loss": 1}
    assert set(counts) == {"excluded", *EXCLUSION_REASONS}
    with pytest.raises(ValueError, match="'cell exploded' starts with none of"):
        exclusion_counts(np.array(["cell exploded"]))


def test_every_reason_the_pipeline_writes_is_counted():
    """The texts screen_cells and select write are the ones exclusion_counts knows."""
    names = np.concatenate([NAMES, NAMES[:5], NAMES, NAMES, NAMES[2:]])
    cell = np.repeat([0, 1, 2, 3, 4], [7, 5, 7, 7, 5])
    n_bins = [6] * 31
    n_bins[12 + 5] = 0
    binned = {20: binned_block(names, n_bins, nan_at=19 + 2)}
    reasons = screen_cells(5, cell, names, binned, np.array([0.1, 0.1, 0.1, 0.1, np.nan]), require_noise_sweeps=True)
    _, why = select(np.array([0.7, np.nan, np.nan, np.nan, np.nan]), np.full(5, 0.1), reasons, min_val_evr=0.5,
                    max_train_loss=0.45)
    counts = exclusion_counts(why)
    assert counts["excluded"] == 4
    assert (counts["missing_noise_2"], counts["empty_sweeps"], counts["nan_values"]) == (1, 1, 1)
    assert (counts["no_long_square"], counts["no_isi"]) == (1, 1)          # cell 4: no Long Square, no ISI


def test_key_summary_by_hand():
    val = np.array([0.7, 0.4, np.nan, 0.9])
    test = np.array([0.6, 0.2, np.nan, 0.8])
    included = np.array([True, False, False, True])
    why = np.array(["", "val_evr 0.400 <= 0.5", "missing Noise 1 sweeps", ""], dtype=object)
    s = key_summary(val, test, included, why)
    assert (s["n_candidates"], s["n_fitted"], s["n_included"]) == (4, 3, 2)
    assert s["val_evr_median"] == pytest.approx(0.7) and s["test_evr_median"] == pytest.approx(0.6)
    assert s["test_evr_median_included"] == pytest.approx(0.7)
    assert s["excluded"]["excluded"] == 2 and s["excluded"]["val_evr"] == 1 and s["excluded"]["missing_noise_1"] == 1
    nobody = key_summary(np.full(2, np.nan), np.full(2, np.nan), np.zeros(2, bool),
                         np.array(["missing Noise 1 sweeps"] * 2, dtype=object))
    assert np.isnan(nobody["val_evr_median"]) and np.isnan(nobody["test_evr_median_included"])


def test_cell_counts_by_hand():
    c = cell_counts(np.array(["Long Square", "Long Square", "Ramp", "Noise 2"]), np.array(["", "Noise 1", ""]),
                    np.array(["sst", "vip", "sst"]), np.array([50.0, np.nan, 70.0]), 12)
    assert c == {"n_cells": 3, "n_sweeps": 4, "n_spikes": 12, "n_cells_without_rheobase": 1,
                 "sweeps": {"long_square": 2, "ramp": 1, "noise_1": 0, "noise_2": 1},
                 "cells_missing": {"noise_1": 1, "noise_2": 0}, "cells_per_class": {"sst": 2, "vip": 1}}
