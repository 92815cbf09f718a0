"""GFR dataset: synthetic Allen-like cells, batched fitting of generalized firing-rate neurons, the loader."""

from ._calibration import RELEASE_RETENTION, calibration_metrics
from ._dataset import RELEASE_KEYS, count_table, df_from_json, first_included_cell, keys_of, load_gfr_model, to_json
from ._fit import FitConfig, explained_variance_ratio
from ._pipeline import EXCLUSION_REASONS, exclusion_counts
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
    "EXCLUSION_REASONS",
    "FitConfig",
    "GFR",
    "PolynomialActivation",
    "RELEASE_KEYS",
    "RELEASE_RETENTION",
    "bin_sweep",
    "calibration_metrics",
    "count_table",
    "df_from_json",
    "exclusion_counts",
    "explained_variance_ratio",
    "first_included_cell",
    "keys_of",
    "load_gfr_model",
    "make_population",
    "max_firing_rate",
    "noise_layout",
    "pink_noise",
    "record_cells",
    "to_json",
]
