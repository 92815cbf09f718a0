"""The catalog reader of the GFR torch module (catalog entry ``gfr_model``)."""

from __future__ import annotations

from typing import Any

from intake.readers.readers import BaseReader

__all__ = ["GFRModelReader"]


class GFRModelReader(BaseReader):
    """Reads ``gfr_params`` and returns the fitted ``GFR`` torch module of one cell and key.

    Parameters (catalog kwargs)
    ---------------------------
    cell : int or str
        Specimen id (catalog parameter ``cell_id``); 0 picks the first included cell of the key.
    key_bin_size, key_activation_bin_size : int or str
        The key in ms (catalog parameters ``bin_size`` and ``activation_bin_size``; a kwarg
        named like a catalog parameter would replace that parameter's default in intake 2).
    revision, registry, catalog_dir : str
        As for :class:`neurodata.catalog.ArtifactReader`.
    """

    output_instance = "torch.nn:Module"
    imports = {"torch", "xarray", "zarr"}

    def _read(self, cell: Any = 0, key_bin_size: Any = 20, key_activation_bin_size: Any = 20, revision: str = "",
              registry: str = "", catalog_dir: str | None = None, artifact: str = "gfr_params", **kwargs: Any) -> Any:
        from ..catalog import open_entry_artifact
        from ._dataset import first_included_cell, load_gfr_model

        tree = open_entry_artifact(artifact, revision=revision, registry=registry, catalog_dir=catalog_dir)
        try:
            key = (int(key_bin_size), int(key_activation_bin_size))
            cell = int(cell) or first_included_cell(tree, *key)
            return load_gfr_model(tree, cell, *key).eval()
        finally:
            tree.close()
