"""``neurodata run STAGE``: run one pipeline stage with its section of params.yaml (what pipelines/*/dvc.yaml call)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from .._pipeline import run_stage
from ._common import add_data_dir, data_dir


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run", help="run one stage", description=__doc__)
    parser.add_argument("stage", help="stage name, as in pipelines/<family>/dvc.yaml")
    parser.add_argument("--params", type=Path, default=None, help="params file (default: params.yaml of the checkout)")
    parser.add_argument(
        "--scheduler",
        default=None,
        help="'auto' (in-process for small work, a LocalCluster above it), 'local', 'synchronous' or a dask scheduler address; default $NEURODATA_SCHEDULER or auto",
    )
    add_data_dir(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    outputs = run_stage(args.stage, data_dir=data_dir(args), scheduler=args.scheduler, params_file=args.params)
    for path in outputs:
        print(f"wrote {path}")
    print(f"{args.stage}: done in {time.perf_counter() - start:.1f} s")
    return 0
