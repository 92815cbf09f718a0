"""``neurodata list``: catalog entries with dims, size on disk and whether they are built."""

from __future__ import annotations

import argparse

from ._common import add_data_dir, data_dir, human_size


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("list", help="list catalog entries", description=__doc__)
    add_data_dir(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..catalog import entry_artifact, open_catalog
    from ..store import artifact_path, is_built, store_size

    cat = open_catalog()
    folder = data_dir(args)
    rows = [("entry", "family", "dims", "built", "size", "files")]
    for name, entry in cat.entries.items():
        meta = entry.metadata or {}
        artifact = entry_artifact(cat, name)
        built = is_built(artifact, folder)
        size, files = store_size(artifact_path(artifact, folder)) if built else (0, 0)
        dims = ", ".join(meta.get("dims", [])) or "-"
        rows.append((name, meta.get("family", "-"), dims, "yes" if built else "no", human_size(size) if built else "-", str(files) if built else "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0
