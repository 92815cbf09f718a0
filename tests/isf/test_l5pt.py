"""The active L5PT model: channel kinetics, distributions, bAPs and BAC firing (Larkum et al. 1999)."""

from __future__ import annotations

import numpy as np
import pytest

from neurodata.isf import (
    Biophysics,
    Injection,
    apical_trunk,
    compartmentalize,
    detect_spikes,
    main_bifurcation,
    make_l5pt_morphology,
    recording_sites,
    simulate_cell_voltage,
)
from neurodata.isf._channels import CHANNELS, calcium_table, gate_tables, mg_block, steady_state

DT = 0.025
T_STOP = 100.0


@pytest.mark.parametrize(
    ("gate", "v", "inf"),
    [
        # NaTa_t m: alpha/(alpha+beta) with both rates' removable singularity at -38 mV: 0.182/(0.182+0.124)
        (("NaTa_t", "m"), -38.0, 0.182 / 0.306),
        (("NaTa_t", "h"), -66.0, 0.5),  # symmetric rates at -66 mV
        (("Nap_Et2", "m"), -52.6, 0.5),
        (("K_Tst", "m"), -10.0, 0.5),  # half activation at 0 mV, shifted by -10 mV
        (("K_Pst", "h"), -64.0, 0.5),  # -54 mV shifted by -10 mV
        (("Ca_LVAst", "m"), -50.0, 0.5),  # -40 mV shifted by -10 mV
        (("SKv3_1", "m"), 18.7, 0.5),
        (("Im", "m"), -35.0, 0.5),  # equal rates at -35 mV
    ],
)
def test_gate_steady_states_hand_values(gate, v, inf):
    got, tau = steady_state(np.array([v]))[gate]
    assert got[0] == pytest.approx(inf, rel=1e-9)
    assert tau[0] > 0


def test_ih_activates_with_hyperpolarisation_and_tables_interpolate():
    ss = steady_state(np.array([-120.0, -75.0, -40.0]))
    m = ss["Ih", "m"][0]
    assert m[0] > m[1] > m[2]
    tab = gate_tables(DT)
    assert tab.shape[1:] == (15, 2) and np.all((tab >= 0) & (tab <= 1))
    # the table holds exp(-dt / tau): at -75 mV (grid row (-75 + 150) / 0.1 = 750), Ih's tau
    row = int(round((-75.0 + 150.0) / 0.1))
    assert tab[row, 13, 1] == pytest.approx(np.exp(-DT / ss["Ih", "m"][1][1]), rel=1e-12)


def test_calcium_table_sk_and_nernst():
    tab = calcium_table(ca_out_mM=2.0, celsius=34.0)
    k = int(round(0.00043 / 2e-6))
    assert tab[k, 0] == pytest.approx(0.5)  # SK half-activated at 0.43 µM
    k = int(round(1e-4 / 2e-6))
    # E_Ca = RT/2F ln(2 / 1e-4) = 13.234 mV * 9.9035 = 131.06 mV at 34 °C
    assert tab[k, 1] == pytest.approx(8.314462618 * 307.15 / (2 * 96485.33212) * 1e3 * np.log(2e4), rel=1e-12)
    assert tab[k, 1] == pytest.approx(131.06, abs=0.01)
    assert mg_block(np.array([0.0]))[0] == pytest.approx(1 / (1 + 1 / 3.57))


@pytest.fixture(scope="module")
def cell():
    morph = make_l5pt_morphology(seed=0)
    bio = Biophysics()
    comp = compartmentalize(morph, bio)
    sites = recording_sites(morph, (0.2, 0.4, 0.6, 0.8, 1.0), comp.n_per_section)
    return morph, bio, comp, sites


def test_trunk_bifurcation_and_hot_zone(cell):
    morph, bio, comp, _ = cell
    trunk = apical_trunk(morph)
    assert trunk == [19, 20, 21, 22, 23]  # the generator's five trunk sections, obliques skipped
    sec, bif = main_bifurcation(morph)
    assert sec == 23 and bif == pytest.approx(919.44, abs=0.01)
    lva = comp.density[:, CHANNELS.index("Ca_LVAst")]
    apical = morph.label[comp.section] == "ApicalDendrite"
    hot = apical & (np.abs(comp.soma_distance - bif) <= 100)
    assert hot.sum() >= 6
    np.testing.assert_allclose(lva[hot], bio.apical_S_cm2["Ca_LVAst"])
    np.testing.assert_allclose(lva[apical & ~hot], bio.apical_S_cm2["Ca_LVAst"] * 0.01)
    ih = comp.density[:, CHANNELS.index("Ih")]
    assert np.all(np.diff(ih[apical][np.argsort(comp.soma_distance[apical])]) >= 0)  # rises with distance
    # Hay et al.: 0.0002 (-0.8696 + 2.087 exp(3.6161 x)) S/cm², x = distance / furthest apical distance
    far = comp.soma_distance[apical].max() / morph.section_distances()[1][morph.label == "ApicalDendrite"].max()
    assert ih[apical].max() == pytest.approx(0.0002 * (-0.8696 + 2.087 * np.exp(3.6161 * far)), rel=1e-9)
    assert ih[apical].max() / ih[0] > 40  # soma 0.0002 S/cm², tuft tips over 40x that
    assert np.all(comp.density[morph.label[comp.section] == "Dendrite"][:, CHANNELS.index("Ih")] == 0.0002)


def _protocol(cell, soma_nA=0.0, epsc_nA=0.0, bio=None):
    """Larkum et al. (1999)'s BAC protocol as Hay et al. (2011) ran it: a 5 ms somatic step at
    20 ms and an EPSC-shaped current (rise 0.5 ms, decay 5 ms) at the distal site at 25 ms."""
    morph, default_bio, _, sites = cell
    n = int(round(T_STOP / DT))
    t = np.arange(n) * DT
    step = np.where((t >= 20) & (t < 25), soma_nA, 0.0)
    x = np.clip(t - 25, 0, None)
    shape = np.where(t >= 25, (1 - np.exp(-x / 0.5)) * np.exp(-x / 5), 0.0)
    epsc = epsc_nA * shape / shape.max()
    distal = sites[-1]
    soma, rec = simulate_cell_voltage(morph, None, np.zeros(0, int), np.zeros(0, int), np.zeros(0), n_trials=1,
                                      t_stop_ms=T_STOP, bio=bio or default_bio, record=[(s.section, s.x) for s in sites],
                                      injections=[Injection(0, 0.5, step), Injection(distal.section, distal.x, epsc)])
    return soma[0], rec[0]


def test_rest_potential(cell):
    soma, rec = _protocol(cell)
    assert soma[0] == pytest.approx(-76.0, abs=0.5)  # Hay et al.'s cell rests near -75 mV
    assert np.ptp(soma) < 1e-3  # at rest after the warm-up
    assert np.all(np.diff(rec[:, 0]) > 0)  # Ih depolarises the distal dendrite


def test_backpropagating_ap_decays_along_the_trunk(cell):
    soma, rec = _protocol(cell, soma_nA=1.9)
    assert detect_spikes(soma[None], DT)[0].size == 1
    amp = rec.max(axis=1) - rec[:, int(19 / DT)]
    # 62, 51, 43, 35, 27 mV at 180, 362, 548, 727, 908 µm from the soma
    assert np.all(np.diff(amp) < -5)
    assert amp[0] > 55 and 15 < amp[-1] < 35
    assert rec[-1].max() < -30  # the bAP alone is no dendritic spike at the distal site
    # without the dendritic Na+ channels it decays much faster
    _, passive = _protocol(cell, soma_nA=1.9, bio=Biophysics(apical_S_cm2={**Biophysics().apical_S_cm2, "NaTa_t": 0.0}))
    amp_passive = passive.max(axis=1) - passive[:, int(19 / DT)]
    assert amp_passive[-1] < 0.6 * amp[-1]


def test_bac_firing(cell):
    """A distal EPSC alone and a somatic AP alone give no Ca2+ spike; paired 5 ms apart they do, with a burst."""
    soma_ap, dend_ap = _protocol(cell, soma_nA=1.9)
    soma_ep, dend_ep = _protocol(cell, epsc_nA=0.8)
    soma_bac, dend_bac = _protocol(cell, soma_nA=1.9, epsc_nA=0.8)
    above = [float((d[-1] > -30).sum() * DT) for d in (dend_ap, dend_ep, dend_bac)]
    assert above[0] == above[1] == 0.0
    assert above[2] > 20  # a Ca2+ plateau of tens of ms (32 ms here)
    assert dend_bac[-1].max() > 0  # peak +24 mV at the distal site
    spikes = [detect_spikes(s[None], DT)[0] for s in (soma_ap, soma_ep, soma_bac)]
    assert [len(s) for s in spikes[:2]] == [1, 0]
    assert len(spikes[2]) >= 3 and np.all(np.diff(spikes[2]) < 15)  # 24.15, 35.0, 46.45 ms
    # the Ca2+ hot zone makes it: without hot-zone Ca2+ channels the pairing gives neither
    no_ca = {**Biophysics().apical_S_cm2, "Ca_HVA": 0.0, "Ca_LVAst": 0.0}
    soma_x, dend_x = _protocol(cell, soma_nA=1.9, epsc_nA=0.8, bio=Biophysics(apical_S_cm2=no_ca))
    assert (dend_x[-1] > -30).sum() * DT < 5 and len(detect_spikes(soma_x[None], DT)[0]) == 1


def test_simulation_is_bit_identical(cell):
    a = _protocol(cell, soma_nA=1.9, epsc_nA=0.8)
    b = _protocol(cell, soma_nA=1.9, epsc_nA=0.8)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_injection_shape_is_checked(cell):
    morph, bio, _, _ = cell
    with pytest.raises(ValueError, match=r"Injection 0: 'current_nA' must have shape \(400,\)"):
        simulate_cell_voltage(morph, None, np.zeros(0, int), np.zeros(0, int), np.zeros(0), n_trials=1, t_stop_ms=10,
                              bio=bio, injections=[Injection(0, 0.5, np.zeros(3))])
    with pytest.raises(ValueError, match="unknown channels"):
        Biophysics(soma_S_cm2={"NaV": 1.0})
