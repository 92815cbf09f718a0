"""A reduced compartmental model of the cell: passive dendrites, Hodgkin-Huxley soma and axon.

Why this model and not NEURON: the project needs a biophysical soma response that builds
from PyPI on 2 CPU cores in seconds per hundred trials and is byte-deterministic. NEURON
(PyPI ``neuron``) needs compiled mechanisms, ISF's L5PT model (Hay et al. 2011 channels)
is GPL and not on PyPI, and a full active model costs minutes per trial. This model keeps
what shapes the ANN targets: cable filtering and attenuation along the real morphology
(each section cut into compartments of at most ``max_compartment_um``), conductance
synapses whose drive depends on the local voltage, and an axosomatic spike generator
(Hodgkin-Huxley Na/K at the soma, dense in the AIS). Dendrites are passive (no dendritic
Ca spikes), which is the main simplification.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._kernels import simulate_compartments, threshold_crossings
from ._morphology import AIS, MYELIN, SOMA, Morphology
from ._synapses import SynapseTable

__all__ = ["Biophysics", "Compartments", "compartmentalize", "detect_spikes", "simulate_soma_voltage"]


@dataclass(frozen=True)
class Biophysics:
    """Membrane parameters (defaults: cortical pyramidal values, Hodgkin-Huxley kinetics).

    Attributes
    ----------
    cm_uF_cm2, spine_factor : float
        Specific capacitance; dendritic membrane area is multiplied by `spine_factor`.
    rm_ohm_cm2, ra_ohm_cm : float
        Specific membrane and axial resistance.
    e_leak_mV, e_na_mV, e_k_mV, e_exc_mV, e_inh_mV : float
        Reversal potentials.
    gna_soma_S_cm2, gk_soma_S_cm2, gna_ais_S_cm2, gk_ais_S_cm2 : float
        Peak Na/K conductance densities.
    tau_exc_ms, tau_inh_ms : float
        Decay time constants of the excitatory (AMPA-like) and inhibitory (GABA_A-like) conductances.
    max_compartment_um : float
        Longest compartment.
    warmup_ms : float
        Simulated before each trial with the mean background conductances held constant.
    """

    cm_uF_cm2: float = 1.0
    spine_factor: float = 1.5
    rm_ohm_cm2: float = 20000.0
    ra_ohm_cm: float = 100.0
    e_leak_mV: float = -70.0
    e_na_mV: float = 50.0
    e_k_mV: float = -85.0
    e_exc_mV: float = 0.0
    e_inh_mV: float = -75.0
    gna_soma_S_cm2: float = 0.2
    gk_soma_S_cm2: float = 0.067
    gna_ais_S_cm2: float = 2.0
    gk_ais_S_cm2: float = 0.5
    tau_exc_ms: float = 2.0
    tau_inh_ms: float = 8.0
    max_compartment_um: float = 25.0
    warmup_ms: float = 100.0


@dataclass(frozen=True)
class Compartments:
    """Electrical compartments of a morphology (compartment 0 is the soma)."""

    parent: np.ndarray  # int64 (n_comp,), -1 for the soma
    section: np.ndarray  # int64 (n_comp,)
    first_x: np.ndarray  # float64 (n_comp,), relative start on the section
    n_per_section: np.ndarray  # int64 (n_sections,)
    first_of_section: np.ndarray  # int64 (n_sections,)
    g_axial: np.ndarray  # µS
    cap: np.ndarray  # nF
    g_leak: np.ndarray  # µS
    g_na: np.ndarray  # µS
    g_k: np.ndarray  # µS

    def compartment_of(self, section: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Compartment holding relative position `x` of `section` (arrays of equal shape)."""
        n = self.n_per_section[section]
        k = np.minimum((np.asarray(x) * n).astype(np.int64), n - 1)
        return self.first_of_section[section] + k


def compartmentalize(morphology: Morphology, bio: Biophysics) -> Compartments:
    """Cut every section into equal compartments no longer than ``bio.max_compartment_um``.

    Returns
    -------
    Compartments
        With capacitance, leak, Na/K and axial conductances from the section diameters.
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
    area_cm2 = np.pi * diam * np.maximum(length, 1e-3) * 1e-8
    dendritic = (label != SOMA) & (label != AIS) & (label != MYELIN)
    area_eff = np.where(dendritic, area_cm2 * bio.spine_factor, area_cm2)
    cm = np.where(label == MYELIN, 0.04 * bio.cm_uF_cm2, bio.cm_uF_cm2)
    rm = np.where(label == MYELIN, 50 * bio.rm_ohm_cm2, bio.rm_ohm_cm2)
    cap = cm * area_eff * 1e3
    g_leak = area_eff / rm * 1e6
    g_na = np.where(label == SOMA, bio.gna_soma_S_cm2, np.where(label == AIS, bio.gna_ais_S_cm2, 0.0)) * area_cm2 * 1e6
    g_k = np.where(label == SOMA, bio.gk_soma_S_cm2, np.where(label == AIS, bio.gk_ais_S_cm2, 0.0)) * area_cm2 * 1e6
    # axial resistance (MΩ) of half a compartment: Ra * (l/2) / (π r²), lengths in cm
    half = bio.ra_ohm_cm * (0.5 * length * 1e-4) / (np.pi * (0.5 * diam * 1e-4) ** 2) * 1e-6
    g_axial = np.zeros(n)
    nz = parent >= 0
    g_axial[nz] = 1.0 / (half[nz] + half[parent[nz]])
    return Compartments(parent, section, first_x, n_per, first, g_axial, cap, g_leak, g_na, g_k)


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
    """Soma membrane potential of every trial, sampled every `dt_ms`.

    Parameters
    ----------
    morphology : Morphology
    synapses : SynapseTable
    trial, synapse : ndarray of int64, shape (n_events,)
        Trial and synapse of each activation (from `activation_times`), sorted by trial.
    time_ms : ndarray of float64, shape (n_events,)
    n_trials : int
    t_stop_ms, dt_ms : float
        Trial duration and time step (ms).
    bio : Biophysics, optional

    Returns
    -------
    ndarray of float32, shape (n_trials, round(t_stop_ms / dt_ms))
        mV at ``t = k * dt_ms``.
    """
    bio = bio or Biophysics()
    comp = compartmentalize(morphology, bio)
    n_steps = int(round(t_stop_ms / dt_ms))
    order = np.lexsort((time_ms, trial))
    tr, sy, t = trial[order], synapse[order], time_ms[order]
    ev_ptr = np.searchsorted(tr, np.arange(n_trials + 1)).astype(np.int64)
    ev_step = np.floor(t / dt_ms).astype(np.int64)
    ev_comp = comp.compartment_of(synapses.section_ID[sy], synapses.x[sy]).astype(np.int64)
    ev_inh = ~synapses.is_excitatory[sy]
    ev_w = synapses.weight[sy] * 1e-3  # nS -> µS
    # mean conductance of each compartment over all trials (rate * weight * tau): the
    # background the cell settles to during the warm-up
    n_comp = len(comp.parent)
    total = n_trials * t_stop_ms
    ge0 = np.bincount(ev_comp[~ev_inh], weights=ev_w[~ev_inh], minlength=n_comp) / total * bio.tau_exc_ms
    gi0 = np.bincount(ev_comp[ev_inh], weights=ev_w[ev_inh], minlength=n_comp) / total * bio.tau_inh_ms
    out = np.empty((n_trials, n_steps), dtype=np.float32)
    simulate_compartments(
        comp.parent, comp.g_axial, comp.cap, comp.g_leak, bio.e_leak_mV, comp.g_na, comp.g_k,
        bio.e_na_mV, bio.e_k_mV, ev_ptr, ev_step, ev_comp, ev_inh, ev_w, n_steps, dt_ms,
        bio.tau_exc_ms, bio.tau_inh_ms, bio.e_exc_mV, bio.e_inh_mV, bio.e_leak_mV,
        ge0.astype(np.float64), gi0.astype(np.float64), int(round(bio.warmup_ms / dt_ms)), out,
    )
    return out


def detect_spikes(voltage: np.ndarray, dt_ms: float, threshold_mV: float = 0.0) -> list[np.ndarray]:
    """Spike times per trial: the first sample at or above threshold after one below it (ISF's rule).

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
