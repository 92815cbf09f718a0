"""Meta-tests: the package's conventions, checked over every module, contract and stage."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest
import yaml

import neurodata
from neurodata._code import PACKAGE_DIR, _imported_modules, module_file
from neurodata._registry import FAMILIES, stages
from neurodata.schemas import UNITS

REPO = PACKAGE_DIR.parent


def modules() -> list[str]:
    names = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def family_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in FAMILIES else None


@pytest.mark.parametrize("module", [m for m in modules() if family_of(m)])
def test_families_never_import_each_other_and_science_never_imports_the_store(module):
    imported = _imported_modules(module, module_file(module))
    others = sorted(m for m in imported if family_of(m) not in (None, family_of(module)))
    assert not others, f"{module} imports another family: {others}"
    leaf = module.rsplit(".", 1)[-1]
    if leaf.startswith("_") and leaf != "__init__":  # the science: pure functions, no artifact I/O
        io = sorted(m for m in imported if m in ("neurodata.store", "neurodata._verified_store", "neurodata.catalog",
                                                    "neurodata.runner", "neurodata._atomic"))
        assert not io, f"{module} is science but imports {io}; artifact I/O belongs in stages.py, plots.py or reports.py"


def test_one_seed_idiom():
    """Random streams come from neurodata.seeds only (no default_rng, SeedSequence, seed + 1)."""
    offenders = []
    for path in PACKAGE_DIR.rglob("*.py"):
        if path.name == "seeds.py" or "_julia" in path.name:  # Julia's own stream, bit for bit
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if re.search(r"default_rng\(|SeedSequence\(|np\.random\.seed\(|RandomState\(|seed\s*\+\s*\d", code):
                offenders.append(f"{path.relative_to(REPO)}:{n}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def contract_members():
    for path in sorted((REPO / "schemas").glob("*.yaml")):
        spec = yaml.safe_load(path.read_text())
        bodies = [spec] if spec.get("kind", "dataset") == "dataset" else [*spec.get("nodes", {}).values(), spec.get("node") or {}]
        for body in bodies:
            for group in ("coords", "data_vars"):
                for name, member in (body.get(group) or {}).items():
                    yield path.stem, name, member


@pytest.mark.parametrize(("artifact", "name", "member"), list(contract_members()), ids=lambda v: v if isinstance(v, str) else "")
def test_every_coordinate_and_variable_declares_units_and_long_name(artifact, name, member):
    assert "long_name" in member and str(member["long_name"]).strip(), f"{artifact}: {name} has no long_name"
    assert "units" in member, f"{artifact}: {name} has no units ('1' if dimensionless)"
    assert str(member["units"]) in UNITS, f"{artifact}: {name}: unit {member['units']!r} is not in neurodata.schemas.UNITS"


def test_the_unit_vocabulary_has_one_spelling_per_unit():
    spellings = [u.replace(" ", "").replace("_", "").lower() for u in UNITS]
    assert len(spellings) == len(set(spellings)), UNITS


def public_functions():
    seen = set()
    for module_name in ["neurodata", *[f"neurodata.{f}" for f in FAMILIES], "neurodata.store", "neurodata.schemas",
                        "neurodata.params", "neurodata.runner", "neurodata.catalog", "neurodata.seeds", "neurodata.torch"]:
        module = __import__(module_name, fromlist=["__all__"])
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name, None)
            if inspect.isfunction(obj) and id(obj) not in seen:
                seen.add(id(obj))
                yield f"{module_name}.{name}", obj


@pytest.mark.parametrize(("name", "fn"), list(public_functions()), ids=lambda v: v if isinstance(v, str) else "")
def test_every_public_function_with_arguments_documents_them(name, fn):
    params = [p for p in inspect.signature(fn).parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if not params:
        return
    doc = inspect.getdoc(fn) or ""
    assert re.search(r"^Parameters\n-{5,}", doc, re.M), f"{name} has arguments but no numpydoc Parameters section"
    section = doc.split("Parameters", 1)[1]
    missing = [p.name for p in params if not re.search(rf"^\*?{p.name}\b|[ ,]{p.name}\b.*:", section, re.M)]
    assert not missing, f"{name}: Parameters does not describe {missing}"


def test_every_stage_is_declared_with_its_spec():
    from neurodata._pipeline import Stage

    found = stages()
    assert found and all(isinstance(s, Stage) for s in found.values()), [n for n, s in found.items() if not isinstance(s, Stage)]


def test_no_stage_spec_holds_a_default():
    """Defaults live only in params.yaml."""
    from neurodata.params import _MISSING

    for name, stage in stages().items():
        with_default = [k for k, c in stage.spec.items() if getattr(c, "default", _MISSING) is not _MISSING]
        assert not with_default, f"stage {name}: {with_default} have defaults in code; put them in params.yaml"


def test_neurodata_imports_no_family_eagerly():
    import subprocess
    import sys

    code = "import sys, neurodata; print(sorted(m for m in sys.modules if m.startswith('neurodata.')))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert not any(f"neurodata.{family}" in loaded for family in FAMILIES), loaded
    assert neurodata.__version__
