"""``neurodata report NAME``: print a comparison table computed from built artifacts; exit 1 when a row fails."""

from __future__ import annotations

import argparse

from .. import _registry
from ._common import add_data_dir, data_dir


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("report", help="print a report", description=__doc__)
    parser.add_argument("name", help="report name (adex_fidelity, braingrid_baselines, ...)")
    add_data_dir(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    report = _registry.report(args.name)(data_dir(args))
    print(report)
    failed = getattr(report, "failed", 0)
    if failed:
        print(f"{args.name}: {failed} row(s) outside their band")
    return 1 if failed else 0
