"""Reports of the isf family (``neurodata report isf_activity``): the built simrun against in-vivo ranges."""

from __future__ import annotations

from pathlib import Path

from .._report import Report
from ..store import open_artifact
from ._activity import activity_lines, simrun_activity_metrics

__all__ = ["REPORTS", "activity_report"]


def activity_report(data_dir: str | Path | None = None) -> Report:
    """The built ``isf_simrun``'s firing figures beside the in-vivo ranges they must fall in.

    Parameters
    ----------
    data_dir : path, optional
        Artifact folder (default: option ``data_dir``).

    Returns
    -------
    Report
        The text (a ``str``); ``report.failed`` counts the figures outside their range.

    Raises
    ------
    neurodata.ArtifactNotBuilt
        If the simrun is not built.
    """
    with open_artifact("isf_simrun", data_dir=data_dir) as sim:
        metrics = simrun_activity_metrics(sim)
        head = (f"isf_simrun: {sim.sizes['trial']} trials of {sim.attrs['t_stop_ms']:g} ms, stimulus at "
                f"{sim.attrs['stimulus_time_ms']:g} ms; distal site at {metrics['dendrite_site_soma_distance_um']:.1f} µm")
    lines, failed = activity_lines(metrics)
    return Report("\n".join([head, "", *lines]), failed=failed)


REPORTS = {"isf_activity": (activity_report, "the isf simrun's firing figures beside the in-vivo ranges they must fall in")}
