"""Figures of a simrun's activity: spontaneous and whisker-evoked firing, dendritic events.

`activity_metrics` returns them as a flat dict of numbers, so that the ``isf_simrun`` stage
can publish them as DVC metrics; `IN_VIVO_RANGES` are the ranges reported in vivo that the
model's figures must fall in (with their sources), checked by `activity_lines` (the
``isf_activity`` report) and the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._exceptions import ParamError

__all__ = [
    "BURST_ISI_MS",
    "EVOKED_WINDOW_MS",
    "IN_VIVO_RANGES",
    "ActivityRange",
    "activity_lines",
    "activity_metrics",
    "simrun_activity_metrics",
]

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


@dataclass(frozen=True)
class ActivityRange:
    """The range a figure of `activity_metrics` must fall in, and where the range comes from.

    Attributes
    ----------
    metric : str
        A key of `activity_metrics`.
    low, high : float
        Inclusive bounds, in the metric's unit.
    source : str
        The in-vivo finding the range stands for.
    """

    metric: str
    low: float
    high: float
    source: str

    def holds(self, value: float) -> bool:
        return bool(np.isfinite(value) and self.low <= value <= self.high)


IN_VIVO_RANGES: tuple[ActivityRange, ...] = (
    ActivityRange("spontaneous_rate_hz", 1.0, 10.0,
                  "L5 thick-tufted cells fire spontaneously at a few Hz in vivo, the most of the column's "
                  "excitatory types (de Kock et al. 2007, J Physiol 581:139)"),
    ActivityRange("evoked_latency_ms", 5.0, 50.0,
                  "L5B cells respond to a whisker deflection as early as L4, about 10 ms after it (de Kock et al. 2007)"),
    ActivityRange("evoked_net_spikes_per_trial", 0.3, 3.0,
                  "de Kock et al.'s anaesthetised L5B cells average below 1 AP per stimulus; the model's BAC bursts "
                  "in the trials with a dendritic event add spikes"),
    ActivityRange("evoked_response_fraction", 0.5, 1.0, "L5B cells respond to most deflections (de Kock et al. 2007)"),
    ActivityRange("dendritic_event_trial_fraction", 0.2, 0.8,
                  "tuft Ca2+ events come with a fraction of sensory events, not with all (Xu et al. 2012, Nature "
                  "492:247; Takahashi et al. 2016, Science 354:1587); the ap_dend target needs both classes"),
)
"""The in-vivo ranges of a simrun's figures (the default profile's cell must fall in every one)."""


def activity_lines(metrics: dict[str, float], ranges: tuple[ActivityRange, ...] = IN_VIVO_RANGES) -> tuple[list[str], int]:
    """A table of the figures beside their in-vivo ranges, and how many fall outside.

    Parameters
    ----------
    metrics : dict of str to float
        From `activity_metrics` or `simrun_activity_metrics`.
    ranges : tuple of ActivityRange, default `IN_VIVO_RANGES`

    Returns
    -------
    lines : list of str
        One row per range: metric, value, range, ``ok`` or ``OUTSIDE``, source.
    failed : int
        Rows outside their range.
    """
    lines = [f"{'figure':32s} {'value':>9s}  {'range':>13s}  {'':7s} source"]
    failed = 0
    for r in ranges:
        value = float(metrics[r.metric])
        ok = r.holds(value)
        failed += not ok
        lines.append(f"{r.metric:32s} {value:9.3f}  {f'[{r.low:g}, {r.high:g}]':>13s}  {'ok' if ok else 'OUTSIDE':7s} {r.source}")
    return lines, failed
