"""Where the CLI finds things: each family's STAGES (stages.py) and PLOTS (plots.py), and reports."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from typing import Any

FAMILIES = ("adex", "braingrid", "ei_network", "gfr", "isf")

REPORTS = {
    "adex_fidelity": ("neurodata.adex", "fidelity_report", "AdEx sweeps beside the seed notebook's tables"),
    "braingrid_baselines": ("neurodata.braingrid", "baseline_report", "burst-prediction baselines per window size"),
}


def _collect(module_name: str, attribute: str) -> dict[str, Callable[..., Any]]:
    found: dict[str, Callable[..., Any]] = {}
    for family in FAMILIES:
        name = f"neurodata.{family}.{module_name}"
        if importlib.util.find_spec(name) is None:
            continue
        found.update(getattr(importlib.import_module(name), attribute, {}))
    return found


def stages() -> dict[str, Callable[..., Any]]:
    """Every stage name (as dvc.yaml calls it) -> stage function."""
    return _collect("stages", "STAGES")


def plots() -> dict[str, Callable[..., Any]]:
    """Every artifact with figures -> plot function ``(obj, out_dir) -> list[Path]``."""
    return _collect("plots", "PLOTS")


def report(name: str) -> Callable[..., str]:
    if name not in REPORTS:
        msg = f"Unknown report {name!r}. Reports: {sorted(REPORTS)}."
        raise KeyError(msg)
    module, function, _ = REPORTS[name]
    return getattr(importlib.import_module(module), function)
