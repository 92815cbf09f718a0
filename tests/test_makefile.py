"""`make` stops with a clear message when Python 3.11 is missing or .venv was made by another Python."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FAKE_PYTHON_312 = """#!/bin/sh
# answers like a Python 3.12: the version check fails, the version line says 3.12.0
case "$*" in *platform*) echo 3.12.0;; *) exit 1;; esac
"""


@pytest.fixture
def project(tmp_path):
    shutil.copy(REPO / "Makefile", tmp_path / "Makefile")
    fake = tmp_path / "python3.12"
    fake.write_text(FAKE_PYTHON_312)
    fake.chmod(0o755)
    return tmp_path


def make(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", "check-python", *args], cwd=project, capture_output=True, text=True)


def test_a_missing_python_is_named_with_the_fix(project):
    result = make(project, "PYTHON=no-such-python3.11")
    assert result.returncode != 0
    assert "no-such-python3.11 not found. neurodata needs Python 3.11" in result.stdout
    assert "pip" not in result.stdout + result.stderr  # stopped before any install


def test_another_python_is_refused(project):
    result = make(project, f"PYTHON={project / 'python3.12'}")
    assert result.returncode != 0 and "is Python 3.12.0; neurodata needs 3.11." in result.stdout


def test_a_venv_of_another_python_is_refused(project):
    (project / ".venv" / "bin").mkdir(parents=True)
    shutil.copy(project / "python3.12", project / ".venv" / "bin" / "python")
    result = make(project)
    assert result.returncode != 0
    assert ".venv was made by Python 3.12.0, not 3.11." in result.stdout and "rm -rf .venv" in result.stdout
