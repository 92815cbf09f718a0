"""Each family's dvc.yaml tracks exactly the code each stage runs, and the committed locks match the code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from _support import copy_checkout, pipeline_stages

from neurodata._code import import_closure
from neurodata._pipeline import declared_stages
from neurodata._registry import stage_module

REPO = Path(__file__).resolve().parent.parent
STAGES = declared_stages(REPO)


def covered(path: str, deps: tuple[str, ...]) -> bool:
    return any(path == dep or path.startswith(dep.rstrip("/") + "/") for dep in deps)


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_every_stage_depends_on_every_module_it_imports(stage):
    decl = STAGES[stage]
    module = stage_module(stage)
    needed = [p.relative_to(REPO).as_posix() for p in import_closure(module)]
    missing = [f for f in needed if not covered(f, decl.deps)]
    assert not missing, f"{decl.dvcfile}: stage {stage} runs {module}, which imports {missing}; add them to its deps"
    for artifact in decl.artifacts():
        assert f"schemas/{artifact}.yaml" in decl.deps, f"stage {stage} must depend on the contract of {artifact}"
    stale_deps = [d for d in decl.deps if not (REPO / d).exists() and not d.startswith("data/")]
    assert not stale_deps, f"{decl.dvcfile}: stage {stage} lists deps that do not exist: {stale_deps}"


def test_the_closure_sees_imports_inside_functions(tmp_path):
    closure = [p.relative_to(REPO).as_posix() for p in import_closure("neurodata.store")]
    assert "neurodata/schemas.py" in closure  # imported lazily, inside write_artifact
    assert "neurodata/__init__.py" in closure and "neurodata/_manifest.py" in closure
    assert not any("/cli/" in f for f in closure)


def test_every_output_persists_so_a_failed_run_keeps_the_previous_version():
    for name, body in pipeline_stages(REPO).items():
        for out in body["outs"]:
            assert isinstance(out, dict) and next(iter(out.values())) == {"persist": True}, (name, out)


def dvc_status(checkout: Path) -> dict:
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    dvc = Path(sys.executable).parent / "dvc"
    result = subprocess.run([str(dvc), "status", "--json"], cwd=checkout, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout or "{}")


def code_changes(status: dict) -> dict[str, list]:
    """Changes of code or params (a missing data dep is only a missing output of another stage)."""
    found = {}
    for stage, changes in status.items():
        for change in changes if isinstance(changes, list) else []:
            if not isinstance(change, dict):
                continue
            deps = {p: s for p, s in change.get("changed deps", {}).items() if not (p.startswith("data/") and s == "deleted")}
            if deps or change.get("changed params"):
                found[stage.rsplit(":", 1)[-1]] = [deps, change.get("changed params")]  # pipelines/<f>/dvc.yaml:<stage>
    return found


@pytest.mark.slow
def test_the_committed_lock_matches_the_code_and_params(tmp_path):
    """On a checkout with no data, dvc status reports missing outputs only, never changed code or params."""
    checkout = tmp_path / "checkout"
    copy_checkout(checkout)
    subprocess.run(["git", "init", "-q"], cwd=checkout, check=True)
    assert code_changes(dvc_status(checkout)) == {}, (
        "a pipelines/*/dvc.lock does not match the code and params: rebuild with `dvc repro -P` on the default "
        "profile and commit the locks"
    )
    # bytecode and numba's caches written into the package by running it are never dependencies
    for family in ("adex", "gfr", "isf"):
        cache = checkout / "neurodata" / family / "__pycache__"
        cache.mkdir(exist_ok=True)
        (cache / "_kernels.simulate-12.py311.nbi").write_bytes(b"numba index")
        (cache / "_kernels.cpython-311.pyc").write_bytes(b"bytecode")
    assert code_changes(dvc_status(checkout)) == {}
    (checkout / "neurodata" / "store.py").write_text((checkout / "neurodata" / "store.py").read_text() + "\n# edit\n")
    assert set(code_changes(dvc_status(checkout))) == set(STAGES)  # a shared module is every stage's dep
