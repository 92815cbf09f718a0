"""``neurodata profile NAME``: rewrite params.yaml with a profile's overrides (profiles/NAME.yaml).

`git checkout params.yaml` returns to the default profile.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml

from .._paths import project_root
from .._exceptions import ParamError, UnknownName
from ..params import merge_profile


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("profile", help="apply a parameter profile", description=__doc__)
    parser.add_argument("name", help="profile name: a file profiles/<name>.yaml (tiny, seed)")
    parser.add_argument("--params", type=Path, default=None, help="params file to rewrite (default: params.yaml)")
    parser.set_defaults(func=run)


def apply_profile(name: str, params_file: Path, profiles_dir: Path) -> Path:
    """Merge ``profiles/<name>.yaml`` into *params_file* and write it back."""
    known = sorted(p.stem for p in profiles_dir.glob("*.yaml"))
    if name not in known:  # a name, never a path
        msg = f"No profile {name!r}. Profiles: {known} (files in {profiles_dir})."
        raise UnknownName(msg)
    profile_file = profiles_dir / f"{name}.yaml"
    with params_file.open() as fh:
        base = yaml.safe_load(fh) or {}
    with profile_file.open() as fh:
        overrides = yaml.safe_load(fh) or {}
    unknown = sorted(set(overrides) - set(base))
    if unknown:
        msg = f"Profile {name!r} overrides sections {unknown} that {params_file} does not have."
        raise ParamError(msg)
    merged = merge_profile(base, overrides)
    header = f"# params.yaml with profile '{name}' applied (neurodata profile {name}); `git checkout params.yaml` restores the default.\n"
    params_file.write_text(header + yaml.safe_dump(merged, sort_keys=False, default_flow_style=None))
    return params_file


def run(args: argparse.Namespace) -> int:
    root = Path(project_root(required=True))  # type: ignore[arg-type]
    path = apply_profile(args.name, args.params or root / "params.yaml", root / "profiles")
    print(f"applied profile {args.name!r} to {path}")
    return 0
