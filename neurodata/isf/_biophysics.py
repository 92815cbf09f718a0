"""The active L5PT model: Hay et al. (2011) channels on the cell's compartments, and its simulation.

Membrane and channel parameters are those of the L5 thick-tufted pyramidal cell model of
Hay, Hill, Schürmann, Markram & Segev (2011) *PLoS Comput Biol* 7:e1002107 (the model
fitted to both the bAP and BAC-firing features), with the kinetics of `_channels`:

* soma (and, our choice, the axon hillock and initial segment, so that APs start there):
  transient and persistent Na⁺, transient and persistent K⁺, Kv3.1, SK, HVA and LVA Ca²⁺,
  Iₕ, Ca²⁺ buffering with a 460 ms decay;
* apical dendrite: transient Na⁺ (so APs back-propagate, decaying along the trunk), Kv3.1,
  SK, Iₘ; HVA and LVA Ca²⁺ 10× and 100× denser in a 200 µm hot zone around the main
  bifurcation (Hay et al. put it 685–885 µm from the soma of their cell); the Na⁺ and the
  hot-zone Ca²⁺ densities refitted to this morphology (see ``_APICAL``); Iₕ rising
  exponentially with the normalised distance ``x`` from the soma,
  ``0.0002 (-0.8696 + 2.087 exp(3.6161 x)) S/cm²`` (Kole et al. 2006's gradient); Ca²⁺
  buffering with a 122 ms decay;
* basal dendrites: Iₕ ``0.0002 S/cm²``; dendrites have ``cm = 2 µF/cm²`` (spines), the soma
  and axon 1; leak reversal −90 mV, ``Ra = 100 Ωcm``.

Synapses are conductances with an instantaneous rise and an exponential decay: AMPA-like
(τ 2 ms, 0 mV) and, on the same excitatory synapses, an NMDA-like component with the Mg²⁺
block of Jahr & Stevens (1990); GABA_A-like (τ 8 ms, −80 mV, the reversal of ISF's network
files). See `_kernels.simulate_cell` for the integration scheme.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .._exceptions import ParamError
from ._channels import CALCIUM_GRID, CHANNELS, VOLTAGE_GRID, calcium_table, gate_tables, mg_block
from ._kernels import simulate_cell, threshold_crossings
from ._landmarks import main_bifurcation
from ._morphology import AIS, APICAL, BASAL, MYELIN, SOMA, Morphology
from ._synapses import SynapseTable

__all__ = [
    "Biophysics",
    "Compartments",
    "Injection",
    "compartmentalize",
    "detect_spikes",
    "simulate_cell_voltage",
    "simulate_soma_voltage",
]

_SOMATIC = {"NaTa_t": 2.04, "Nap_Et2": 0.00172, "K_Pst": 0.00223, "K_Tst": 0.0812, "SKv3_1": 0.693,
            "SK_E2": 0.0441, "Ca_HVA": 0.000992, "Ca_LVAst": 0.00343, "Ih": 0.0002}
# Hay et al.'s apical NaTa_t (0.0213) makes every bAP regenerate along this cell's sparser
# trunk (and trigger a Ca2+ spike alone), and their hot-zone Ca2+ (HVA 0.000555, LVA 0.0187)
# is too little for its smaller tuft to fire BAC bursts: refitted to this morphology (Hay et
# al. fitted theirs on one reconstructed cell) to 0.54x and 2.75x.
_APICAL = {"NaTa_t": 0.0115, "SKv3_1": 0.000261, "SK_E2": 0.0012, "Im": 0.0000675,
           "Ca_HVA": 0.000555 * 2.75, "Ca_LVAst": 0.0187 * 2.75, "Ih": 0.0002}
_BASAL = {"Ih": 0.0002}

FARADAY = 96485.33212  # C/mol


@dataclass(frozen=True)
class Biophysics:
    """Membrane, channel and synapse parameters of the cell (defaults: Hay et al. 2011).

    Two defaults are refitted to the synthetic morphology (see the module's comment on
    ``_APICAL``): the apical NaTa_t density and the hot-zone Ca²⁺ densities.

    Attributes
    ----------
    soma_S_cm2, apical_S_cm2, basal_S_cm2, axon_S_cm2 : mapping of str to float
        Peak conductance density (S/cm²) of every channel of `_channels.CHANNELS` per region.
        Apical ``Ca_HVA``/``Ca_LVAst`` are the hot-zone values and ``Ih`` the somatic value of
        the exponential gradient. ``axon_S_cm2`` applies to the hillock and AIS.
    active_dendrites : bool
        False removes every dendritic channel (a passive dendrite; soma and AIS unchanged).
    g_pas_soma_S_cm2, g_pas_apical_S_cm2, g_pas_basal_S_cm2, g_pas_axon_S_cm2 : float
        Leak conductance densities.
    cm_soma_uF_cm2, cm_dend_uF_cm2 : float
        Specific capacitance of soma/axon and of dendrites (spines folded in).
    ra_ohm_cm : float
        Axial resistivity.
    e_pas_mV, e_na_mV, e_k_mV, e_h_mV : float
        Reversal potentials of leak, Na⁺, K⁺ and Iₕ.
    hot_zone_um : (float, float)
        Extent of the Ca²⁺ hot zone relative to the main bifurcation's soma distance.
    hva_outside, lva_outside : float
        Fraction of the hot-zone HVA / LVA density elsewhere on the apical dendrite.
    ih_gradient : (float, float, float)
        ``(a, b, k)`` of ``g_Ih(x) = g_Ih,soma (a + b exp(k x))``, x = distance / the apical
        dendrite's furthest distance.
    ca_gamma_soma, ca_gamma_dend, ca_decay_soma_ms, ca_decay_dend_ms : float
        Free fraction of the Ca²⁺ influx and the decay time constant of the Ca²⁺ shell.
    ca_depth_um, ca_min_mM, ca_out_mM, celsius : float
        Shell depth, resting and extracellular Ca²⁺ and temperature (Ca²⁺ reversal by Nernst).
    e_exc_mV, e_inh_mV, tau_exc_ms, tau_inh_ms : float
        AMPA-like and GABA_A-like synapses.
    nmda_ratio, tau_nmda_ms, mg_mM : float
        NMDA peak conductance as a fraction of the AMPA weight, its decay and the Mg²⁺ level.
    max_compartment_um : float
        Longest compartment.
    v_init_mV, warmup_ms : float
        Start of the warm-up, simulated once (background conductances held at their mean,
        no events) before every trial begins from its end state.
    """

    soma_S_cm2: Mapping[str, float] = field(default_factory=lambda: dict(_SOMATIC))
    apical_S_cm2: Mapping[str, float] = field(default_factory=lambda: dict(_APICAL))
    basal_S_cm2: Mapping[str, float] = field(default_factory=lambda: dict(_BASAL))
    axon_S_cm2: Mapping[str, float] = field(default_factory=lambda: dict(_SOMATIC))
    active_dendrites: bool = True
    g_pas_soma_S_cm2: float = 3.38e-5
    g_pas_apical_S_cm2: float = 5.89e-5
    g_pas_basal_S_cm2: float = 4.67e-5
    g_pas_axon_S_cm2: float = 3.25e-5
    cm_soma_uF_cm2: float = 1.0
    cm_dend_uF_cm2: float = 2.0
    ra_ohm_cm: float = 100.0
    e_pas_mV: float = -90.0
    e_na_mV: float = 50.0
    e_k_mV: float = -85.0
    e_h_mV: float = -45.0
    hot_zone_um: tuple[float, float] = (-100.0, 100.0)
    hva_outside: float = 0.1
    lva_outside: float = 0.01
    ih_gradient: tuple[float, float, float] = (-0.8696, 2.087, 3.6161)
    ca_gamma_soma: float = 0.000501
    ca_gamma_dend: float = 0.000509
    ca_decay_soma_ms: float = 460.0
    ca_decay_dend_ms: float = 122.0
    ca_depth_um: float = 0.1
    ca_min_mM: float = 1e-4
    ca_out_mM: float = 2.0
    celsius: float = 34.0
    e_exc_mV: float = 0.0
    e_inh_mV: float = -80.0
    tau_exc_ms: float = 2.0
    tau_inh_ms: float = 8.0
    nmda_ratio: float = 0.5
    tau_nmda_ms: float = 26.0
    mg_mM: float = 1.0
    max_compartment_um: float = 25.0
    v_init_mV: float = -75.0
    warmup_ms: float = 500.0

    def __post_init__(self) -> None:
        for name in ("soma_S_cm2", "apical_S_cm2", "basal_S_cm2", "axon_S_cm2"):
            unknown = sorted(set(getattr(self, name)) - set(CHANNELS))
            if unknown:
                msg = f"Biophysics: '{name}' has unknown channels {unknown}; expected a subset of {list(CHANNELS)}."
                raise ParamError(msg)
        if self.max_compartment_um <= 0 or self.warmup_ms < 0:
            msg = (f"Biophysics: 'max_compartment_um' must be > 0 and 'warmup_ms' >= 0. "
                   f"Got {self.max_compartment_um!r} and {self.warmup_ms!r} instead.")
            raise ParamError(msg)


@dataclass(frozen=True)
class Compartments:
    """Electrical compartments of a morphology (compartment 0 is the soma).

    Attributes
    ----------
    parent, section : int64 (n_comp,)
        Parent compartment (-1 for the soma) and section.
    first_x : float64 (n_comp,)
        Relative start on the section.
    n_per_section, first_of_section : int64 (n_sections,)
    soma_distance : float64 (n_comp,)
        µm, of the compartment's centre.
    area_cm2, cap, g_leak, g_axial : float64 (n_comp,)
        Membrane area, capacitance (nF), leak (µS) and axial conductance to the parent (µS).
    density : float64 (n_comp, len(CHANNELS))
        Peak conductance density (S/cm²) of every channel.
    ca_gamma, ca_decay_ms : float64 (n_comp,)
        Ca²⁺ shell parameters (0 where the compartment has no Ca²⁺ channel).
    """

    parent: np.ndarray
    section: np.ndarray
    first_x: np.ndarray
    n_per_section: np.ndarray
    first_of_section: np.ndarray
    soma_distance: np.ndarray
    area_cm2: np.ndarray
    cap: np.ndarray
    g_leak: np.ndarray
    g_axial: np.ndarray
    density: np.ndarray
    ca_gamma: np.ndarray
    ca_decay_ms: np.ndarray

    def compartment_of(self, section: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Compartment holding relative position `x` of `section` (arrays of equal shape)."""
        n = self.n_per_section[section]
        k = np.minimum((np.asarray(x) * n).astype(np.int64), n - 1)
        return self.first_of_section[section] + k


def _channel_densities(label: np.ndarray, dist: np.ndarray, morphology: Morphology, bio: Biophysics) -> np.ndarray:
    """(n_comp, n_channels) S/cm²: regional densities, the Iₕ gradient and the Ca²⁺ hot zone."""
    col = {c: j for j, c in enumerate(CHANNELS)}
    out = np.zeros((len(label), len(CHANNELS)))
    dend = dict(bio.apical_S_cm2) if bio.active_dendrites else {}
    basal = dict(bio.basal_S_cm2) if bio.active_dendrites else {}
    for region, dens in ((label == SOMA, bio.soma_S_cm2), (label == AIS, bio.axon_S_cm2),
                         (label == APICAL, dend), (label == BASAL, basal)):
        for c, g in dens.items():
            out[region, col[c]] = g
    apical = label == APICAL
    if bio.active_dendrites and apical.any():
        _, bif = main_bifurcation(morphology)
        _, hi = morphology.section_distances()
        x = dist / hi[morphology.label == APICAL].max()
        a, b, k = bio.ih_gradient
        out[apical, col["Ih"]] = out[apical, col["Ih"]] * (a + b * np.exp(k * x[apical]))
        outside = apical & ~((dist >= bif + bio.hot_zone_um[0]) & (dist <= bif + bio.hot_zone_um[1]))
        out[outside, col["Ca_HVA"]] *= bio.hva_outside
        out[outside, col["Ca_LVAst"]] *= bio.lva_outside
    return out


def compartmentalize(morphology: Morphology, bio: Biophysics) -> Compartments:
    """Cut every section into equal compartments no longer than ``bio.max_compartment_um``.

    Parameters
    ----------
    morphology : Morphology
    bio : Biophysics
        Membrane and channel parameters (``max_compartment_um``: longest compartment, µm).

    Returns
    -------
    Compartments
        With capacitance, leak, axial conductances and channel densities.
    """
    lengths = morphology.section_lengths()
    arc = morphology.point_arclength()
    start = morphology.point_start
    n_per = np.ones(morphology.n_sections, dtype=np.int64)
    for s in range(1, morphology.n_sections):
        n_per[s] = max(1, int(np.ceil(lengths[s] / bio.max_compartment_um)))
    first = np.concatenate([[0], np.cumsum(n_per)[:-1]]).astype(np.int64)
    n = int(n_per.sum())
    parent = np.full(n, -1, dtype=np.int64)
    section = np.zeros(n, dtype=np.int64)
    first_x = np.zeros(n)
    length = np.zeros(n)
    diam = np.zeros(n)
    for s in range(morphology.n_sections):
        pts = slice(start[s], start[s + 1])
        for k in range(n_per[s]):
            c = first[s] + k
            section[c] = s
            first_x[c] = k / n_per[s]
            length[c] = lengths[s] / n_per[s]
            mid = (k + 0.5) / n_per[s] * lengths[s]
            diam[c] = np.interp(mid, arc[pts], morphology.diam[pts])
            if k > 0:
                parent[c] = c - 1
            elif s > 0:
                p = morphology.parent[s]
                parent[c] = first[p] + min(int(morphology.parent_x[s] * n_per[p]), n_per[p] - 1) if p else 0
    label = morphology.label[section]
    dist = morphology.soma_distance(section, first_x + 0.5 / n_per[section])
    area_cm2 = np.pi * diam * np.maximum(length, 1e-3) * 1e-8
    dendritic = (label == APICAL) | (label == BASAL)
    cm = np.where(dendritic, bio.cm_dend_uF_cm2, bio.cm_soma_uF_cm2)
    g_pas = np.select([label == SOMA, label == APICAL, label == BASAL],
                      [bio.g_pas_soma_S_cm2, bio.g_pas_apical_S_cm2, bio.g_pas_basal_S_cm2], bio.g_pas_axon_S_cm2)
    # myelin: a few wraps of membrane, far less capacitance and leak
    cm = np.where(label == MYELIN, 0.04 * cm, cm)
    g_pas = np.where(label == MYELIN, g_pas / 50.0, g_pas)
    cap = cm * area_cm2 * 1e3  # µF/cm² * cm² = µF -> nF
    g_leak = g_pas * area_cm2 * 1e6  # S -> µS
    # axial resistance (MΩ) of half a compartment: Ra * (l/2) / (π r²), lengths in cm
    half = bio.ra_ohm_cm * (0.5 * length * 1e-4) / (np.pi * (0.5 * diam * 1e-4) ** 2) * 1e-6
    g_axial = np.zeros(n)
    nz = parent >= 0
    g_axial[nz] = 1.0 / (half[nz] + half[parent[nz]])
    density = _channel_densities(label, dist, morphology, bio)
    has_ca = (density[:, CHANNELS.index("Ca_HVA")] > 0) | (density[:, CHANNELS.index("Ca_LVAst")] > 0)
    somatic = (label == SOMA) | (label == AIS)
    ca_gamma = np.where(has_ca, np.where(somatic, bio.ca_gamma_soma, bio.ca_gamma_dend), 0.0)
    ca_decay = np.where(has_ca, np.where(somatic, bio.ca_decay_soma_ms, bio.ca_decay_dend_ms), 0.0)
    return Compartments(parent, section, first_x, n_per, first, dist, area_cm2, cap, g_leak, g_axial, density,
                        ca_gamma, ca_decay)


@dataclass(frozen=True)
class Injection:
    """A current injected into the compartment holding position `x` of `section`.

    Attributes
    ----------
    section : int
    x : float
        Relative position on the section.
    current_nA : ndarray of float64, shape (n_steps,)
        Injected (depolarising > 0) current at every step of a trial, nA.
    """

    section: int
    x: float
    current_nA: np.ndarray


def simulate_cell_voltage(
    morphology: Morphology,
    synapses: SynapseTable | None,
    trial: np.ndarray,
    synapse: np.ndarray,
    time_ms: np.ndarray,
    *,
    n_trials: int,
    t_stop_ms: float,
    dt_ms: float = 0.025,
    bio: Biophysics | None = None,
    record: Sequence[tuple[int, float]] = (),
    injections: Sequence[Injection] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """Soma voltage and the voltage at dendritic sites of every trial, sampled every `dt_ms`.

    Parameters
    ----------
    morphology : Morphology
    synapses : SynapseTable or None
        None: no synapses (only `injections`).
    trial, synapse : ndarray of int64, shape (n_events,)
        Trial and synapse of each activation (from `activation_times`).
    time_ms : ndarray of float64, shape (n_events,)
    n_trials : int
    t_stop_ms, dt_ms : float
        Trial duration and time step (ms).
    bio : Biophysics, optional
    record : sequence of (section, x)
        Dendritic sites to record (the compartment holding each position).
    injections : sequence of Injection
        Currents injected identically in every trial (e.g. the BAC protocol).

    Returns
    -------
    soma : ndarray of float32, shape (n_trials, round(t_stop_ms / dt_ms))
        mV at ``t = k * dt_ms``.
    sites : ndarray of float32, shape (n_trials, len(record), round(t_stop_ms / dt_ms))
        mV.
    """
    bio = bio or Biophysics()
    comp = compartmentalize(morphology, bio)
    n_steps = int(round(t_stop_ms / dt_ms))
    n_comp = len(comp.parent)
    if synapses is None or len(trial) == 0:
        tr = np.zeros(0, np.int64)
        ev_step = np.zeros(0, np.int64)
        ev_comp = np.zeros(0, np.int64)
        ev_inh = np.zeros(0, np.bool_)
        ev_w = np.zeros(0)
    else:
        order = np.lexsort((time_ms, trial))
        tr, sy, t = trial[order], synapse[order], time_ms[order]
        ev_step = np.floor(t / dt_ms).astype(np.int64)
        ev_comp = comp.compartment_of(synapses.section_ID[sy], synapses.x[sy]).astype(np.int64)
        ev_inh = ~synapses.is_excitatory[sy]
        ev_w = synapses.weight[sy] * 1e-3  # nS -> µS
    ev_ptr = np.searchsorted(tr, np.arange(n_trials + 1)).astype(np.int64)
    # mean conductance of each compartment over all trials (rate * weight * tau): the
    # background the cell settles to during the warm-up
    total = max(n_trials * t_stop_ms, 1e-9)
    exc = ~ev_inh
    ge0 = np.bincount(ev_comp[exc], weights=ev_w[exc], minlength=n_comp) / total * bio.tau_exc_ms
    gi0 = np.bincount(ev_comp[ev_inh], weights=ev_w[ev_inh], minlength=n_comp) / total * bio.tau_inh_ms
    gn0 = ge0 / bio.tau_exc_ms * bio.tau_nmda_ms * bio.nmda_ratio
    gbar = np.ascontiguousarray(comp.density * comp.area_cm2[:, None] * 1e6)  # S/cm² -> µS
    tab = gate_tables(dt_ms)
    lo, _, step = VOLTAGE_GRID
    mg_tab = mg_block(lo + step * np.arange(tab.shape[0]), bio.mg_mM)
    rec = np.asarray([comp.compartment_of(np.array([s]), np.array([x]))[0] for s, x in record], dtype=np.int64)
    inj_comp = np.asarray([comp.compartment_of(np.array([j.section]), np.array([j.x]))[0] for j in injections], dtype=np.int64)
    inj = np.zeros((len(injections), n_steps))
    for q, j in enumerate(injections):
        cur = np.asarray(j.current_nA, dtype=np.float64)
        if cur.shape != (n_steps,):
            msg = f"Injection {q}: 'current_nA' must have shape ({n_steps},), one value per step. Got {cur.shape} instead."
            raise ParamError(msg)
        inj[q] = cur
    soma = np.empty((n_trials, n_steps), dtype=np.float32)
    sites = np.empty((n_trials, len(rec), n_steps), dtype=np.float32)
    # steady-state Ca2+ rise per nA: ica (mA/cm2) = nA * 1e-6 / area; d[Ca]/dt (mM/ms) =
    # -1e4 gamma ica / (2 F depth_um) (µm -> cm, mol/cm3 -> mM, s -> ms), times the decay
    with np.errstate(divide="ignore", invalid="ignore"):
        ca_influx = np.where(comp.ca_gamma > 0, -1e4 * comp.ca_gamma * 1e-6 * comp.ca_decay_ms
                             / (2.0 * FARADAY * bio.ca_depth_um * comp.area_cm2), 0.0)
    simulate_cell(
        comp.parent, comp.g_axial, comp.cap, comp.g_leak, bio.e_pas_mV, gbar,
        tab, mg_tab, lo, step, bio.e_na_mV, bio.e_k_mV, bio.e_h_mV,
        ca_influx, np.exp(-dt_ms / np.where(comp.ca_decay_ms > 0, comp.ca_decay_ms, 1.0)),
        bio.ca_min_mM, calcium_table(bio.ca_out_mM, bio.celsius), CALCIUM_GRID[0],
        ev_ptr, ev_step, ev_comp, ev_inh, ev_w,
        np.exp(-dt_ms / bio.tau_exc_ms), np.exp(-dt_ms / bio.tau_inh_ms), np.exp(-dt_ms / bio.tau_nmda_ms),
        bio.nmda_ratio, bio.e_exc_mV, bio.e_inh_mV, ge0, gi0, gn0,
        inj_comp, inj, n_steps, dt_ms, bio.v_init_mV, int(round(bio.warmup_ms / dt_ms)), rec, soma, sites,
    )
    return soma, sites


def simulate_soma_voltage(
    morphology: Morphology,
    synapses: SynapseTable,
    trial: np.ndarray,
    synapse: np.ndarray,
    time_ms: np.ndarray,
    *,
    n_trials: int,
    t_stop_ms: float,
    dt_ms: float = 0.025,
    bio: Biophysics | None = None,
) -> np.ndarray:
    """Soma membrane potential of every trial (`simulate_cell_voltage` without dendritic sites).

    Parameters
    ----------
    morphology : Morphology
    synapses : SynapseTable
    trial, synapse : ndarray of int64, shape (n_events,)
        Trial and synapse of each activation (from `activation_times`).
    time_ms : ndarray of float64, shape (n_events,)
        Activation times (ms).
    n_trials : int
    t_stop_ms, dt_ms : float
        Trial duration and time step (ms).
    bio : Biophysics, optional

    Returns
    -------
    ndarray of float32, shape (n_trials, round(t_stop_ms / dt_ms))
        mV at ``t = k * dt_ms``.
    """
    soma, _ = simulate_cell_voltage(morphology, synapses, trial, synapse, time_ms, n_trials=n_trials,
                                    t_stop_ms=t_stop_ms, dt_ms=dt_ms, bio=bio)
    return soma


def detect_spikes(voltage: np.ndarray, dt_ms: float, threshold_mV: float = 0.0) -> list[np.ndarray]:
    """Spike times per trial: the first sample at or above threshold after one below it (ISF's rule).

    ISF detects somatic APs at 0 mV and dendritic spikes at −30 mV (spec §2.3).

    Parameters
    ----------
    voltage : ndarray, shape (n_trials, n_samples)
        mV, sampled every `dt_ms` from 0.
    dt_ms, threshold_mV : float

    Returns
    -------
    list of ndarray of float64
        Spike times (ms) of each trial.
    """
    tr, k = threshold_crossings(np.asarray(voltage, dtype=np.float64), float(threshold_mV))
    ptr = np.searchsorted(tr, np.arange(voltage.shape[0] + 1))
    times = k * dt_ms
    return [times[ptr[r]:ptr[r + 1]] for r in range(voltage.shape[0])]
