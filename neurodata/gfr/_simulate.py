"""Record synthetic cells on Allen-like sweeps: rheobase search, sweep sets, spike times, measured features.

Everything runs through one numba kernel (:func:`._kernels.adex_sweeps`) that simulates all
sweeps of all cells of a block at once. Units: ms, pA, mV (spike times are stored in s from
sweep start, as the Allen SDK reports them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import seeds
from .._exceptions import ParamError
from ._kernels import adex_sweeps
from ._streams import SWEEP
from ._stimuli import KIND_CODES, STIMULUS_NAMES, long_square_amplitudes, noise_layout

__all__ = ["RecordedCells", "measure_rheobase", "record_cells"]

_ONSET_MS = 1020.0      # stimulus onset of Long Square and Ramp sweeps
_STEP_MS = 1000.0       # Long Square step duration
_POST_MS = 1000.0       # baseline after the step
_NOISE_MS = 29000.0     # full noise sweep
_PARAM_COLS = ("C", "g_L", "E_L", "Delta_T", "a", "tau_w", "b_w", "V_r", "V_peak")


@dataclass
class RecordedCells:
    """Sweeps and spikes of a block of cells.

    Attributes
    ----------
    cells : DataFrame with one row per cell
        The population rows plus measured ``rheobase`` [pA], ``tau`` [ms], ``r_in`` [MOhm],
        ``v_rest`` [mV] and ``fi_slope`` [Hz/pA].
    sweeps : DataFrame with one row per sweep
        ``cell`` (row of *cells*), ``stimulus_name``, ``repeat``, ``amplitude`` (pA, pA/ms for
        Ramp, rheobase scale in pA for noise), ``onset_ms``, ``duration_ms``, ``n_samples``.
    spike_sweep : ndarray of shape (n_spikes,)
        Sweep row of each spike.
    spike_time : ndarray of shape (n_spikes,)
        Spike time in s from sweep start.
    """

    cells: pd.DataFrame
    sweeps: pd.DataFrame
    spike_sweep: np.ndarray
    spike_time: np.ndarray


def _cell_arrays(cells: pd.DataFrame, dt: float) -> dict[str, np.ndarray]:
    arr = {k: cells[k].to_numpy(np.float64) for k in _PARAM_COLS}
    arr["ref_steps"] = np.rint(cells["t_ref"].to_numpy() / dt).astype(np.int64)
    arr["sigma"] = cells["sigma_noise"].to_numpy(np.float64)
    arr["tau_ou"] = cells["tau_noise"].to_numpy(np.float64)
    return arr


def _run(cells: pd.DataFrame, sw: dict[str, np.ndarray], *, dt: float, waves: np.ndarray, z: np.ndarray,
         vt: np.ndarray, record_steps: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # writable C arrays only (pandas hands out read-only views): numba compiles one
    # specialisation per read-only/writable mix, seconds each
    p = {k: np.require(a, requirements="CW") for k, a in _cell_arrays(cells, dt).items()}
    sw = {k: np.require(a, requirements="CW") for k, a in sw.items()}
    vt, waves, z = (np.require(a, requirements="CW") for a in (vt, waves, z))
    v_out = np.zeros((len(sw["kind"]), record_steps))
    spikes, length = adex_sweeps(
        sw["kind"], sw["amp"], sw["onset"], sw["dur"], sw["n_steps"], sw["post"], sw["cell"],
        p["C"], p["g_L"], p["E_L"], vt, p["Delta_T"], p["a"], p["tau_w"], p["b_w"], p["V_r"], p["V_peak"],
        p["ref_steps"], p["sigma"], p["tau_ou"], waves, z, dt, v_out)
    return spikes, length, v_out


def _steps(cells_idx: np.ndarray, amps: np.ndarray, dt: float) -> dict[str, np.ndarray]:
    n = len(cells_idx)
    return {"kind": np.zeros(n, np.int64), "amp": np.asarray(amps, np.float64),
            "onset": np.full(n, int(round(_ONSET_MS / dt)), np.int64),
            "dur": np.full(n, int(round(_STEP_MS / dt)), np.int64),
            "n_steps": np.full(n, int(round((_ONSET_MS + _STEP_MS + _POST_MS) / dt)), np.int64),
            "post": np.full(n, -1, np.int64), "cell": np.asarray(cells_idx, np.int64)}


def measure_rheobase(cells: pd.DataFrame, *, dt: float, resolution: float = 10.0,
                     max_current: float = 3000.0) -> np.ndarray:
    """Rheobase of each noiseless cell: the smallest 1 s step (multiple of *resolution*) that fires.

    Parameters
    ----------
    cells : DataFrame
        Population rows (see :func:`make_population`).
    dt : float
        Integration step in ms.
    resolution : float, default: 10.0
        Search resolution in pA.
    max_current : float, default: 3000.0
        Upper end of the search in pA; a cell silent there gets NaN.

    Returns
    -------
    ndarray of shape (n_cells,)
        Rheobase in pA (NaN when no step up to *max_current* fires).
    """
    n = len(cells)
    lo = np.zeros(n)                      # known silent
    hi = np.full(n, max_current)          # assumed firing; checked below
    idx = np.arange(n)
    empty = np.zeros((n, 0), np.float32)
    vt = cells["V_T"].to_numpy(np.float64)

    def fires(amps: np.ndarray) -> np.ndarray:
        spikes, _, _ = _run(cells, _steps(idx, amps, dt), dt=dt, waves=np.zeros((2, 1)), z=empty, vt=vt)
        return spikes.any(axis=1)

    ok = fires(hi)
    while np.any(hi - lo > resolution):
        mid = np.round((lo + hi) / 2.0 / resolution) * resolution
        mid = np.clip(mid, lo + resolution, hi - resolution)
        f = fires(mid)
        hi = np.where(f, mid, hi)
        lo = np.where(f, lo, mid)
    return np.where(ok, hi, np.nan)


def _passive_features(cells: pd.DataFrame, *, dt: float, step: float = -50.0) -> tuple[np.ndarray, ...]:
    """V_rest [mV], R_in [MOhm] and tau [ms] from a noiseless hyperpolarising step."""
    n = len(cells)
    sw = _steps(np.arange(n), np.full(n, step), dt)
    on = int(round(_ONSET_MS / dt))
    off = on + int(round(_STEP_MS / dt))
    _, _, v = _run(cells, sw, dt=dt, waves=np.zeros((2, 1)), z=np.zeros((n, 0), np.float32),
                   vt=cells["V_T"].to_numpy(np.float64), record_steps=off)
    v_rest = v[:, on - 1]
    dv = v[:, off - int(round(100.0 / dt)):off].mean(axis=1) - v_rest
    r_in = dv / step * 1000.0                      # mV / pA = GOhm -> MOhm
    frac = (v[:, on:off] - v_rest[:, None]) / dv[:, None]
    tau = (np.argmax(frac >= 1.0 - np.exp(-1.0), axis=1) + 1) * dt
    return v_rest, r_in, tau


def record_cells(cells: pd.DataFrame, *, seed: int, dt: float, n_noise_repeats: int, n_ramp_repeats: int,
                 vt_jitter: float, noise_seeds: tuple[int, int], ramp_slope: float = 25.0, ramp_cap_s: float = 60.0,
                 stimuli: tuple[str, ...] = STIMULUS_NAMES) -> RecordedCells:
    """Simulate the Allen-like sweep set of every cell (Long Square, Ramp, Noise 1, Noise 2).

    Randomness is drawn per sweep from ``neurodata.seeds.rng(seed, SWEEP, specimen_id,
    stimulus code, repeat)`` (:mod:`._streams`), so a sweep does not depend on which block its
    cell is simulated in, nor on which other sweeps are recorded (a Long-Square-only recording
    has the same Long Square spikes as the full one).

    Parameters
    ----------
    cells : DataFrame
        Population rows from :func:`make_population`.
    seed : int
        Seed of the intrinsic noise.
    dt : float
        Integration and sampling step in ms.
    n_noise_repeats : int
        Repeats of Noise 1 and of Noise 2.
    n_ramp_repeats : int
        Ramp repeats.
    vt_jitter : float
        SD of the per-sweep drift of V_T in mV (non-stationarity).
    noise_seeds : (int, int)
        Seeds of the Noise 1 and Noise 2 phase vectors (global, identical for every cell).
    ramp_slope : float, default: 25.0
        Ramp slope in pA/s (the Allen protocol's).
    ramp_cap_s : float, default: 60.0
        Longest ramp in s; a ramp ends 0.5 s after its first spike.
    stimuli : tuple of str, default: all four
        Protocols to record, among :data:`STIMULUS_NAMES` (rheobase and the passive features are
        always measured; the f-I slope needs "Long Square").

    Returns
    -------
    RecordedCells
    """
    unknown = sorted(set(stimuli) - set(STIMULUS_NAMES))
    if unknown or not stimuli:
        msg = (f"The 'stimuli' parameter of record_cells must be a non-empty subset of {STIMULUS_NAMES}. "
               f"Got {tuple(stimuli)!r} instead.")
        raise ParamError(msg)
    cells = cells.reset_index(drop=True).copy()
    n = len(cells)
    rheo = measure_rheobase(cells, dt=dt)
    cells["rheobase"] = rheo
    v_rest, r_in, tau = _passive_features(cells, dt=dt)
    cells["v_rest"], cells["r_in"], cells["tau"] = v_rest, r_in, tau
    if {"Noise 1", "Noise 2"} & set(stimuli):
        waves = np.stack([noise_layout(s, dt=dt) for s in noise_seeds])
    else:
        waves = np.zeros((2, 1))
    rows: list[dict] = []
    for c in range(n):
        if not np.isfinite(rheo[c]):
            continue
        for amp in long_square_amplitudes(rheo[c]):
            rows.append({"cell": c, "stimulus_name": "Long Square", "amplitude": amp, "onset_ms": _ONSET_MS,
                         "duration_ms": _STEP_MS, "n_samples": int(round((_ONSET_MS + _STEP_MS + _POST_MS) / dt))})
        ramp_ms = min(ramp_cap_s * 1000.0, 1.5 * rheo[c] / ramp_slope * 1000.0 + 1000.0)
        for r in range(n_ramp_repeats):
            rows.append({"cell": c, "stimulus_name": "Ramp", "repeat": r, "amplitude": ramp_slope / 1000.0,
                         "onset_ms": _ONSET_MS, "duration_ms": ramp_ms,
                         "n_samples": int(round((_ONSET_MS + ramp_ms) / dt))})
        for name in ("Noise 1", "Noise 2"):
            if cells.at[c, "missing_noise"] == name:
                continue
            for r in range(n_noise_repeats):
                rows.append({"cell": c, "stimulus_name": name, "repeat": r, "amplitude": rheo[c], "onset_ms": 0.0,
                             "duration_ms": _NOISE_MS, "n_samples": int(round(_NOISE_MS / dt))})
    sweeps = pd.DataFrame(rows, columns=["cell", "stimulus_name", "repeat", "amplitude", "onset_ms", "duration_ms",
                                         "n_samples"])
    sweeps["repeat"] = sweeps["repeat"].fillna(0).astype(np.int64)
    ls = sweeps["stimulus_name"] == "Long Square"
    sweeps.loc[ls, "repeat"] = sweeps[ls].groupby("cell").cumcount()
    sweeps = sweeps.sort_values(["cell", "stimulus_name", "repeat"], kind="stable").reset_index(drop=True)

    sweeps = sweeps[sweeps["stimulus_name"].isin(stimuli)].reset_index(drop=True)

    # per-sweep random streams: V_T drift of the sweep and its OU drive
    vt = np.empty(len(sweeps))
    z_rows: list[np.ndarray] = []
    ids = cells["specimen_id"].to_numpy()
    for s, (c, name, rep, k) in enumerate(zip(sweeps["cell"], sweeps["stimulus_name"], sweeps["repeat"],
                                              sweeps["n_samples"], strict=True)):
        sweep_rng = seeds.rng(seed, SWEEP, int(ids[c]), KIND_CODES[name], int(rep))
        vt[s] = cells.at[c, "V_T"] + sweep_rng.normal(0.0, vt_jitter)
        z_rows.append(sweep_rng.standard_normal(int(k), dtype=np.float32))

    spike_sweep: list[np.ndarray] = []
    spike_time: list[np.ndarray] = []
    lengths = sweeps["n_samples"].to_numpy().copy()
    for name in ("Long Square", "Ramp", "Noise 1", "Noise 2"):
        sel = np.flatnonzero(sweeps["stimulus_name"].to_numpy() == name)
        if sel.size == 0:
            continue
        sub = sweeps.iloc[sel]
        t_max = int(sub["n_samples"].max())
        z = np.zeros((sel.size, t_max), np.float32)
        for j, s in enumerate(sel):
            z[j, : z_rows[s].size] = z_rows[s]
        sw = {"kind": np.full(sel.size, KIND_CODES[name], np.int64),
              "amp": sub["amplitude"].to_numpy(np.float64),
              "onset": np.rint(sub["onset_ms"].to_numpy() / dt).astype(np.int64),
              "dur": np.rint(sub["duration_ms"].to_numpy() / dt).astype(np.int64),
              "n_steps": sub["n_samples"].to_numpy(np.int64),
              "post": np.full(sel.size, int(round(500.0 / dt)) if name == "Ramp" else -1, np.int64),
              "cell": sub["cell"].to_numpy(np.int64)}
        spikes, length, _ = _run(cells, sw, dt=dt, waves=waves, z=z, vt=vt[sel])
        lengths[sel] = length
        r, k = np.nonzero(spikes)
        spike_sweep.append(sel[r])
        spike_time.append(k * dt * 1e-3)
    sweeps["n_samples"] = lengths
    spike_sweep_arr = np.concatenate(spike_sweep) if spike_sweep else np.zeros(0, np.int64)
    spike_time_arr = np.concatenate(spike_time) if spike_time else np.zeros(0)
    order = np.lexsort((spike_time_arr, spike_sweep_arr))
    spike_sweep_arr, spike_time_arr = spike_sweep_arr[order], spike_time_arr[order]
    cells["fi_slope"] = _fi_slope(cells, sweeps, spike_sweep_arr, spike_time_arr)
    return RecordedCells(cells, sweeps, spike_sweep_arr.astype(np.int64), spike_time_arr)


def _fi_slope(cells: pd.DataFrame, sweeps: pd.DataFrame, spike_sweep: np.ndarray, spike_time: np.ndarray) -> np.ndarray:
    """f-I slope [Hz/pA]: least-squares slope of the step rate over the suprathreshold Long Square steps."""
    t0, t1 = _ONSET_MS * 1e-3, (_ONSET_MS + _STEP_MS) * 1e-3
    in_step = (spike_time >= t0) & (spike_time < t1)
    counts = np.bincount(spike_sweep[in_step], minlength=len(sweeps))
    out = np.full(len(cells), np.nan)
    ls = sweeps[sweeps["stimulus_name"] == "Long Square"]
    for c, grp in ls.groupby("cell"):
        amp = grp["amplitude"].to_numpy()
        rate = counts[grp.index] / (_STEP_MS * 1e-3)
        keep = amp >= cells.at[c, "rheobase"] - 1e-9
        if keep.sum() >= 2:
            out[c] = np.polyfit(amp[keep], rate[keep], 1)[0]
    return out
