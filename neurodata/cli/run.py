"""``neurodata run STAGE``: run one pipeline stage with its section of params.yaml (what dvc.yaml calls)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from .. import _registry
from .._options import set_options
from ..params import load_params
from ._common import add_data_dir, data_dir


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run", help="run one stage", description=__doc__)
    parser.add_argument("stage", help="stage name, as in dvc.yaml")
    parser.add_argument("--params", type=Path, default=None, help="params file (default: params.yaml of the checkout)")
    parser.add_argument(
        "--scheduler",
        default=None,
        help="'local' (LocalCluster), 'synchronous' (in-process) or a dask scheduler address; default $NEURODATA_SCHEDULER or local",
    )
    add_data_dir(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    stage = _registry.find_stage(args.stage)
    params = load_params(args.stage, args.params)
    options = {"scheduler": args.scheduler} if args.scheduler else {}
    start = time.perf_counter()
    with set_options(**options):
        outputs = stage(params, data_dir=data_dir(args), scheduler=args.scheduler)
    for path in outputs or []:
        print(f"wrote {path}")
    print(f"{args.stage}: done in {time.perf_counter() - start:.1f} s")
    return 0
