"""Ion-channel kinetics of the active L5PT model (Hay et al. 2011), tabulated over voltage.

Every gate follows ``dx/dt = (x_inf(v) - x) / tau_x(v)``; the kernel advances it with the
exact solution for a step of constant voltage (exponential Euler), so it needs ``x_inf`` and
``exp(-dt / tau_x)`` at the current voltage. Both are tabulated here once per simulation on a
fine voltage grid (`VOLTAGE_GRID`) and interpolated linearly by the kernel, as NEURON's
``TABLE`` statements do; the tables are plain numpy arithmetic, so they are bit-identical on
every run.

The equations are written from the kinetics stated in Hay, Hill, Schürmann, Markram & Segev
(2011), *PLoS Comput Biol* 7:e1002107 (Methods and Text S1), which took them from:

* ``NaTa_t`` transient Na⁺, ``m³h``: Colbert & Pan (2002) *Nat Neurosci* 5:533;
* ``Nap_Et2`` persistent Na⁺, ``m³h``: Magistretti & Alonso (1999) *J Gen Physiol* 114:491;
* ``K_Pst`` persistent K⁺, ``m²h``, and ``K_Tst`` transient K⁺, ``m⁴h``: Korngreen &
  Sakmann (2000) *J Physiol* 525:621 (both shifted by −10 mV, i.e. evaluated at ``v + 10``);
* ``SKv3_1`` Kv3.1, ``m``: Rettig et al. (1992) *EMBO J* 11:2473;
* ``Im`` muscarinic K⁺, ``m``: Adams, Brown & Constanti (1982) *J Physiol* 330:537;
* ``Ih`` HCN, ``m``, reversal −45 mV: Kole, Hallermann & Stuart (2006) *J Neurosci* 26:1677;
* ``Ca_HVA`` high-voltage-activated Ca²⁺, ``m²h``: Reuveni et al. (1993) *J Neurosci* 13:4609;
* ``Ca_LVAst`` low-voltage-activated Ca²⁺, ``m²h``: Avery & Johnston (1996) *J Neurosci*
  16:5567 and Randall & Tsien (1997) *Neuropharmacology* 36:879 (shifted by −10 mV);
* ``SK_E2`` small-conductance Ca²⁺-activated K⁺, ``z`` (Ca²⁺-gated, not tabulated over
  voltage): Köhler et al. (1996) *Science* 273:1709.

Rates are in 1/ms, voltages in mV; the temperature factor ``qt = 2.3 ** ((34 - 21) / 10)``
applies where the original measurements were at 21 °C (Hay et al. simulate at 34 °C).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "CHANNELS",
    "GATES",
    "SK_HALF_ACTIVATION_MM",
    "SK_HILL",
    "SK_TAU_MS",
    "CALCIUM_GRID",
    "VOLTAGE_GRID",
    "calcium_table",
    "gate_tables",
    "mg_block",
    "steady_state",
]

#: Channel names in kernel order, and the exponents of their gates (activation, inactivation).
CHANNELS: tuple[str, ...] = ("NaTa_t", "Nap_Et2", "K_Pst", "K_Tst", "SKv3_1", "SK_E2", "Ca_HVA", "Ca_LVAst", "Ih", "Im")
#: Voltage-gated gates in table order: (channel, gate).
GATES: tuple[tuple[str, str], ...] = (
    ("NaTa_t", "m"), ("NaTa_t", "h"),
    ("Nap_Et2", "m"), ("Nap_Et2", "h"),
    ("K_Pst", "m"), ("K_Pst", "h"),
    ("K_Tst", "m"), ("K_Tst", "h"),
    ("SKv3_1", "m"),
    ("Ca_HVA", "m"), ("Ca_HVA", "h"),
    ("Ca_LVAst", "m"), ("Ca_LVAst", "h"),
    ("Ih", "m"),
    ("Im", "m"),
)
#: (first mV, last mV, step mV) of the tables; voltages outside are clamped to the ends.
VOLTAGE_GRID: tuple[float, float, float] = (-150.0, 100.0, 0.1)

#: (step mM, last mM) of the Ca²⁺ table; above the last value the last row applies (SK
#: fully open, the reversal within 0.1 mV of it).
CALCIUM_GRID: tuple[float, float] = (2e-6, 0.05)

SK_HALF_ACTIVATION_MM = 0.00043
SK_HILL = 4.8
SK_TAU_MS = 1.0

_QT = 2.3 ** ((34.0 - 21.0) / 10.0)


def _x_over_1_minus_exp(x: np.ndarray, k: float) -> np.ndarray:
    """``x / (1 - exp(-x / k))``, continuous at ``x = 0`` (value ``k``)."""
    x = np.asarray(x, dtype=np.float64)
    safe = np.where(np.abs(x) < 1e-9, 1.0, x)
    out = safe / -np.expm1(-safe / k)
    return np.where(np.abs(x) < 1e-9, k + x / 2.0, out)


def _from_rates(alpha: np.ndarray, beta: np.ndarray, q: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    s = alpha + beta
    return alpha / s, 1.0 / s / q


def _sigmoid(v: np.ndarray, half: float, slope: float) -> np.ndarray:
    """``1 / (1 + exp((v - half) / slope))``: decreasing for slope > 0."""
    return 1.0 / (1.0 + np.exp((v - half) / slope))


def steady_state(v: np.ndarray) -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]:
    """``x_inf`` (1) and ``tau_x`` (ms) of every voltage-gated gate at voltages `v` (mV).

    Parameters
    ----------
    v : ndarray of float64
        Membrane potential (mV).

    Returns
    -------
    dict of (channel, gate) to (inf, tau)
        Arrays shaped like `v`.
    """
    v = np.asarray(v, dtype=np.float64)
    out: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
    # NaTa_t (Colbert & Pan 2002)
    out["NaTa_t", "m"] = _from_rates(0.182 * _x_over_1_minus_exp(v + 38.0, 6.0),
                                     0.124 * _x_over_1_minus_exp(-(v + 38.0), 6.0), _QT)
    out["NaTa_t", "h"] = _from_rates(0.015 * _x_over_1_minus_exp(-(v + 66.0), 6.0),
                                     0.015 * _x_over_1_minus_exp(v + 66.0, 6.0), _QT)
    # Nap_Et2 (Magistretti & Alonso 1999): steady states from Boltzmann fits, time constants
    # from the rate functions
    _, tau_m = _from_rates(0.182 * _x_over_1_minus_exp(v + 38.0, 6.0), 0.124 * _x_over_1_minus_exp(-(v + 38.0), 6.0), _QT)
    out["Nap_Et2", "m"] = (_sigmoid(v, -52.6, -4.6), 6.0 * tau_m)
    _, tau_h = _from_rates(2.88e-6 * _x_over_1_minus_exp(-(v + 17.0), 4.63), 6.94e-6 * _x_over_1_minus_exp(v + 64.4, 2.63), _QT)
    out["Nap_Et2", "h"] = (_sigmoid(v, -48.8, 10.0), tau_h)
    # K_Pst and K_Tst (Korngreen & Sakmann 2000), evaluated 10 mV depolarised
    u = v + 10.0
    tau_pm = np.where(u < -50.0, 1.25 + 175.03 * np.exp(0.026 * u), 1.25 + 13.0 * np.exp(-0.026 * u)) / _QT
    out["K_Pst", "m"] = (_sigmoid(u, -1.0, -12.0), tau_pm)
    out["K_Pst", "h"] = (_sigmoid(u, -54.0, 11.0), (360.0 + (1010.0 + 24.0 * (u + 55.0)) * np.exp(-(((u + 75.0) / 48.0) ** 2))) / _QT)
    out["K_Tst", "m"] = (_sigmoid(u, 0.0, -19.0), (0.34 + 0.92 * np.exp(-(((u + 71.0) / 59.0) ** 2))) / _QT)
    out["K_Tst", "h"] = (_sigmoid(u, -66.0, 10.0), (8.0 + 49.0 * np.exp(-(((u + 73.0) / 23.0) ** 2))) / _QT)
    # SKv3_1 (Rettig et al. 1992)
    out["SKv3_1", "m"] = (_sigmoid(v, 18.7, -9.7), 0.2 * 20.0 / (1.0 + np.exp((v + 46.56) / -44.14)))
    # Ca_HVA (Reuveni et al. 1993)
    out["Ca_HVA", "m"] = _from_rates(0.055 * _x_over_1_minus_exp(v + 27.0, 3.8), 0.94 * np.exp((-75.0 - v) / 17.0))
    out["Ca_HVA", "h"] = _from_rates(0.000457 * np.exp((-13.0 - v) / 50.0), 0.0065 / (np.exp((-v - 15.0) / 28.0) + 1.0))
    # Ca_LVAst (Avery & Johnston 1996; Randall & Tsien 1997), evaluated 10 mV depolarised
    out["Ca_LVAst", "m"] = (_sigmoid(u, -40.0, -6.0), (5.0 + 20.0 / (1.0 + np.exp((u + 35.0) / 5.0))) / _QT)
    out["Ca_LVAst", "h"] = (_sigmoid(u, -90.0, 6.4), (20.0 + 50.0 / (1.0 + np.exp((u + 50.0) / 7.0))) / _QT)
    # Ih (Kole et al. 2006)
    out["Ih", "m"] = _from_rates(0.00643 * _x_over_1_minus_exp(-(v + 154.9), 11.9), 0.193 * np.exp(v / 33.1))
    # Im (Adams et al. 1982)
    out["Im", "m"] = _from_rates(3.3e-3 * np.exp(0.1 * (v + 35.0)), 3.3e-3 * np.exp(-0.1 * (v + 35.0)), _QT)
    return out


def gate_tables(dt_ms: float) -> np.ndarray:
    """Table of ``x_inf`` and ``exp(-dt / tau_x)`` of every gate of `GATES` over `VOLTAGE_GRID`.

    Parameters
    ----------
    dt_ms : float
        Integration step (ms).

    Returns
    -------
    ndarray of float64, shape (n_grid, len(GATES), 2)
        ``[k, g, 0]`` the steady state and ``[k, g, 1]`` the decay factor of gate g at
        ``VOLTAGE_GRID[0] + k * VOLTAGE_GRID[2]`` mV (voltage-major: a compartment reads
        all its gates from one place).
    """
    lo, hi, step = VOLTAGE_GRID
    v = lo + step * np.arange(int(round((hi - lo) / step)) + 1)
    ss = steady_state(v)
    inf = np.stack([ss[g][0] for g in GATES])
    decay = np.stack([np.exp(-dt_ms / ss[g][1]) for g in GATES])
    return np.ascontiguousarray(np.stack([inf.T, decay.T], axis=2))


def calcium_table(ca_out_mM: float = 2.0, celsius: float = 34.0) -> np.ndarray:
    """SK steady state and Ca²⁺ reversal over the shell's Ca²⁺ concentration (`CALCIUM_GRID`).

    ``z_inf = 1 / (1 + (0.00043 mM / [Ca])^4.8)`` (Köhler et al. 1996, as in Hay et al. 2011),
    ``E_Ca = RT / 2F ln([Ca]_out / [Ca])`` (Nernst; NEURON's rule for an ion whose inside
    concentration a mechanism writes).

    Returns
    -------
    ndarray of float64, shape (n_ca, 2)
        Row k is ``[z_inf, E_Ca (mV)]`` at ``k * step`` mM (row 0 repeats row 1, as no shell
        falls below its resting level).
    """
    step, last = CALCIUM_GRID
    c = step * np.arange(int(round(last / step)) + 1)
    c[0] = c[1]
    z = 1.0 / (1.0 + (SK_HALF_ACTIVATION_MM / c) ** SK_HILL)
    e = 8.314462618 * (273.15 + celsius) / (2.0 * 96485.33212) * 1e3 * np.log(ca_out_mM / c)
    return np.stack([z, e], axis=1)


def mg_block(v: np.ndarray, mg_mM: float = 1.0) -> np.ndarray:
    """Fraction of NMDA conductance not blocked by Mg²⁺ at `v` (mV): Jahr & Stevens (1990) *J Neurosci* 10:3178."""
    return 1.0 / (1.0 + np.exp(-0.062 * np.asarray(v, dtype=np.float64)) * mg_mM / 3.57)
