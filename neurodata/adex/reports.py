"""Reports of the AdEx family (``neurodata report adex_fidelity``): built artifacts beside the seed."""

from __future__ import annotations

from pathlib import Path

from .._exceptions import ArtifactNotBuilt
from .._report import Report
from ..store import load_artifact
from ._fidelity import fidelity_lines

__all__ = ["REPORTS", "fidelity_report"]


def _load_if_built(name: str, data_dir: str | Path | None) -> object:
    try:
        return load_artifact(name, data_dir=data_dir)
    except ArtifactNotBuilt:
        return None


def fidelity_report(data_dir: str | Path | None = None) -> Report:
    """The built AdEx artifacts beside the seed's results and the model's expectation.

    Parameters
    ----------
    data_dir : path, optional
        Artifact folder (default: option ``data_dir``).

    Returns
    -------
    Report
        The text (a ``str``); ``report.failed`` counts the rows outside their band.
    """
    names = ("adex_we_sweep", "adex_rate_match", "adex_expectation")
    lines, failed = fidelity_lines(*(_load_if_built(name, data_dir) for name in names))
    return Report("\n".join(lines).rstrip(), failed=failed)


REPORTS = {"adex_fidelity": (fidelity_report, "AdEx sweeps beside the seed's results and the model's expectation")}
