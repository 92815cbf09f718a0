"""Activity figures of a simrun: a hand-checked case, and the default cell against in-vivo ranges."""

from __future__ import annotations

import numpy as np
import pytest

from neurodata.isf import activity_metrics, make_simrun, simrun_activity_metrics

NAN = np.nan
EXC = ["L2", "L34", "L4py", "L4sp", "L4ss", "L5st", "L5tt", "L6cc", "L6ccinv", "L6ct", "VPM"]
INH = ["L1", "L23Trans", "L45Sym", "L56Trans", "SymLocal1", "SymLocal2"]


def test_metrics_hand_case():
    soma = np.array([[10, 155, 160, 170, NAN], [NAN] * 5, [140, 151, 250, NAN, NAN]], dtype=float)
    dend = np.array([[162, NAN], [NAN, NAN], [20, 260]], dtype=float)
    m = activity_metrics(soma, dend, stimulus_time_ms=150, t_stop_ms=300)
    assert m["n_trials"] == 3
    assert m["spontaneous_rate_hz"] == pytest.approx(2 / 0.45)  # 10 and 140 ms in 3 x 150 ms
    assert m["evoked_spikes_per_trial"] == pytest.approx(4 / 3)  # 155, 160, 170 | - | 151 (250 is past 200)
    assert m["evoked_net_spikes_per_trial"] == pytest.approx(4 / 3 - 2 / 0.45 * 0.05)
    assert m["evoked_response_fraction"] == pytest.approx(2 / 3)
    assert m["evoked_latency_ms"] == 3.0  # median of 5 and 1 ms
    assert m["burst_spike_fraction"] == pytest.approx(1 / 7)  # one ISI below 10 ms (155 -> 160) of 7 spikes
    assert m["dendritic_event_trial_fraction"] == pytest.approx(2 / 3)
    assert m["evoked_dendritic_event_fraction"] == pytest.approx(1 / 3)  # only 162 ms is in [150, 200)
    assert m["dendritic_events_per_trial"] == 1.0
    assert all(isinstance(v, float) for v in m.values())  # a flat dict of numbers (DVC metrics)
    empty = activity_metrics(np.full((2, 1), NAN), np.full((2, 1), NAN), stimulus_time_ms=50, t_stop_ms=100)
    assert empty["spontaneous_rate_hz"] == 0.0 and np.isnan(empty["evoked_latency_ms"])


def test_metrics_reject_bad_input():
    with pytest.raises(ValueError, match="3 trials of somatic spikes but 2 of dendritic spikes"):
        activity_metrics(np.zeros((3, 1)), np.zeros((2, 1)), stimulus_time_ms=150, t_stop_ms=300)
    with pytest.raises(ValueError, match="need 0 < stimulus_time_ms < t_stop_ms"):
        activity_metrics(np.zeros((3, 1)), np.zeros((3, 1)), stimulus_time_ms=300, t_stop_ms=300)


@pytest.fixture(scope="module")
def default_metrics():
    """The default simrun (params.yaml's isf_simrun: seed 0, 300 ms trials, stimulus at 150 ms), 30 trials."""
    ds, _ = make_simrun(seed=0, n_trials=30, t_stop_ms=300.0, stimulus_time_ms=150.0, excitatory_celltypes=EXC,
                        inhibitory_celltypes=INH)
    return simrun_activity_metrics(ds)


def test_ongoing_firing_in_the_few_hz_range(default_metrics):
    """L5 thick-tufted cells fire spontaneously at a few Hz in vivo, the most of the excitatory
    types of the barrel column (de Kock et al. 2007, J Physiol 581:139); pinned at 1-10 Hz."""
    assert 1.0 <= default_metrics["spontaneous_rate_hz"] <= 10.0


def test_whisker_evoked_response_within_tens_of_ms(default_metrics):
    """L5B cells respond to a whisker deflection as early as L4 (de Kock et al. 2007), about 10 ms
    after it; the model's response starts 10-20 ms after the stimulus, pinned at 5-50 ms. It
    has 1-2 spikes above the spontaneous rate (de Kock et al.'s anaesthetised cells average
    below 1 AP per stimulus; here the BAC bursts of the trials with a dendritic event add
    spikes), pinned at 0.3-3."""
    m = default_metrics
    assert 5.0 <= m["evoked_latency_ms"] <= 50.0
    assert 0.3 <= m["evoked_net_spikes_per_trial"] <= 3.0
    assert m["evoked_response_fraction"] >= 0.5


def test_dendritic_events_in_a_fraction_of_trials(default_metrics):
    """Tuft Ca2+ events come with a fraction of sensory events in vivo, not with all (Xu et al.
    2012, Nature 492:247; Takahashi et al. 2016, Science 354:1587). The ANN target needs both
    classes: pinned at 20-80 % of trials, mostly evoked (the tuft's L2 input follows the stimulus)."""
    m = default_metrics
    assert 0.2 <= m["dendritic_event_trial_fraction"] <= 0.8
    assert m["evoked_dendritic_event_fraction"] >= 0.75 * m["dendritic_event_trial_fraction"]
    assert m["dendrite_site_soma_distance_um"] == pytest.approx(908.1, abs=0.1)  # at the main bifurcation
