"""End to end: the whole DVC pipeline on the tiny profile in a temporary copy, then `neurodata validate`."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent


def copy_checkout(dest: Path) -> None:
    """Tracked and untracked-but-not-ignored files (no built data, no venv)."""
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO, capture_output=True, check=True
    ).stdout.decode().split("\0")
    for name in filter(None, files):
        src = REPO / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)


def run(cmd: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(cmd)} exited {result.returncode}:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result


@pytest.mark.slow
def test_dvc_repro_of_the_whole_pipeline_on_the_tiny_profile(tmp_path):
    work = tmp_path / "checkout"
    copy_checkout(work)
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "NEURODATA_SCHEDULER": "synchronous",
           "NEURODATA_PROGRESS": "never", "DVC_NO_ANALYTICS": "1"}  # fmt: skip
    env.pop("NEURODATA_DATA_DIR", None)
    run(["git", "init", "-q"], work, env)
    run([str(bin_dir / "neurodata"), "profile", "tiny"], work, env)
    run([str(bin_dir / "dvc"), "repro"], work, env)
    stages = yaml.safe_load((work / "dvc.yaml").read_text())["stages"]
    lock = yaml.safe_load((work / "dvc.lock").read_text())["stages"]
    assert set(lock) == set(stages)
    validated = run([str(bin_dir / "neurodata"), "validate"], work, env).stdout
    assert "0 problem(s)" in validated and "not built" not in validated
    listing = run([str(bin_dir / "neurodata"), "list"], work, env).stdout
    assert " no " not in listing
    status = run([str(bin_dir / "dvc"), "status"], work, env).stdout
    assert "up to date" in status
