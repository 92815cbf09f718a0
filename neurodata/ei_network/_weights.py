"""Synaptic weights of the EI-clustered random balanced network (Rostami et al. 2024, Eqs. 7-10).

Pure numpy. Index convention of every 2x2 matrix here: row = postsynaptic population,
column = presynaptic population, 0 = E and 1 = I (so ``[0, 1]`` is I->E and ``[1, 0]`` is E->I).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .._exceptions import ParamError

CLUSTERING_MODES = ("weight", "probabilities")


def psp_peak_per_pa(tau_m: float, tau_syn: float, c_m: float = 1.0) -> float:
    """Peak postsynaptic potential of a LIF neuron for a 1 pA exponential current jump.

    The membrane (time constant *tau_m*, capacitance *c_m*) starts at rest and receives
    ``I(t) = 1 pA * exp(-t / tau_syn)``. The deflection
    ``V(t) = pre * (exp(-t/tau_syn) - exp(-t/tau_m))`` with
    ``pre = tau_m tau_syn / (c_m (tau_syn - tau_m))`` peaks at
    ``t_max = ln(tau_syn / tau_m) / (1/tau_m - 1/tau_syn)``.

    Differences from the original ``postsynaptic_current_to_potential`` (NEST example helper):
    the original also takes ``e_l`` and returns ``(e_l - pre) exp(-t_max/tau_m) + pre exp(-t_max/tau_syn)``,
    which adds ``e_l exp(-t_max/tau_m)`` to the deflection (wrong for ``E_L != 0``; the deflection
    does not depend on the resting potential), so *e_l* is dropped here. The original is also
    undefined for ``tau_m == tau_syn``; here that case returns the limit ``tau / (c_m e)``
    (peak of the alpha-shaped PSP at ``t = tau``). At the defaults (``C_m = 1 pF``, ``E_L = 0``)
    the values are identical.

    Parameters
    ----------
    tau_m : float
        Membrane time constant [ms], > 0.
    tau_syn : float
        Synaptic current time constant [ms], > 0.
    c_m : float, default: 1.0
        Membrane capacitance [pF], > 0.

    Returns
    -------
    float
        Peak PSP per unit synaptic current [mV/pA].

    Examples
    --------
    >>> round(psp_peak_per_pa(10.0, 5.0), 6)
    2.5
    """
    for name, value in (("tau_m", tau_m), ("tau_syn", tau_syn), ("c_m", c_m)):
        if not np.isfinite(value) or value <= 0:
            msg = f"psp_peak_per_pa: {name} must be a finite number > 0; got {value!r}."
            raise ParamError(msg)
    if np.isclose(tau_m, tau_syn, rtol=1e-12, atol=0.0):
        return float(tau_m / (c_m * np.e))
    t_max = np.log(tau_syn / tau_m) / (1.0 / tau_m - 1.0 / tau_syn)
    pre = tau_m * tau_syn / (c_m * (tau_syn - tau_m))
    return float(pre * (np.exp(-t_max / tau_syn) - np.exp(-t_max / tau_m)))


def rheobase_current(tau_m: float, e_l: float, v_th: float, c_m: float) -> float:
    """Smallest constant current that brings a LIF neuron to threshold.

    Parameters
    ----------
    tau_m : float
        Membrane time constant [ms].
    e_l : float
        Resting potential [mV].
    v_th : float
        Spike threshold [mV].
    c_m : float
        Membrane capacitance [pF].

    Returns
    -------
    float
        ``(v_th - e_l) * c_m / tau_m`` [pA].

    Examples
    --------
    >>> rheobase_current(20.0, 0.0, 20.0, 1.0)
    1.0
    """
    return float((v_th - e_l) * c_m / tau_m)


def rbn_weights(params: Mapping[str, Any]) -> np.ndarray:
    """Synaptic efficacies ``js`` of the random balanced network (Rostami et al., Eqs. 7-10).

    ``js_EE = (V_th_E - E_L) sqrt(N) / (sqrt(K_EE) A_EE)``: ``sqrt(K_EE)`` coincident E->E PSPs
    carry an E neuron from rest to threshold; the I->E entry balances ``gei`` times the total
    excitatory drive onto E (``js_EI = -gei js_EE p_EE N_E A_EE / (p_EI N_I A_EI)``); the E->I and
    I->I entries do the same for the I row with ``gie`` and ``gii``. ``A_xy`` is the peak PSP per pA
    (:func:`psp_peak_per_pa`) for the membrane time constant of the postsynaptic population and the
    synaptic time constant of the presynaptic one. Unlike the original (which always uses
    ``c_m = 1``), the PSP uses the network's ``C_m``; identical at the default ``C_m = 1 pF``.

    Parameters
    ----------
    params : mapping
        Network parameters: ``N_E``, ``N_I``, ``E_L`` [mV], ``C_m`` [pF], ``V_th_E``, ``V_th_I`` [mV],
        ``tau_E``, ``tau_I``, ``tau_syn_ex``, ``tau_syn_in`` [ms], ``gei``, ``gie``, ``gii`` and
        ``baseline_conn_prob`` (2x2, [post, pre]). ``C_m`` defaults to 1 pF if absent.

    Returns
    -------
    ndarray of shape (2, 2)
        ``[[EE, EI], [IE, II]]`` in pA * sqrt(number of neurons); the PSC amplitude of a synapse is
        ``s * js / sqrt(N_E + N_I)`` (see :func:`base_weights`).

    Examples
    --------
    >>> from neurodata import stage_params
    >>> rbn_weights(stage_params("ei_network")).round(4)  # the default profile's network
    array([[ 15.874 , -30.4781],
           [ 12.6491, -50.5964]])
    """
    p = np.asarray(params["baseline_conn_prob"], dtype=float)
    n_e, n_i = float(params["N_E"]), float(params["N_I"])
    n = n_e + n_i
    c_m = float(params.get("C_m", 1.0))
    e_l = float(params["E_L"])
    a_ee = psp_peak_per_pa(params["tau_E"], params["tau_syn_ex"], c_m)
    a_ei = psp_peak_per_pa(params["tau_E"], params["tau_syn_in"], c_m)
    a_ie = psp_peak_per_pa(params["tau_I"], params["tau_syn_ex"], c_m)
    a_ii = psp_peak_per_pa(params["tau_I"], params["tau_syn_in"], c_m)
    js = np.zeros((2, 2))
    k_ee = n_e * p[0, 0]
    js[0, 0] = (params["V_th_E"] - e_l) * np.sqrt(n) / (np.sqrt(k_ee) * a_ee)
    js[0, 1] = -params["gei"] * js[0, 0] * p[0, 0] * n_e * a_ee / (p[0, 1] * n_i * a_ei)
    k_ie = n_e * p[1, 0]
    js[1, 0] = params["gie"] * (params["V_th_I"] - e_l) * np.sqrt(n) / (np.sqrt(k_ie) * a_ie)
    js[1, 1] = -params["gii"] * js[1, 0] * p[1, 0] * n_e * a_ie / (p[1, 1] * n_i * a_ii)
    return js


def base_weights(params: Mapping[str, Any]) -> np.ndarray:
    """Unclustered PSC amplitudes ``j = s * js / sqrt(N_E + N_I)``.

    ``js`` is ``params["js"]`` when given (a 2x2 override; the original example crashes with an
    UnboundLocalError on that path, quirk Q4, which is fixed here), else :func:`rbn_weights`.

    Parameters
    ----------
    params : mapping
        Network parameters (see :func:`rbn_weights`), plus ``s`` and optionally ``js``.

    Returns
    -------
    ndarray of shape (2, 2)
        ``[[EE, EI], [IE, II]]`` PSC amplitudes [pA]; the I columns are negative.
    """
    js = params.get("js")
    js = rbn_weights(params) if js is None else np.asarray(js, dtype=float)
    return float(params["s"]) * js / np.sqrt(float(params["N_E"]) + float(params["N_I"]))


def cluster_factors(n_clusters: int, rep: float, rj: float, clustering: str = "weight") -> tuple[np.ndarray, np.ndarray]:
    """In-cluster and between-cluster factors (``J+``, ``J-`` or ``p+``, ``p-``).

    Weight clustering: ``J_E+ = rep`` for E->E and ``J_I+ = 1 + (rep - 1) rj`` for I->E, E->I and
    I->I. Probability clustering: ``p_E+ = rep`` and ``p_I+ = 1 + (rep - 1) ** rj``; the power
    (not a product) is the original example's definition (quirk Q3) and is kept, because it *is*
    the published example's probability-clustered model. In both modes the between-cluster factor
    is ``(Q - plus) / (Q - 1)``, which keeps each neuron's summed mean input equal to that of the
    unclustered network; for ``Q = 1`` both factors are 1.

    Parameters
    ----------
    n_clusters : int
        Number of clusters Q, >= 1.
    rep : float
        Excitatory clustering factor (1 = no clustering), >= 1.
    rj : float
        Ratio of inhibitory to excitatory clustering, >= 0.
    clustering : {"weight", "probabilities"}, default: "weight"

    Returns
    -------
    plus, minus : ndarray of shape (2, 2)
        Dimensionless factors, [post, pre].

    Examples
    --------
    >>> plus, minus = cluster_factors(20, 6.0, 0.82)
    >>> plus.tolist()
    [[6.0, 5.1], [5.1, 5.1]]
    """
    if clustering not in CLUSTERING_MODES:
        msg = f"cluster_factors: clustering must be one of {CLUSTERING_MODES}; got {clustering!r}."
        raise ParamError(msg)
    if int(n_clusters) != n_clusters or n_clusters < 1:
        msg = f"cluster_factors: n_clusters must be an integer >= 1; got {n_clusters!r}."
        raise ParamError(msg)
    if clustering == "probabilities" and rep < 1:
        msg = f"cluster_factors: rep must be >= 1 with probability clustering (1 + (rep - 1) ** rj); got {rep!r}."
        raise ParamError(msg)
    if n_clusters == 1:
        return np.ones((2, 2)), np.ones((2, 2))
    inh = 1.0 + (rep - 1.0) * rj if clustering == "weight" else 1.0 + (rep - 1.0) ** rj
    plus = np.array([[rep, inh], [inh, inh]], dtype=float)
    minus = (n_clusters - plus) / (n_clusters - 1)
    return plus, minus


def clustered_weights(params: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Base, in-cluster and between-cluster weights and probabilities of the network.

    Parameters
    ----------
    params : mapping
        Network parameters (see :func:`rbn_weights`), plus ``s``, ``n_clusters``, ``rep``, ``rj``,
        ``clustering`` and optionally ``js``.

    Returns
    -------
    dict of str to ndarray of shape (2, 2)
        ``base`` (j, pA), ``plus`` and ``minus`` (the factors of :func:`cluster_factors`),
        ``in_cluster`` and ``between_cluster`` (PSC amplitudes, pA) and ``p_in_cluster`` and
        ``p_between_cluster`` (connection probabilities; may exceed 1 in probability mode, where
        the generator draws ``ceil(p)`` multapse rounds of probability ``p / ceil(p)``).
        In weight mode the weights are ``plus * j`` and ``minus * j`` and both probabilities are the
        baseline ones; in probability mode both weights are ``j`` and the probabilities are
        ``plus * p`` and ``minus * p``.
    """
    j = base_weights(params)
    p = np.asarray(params["baseline_conn_prob"], dtype=float)
    mode = params.get("clustering", "weight")
    plus, minus = cluster_factors(int(params["n_clusters"]), float(params["rep"]), float(params["rj"]), mode)
    if mode == "weight":
        return {
            "base": j,
            "plus": plus,
            "minus": minus,
            "in_cluster": plus * j,
            "between_cluster": minus * j,
            "p_in_cluster": p.copy(),
            "p_between_cluster": p.copy(),
        }
    return {
        "base": j,
        "plus": plus,
        "minus": minus,
        "in_cluster": j.copy(),
        "between_cluster": j.copy(),
        "p_in_cluster": plus * p,
        "p_between_cluster": minus * p,
    }


def background_currents(params: Mapping[str, Any]) -> tuple[float, float]:
    """Mean background DC input of E and I neurons.

    ``I_xE = I_th_E * rheobase(tau_E, E_L, V_th_E, C_m)`` and likewise for I; when ``I_th_E``
    (``I_th_I``) is None the absolute ``I_xE`` (``I_xI``) in pA is used instead.

    Parameters
    ----------
    params : mapping
        Network parameters.

    Returns
    -------
    i_xe, i_xi : float
        Background current of E and of I neurons [pA].
    """
    c_m, e_l = float(params["C_m"]), float(params["E_L"])
    if params.get("I_th_E") is not None:
        i_xe = params["I_th_E"] * rheobase_current(params["tau_E"], e_l, params["V_th_E"], c_m)
    else:
        i_xe = params["I_xE"]
    if params.get("I_th_I") is not None:
        i_xi = params["I_th_I"] * rheobase_current(params["tau_I"], e_l, params["V_th_I"], c_m)
    else:
        i_xi = params["I_xI"]
    return float(i_xe), float(i_xi)
