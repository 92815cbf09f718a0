"""neurodata: versioned, validated, catalogued simulation datasets for computational neuroscience."""

from __future__ import annotations

import importlib
from typing import Any

from ._exceptions import (
    ArtifactCorrupt,
    ArtifactNotBuilt,
    NeurodataError,
    ParamError,
    SchemaViolation,
    StaleArtifact,
    UnknownArtifact,
    UnknownName,
)
from ._options import get_options, set_options

# Families, heavy machinery and the version load on first access (PEP 562), so `import neurodata` stays cheap.
_submodules = ("adex", "braingrid", "ei_network", "gfr", "isf", "catalog", "nwb", "store", "schemas", "runner")
_lazy_functions = {
    "open_catalog": "neurodata.catalog",
    "open_artifact": "neurodata.store",
    "load_artifact": "neurodata.store",
    "write_artifact": "neurodata.store",
    "validate": "neurodata.schemas",
    "load_gfr_model": "neurodata.gfr",
    "run_stage": "neurodata._pipeline",
    "stage_params": "neurodata._pipeline",
    "verify_artifact": "neurodata.store",
    "export_nwb": "neurodata.nwb",
}


def __getattr__(name: str) -> Any:
    if name == "__version__":  # importlib.metadata costs 60 ms, paid by every `neurodata` command
        from ._version import __version__

        return __version__
    if name in _submodules:
        return importlib.import_module(f"neurodata.{name}")
    if name in _lazy_functions:
        return getattr(importlib.import_module(_lazy_functions[name]), name)
    msg = f"module 'neurodata' has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted([*__all__, *_submodules])


__all__ = [
    "ArtifactCorrupt",
    "ArtifactNotBuilt",
    "NeurodataError",
    "ParamError",
    "SchemaViolation",
    "StaleArtifact",
    "UnknownArtifact",
    "UnknownName",
    "__version__",
    "export_nwb",
    "get_options",
    "load_artifact",
    "load_gfr_model",
    "open_artifact",
    "open_catalog",
    "run_stage",
    "set_options",
    "stage_params",
    "validate",
    "verify_artifact",
    "write_artifact",
]
