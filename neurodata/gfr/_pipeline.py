"""From binned sweeps of a block of cells to fitted, screened GFR parameters (one dask task per block).

Pure functions on numpy arrays; ``stages.py`` reads and writes the artifacts.
"""

from __future__ import annotations

import numpy as np

from .. import seeds
from ._fit import GROUPS, FitConfig, fit_keys, pack_groups
from ._streams import FIT

__all__ = ["EXCLUSION_REASONS", "activation_pairs", "exclusion_counts", "fit_block", "screen_cells", "select"]

#: why a cell is not fitted or not included: a short name per reason, and how its text starts
EXCLUSION_REASONS = {
    "no_long_square": "no Long Square sweeps",
    "missing_noise_1": "missing Noise 1 sweeps",
    "missing_noise_2": "missing Noise 2 sweeps",
    "empty_sweeps": "empty sweeps: ",
    "nan_values": "NaN rates or currents in ",
    "no_isi": "no inter-spike interval in any sweep (max firing rate undefined)",
    "val_evr_nan": "validation EVR is NaN (no fit with a defined EVR on Noise 1)",
    "val_evr": "val_evr ",
    "train_loss": "train_loss ",
}


def _groups_of_cell(cur: np.ndarray, rate: np.ndarray, n_bins: np.ndarray, names: np.ndarray,
                    rows: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    out = {}
    for name in GROUPS:
        sel = rows[names[rows] == name]
        if sel.size == 0:
            continue
        L = int(n_bins[sel].max())
        c = np.nan_to_num(cur[sel, :L], nan=0.0)
        r = np.nan_to_num(rate[sel, :L], nan=0.0)
        for j, s in enumerate(sel):        # zero padding of shorter sweeps, as the original
            c[j, n_bins[s]:] = 0.0
            r[j, n_bins[s]:] = 0.0
        out[name] = (c, r)
    return out


def screen_cells(n_cells: int, sweep_cell: np.ndarray, names: np.ndarray, binned: dict[int, tuple],
                 gamma: np.ndarray, *, require_noise_sweeps: bool) -> np.ndarray:
    """Reason why each cell cannot be fitted ('' for a cell that can).

    Parameters
    ----------
    n_cells : int
        Cells of the block.
    sweep_cell : ndarray of int, shape (n_sweeps,)
        Cell row of each sweep.
    names : ndarray of str, shape (n_sweeps,)
        Stimulus name of each sweep.
    binned : dict
        ``{bin_ms: (current, rate, n_bins)}`` as :func:`bin_sweeps` returns.
    gamma : ndarray of shape (n_cells,)
        Maximal firing rate in spikes/ms.
    require_noise_sweeps : bool
        Exclude a cell that lacks Noise 1 or Noise 2 (the original's implicit criterion).

    Returns
    -------
    ndarray of str, shape (n_cells,)
        The problems of each cell joined by "; " (texts in :data:`EXCLUSION_REASONS`).
    """
    why = EXCLUSION_REASONS
    reasons = np.full(n_cells, "", dtype=object)
    used = np.isin(names, GROUPS)
    for c in range(n_cells):
        mine = sweep_cell == c
        have = set(names[mine])
        problems = []
        if "Long Square" not in have:
            problems.append(why["no_long_square"])
        if require_noise_sweeps:
            problems += [why[f"missing_noise_{n[-1]}"] for n in ("Noise 1", "Noise 2") if n not in have]
        empty, nan = set(), set()
        for cur, rate, n_bins in binned.values():
            for s in np.flatnonzero(mine & used):
                if n_bins[s] == 0:
                    empty.add(f"{names[s]} sweep {s}")
                elif not (np.all(np.isfinite(rate[s, : n_bins[s]])) and np.all(np.isfinite(cur[s, : n_bins[s]]))):
                    nan.add(f"{names[s]} sweep {s}")
        if empty:
            problems.append(why["empty_sweeps"] + ", ".join(sorted(empty)))
        if nan:
            problems.append(why["nan_values"] + ", ".join(sorted(nan)))
        if not np.isfinite(gamma[c]):
            problems.append(why["no_isi"])
        reasons[c] = "; ".join(problems)
    return reasons


def activation_pairs(cur: np.ndarray, rate: np.ndarray, n_bins: np.ndarray, names: np.ndarray,
                     cell_rows: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First-bin (current, rate) pair of every Long Square sweep of each cell, padded.

    Returns
    -------
    current, rate : ndarray of shape (n_cells, max pairs)
        pA and spikes/ms.
    mask : ndarray of bool, same shape
    """
    lists = [rows[(names[rows] == "Long Square") & (n_bins[rows] > 0)] for rows in cell_rows]
    width = max([len(x) for x in lists] + [1])
    c_out = np.zeros((len(lists), width))
    r_out = np.zeros((len(lists), width))
    mask = np.zeros((len(lists), width), bool)
    for c, rows in enumerate(lists):
        c_out[c, : rows.size] = cur[rows, 0]
        r_out[c, : rows.size] = rate[rows, 0]
        mask[c, : rows.size] = True
    return c_out, r_out, mask


def fit_block(sweep_cell: np.ndarray, names: np.ndarray, binned: dict[int, tuple], gamma: np.ndarray,
              specimen_ids: np.ndarray, *, keys: list[tuple[int, int]], degrees: dict[int, int], config: FitConfig,
              seed: int, require_noise_sweeps: bool) -> tuple[np.ndarray, dict]:
    """Screen and fit every key for one block of cells.

    Parameters
    ----------
    sweep_cell : ndarray of int, shape (n_sweeps,)
        Cell row (0 .. n_cells - 1 within the block) of each sweep.
    names : ndarray of str, shape (n_sweeps,)
        Stimulus name of each sweep.
    binned : dict
        ``{bin_ms: (current, rate, n_bins)}`` with arrays of shape (n_sweeps, n_bins).
    gamma : ndarray of shape (n_cells,)
        Maximal firing rate in spikes/ms.
    specimen_ids : ndarray of int, shape (n_cells,)
        Ids; with *seed* they key each cell's random streams (block-independent results).
    keys : list of (int, int)
        (bin_size, activation_bin_size) pairs to fit [ms].
    degrees : dict
        Polynomial degree per activation bin size.
    config : FitConfig
        Training configuration.
    seed : int
        A cell's streams are ``neurodata.seeds.rng(seed, FIT, specimen_id, ...)`` (:mod:`._streams`).
    require_noise_sweeps : bool
        See :func:`screen_cells`.

    Returns
    -------
    reasons : ndarray of str, shape (n_cells,)
        Why a cell was not fitted ('' if it was).
    fits : dict
        ``{key: arrays of shape (n_cells, ...)}`` (NaN rows for cells not fitted).
    """
    n_cells = specimen_ids.size
    reasons = screen_cells(n_cells, sweep_cell, names, binned, gamma, require_noise_sweeps=require_noise_sweeps)
    ok = np.flatnonzero(reasons == "")
    cell_rows = [np.flatnonzero(sweep_cell == c) for c in ok]
    bin_sizes = sorted({k[0] for k in keys} | {k[1] for k in keys})
    groups = {bs: pack_groups([_groups_of_cell(*binned[bs], names, rows) for rows in cell_rows], bs)
              for bs in bin_sizes}
    act = {ab: activation_pairs(*binned[ab], names, cell_rows) for ab in sorted({k[1] for k in keys})}

    def rng_of(c: int, *purpose: int) -> np.random.Generator:
        return seeds.rng(seed, FIT, int(specimen_ids[ok[c]]), *purpose)

    fits_ok = fit_keys(groups, act, gamma[ok], list(keys), degrees, config, rng_of) if ok.size else {}
    fits = {}
    for key in keys:
        if key not in fits_ok:
            fits[key] = None
            continue
        full = {}
        for name, arr in fits_ok[key].items():
            if name == "ds":
                full[name] = arr
                continue
            shape = (n_cells, *arr.shape[1:])
            fill = -1 if arr.dtype.kind == "i" else np.nan
            out = np.full(shape, fill, dtype=arr.dtype)
            out[ok] = arr
            full[name] = out
        fits[key] = full
    return reasons, fits


def select(val_evr: np.ndarray, train_loss: np.ndarray, reasons: np.ndarray, *, min_val_evr: float,
           max_train_loss: float) -> tuple[np.ndarray, np.ndarray]:
    """Release criteria: ``val_evr > min_val_evr`` and ``train_loss < max_train_loss``.

    Parameters
    ----------
    val_evr, train_loss : ndarray of shape (n_cells,)
        Validation EVR and last-epoch training loss (NaN for cells not fitted).
    reasons : ndarray of str, shape (n_cells,)
        Screening reasons (:func:`screen_cells`; '' for fitted cells).
    min_val_evr, max_train_loss : float
        The release's thresholds (0.5 and 0.45 in params.yaml).

    Returns
    -------
    included : ndarray of bool, shape (n_cells,)
    reason : ndarray of str, shape (n_cells,)
        Why each excluded cell was excluded ('' if included).
    """
    out = np.array(reasons, dtype=object).copy()
    for c in range(out.size):
        if out[c]:
            continue
        if np.isnan(val_evr[c]):
            out[c] = EXCLUSION_REASONS["val_evr_nan"]
        elif not val_evr[c] > min_val_evr:
            out[c] = f"{EXCLUSION_REASONS['val_evr']}{val_evr[c]:.3f} <= {min_val_evr}"
        elif not train_loss[c] < max_train_loss:
            out[c] = f"{EXCLUSION_REASONS['train_loss']}{train_loss[c]:.3f} >= {max_train_loss}"
    return out == "", out


def exclusion_counts(reasons: np.ndarray) -> dict[str, int]:
    """Excluded cells per reason: how many cells each reason of :data:`EXCLUSION_REASONS` excludes.

    A cell with several screening problems (``"missing Noise 2 sweeps; no inter-spike ..."``)
    counts under each; ``excluded`` counts each excluded cell once.

    Parameters
    ----------
    reasons : ndarray of str, shape (n_cells,)
        Exclusion reasons ('' for an included cell), as :func:`select` returns them.

    Returns
    -------
    dict of str to int
        ``excluded`` and one count per name of :data:`EXCLUSION_REASONS` (0 included).

    Raises
    ------
    ValueError
        For a reason that none of :data:`EXCLUSION_REASONS` starts (a bug of this module).

    Examples
    --------
    >>> counts = exclusion_counts(np.array(["", "val_evr 0.412 <= 0.5",
    ...                                     "missing Noise 2 sweeps; empty sweeps: Ramp sweep 3"]))
    >>> counts["excluded"], counts["val_evr"], counts["missing_noise_2"], counts["empty_sweeps"]
    (2, 1, 1, 1)
    """
    counts = dict.fromkeys(EXCLUSION_REASONS, 0)
    excluded = 0
    for text in np.asarray(reasons, dtype=object).ravel():
        if not text:
            continue
        excluded += 1
        for part in str(text).split("; "):
            name = next((n for n, start in EXCLUSION_REASONS.items() if part.startswith(start)), None)
            if name is None:
                msg = f"Exclusion reason {part!r} starts with none of {list(EXCLUSION_REASONS.values())}."
                raise ValueError(msg)
            counts[name] += 1
    return {"excluded": excluded, **counts}
