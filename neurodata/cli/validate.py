"""``neurodata validate [ENTRY...] [--deep]``: check built artifacts: their bytes against their
manifests, then their values against their contracts (reading each array's own metadata)."""

from __future__ import annotations

import argparse

from .._exceptions import ArtifactCorrupt, SchemaViolation, StaleArtifact
from ._common import add_data_dir, data_dir


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("validate", help="validate built artifacts", description=__doc__)
    parser.add_argument("entries", nargs="*", help="catalog entries (default: every built one)")
    parser.add_argument(
        "--deep", action="store_true", help="check every chunk's CRC-32C against the manifest (default: sizes only)"
    )
    add_data_dir(parser)
    parser.set_defaults(func=run)


def problems_of(artifact: str, folder: object, *, deep: bool) -> list[str]:
    """Every problem of one built artifact: integrity first, then the contract."""
    from ..schemas import validate as validate_artifact
    from ..store import open_artifact, verify_artifact

    problems = verify_artifact(artifact, data_dir=folder, deep=deep)
    if problems:
        return problems  # values read from damaged bytes would only add noise
    try:
        obj = open_artifact(artifact, data_dir=folder, consolidated=False)  # each array's own metadata
        try:
            validate_artifact(obj, artifact)
        finally:
            obj.close()
    except SchemaViolation as exc:
        return str(exc).splitlines()[1:] or [str(exc)]
    except (ArtifactCorrupt, StaleArtifact) as exc:
        return [str(exc)]
    return []


def run(args: argparse.Namespace) -> int:
    from ..catalog import entry_artifact, open_catalog
    from ..store import build_hint, is_built

    cat = open_catalog()
    folder = data_dir(args)
    names = args.entries or list(cat.entries)
    artifacts = dict.fromkeys(entry_artifact(cat, name) for name in names)
    failures = checked = 0
    for artifact in artifacts:
        if not is_built(artifact, folder):
            if args.entries:
                failures += 1
                print(f"{artifact}: NOT BUILT ({build_hint(artifact)})")
            else:
                print(f"{artifact}: not built (skipped)")
            continue
        checked += 1
        problems = problems_of(artifact, folder, deep=args.deep)
        if problems:
            failures += 1
            print(f"{artifact}: FAIL\n  " + "\n  ".join(p.strip() for p in problems))
        else:
            print(f"{artifact}: ok")
    print(f"{checked} artifact(s) checked, {failures} problem(s)")
    return 1 if failures else 0
