"""Where the CLI finds things: each family's STAGES (stages.py), PLOTS (plots.py) and REPORTS (reports.py)."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from typing import Any

from ._exceptions import UnknownName

FAMILIES = ("adex", "braingrid", "ei_network", "gfr", "isf")

# Name prefixes of each family's stages: `neurodata run X` imports the likely family first
# (importing every family pulls in numba, torch and NEST: seconds per stage).
_STAGE_PREFIXES = {"adex": ("adex",), "braingrid": ("braingrid", "burst"), "ei_network": ("ei_",), "gfr": ("gfr",), "isf": ("isf", "ann")}



def _collect(module_name: str, attribute: str, families: tuple[str, ...] = FAMILIES) -> dict[str, Callable[..., Any]]:
    found: dict[str, Callable[..., Any]] = {}
    for family in families:
        name = f"neurodata.{family}.{module_name}"
        if importlib.util.find_spec(name) is None:
            continue
        found.update(getattr(importlib.import_module(name), attribute, {}))
    return found


def stages() -> dict[str, Callable[..., Any]]:
    """Every stage name (as pipelines/*/dvc.yaml call it) -> stage function."""
    return _collect("stages", "STAGES")


def find_stage(name: str) -> Callable[..., Any]:
    """The stage function called *name*, importing as few families as possible."""
    likely = tuple(f for f in FAMILIES if name.startswith(_STAGE_PREFIXES[f]))
    for families in (likely, FAMILIES):
        found = _collect("stages", "STAGES", families)
        if name in found:
            return found[name]
    msg = f"Unknown stage {name!r}. Stages: {sorted(found)}."
    raise UnknownName(msg)


def stage_module(name: str) -> str:
    """The module that defines stage *name*."""
    found = find_stage(name)
    return getattr(found, "module", None) or found.__module__


def plots() -> dict[str, Callable[..., Any]]:
    """Every artifact with figures -> plot function ``(obj, out_dir) -> list[Path]``."""
    return _collect("plots", "PLOTS")


def reports() -> dict[str, tuple[Callable[..., Any], str]]:
    """Every report (``neurodata report NAME``) -> (function ``(data_dir) -> Report``, description)."""
    return _collect("reports", "REPORTS")


def report(name: str) -> Callable[..., Any]:
    """The report function called *name*."""
    found = reports()
    if name not in found:
        msg = f"Unknown report {name!r}. Reports: {sorted(found)}."
        raise UnknownName(msg)
    return found[name][0]
