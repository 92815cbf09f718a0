"""Reports of the BrainGrid family (``neurodata report braingrid_baselines``)."""

from __future__ import annotations

from .stages import baseline_report

__all__ = ["REPORTS", "baseline_report"]

REPORTS = {"braingrid_baselines": (baseline_report, "burst-prediction baselines per window size")}
