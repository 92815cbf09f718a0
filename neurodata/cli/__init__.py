"""The ``neurodata`` command: thin subcommands over the library (one module each)."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence

from .._exceptions import NeurodataError, ParamError
from . import _forkserver, describe, export_nwb, listing, plot, profile, report, run, validate

COMMANDS = [listing, describe, validate, run, plot, report, profile, export_nwb]

__all__ = ["main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="neurodata",
        description="Build, inspect, validate and plot the neurodata artifacts of this checkout.",
    )
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None, *, forkserver: bool = True) -> int:
    """Entry point of the console script; returns the exit code.

    ``neurodata run`` hands the stage to the fork server (see :mod:`neurodata.cli._forkserver`)
    unless *forkserver* is false or ``NEURODATA_FORKSERVER=0``; the result is the same either way.
    """
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    if forkserver and args.command == "run" and _forkserver.enabled():
        code = _forkserver.run_in_server(argv)
        if code is not None:
            return code
    try:
        return int(args.func(args) or 0)
    except NeurodataError as exc:  # bad input or damaged data: one line; anything else is a bug
        if args.debug or os.environ.get("NEURODATA_DEBUG"):
            traceback.print_exc()
        print(f"neurodata {args.command}: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, ParamError) else 1


if __name__ == "__main__":
    sys.exit(main())
