"""Screening and selection: missing noise sweeps, NaN rates and empty sweeps are reported, not fitted."""

import numpy as np

from neurodata.gfr._fit import FitConfig
from neurodata.gfr._pipeline import fit_block, screen_cells, select


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
    reasons = screen_cells(4, cell, names, binned, np.array([0.1, 0.1, 0.1, 0.1]))
    assert reasons[0] == ""
    assert reasons[1] == "missing Noise 2 sweeps"
    assert reasons[2] == "empty sweeps: Noise 2 sweep 17"
    assert reasons[3] == "NaN rates or currents in Ramp sweep 21"
    gamma_nan = screen_cells(1, cell[:7], names[:7], binned, np.array([np.nan]))
    assert "max firing rate undefined" in gamma_nan[0]
    lenient = screen_cells(2, cell[:12], names[:12], binned, np.array([0.1, 0.1]), require_noise_sweeps=False)
    assert list(lenient) == ["", ""]


def test_excluded_cells_are_not_fitted():
    names = np.concatenate([NAMES, NAMES[:5]])
    cell = np.repeat([0, 1], [7, 5])
    binned = {b: binned_block(names, [6] * 12) for b in (20, 100)}
    cfg = FitConfig(activation_epochs=3, activation_repeats=1, hparams=[(1e-2, 2)])
    reasons, fits = fit_block(cell, names, binned, np.array([0.2, 0.2]), np.array([900000001, 900000002]),
                              keys=[(20, 20), (100, 100)], degrees={20: 1, 100: 3}, config=cfg, seed=0)
    assert list(reasons) == ["", "missing Noise 2 sweeps"]
    for f in fits.values():
        assert np.isfinite(f["a"][0]).all() and np.isnan(f["a"][1]).all() and f["restart"][1] == -1


def test_selection_thresholds_and_reasons():
    included, why = select(np.array([0.7, 0.4, np.nan, 0.8, 0.9]), np.array([0.1, 0.1, 0.1, 0.5, 0.1]),
                           np.array(["", "", "", "", "missing Noise 1 sweeps"], dtype=object))
    assert included.tolist() == [True, False, False, False, False]
    assert why[1] == "val_evr 0.400 <= 0.5" and why[3] == "train_loss 0.500 >= 0.45"
    assert why[2].startswith("validation EVR is NaN") and why[4] == "missing Noise 1 sweeps"
