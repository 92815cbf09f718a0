"""Reports of the BrainGrid family (``neurodata report braingrid_baselines``)."""

from __future__ import annotations

from pathlib import Path

from .._exceptions import ArtifactNotBuilt
from .._report import Report
from ..store import artifact_path, is_built, load_artifact
from ._baselines import format_baselines, window_baselines

__all__ = ["REPORTS", "baseline_report"]


def baseline_report(data_dir: str | Path | None = None) -> Report:
    """Test accuracy of the baselines per window size and kind, as a text table.

    Reads the ``braingrid_baselines`` artifact; if only ``burst_windows`` is built, fits the
    baselines on the fly (seed 0). The baselines have no band to pass, so no row fails.

    Parameters
    ----------
    data_dir : path, optional
        Artifact folder (default: option ``data_dir``).

    Raises
    ------
    ArtifactNotBuilt
        Neither artifact is built.
    """
    from .._options import data_dir as default_data_dir

    folder = Path(data_dir) if data_dir is not None else default_data_dir()
    if is_built("braingrid_baselines", folder):
        ds = load_artifact("braingrid_baselines", data_dir=folder)
        note = ""
    elif is_built("burst_windows", folder):
        ds = window_baselines(load_artifact("burst_windows", data_dir=folder))
        note = "\n(fitted now from burst_windows; run `neurodata run braingrid_baselines` to store them)"
    else:
        msg = (
            f"Neither braingrid_baselines nor burst_windows is built in {folder} "
            f"({artifact_path('braingrid_baselines', folder)}); run `neurodata run braingrid_baselines`."
        )
        raise ArtifactNotBuilt(msg)
    return Report(format_baselines(ds) + note)


REPORTS = {"braingrid_baselines": (baseline_report, "burst-prediction baselines per window size")}
