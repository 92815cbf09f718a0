"""Synthetic Allen-like cell population: ids, species, cre-lines, class archetypes, AdEx parameters.

Class targets (median [IQR] of Allen features per broad class) follow the gfr spec §7.2.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["CLASS_TARGETS", "MOUSE_LINES", "make_population"]

#: per class: rheobase [pA], tau_m [ms], R_in [MOhm] as (median, q1, q3); V_rest [mV]; dendrite type
CLASS_TARGETS: dict[str, dict] = {
    "fast_spiking": {"rheobase": (270, 210, 350), "tau": (7.0, 6.0, 8.2), "r_in": (107, 83, 129), "v_rest": -74.0,
                     "dendrite": "aspiny"},
    "sst": {"rheobase": (70, 50, 120), "tau": (23.7, 15, 36), "r_in": (227, 180, 293), "v_rest": -70.0,
            "dendrite": "aspiny"},
    "vip": {"rheobase": (90, 50, 140), "tau": (12.5, 9.5, 17), "r_in": (195, 143, 258), "v_rest": -71.0,
            "dendrite": "aspiny"},
    "other_aspiny": {"rheobase": (150, 80, 260), "tau": (9.8, 7.0, 14), "r_in": (160, 105, 205), "v_rest": -72.0,
                     "dendrite": "aspiny"},
    "excitatory": {"rheobase": (90, 70, 150), "tau": (20.5, 16.5, 25), "r_in": (164, 130, 209), "v_rest": -74.0,
                   "dendrite": "spiny"},
    "human_spiny": {"rheobase": (130, 70, 230), "tau": (25.9, 20, 32), "r_in": (106, 71, 173), "v_rest": -70.5,
                    "dendrite": "spiny"},
    "human_aspiny": {"rheobase": (80, 40, 130), "tau": (13.9, 10, 20), "r_in": (163, 112, 235), "v_rest": -68.4,
                     "dendrite": "aspiny"},
}

#: adaptation, refractoriness and reset ranges per class: b_w [pA] (log-uniform), tau_w [ms],
#: t_ref [ms], Delta_T [mV], a [nS] and ``reset`` = V_T - V_r [mV] (negative: the reset lies
#: above V_T). Calibrated on Long Square recordings of 480 cells against the Allen medians [IQR]
#: of spec gfr.md §7.2 (docs/gfr.md, "Calibration"):
#:
#: * the f-I slope of an adapting cell is about 1 / (b_w tau_w), so b_w tau_w sets it per class,
#:   and the log-uniform b_w gives the wide Allen IQRs (a factor 3-5 for Sst, Vip, human spiny);
#:   the spec's first guess (e.g. b_w 30-120 pA for excitatory cells) gave half the Allen slopes;
#: * spiny cells adapt with small, slow steps (b_w 7-20 pA, tau_w 0.4-1 s in mouse): each spike
#:   silences the cell less, so it follows the noise stimulus instead of firing 1-3 Hz;
#: * gamma (max 1/ISI) is set by the first ISIs of the largest step, i.e. by how far below V_T
#:   the reset lies. A reset at E_L + 5...15 mV (the spec's first guess) gave gamma 0.03-0.3
#:   spikes/ms against the release's 0.1-0.6; spiny cells now reset around V_T (a fast
#:   after-depolarisation, as in the bursting AdEx regimes of Naud et al. 2008), interneurons up
#:   to a few mV below it, and adaptation ends the initial doublets.
_ADAPTATION = {
    "fast_spiking": {"b_w": (3, 12), "tau_w": (30, 100), "t_ref": (0.8, 1.3), "delta_t": (0.5, 1.0), "a": (0, 1),
                     "reset": (2, 6)},
    "sst": {"b_w": (3, 80), "tau_w": (100, 300), "t_ref": (1.5, 2.5), "delta_t": (1.5, 2.5), "a": (0, 2),
            "reset": (0, 3)},
    "vip": {"b_w": (6, 100), "tau_w": (50, 300), "t_ref": (1.5, 2.5), "delta_t": (1.5, 2.5), "a": (0, 2),
            "reset": (1, 5)},
    "other_aspiny": {"b_w": (1, 40), "tau_w": (50, 200), "t_ref": (1.0, 2.0), "delta_t": (1.0, 2.0), "a": (0, 1),
                     "reset": (1, 5)},
    "excitatory": {"b_w": (7, 20), "tau_w": (400, 1000), "t_ref": (1.5, 2.5), "delta_t": (1.5, 2.5), "a": (0, 2),
                   "reset": (-3, 2)},
    "human_spiny": {"b_w": (8, 50), "tau_w": (400, 2000), "t_ref": (1.5, 2.5), "delta_t": (1.5, 2.5), "a": (0, 2),
                    "reset": (-3, 2)},
    "human_aspiny": {"b_w": (4, 30), "tau_w": (50, 200), "t_ref": (1.0, 2.0), "delta_t": (1.0, 2.0), "a": (0, 1),
                     "reset": (1, 5)},
}

#: mouse line names with their counts in the Allen release (the 20 commonest, then rarer ones)
MOUSE_LINES: dict[str, tuple[int, str]] = {
    "Pvalb-IRES-Cre": (217, "fast_spiking"), "Rorb-IRES2-Cre": (176, "excitatory"),
    "Htr3a-Cre_NO152": (154, "vip"), "Sst-IRES-Cre": (123, "sst"), "Vip-IRES-Cre": (97, "vip"),
    "Ndnf-IRES2-dgCre": (93, "vip"), "Nr5a1-Cre": (91, "excitatory"), "Scnn1a-Tg3-Cre": (90, "excitatory"),
    "Rbp4-Cre_KL100": (88, "excitatory"), "Cux2-CreERT2": (81, "excitatory"), "Ntsr1-Cre_GN220": (70, "excitatory"),
    "Chrna2-Cre_OE25": (69, "other_aspiny"), "Chat-IRES-Cre-neo": (67, "vip"), "Ctgf-T2A-dgCre": (59, "excitatory"),
    "Scnn1a-Tg2-Cre": (55, "excitatory"), "Nkx2-1-CreERT2": (48, "other_aspiny"), "Oxtr-T2A-Cre": (46, "excitatory"),
    "Nos1-CreERT2|Sst-IRES-FlpO": (43, "sst"), "Tlx3-Cre_PL56": (41, "excitatory"), "Sim1-Cre_KJ18": (32, "excitatory"),
    "Gad2-IRES-Cre": (28, "other_aspiny"), "Vipr2-IRES2-Cre": (24, "vip"), "Slc17a6-IRES-Cre": (22, "excitatory"),
    "Glt25d2-Cre_NF107": (20, "excitatory"), "Pvalb-T2A-CreERT2": (18, "fast_spiking"),
    "Penk-IRES2-Cre-neo": (16, "excitatory"), "Esr2-IRES2-Cre": (14, "excitatory"),
    "Slc32a1-IRES-Cre": (12, "other_aspiny"), "Htr3a-Cre_NO152|Pvalb-T2A-FlpO": (10, "fast_spiking"),
}

_ID_BASE = 900_000_000  # real Allen specimen ids span 313,860,745 ... 643,625,553


#: correlation of log rheobase and log input resistance. The spec gives the marginals only;
#: drawn independently, rheobase x R_in (the distance from rest to V_T) spans 5-60 mV within a
#: class (V_T up to -17 mV). Physiologically rheobase ~ (V_thr - V_rest) / R_in with a threshold
#: distance that varies less than R_in, so the two are drawn anti-correlated: the IQR of
#: V_T - E_L shrinks to about 13-21 mV for excitatory cells while both marginals stay the
#: Allen medians and IQRs.
RHEOBASE_RIN_CORRELATION = -0.7


def _log_sd(q1: float, q3: float) -> float:
    return float(np.log(q3 / q1) / 1.349)  # IQR of a normal is 1.349 SD


def _lognormal(rng: np.random.Generator, median: float, q1: float, q3: float, size: int) -> np.ndarray:
    return median * np.exp(rng.normal(0.0, _log_sd(q1, q3), size))


def _noise_sd(noise: float, rheobase: float, tau_m: float, tau_noise: float) -> float:
    """SD [pA] of the OU current that moves the membrane by about *noise* x (rest-to-threshold distance).

    An OU current of SD s and time constant tau_noise moves a passive membrane by
    s R sqrt(tau_noise / (tau_noise + tau_m)) (SD); rheobase x R is about the distance from rest to
    threshold. Scaling by rheobase alone gave fast cells (tau_m 7 ms) 1.5x the voltage noise of
    excitatory cells (tau_m 20 ms) at the same setting, and noisy fast-spiking cells reached
    gamma = 0.9 spikes/ms, above the release's range.
    """
    return float(noise * rheobase * np.sqrt(1.0 + tau_m / tau_noise))


def _quota(weights: list[float] | np.ndarray, n: int) -> np.ndarray:
    """Split *n* into integer counts proportional to *weights* (largest remainder)."""
    w = np.asarray(weights, dtype=float)
    exact = n * w / w.sum()
    counts = np.floor(exact).astype(int)
    counts[np.argsort(-(exact - counts), kind="stable")[: n - counts.sum()]] += 1
    return counts


def _draw_classes(rng: np.random.Generator, n_cells: int, human_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Class and line name of each cell, with class counts in the release's proportions.

    The class counts are quotas (largest remainder), not independent draws: the default profile
    has 32 cells, where independent draws put 1 to 14 cells in a class and move the per-key
    retention by several cells from one seed to the next. The line of a mouse cell is drawn within
    its class with the release's line counts; the order of the cells is random.
    """
    mouse_classes = sorted({c for _, c in MOUSE_LINES.values()})
    class_weight = [sum(k for k, c in MOUSE_LINES.values() if c == cls) for cls in mouse_classes]
    n_human = _quota([human_fraction, 1.0 - human_fraction], n_cells)[0]
    n_spiny = _quota([0.8, 0.2], n_human)[0]           # about 80 % of human cells are spiny (spec §7.2)
    labels = ["human_spiny"] * n_spiny + ["human_aspiny"] * (n_human - n_spiny)
    for cls, k in zip(mouse_classes, _quota(class_weight, n_cells - n_human), strict=True):
        labels += [cls] * int(k)
    cls_arr = np.array(labels)[rng.permutation(n_cells)]
    names = np.array(list(MOUSE_LINES))
    line_name = np.full(n_cells, "", dtype=object)
    for cls in mouse_classes:
        mine = np.flatnonzero(cls_arr == cls)
        pool = np.array([name for name in names if MOUSE_LINES[name][1] == cls])
        w = np.array([MOUSE_LINES[name][0] for name in pool], dtype=float)
        line_name[mine] = rng.choice(pool, size=mine.size, p=w / w.sum())
    return cls_arr, line_name.astype(str)


def make_population(n_cells: int, *, seed: int, human_fraction: float = 0.18, missing_noise_fraction: float = 0.1,
                    noise_cv: tuple[float, float] = (0.015, 0.7)) -> pd.DataFrame:
    """Draw a synthetic Allen-like cell population with AdEx parameters.

    Parameters
    ----------
    n_cells : int
        Number of cells.
    seed : int
        Seed of ``np.random.default_rng``.
    human_fraction : float, default: 0.18
        Fraction of human cells (the Allen release has 413 of 2333); the class counts are
        quotas in the release's proportions (see :func:`_draw_classes`).
    missing_noise_fraction : float, default: 0.1
        Fraction of cells recorded without Noise 1 or without Noise 2 (failure mode; a quota,
        rounded to whole cells).
    noise_cv : (float, float), default: (0.015, 0.7)
        Range of the log-uniform per-cell intrinsic noise: the SD of the membrane potential it
        causes as a fraction of the distance from rest to threshold (the OU current's SD is
        ``noise_cv x rheobase x sqrt(1 + tau_m / tau_noise)``, see :func:`_noise_sd`).

    Returns
    -------
    DataFrame with n_cells rows
        ``specimen_id``, ``line_name`` ('' for human cells), ``species`` ('mouse'|'human'),
        ``dendrite_type``, ``cell_class``, ``missing_noise`` ('', 'Noise 1' or 'Noise 2') and the
        AdEx parameters ``C`` [pF], ``g_L`` [nS], ``E_L`` [mV], ``V_T`` [mV], ``Delta_T`` [mV],
        ``a`` [nS], ``tau_w`` [ms], ``b_w`` [pA], ``V_r`` [mV], ``V_peak`` [mV], ``t_ref`` [ms],
        ``sigma_noise`` [pA], ``tau_noise`` [ms].
    """
    rng = np.random.default_rng(seed)
    ids = _ID_BASE + np.sort(rng.choice(99_999_999, size=n_cells, replace=False))
    cls, line_name = _draw_classes(rng, n_cells, human_fraction)
    human = line_name == ""
    # noise levels stratified over the range (one per 1/n quantile, in random order): whether a
    # cell passes the selection depends mostly on its noise, so independent draws would move the
    # retention of a 32-cell population by several cells from one seed to the next
    noise_u = (rng.permutation(n_cells) + rng.random(n_cells)) / n_cells
    rows = []
    for i in range(n_cells):
        tgt = CLASS_TARGETS[cls[i]]
        ad = _ADAPTATION[cls[i]]
        r_in = _lognormal(rng, *tgt["r_in"], 1)[0]
        tau = _lognormal(rng, *tgt["tau"], 1)[0]
        z_r = np.log(r_in / tgt["r_in"][0]) / _log_sd(*tgt["r_in"][1:])
        rho = RHEOBASE_RIN_CORRELATION
        z_rh = rho * z_r + np.sqrt(1.0 - rho * rho) * rng.normal()
        rheo = tgt["rheobase"][0] * np.exp(_log_sd(*tgt["rheobase"][1:]) * z_rh)
        # R_in and tau are the measured (steady-state) values, so the leak and the subthreshold
        # adaptation share the total conductance: g_L + a = 1000 / R_in, C = tau (g_L + a)
        g_tot = 1000.0 / r_in
        a = min(rng.uniform(*ad["a"]), 0.5 * g_tot)
        g_l = g_tot - a
        e_l = tgt["v_rest"] + rng.normal(0.0, 2.0)
        delta_t = rng.uniform(*ad["delta_t"])
        v_t = e_l + delta_t - delta_t * np.log1p(a / g_l) + rheo / g_tot
        noise = np.exp(np.log(noise_cv[0]) + noise_u[i] * np.log(noise_cv[1] / noise_cv[0]))
        tau_noise = rng.uniform(3.0, 10.0)
        rows.append({
            "specimen_id": int(ids[i]), "line_name": str(line_name[i]), "species": "human" if human[i] else "mouse",
            "dendrite_type": tgt["dendrite"], "cell_class": str(cls[i]),
            "C": tau * g_tot, "g_L": g_l, "E_L": e_l, "V_T": v_t, "Delta_T": delta_t, "a": a,
            "tau_w": rng.uniform(*ad["tau_w"]), "b_w": float(np.exp(rng.uniform(*np.log(ad["b_w"])))),
            "V_r": max(v_t - rng.uniform(*ad["reset"]), e_l + 2.0), "V_peak": v_t + 5.0 * delta_t,
            "t_ref": rng.uniform(*ad["t_ref"]),
            "sigma_noise": _noise_sd(noise, rheo, tau, tau_noise), "tau_noise": tau_noise,
        })
    pop = pd.DataFrame(rows)
    missing = np.zeros(n_cells, bool)
    missing[rng.choice(n_cells, size=_quota([missing_noise_fraction, 1.0 - missing_noise_fraction], n_cells)[0],
                       replace=False)] = True
    which = np.where(rng.random(n_cells) < 0.5, "Noise 1", "Noise 2")
    pop.insert(5, "missing_noise", np.where(missing, which, ""))
    return pop
