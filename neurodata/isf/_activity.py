"""Figures of a simrun's activity: spontaneous and whisker-evoked firing, dendritic events.

`activity_metrics` returns them as a flat dict of numbers, so that the ``isf_simrun`` stage
can publish them as DVC metrics and tests can pin them to the ranges reported in vivo.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._exceptions import ParamError

__all__ = ["BURST_ISI_MS", "EVOKED_WINDOW_MS", "activity_metrics", "simrun_activity_metrics"]

#: Window after the whisker stimulus in which somatic spikes count as evoked (ms).
EVOKED_WINDOW_MS = 50.0
#: Consecutive somatic spikes closer than this are a burst (ms).
BURST_ISI_MS = 10.0


def _rows(times: Any) -> list[np.ndarray]:
    mat = np.asarray(times, dtype=np.float64)
    if mat.ndim == 1:
        mat = mat[:, None]
    return [np.sort(r[np.isfinite(r)]) for r in mat]


def activity_metrics(
    spike_times: Any,
    dendrite_spike_times: Any,
    *,
    stimulus_time_ms: float,
    t_stop_ms: float,
    evoked_window_ms: float = EVOKED_WINDOW_MS,
) -> dict[str, float]:
    """Spontaneous and evoked somatic firing and dendritic events of a set of trials.

    Parameters
    ----------
    spike_times : array of shape (n_trials, n_spikes)
        Somatic spike times (ms), NaN-padded.
    dendrite_spike_times : array of shape (n_trials, n_dendritic_spikes)
        Spike times (ms, −30 mV crossings) at the distal dendritic recording site, NaN-padded.
    stimulus_time_ms, t_stop_ms : float
        Whisker stimulus and trial end (ms); the spontaneous rate is taken before the stimulus.
    evoked_window_ms : float
        Length of the evoked window after the stimulus (ms).

    Returns
    -------
    dict of str to float
        ``n_trials``; ``spontaneous_rate_hz`` (somatic spikes before the stimulus, per trial
        and second); ``evoked_spikes_per_trial`` (somatic spikes in the evoked window) and
        ``evoked_net_spikes_per_trial`` (minus the spontaneous expectation);
        ``evoked_response_fraction`` (trials with a spike in the window);
        ``evoked_latency_ms`` (median over those trials of the first spike's delay; NaN if
        none); ``burst_spike_fraction`` (somatic spikes within `BURST_ISI_MS` of the one
        before); ``dendritic_event_trial_fraction`` (trials with a dendritic spike at all),
        ``evoked_dendritic_event_fraction`` (with one in the evoked window) and
        ``dendritic_events_per_trial``.

    Raises
    ------
    neurodata.ParamError
        If the two arrays disagree on the number of trials, or the stimulus lies outside
        ``(0, t_stop_ms)``.
    """
    soma = _rows(spike_times)
    dend = _rows(dendrite_spike_times)
    if len(soma) != len(dend):
        msg = f"activity_metrics: {len(soma)} trials of somatic spikes but {len(dend)} of dendritic spikes."
        raise ParamError(msg)
    if not 0 < stimulus_time_ms < t_stop_ms or evoked_window_ms <= 0:
        msg = (f"activity_metrics: need 0 < stimulus_time_ms < t_stop_ms and evoked_window_ms > 0. "
               f"Got {stimulus_time_ms!r}, {t_stop_ms!r}, {evoked_window_ms!r} instead.")
        raise ParamError(msg)
    n = len(soma)
    lo, hi = stimulus_time_ms, min(stimulus_time_ms + evoked_window_ms, t_stop_ms)
    spont = sum(int((s < lo).sum()) for s in soma)
    rate = spont / (n * lo / 1000.0) if n else float("nan")
    evoked = np.array([((s >= lo) & (s < hi)).sum() for s in soma], dtype=np.float64)
    first = [s[(s >= lo) & (s < hi)][0] - lo for s in soma if ((s >= lo) & (s < hi)).any()]
    n_spikes = sum(len(s) for s in soma)
    bursts = sum(int((np.diff(s) < BURST_ISI_MS).sum()) for s in soma)
    return {
        "n_trials": float(n),
        "spontaneous_rate_hz": float(rate),
        "evoked_spikes_per_trial": float(evoked.mean()) if n else float("nan"),
        "evoked_net_spikes_per_trial": float(evoked.mean() - rate * (hi - lo) / 1000.0) if n else float("nan"),
        "evoked_response_fraction": float(np.mean(evoked > 0)) if n else float("nan"),
        "evoked_latency_ms": float(np.median(first)) if first else float("nan"),
        "burst_spike_fraction": float(bursts / n_spikes) if n_spikes else 0.0,
        "dendritic_event_trial_fraction": float(np.mean([len(d) > 0 for d in dend])) if n else float("nan"),
        "evoked_dendritic_event_fraction": float(np.mean([((d >= lo) & (d < hi)).any() for d in dend])) if n else float("nan"),
        "dendritic_events_per_trial": float(np.mean([len(d) for d in dend])) if n else float("nan"),
    }


def simrun_activity_metrics(simrun: Any, evoked_window_ms: float = EVOKED_WINDOW_MS) -> dict[str, float]:
    """`activity_metrics` of an ``isf_simrun`` Dataset, at ISF's distal recording site.

    The distal site is the one ISF's ``init`` takes (`distal_recording_site`); its soma
    distance is returned as ``dendrite_site_soma_distance_um``.

    Parameters
    ----------
    simrun : Dataset
        An ``isf_simrun`` artifact (lazy or loaded).
    evoked_window_ms : float, default 50.0
        Length of the evoked window after the stimulus (ms).
    """
    from ._landmarks import distal_recording_site

    sites = [str(s) for s in simrun["rec_site"].values]
    j = sites.index(distal_recording_site(sites))
    out = activity_metrics(
        np.asarray(simrun["spike_times"].values), np.asarray(simrun["dendrite_spike_times"].isel(rec_site=j).values),
        stimulus_time_ms=float(simrun.attrs["stimulus_time_ms"]), t_stop_ms=float(simrun.attrs["t_stop_ms"]),
        evoked_window_ms=evoked_window_ms,
    )
    out["dendrite_site_soma_distance_um"] = float(simrun["rec_site_soma_distance"].values[j])
    return out
