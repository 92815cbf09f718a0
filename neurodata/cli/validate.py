"""``neurodata validate [ENTRY...]``: check built artifacts against their contracts (values included)."""

from __future__ import annotations

import argparse

from .._exceptions import SchemaViolation
from ..catalog import open_catalog
from ..schemas import validate as validate_artifact
from ..store import is_built, open_artifact
from ._common import add_data_dir, data_dir


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("validate", help="validate built artifacts", description=__doc__)
    parser.add_argument("entries", nargs="*", help="catalog entries (default: every built one)")
    add_data_dir(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cat = open_catalog()
    folder = data_dir(args)
    unknown = [e for e in args.entries if e not in cat.entries]
    if unknown:
        msg = f"No catalog entries {unknown}. Entries: {sorted(cat.entries)}."
        raise KeyError(msg)
    names = args.entries or list(cat.entries)
    artifacts = dict.fromkeys(cat.entries[n].kwargs.get("artifact", n) for n in names)
    failures = checked = 0
    for artifact in artifacts:
        if not is_built(artifact, folder):
            status = "NOT BUILT" if args.entries else "not built (skipped)"
            failures += bool(args.entries)
            print(f"{artifact}: {status}")
            continue
        obj = open_artifact(artifact, data_dir=folder)
        try:
            validate_artifact(obj, artifact)
        except SchemaViolation as exc:
            failures += 1
            print(f"{artifact}: FAIL\n  {exc}")
        else:
            print(f"{artifact}: ok")
        finally:
            checked += 1
            obj.close()
    print(f"{checked} artifact(s) checked, {failures} problem(s)")
    return 1 if failures else 0
