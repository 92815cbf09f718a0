"""``neurodata plot ENTRY [-o DIR]``: draw an artifact's figures as PNG files."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import _registry
from .._exceptions import UnknownName
from ._common import add_data_dir, data_dir


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("plot", help="draw an artifact's figures", description=__doc__)
    parser.add_argument("entry", help="catalog entry name")
    parser.add_argument("-o", "--out-dir", type=Path, default=Path("figures"), help="output folder (default: figures/)")
    add_data_dir(parser)
    parser.set_defaults(func=run)


def _inputs(plot, folder: Path) -> dict:
    """The other artifacts a plot function asks for: its keyword-only parameters named after an
    artifact (``braingrid_spikes=``), opened when built; a figure that needs one that is not
    built is left out by the plot function."""
    import inspect

    from ..store import is_built, known_artifacts, open_artifact

    names = [p.name for p in inspect.signature(plot).parameters.values() if p.kind is p.KEYWORD_ONLY]
    return {n: open_artifact(n, data_dir=folder) for n in names if n in known_artifacts() and is_built(n, folder)}


def run(args: argparse.Namespace) -> int:
    from ..catalog import entry_artifact, open_catalog
    from ..store import open_artifact

    import matplotlib

    matplotlib.use("Agg")
    artifact = entry_artifact(open_catalog(), args.entry)
    plots = _registry.plots()
    if artifact not in plots:
        msg = f"No figures for {args.entry!r}. Entries with figures: {sorted(plots)}."
        raise UnknownName(msg)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    folder = data_dir(args)
    obj = open_artifact(artifact, data_dir=folder)
    for path in plots[artifact](obj, args.out_dir, **_inputs(plots[artifact], folder)):
        print(f"wrote {path}")
    return 0
