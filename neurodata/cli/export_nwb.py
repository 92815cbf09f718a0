"""``neurodata export-nwb ENTRY``: write a spike artifact as an NWB file (units table, session metadata)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._common import add_data_dir, human_size


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("export-nwb", help="write a spike artifact as an NWB file", description=__doc__)
    parser.add_argument("entry", help="the spike artifact to export (ei_spikes, braingrid_spikes)")
    parser.add_argument("-o", "--output", type=Path, default=None, help="NWB file to write (default: ./ENTRY.nwb)")
    parser.add_argument("--rev", default=None, help="git revision to read the artifact at (through DVC)")
    parser.add_argument("--experimenter", action="append", default=None, help="'Last, First' (repeatable)")
    parser.add_argument("--institution", default=None, help="institution where the simulation was run")
    parser.add_argument("--lab", default=None, help="lab where the simulation was run")
    add_data_dir(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..nwb import export_nwb

    output = args.output if args.output is not None else Path(f"{args.entry}.nwb")
    path = export_nwb(
        args.entry,
        output,
        data_dir=args.data_dir,
        rev=args.rev,
        experimenter=args.experimenter,
        institution=args.institution,
        lab=args.lab,
    )
    print(f"wrote {path} ({human_size(path.stat().st_size)})")
    return 0
