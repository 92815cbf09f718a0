"""Items 6-7 of the synthesizer's checklist (spec ``braingrid.md`` §4.5): bursts as the original finds them.

Items 1-5 (histograms, columns, time range, rates, thresholds) are file-layout checks in
:func:`~neurodata.braingrid.check_braingrid_h5`. Items 6-7 need the bursts, which are found
here with the avalanche detector of ``braingrid_bursts`` (``getAvalanches.m``, quirks and
all) and the original's rule for its threshold: ``meanISI = len(spikesHistory) * 100 /
spikes``, i.e. the file's steps over the file's spikes (spec §2.2). So the figures are the
ones an analysis of the file gets, with the original scripts or with ``braingrid_bursts``.

:func:`burst_check` works on plain arrays (the generator calls it before writing a file);
:func:`neurodata.braingrid.hdf5.checklist_h5` runs all seven items on a written file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ._bursts import avalanche_bursts, spike_time_counts
from ._windows import scaled_gap

__all__ = ["ITEM7_BOUNDS", "burst_check", "check_failures"]

#: Spec §4.5 item 7 as bounds on the medians of :func:`burst_check`: "burst size per neuron
#: ~3-10 spikes, width ~50-400 ms, and IBI some seconds". The "~" is read as a margin: from
#: 2.5 spikes per neuron (the original's first five bursts have 2.95-3.61, spec §2.2) and
#: from 40 ms; "some seconds" as 1-30 s.
ITEM7_BOUNDS: dict[str, tuple[float, float]] = {
    "median_spikes_per_neuron": (2.5, 10.0),
    "median_width_ms": (40.0, 400.0),
    "median_ibi_s": (1.0, 30.0),
}
#: Lundvall's gap (spikes between a non-burst window and the onset) at N = 10 000 and her
#: largest window (spec §3.2); item 6 asks for ``gap * N / 10 000 + 500`` spikes before StartT.
_MAX_WINDOW = 500


def burst_check(
    time_step: np.ndarray,
    *,
    n_steps: int,
    n_neurons: int,
    starter: np.ndarray,
    rates: np.ndarray,
    first_coupled_epoch: int = 1,
    dt_s: float = 1e-4,
    burst_min_per_neuron: float = 1.0,
    mean_isi_steps: float | None = None,
) -> dict[str, Any]:
    """Bursts of a run as the original analysis finds them, and the figures of items 6-7.

    Parameters
    ----------
    time_step : ndarray of shape (n_spikes,), integer, sorted
        Every spike of the run [steps].
    n_steps : int
        Length of the run in steps (``len(spikesHistory) * 100``); meanISI = n_steps / spikes.
    n_neurons : int
        N; ``burst_min = burst_min_per_neuron * N`` (spec §4.4: 1e4 at N = 10 000).
    starter : ndarray of shape (n_neurons,), bool
        Starter neurons.
    rates : ndarray of shape (n_epochs + 1, n_neurons)
        ``ratesHistory`` [Hz] (row 0 = start).
    first_coupled_epoch : int, default 1
        First epoch simulated with synaptic coupling (``analyticEpochs + 1``); the mean rates
        are taken from there on.
    dt_s : float, default 1e-4
        Seconds per step.
    burst_min_per_neuron : float, default 1.0
    mean_isi_steps : float, optional
        A fixed avalanche threshold instead of the original's rule.

    Returns
    -------
    dict
        ``n_bursts``; ``n_bursts_with_history`` (item 6: StartT preceded by at least
        ``2000 N / 10 000 + 500`` spikes); ``burst_min``; ``mean_isi_steps``; medians of the
        size per neuron, the width [ms] and the quiet inter-burst interval [s] (the first
        burst's, counted from the run's first spike, left out), that interval's mean and SD
        [s]; the mean rates [Hz] of non-starters and starters over the coupled epochs;
        ``first_burst_step`` (-1 without bursts). NaN where there is nothing to average.
    """
    steps = np.asarray(time_step)
    burst_min = burst_min_per_neuron * n_neurons
    t, c = spike_time_counts(steps)
    b, info = avalanche_bursts(t, c, n_steps=n_steps, burst_min=burst_min, mean_isi=mean_isi_steps)
    history = scaled_gap(n_neurons) + _MAX_WINDOW
    before = np.searchsorted(steps, b["start_step"].astype(steps.dtype), side="left")  # spikes before StartT
    ibi_s = b["ibi_gap_steps"][1:] * dt_s
    coupled = np.asarray(rates)[first_coupled_epoch:]
    starter = np.asarray(starter, dtype=bool)

    def stat(fn: Any, x: np.ndarray) -> float:
        return float(fn(x)) if np.size(x) else float("nan")

    return {
        "n_bursts": int(b["start_step"].size),
        "n_bursts_with_history": int(np.count_nonzero(before >= history)),
        "burst_min": float(burst_min),
        "mean_isi_steps": float(info["mean_isi_steps"]),
        "median_spikes_per_neuron": stat(np.median, b["n_spikes"] / n_neurons),
        "median_width_ms": stat(np.median, b["width_steps"] * dt_s * 1e3),
        "median_ibi_s": stat(np.median, ibi_s),
        "mean_ibi_s": stat(np.mean, ibi_s),
        "sd_ibi_s": stat(np.std, ibi_s),
        "non_starter_rate_hz": stat(np.mean, coupled[:, ~starter]),
        "starter_rate_hz": stat(np.mean, coupled[:, starter]),
        "first_burst_step": int(b["start_step"][0]) if b["start_step"].size else -1,
    }


def check_failures(check: Mapping[str, Any], min_bursts: int = 1) -> list[str]:
    """The items 6-7 that a :func:`burst_check` result fails, one message each (empty: all pass).

    Item 7 "fail loudly if there are no bursts": fewer than *min_bursts*; item 6: a burst with
    too little history for the windows; item 7's ranges: :data:`ITEM7_BOUNDS`.
    """
    if check["n_bursts"] < min_bursts:
        return [f"the avalanche detector (burst_min = {check['burst_min']:g} spikes, meanISI = "
                f"{check['mean_isi_steps']:.2f} steps) found {check['n_bursts']} bursts, expected at least "
                f"min_bursts = {min_bursts}"]
    failures = []
    if check["n_bursts_with_history"] < check["n_bursts"]:
        failures.append(f"item 6: {check['n_bursts'] - check['n_bursts_with_history']} of {check['n_bursts']} "
                        f"bursts are preceded by fewer than gap * N / 10 000 + {_MAX_WINDOW} spikes")
    for key, (lo, hi) in ITEM7_BOUNDS.items():
        if not lo <= check[key] <= hi:
            failures.append(f"item 7: {key} is {check[key]:.3g}, expected [{lo:g}, {hi:g}]")
    return failures
