"""``neurodata profile NAME``: run the pipeline on a profile (profiles/NAME.yaml) as a DVC experiment.

A profile is a set of parameter overrides; it runs as ``dvc exp run --name NAME -S key=value
...``, so DVC records it as an experiment (``dvc exp show``, ``dvc exp diff``, ``dvc metrics
diff``) and edits params.yaml itself, keeping its comments and units. ``--queue`` only queues
it (``dvc queue start`` runs it); ``git checkout params.yaml pipelines`` (or ``dvc exp apply``)
returns to another version.
"""

from __future__ import annotations

import argparse
import json
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._exceptions import ParamError, UnknownName
from .._paths import load_yaml, project_root


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("profile", help="run a parameter profile as a DVC experiment", description=__doc__)
    parser.add_argument("name", help="profile name: a file profiles/<name>.yaml (tiny, seed, ...)")
    parser.add_argument("--queue", action="store_true", help="queue the experiment instead of running it now")
    parser.add_argument("--dry", action="store_true", help="print the dvc command instead of running it")
    parser.set_defaults(func=run)


def _override_value(value: Any) -> str:
    """A value in the syntax of ``dvc exp run -S`` (Hydra's override grammar)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_override_value(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


def profile_overrides(name: str, root: Path) -> list[str]:
    """``["section.key=value", ...]`` for every override of profiles/<name>.yaml.

    Raises
    ------
    neurodata.UnknownName
        No such profile (a name, never a path).
    neurodata.ParamError
        The profile overrides a section or key params.yaml does not have.
    """
    profiles = root / "profiles"
    known = sorted(p.stem for p in profiles.glob("*.yaml"))
    if name not in known:
        msg = f"No profile {name!r}. Profiles: {known} (files in {profiles})."
        raise UnknownName(msg)
    base = load_yaml((root / "params.yaml").read_text()) or {}
    overrides = load_yaml((profiles / f"{name}.yaml").read_text()) or {}
    pairs = []
    for section, values in overrides.items():
        if section not in base or not isinstance(values, Mapping):
            msg = f"Profile {name!r} overrides section {section!r}, which params.yaml does not have. Sections: {sorted(base)}."
            raise ParamError(msg)
        for key, value in values.items():
            if key not in base[section]:
                msg = f"Profile {name!r} overrides {section}.{key}, which params.yaml does not have. Keys: {sorted(base[section])}."
                raise ParamError(msg)
            pairs.append(f"{section}.{key}={_override_value(value)}")
    return pairs


def experiment_command(name: str, root: Path, *, queue: bool = False) -> list[str]:
    """The ``dvc exp run`` command line of profile *name*."""
    command = ["dvc", "exp", "run", "--all-pipelines", "--name", name]
    if queue:
        command.append("--queue")
    for pair in profile_overrides(name, root):
        command += ["--set-param", pair]
    return command


def run(args: argparse.Namespace) -> int:
    root = Path(project_root(required=True))  # type: ignore[arg-type]
    command = experiment_command(args.name, root, queue=args.queue)
    if args.dry:
        print(" ".join(command))
        return 0
    return subprocess.run(command, cwd=root, check=False).returncode
