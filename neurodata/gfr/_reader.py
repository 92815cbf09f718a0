"""intake reader of the catalog entry ``gfr_model``: one fitted GFR neuron as a torch module."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from intake.readers.readers import BaseReader

__all__ = ["GFRModelReader"]


class GFRModelReader(BaseReader):
    """Reads the ``gfr_params`` artifact and returns the ``GFR`` module of one cell and key.

    Parameters (catalog kwargs)
    ---------------------------
    cell : int or str
        Specimen id (catalog parameter ``cell_id``); 0, the default, picks the first included
        cell of the key.
    key_bin_size, key_activation_bin_size : int or str
        The key in ms (catalog parameters ``bin_size`` and ``activation_bin_size``; a kwarg
        named like a catalog parameter would replace that parameter's default in intake 2).
    revision : str
        Git revision to read at through DVC (catalog parameter ``rev``); empty reads the
        working tree.
    catalog_dir : str
        ``{CATALOG_DIR}``; the checkout is its parent.
    artifact : str, default: "gfr_params"
    """

    output_instance = "torch.nn:Module"
    imports = {"torch", "xarray", "zarr"}

    def _read(self, cell: Any = 0, key_bin_size: Any = 20, key_activation_bin_size: Any = 20, revision: str = "",
              catalog_dir: str | None = None, artifact: str = "gfr_params", **kwargs: Any) -> Any:
        import numpy as np

        from .. import _options
        from .._paths import project_root
        from ..store import open_artifact
        from ._dataset import load_gfr_model, node_name

        if catalog_dir:
            parsed = urlparse(catalog_dir)
            root = Path(parsed.path if parsed.scheme in ("file", "") else catalog_dir).parent
        else:
            root = Path(project_root(required=True))  # type: ignore[arg-type]
        if revision:
            tree = open_artifact(artifact, rev=revision, repo=root)
        else:
            tree = open_artifact(artifact, data_dir=_options.get_options()["data_dir"] or root / "data")
        cell, key = int(cell), (int(key_bin_size), int(key_activation_bin_size))
        if cell == 0 and node_name(*key) in tree.children:
            node = tree[node_name(*key)].to_dataset(inherit=False)
            included = np.flatnonzero(np.asarray(node["included"].values))
            if included.size:
                cell = int(node["cell"].values[included[0]])
        try:
            return load_gfr_model(tree, cell, *key).eval()
        finally:
            tree.close()
