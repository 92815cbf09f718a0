"""Build hook: the registry files (catalog, contracts, default params, profiles, pipelines) travel
in the wheel as package data (``neurodata/_registry_data/``), so an installed neurodata can
validate, label and read a registry without a checkout. Their one home stays the repository
root; the wheel carries copies made at build time."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
REGISTRY_FILES = ["pipelines/*/dvc.yaml", "params.yaml", "catalog/catalog.yaml", "schemas/*.yaml", "profiles/*.yaml"]


class BuildWithRegistry(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "neurodata" / "_registry_data"
        for pattern in REGISTRY_FILES:
            for src in sorted(ROOT.glob(pattern)):
                dest = target / src.relative_to(ROOT)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dest)


setup(cmdclass={"build_py": BuildWithRegistry})
