"""``neurodata report NAME``: print a comparison table computed from built artifacts."""

from __future__ import annotations

import argparse

from .. import _registry
from ._common import add_data_dir, data_dir


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    choices = ", ".join(f"{name} ({text})" for name, (_, _, text) in _registry.REPORTS.items())
    parser = subparsers.add_parser("report", help="print a report", description=f"{__doc__} Reports: {choices}.")
    parser.add_argument("name", choices=sorted(_registry.REPORTS))
    add_data_dir(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    print(_registry.report(args.name)(data_dir(args)))
    return 0
