"""Activity figures of a simrun: a hand-checked case, and the default cell against in-vivo ranges."""

from __future__ import annotations

import numpy as np
import pytest

from neurodata.isf import IN_VIVO_RANGES, ActivityRange, activity_lines, activity_metrics, make_simrun, simrun_activity_metrics

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


@pytest.mark.parametrize("expected", IN_VIVO_RANGES, ids=[r.metric for r in IN_VIVO_RANGES])
def test_default_cell_in_the_in_vivo_range(default_metrics, expected):
    """Each figure of the default cell within its in-vivo range (`IN_VIVO_RANGES` states the source):
    ongoing firing at 1-10 Hz, the evoked response 5-50 ms after the stimulus with 0.3-3 spikes
    above the spontaneous rate in at least half the trials, dendritic events in 20-80 % of trials."""
    value = default_metrics[expected.metric]
    assert expected.low <= value <= expected.high, f"{expected.metric} = {value} ({expected.source})"


def test_dendritic_events_mostly_evoked(default_metrics):
    """The tuft's L2 input follows the stimulus: at least 3/4 of the trials with a dendritic event
    have one in the evoked window; the distal site is the main bifurcation's."""
    m = default_metrics
    assert m["evoked_dendritic_event_fraction"] >= 0.75 * m["dendritic_event_trial_fraction"]
    assert m["dendrite_site_soma_distance_um"] == pytest.approx(908.1, abs=0.1)


def test_activity_lines_count_the_figures_outside():
    ranges = (ActivityRange("spontaneous_rate_hz", 1.0, 10.0, "src a"), ActivityRange("evoked_latency_ms", 5.0, 50.0, "src b"))
    lines, failed = activity_lines({"spontaneous_rate_hz": 12.0, "evoked_latency_ms": NAN}, ranges)
    assert failed == 2 and "OUTSIDE" in lines[1] and "src a" in lines[1] and "[1, 10]" in lines[1]
    lines, failed = activity_lines({"spontaneous_rate_hz": 4.5, "evoked_latency_ms": 12.0}, ranges)
    assert failed == 0 and lines[2].split()[:2] == ["evoked_latency_ms", "12.000"]


def test_activity_report_on_the_built_simrun(built):
    """``neurodata report isf_activity``: one row per range; the tiny profile's 12 trials fall in them."""
    from neurodata.isf.reports import REPORTS

    fn, _ = REPORTS["isf_activity"]
    report = fn(built)
    assert report.startswith("isf_simrun: 12 trials of 100 ms, stimulus at 50 ms; distal site at 908.1 µm")
    assert [line.split()[0] for line in report.splitlines()[3:]] == [r.metric for r in IN_VIVO_RANGES]
    assert report.failed == report.count("OUTSIDE") == 0
