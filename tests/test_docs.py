"""Docs that run: every ``python`` and ``bash`` block of README.md and docs/*.md runs as written,
in order, on a copy of the tiny build (other fences, ``text`` for instance, are not code)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from _support import REPO, tool_env

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]  # uses the tiny pipeline build

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w+)[^\n]*\n(.*?)^```", re.M | re.S)
RUNNABLE = ("python", "bash")


def blocks(doc: Path) -> list[tuple[str, str]]:
    return [(lang, body) for lang, body in FENCE.findall(doc.read_text()) if lang in RUNNABLE]


def test_every_doc_has_only_known_fences():
    for doc in DOCS:
        for lang, _ in FENCE.findall(doc.read_text()):
            assert lang in (*RUNNABLE, "text", "yaml"), f"{doc.name}: a ```{lang} block (runnable: {RUNNABLE}; else text)"


def test_docs_point_only_inside_the_repository():
    for doc in DOCS:
        assert "../shared" not in doc.read_text() and "/work/" not in doc.read_text(), doc.name


def test_no_runnable_block_runs_the_suite_or_a_full_build():
    """``make data``/``make test``/``pytest`` in a runnable block would rebuild the default profile or
    run this suite recursively inside it: set-up commands go in ``text`` blocks."""
    for doc in DOCS:
        for lang, body in blocks(doc):
            assert not re.search(r"^\s*(make|pytest|dvc repro|neurodata profile)\b", body, re.M), f"{doc.name}: {body[:80]!r}"


DRIVER = """
import json, subprocess, sys
blocks = json.load(open(sys.argv[1]))
namespace = {"__name__": "__main__"}
for n, (lang, body) in enumerate(blocks, 1):
    print(f"--- block {n} ({lang})", flush=True)
    if lang == "bash":
        subprocess.run(["bash", "-euo", "pipefail", "-c", body], check=True)
    else:
        exec(compile(body, f"<block {n}>", "exec"), namespace)
"""


@pytest.mark.parametrize("doc", [d for d in DOCS if blocks(d)], ids=lambda d: d.name)
def test_the_code_blocks_run_as_written(doc, tiny_checkout, tmp_path):
    """The doc's blocks in order, as a reader would: one Python session, bash blocks in between."""
    import json

    checkout = tmp_path / "checkout"
    shutil.copytree(tiny_checkout, checkout, symlinks=True)
    # the reader's checkout has its build committed (a version): the tiny experiment's params and lock
    subprocess.run(["git", "commit", "-qam", "the tiny build"], cwd=checkout, env=tool_env(), check=True)
    (tmp_path / "blocks.json").write_text(json.dumps(blocks(doc)))
    (tmp_path / "driver.py").write_text(DRIVER)
    result = subprocess.run([sys.executable, str(tmp_path / "driver.py"), str(tmp_path / "blocks.json")], cwd=checkout,
                            env=tool_env(), capture_output=True, text=True)
    assert result.returncode == 0, f"{doc.name}:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
