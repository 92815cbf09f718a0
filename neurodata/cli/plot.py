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
    obj = open_artifact(artifact, data_dir=data_dir(args))
    for path in plots[artifact](obj, args.out_dir):
        print(f"wrote {path}")
    return 0
