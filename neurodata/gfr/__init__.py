"""GFR dataset: synthetic Allen-like cells, batched fitting of generalized firing-rate neurons, the loader."""

from ._calibration import calibration_metrics
from ._dataset import df_from_json, first_included_cell, load_gfr_model, to_json
from ._fit import FitConfig, explained_variance_ratio
from ._pipeline import KEYS
from ._population import make_population
from ._preprocess import bin_sweep, max_firing_rate
from ._simulate import record_cells
from ._stimuli import noise_layout, pink_noise


def __getattr__(name: str):
    # torch modules load on first use, so `import neurodata.gfr` stays cheap
    if name in ("GFR", "PolynomialActivation"):
        from . import _model

        return getattr(_model, name)
    msg = f"module 'neurodata.gfr' has no attribute {name!r}"
    raise AttributeError(msg)


__all__ = [
    "FitConfig",
    "GFR",
    "KEYS",
    "PolynomialActivation",
    "bin_sweep",
    "calibration_metrics",
    "df_from_json",
    "explained_variance_ratio",
    "first_included_cell",
    "load_gfr_model",
    "make_population",
    "max_firing_rate",
    "noise_layout",
    "pink_noise",
    "record_cells",
    "to_json",
]
