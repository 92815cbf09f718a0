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

#: adaptation and refractoriness ranges per class: b_w [pA], tau_w [ms], t_ref [ms], Delta_T [mV], a [nS].
#: b_w is lower than the spec's first guess (e.g. 30-120 pA for excitatory cells): with those
#: values the measured f-I slopes came out at half the Allen medians (slope ~ 1 / (b_w tau_w)).
_ADAPTATION = {
    "fast_spiking": {"b_w": (0, 5), "tau_w": (30, 100), "t_ref": (0.5, 1.0), "delta_t": (0.5, 1.0), "a": (0, 1)},
    "sst": {"b_w": (10, 40), "tau_w": (100, 300), "t_ref": (1.5, 2.5), "delta_t": (1.5, 2.5), "a": (0, 2)},
    "vip": {"b_w": (10, 60), "tau_w": (50, 200), "t_ref": (1.5, 2.5), "delta_t": (1.5, 2.5), "a": (0, 2)},
    "other_aspiny": {"b_w": (2, 20), "tau_w": (50, 200), "t_ref": (1.0, 2.0), "delta_t": (1.0, 2.0), "a": (0, 1)},
    "excitatory": {"b_w": (10, 50), "tau_w": (100, 300), "t_ref": (2.0, 2.0), "delta_t": (1.5, 2.5), "a": (0, 2)},
    "human_spiny": {"b_w": (30, 120), "tau_w": (100, 300), "t_ref": (2.0, 3.0), "delta_t": (1.5, 2.5), "a": (0, 2)},
    "human_aspiny": {"b_w": (2, 20), "tau_w": (50, 200), "t_ref": (1.0, 2.0), "delta_t": (1.0, 2.0), "a": (0, 1)},
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


def _lognormal(rng: np.random.Generator, median: float, q1: float, q3: float, size: int) -> np.ndarray:
    sd = np.log(q3 / q1) / 1.349  # IQR of a normal is 1.349 SD
    return median * np.exp(rng.normal(0.0, sd, size))


def make_population(n_cells: int, *, seed: int, human_fraction: float = 0.18, missing_noise_fraction: float = 0.1,
                    noise_cv: tuple[float, float] = (0.04, 0.3)) -> pd.DataFrame:
    """Draw a synthetic Allen-like cell population with AdEx parameters.

    Parameters
    ----------
    n_cells : int
        Number of cells.
    seed : int
        Seed of ``np.random.default_rng``.
    human_fraction : float, default: 0.18
        Fraction of human cells (the Allen release has 413 of 2333).
    missing_noise_fraction : float, default: 0.1
        Fraction of cells recorded without Noise 1 or without Noise 2 (failure mode).
    noise_cv : (float, float), default: (0.04, 0.3)
        Range of the log-uniform per-cell intrinsic-noise SD as a fraction of the target rheobase.

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
    human = rng.random(n_cells) < human_fraction
    names = np.array(list(MOUSE_LINES))
    weights = np.array([v[0] for v in MOUSE_LINES.values()], dtype=float)
    lines = rng.choice(names, size=n_cells, p=weights / weights.sum())
    spiny_human = rng.random(n_cells) < 0.8
    cls = np.where(human, np.where(spiny_human, "human_spiny", "human_aspiny"),
                   [MOUSE_LINES[name][1] for name in lines])
    line_name = np.where(human, "", lines)
    rows = []
    for i in range(n_cells):
        tgt = CLASS_TARGETS[cls[i]]
        ad = _ADAPTATION[cls[i]]
        r_in = _lognormal(rng, *tgt["r_in"], 1)[0]
        tau = _lognormal(rng, *tgt["tau"], 1)[0]
        rheo = _lognormal(rng, *tgt["rheobase"], 1)[0]
        # R_in and tau are the measured (steady-state) values, so the leak and the subthreshold
        # adaptation share the total conductance: g_L + a = 1000 / R_in, C = tau (g_L + a)
        g_tot = 1000.0 / r_in
        a = min(rng.uniform(*ad["a"]), 0.5 * g_tot)
        g_l = g_tot - a
        e_l = tgt["v_rest"] + rng.normal(0.0, 2.0)
        delta_t = rng.uniform(*ad["delta_t"])
        v_t = e_l + delta_t - delta_t * np.log1p(a / g_l) + rheo / g_tot
        rows.append({
            "specimen_id": int(ids[i]), "line_name": str(line_name[i]), "species": "human" if human[i] else "mouse",
            "dendrite_type": tgt["dendrite"], "cell_class": str(cls[i]),
            "C": tau * g_tot, "g_L": g_l, "E_L": e_l, "V_T": v_t, "Delta_T": delta_t, "a": a,
            "tau_w": rng.uniform(*ad["tau_w"]), "b_w": rng.uniform(*ad["b_w"]),
            "V_r": e_l + min(rng.uniform(5.0, 15.0), 0.7 * (v_t - e_l)), "V_peak": v_t + 5.0 * delta_t,
            "t_ref": rng.uniform(*ad["t_ref"]),
            "sigma_noise": rheo * np.exp(rng.uniform(np.log(noise_cv[0]), np.log(noise_cv[1]))),
            "tau_noise": rng.uniform(3.0, 10.0),
        })
    pop = pd.DataFrame(rows)
    missing = rng.random(n_cells) < missing_noise_fraction
    which = np.where(rng.random(n_cells) < 0.5, "Noise 1", "Noise 2")
    pop.insert(5, "missing_noise", np.where(missing, which, ""))
    return pop
