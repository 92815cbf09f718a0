"""Atomic replacement under real faults: writers killed with SIGKILL at each step of a swap."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from neurodata import _atomic
from neurodata.schemas import label
from neurodata.store import load_artifact, write_artifact

REPO = Path(__file__).resolve().parent.parent

WRITER = """
import os, signal, sys
import numpy as np, xarray as xr
import neurodata
from neurodata import _atomic

data_dir, n_we, fault = sys.argv[1], int(sys.argv[2]), sys.argv[3]

def kill_me():
    os.kill(os.getpid(), signal.SIGKILL)

if fault == "after-exchange":          # the new version is in place, the old one not yet deleted
    _remove = _atomic.remove
    def remove(path):
        if ".tmp-" in path.name:
            kill_me()
        _remove(path)
    _atomic.remove = remove
elif fault == "between-renames":       # no atomic exchange: killed after the old version moved aside
    _atomic.exchange = lambda a, b: False
    _rename = os.rename
    def rename(src, dst):
        _rename(src, dst)
        if ".old-" in str(dst):
            kill_me()
    _atomic.os.rename = rename
elif fault == "while-writing":         # killed in the middle of writing the temporary store
    import zarr
    _consolidate = zarr.consolidate_metadata
    def consolidate(*args, **kwargs):
        print("writing", flush=True)
        import time; time.sleep(60)
    zarr.consolidate_metadata = consolidate

we = np.linspace(0, 0.03, n_we)
ds = xr.Dataset(
    {"median_vm": (("we", "seed"), np.full((n_we, 2), -60.0)),
     "output_rate": (("we", "seed"), np.full((n_we, 2), float(n_we)))},
    coords={"we": ("we", we), "seed": ("seed", np.arange(2))},
    attrs={"N": n_we, "T_s": 1.0},
)
neurodata.write_artifact(neurodata.schemas.label(ds, "adex_we_sweep"), "adex_we_sweep", params={"n": n_we}, data_dir=data_dir)
print("done", flush=True)
"""


def sweep(n_we: int) -> xr.Dataset:
    return label(xr.Dataset(
        {
            "median_vm": (("we", "seed"), np.full((n_we, 2), -60.0)),
            "output_rate": (("we", "seed"), np.full((n_we, 2), float(n_we))),
        },
        coords={"we": ("we", np.linspace(0, 0.03, n_we)),
                "seed": ("seed", np.arange(2))},
        attrs={"N": n_we, "T_s": 1.0},
    ), "adex_we_sweep")


def start_writer(tmp_path: Path, data_dir: Path, n_we: int, fault: str) -> subprocess.Popen:
    script = tmp_path / "writer.py"
    script.write_text(textwrap.dedent(WRITER))
    return subprocess.Popen([sys.executable, str(script), str(data_dir), str(n_we), fault], cwd=REPO,
                            stdout=subprocess.PIPE, text=True)


def leftovers(data_dir: Path) -> list[str]:
    return sorted(p.name for p in data_dir.iterdir() if p.name.startswith("."))


@pytest.mark.parametrize("fault", ["after-exchange", "between-renames"])
def test_a_writer_killed_in_the_middle_of_a_swap_leaves_a_complete_version(tmp_path, fault):
    data_dir = tmp_path / "data"
    write_artifact(sweep(3), "adex_we_sweep", params={"n": 3}, data_dir=data_dir)
    proc = start_writer(tmp_path, data_dir, 5, fault)
    assert proc.wait(timeout=120) == -signal.SIGKILL  # it really died by SIGKILL at the injected point
    # after the exchange the new version is complete; between two renames the old one is moved back
    expected = 5 if fault == "after-exchange" else 3
    assert load_artifact("adex_we_sweep", data_dir=data_dir).sizes["we"] == expected
    write_artifact(sweep(4), "adex_we_sweep", params={"n": 4}, data_dir=data_dir)  # the next write cleans up
    assert leftovers(data_dir) == []
    assert load_artifact("adex_we_sweep", data_dir=data_dir).sizes["we"] == 4


def test_kill_9_during_a_write_keeps_the_old_artifact_and_the_next_write_cleans_up(tmp_path):
    data_dir = tmp_path / "data"
    write_artifact(sweep(3), "adex_we_sweep", params={"n": 3}, data_dir=data_dir)
    proc = start_writer(tmp_path, data_dir, 6, "while-writing")
    assert proc.stdout.readline().strip() == "writing"
    temporaries = leftovers(data_dir)
    assert len(temporaries) == 1 and f".tmp-{proc.pid}-" in temporaries[0]
    os.kill(proc.pid, signal.SIGKILL)  # kill -9 by PID
    proc.wait(timeout=60)
    assert load_artifact("adex_we_sweep", data_dir=data_dir).sizes["we"] == 3  # untouched
    assert leftovers(data_dir) == temporaries  # the dead writer's folder is still there ...
    write_artifact(sweep(4), "adex_we_sweep", params={"n": 4}, data_dir=data_dir)
    assert leftovers(data_dir) == []  # ... until the next write removes it


def test_the_temporaries_of_a_running_writer_are_left_alone(tmp_path):
    dest = tmp_path / "x.zarr"
    alive = tmp_path / f".x.zarr.tmp-{os.getppid()}-abcd1234"  # a live process: our parent
    dead = tmp_path / ".x.zarr.tmp-999999999-abcd1234"  # no such PID
    alive.mkdir()
    dead.mkdir()
    assert _atomic.clean_stale_temporaries(dest) == [dead]
    assert alive.exists() and not dead.exists()


def test_replace_swaps_folders_atomically_and_files_by_rename(tmp_path):
    dest = tmp_path / "store"
    dest.mkdir()
    (dest / "v").write_text("old")
    tmp = _atomic.temporary_path(dest)
    tmp.mkdir()
    (tmp / "v").write_text("new")
    fd = os.open(dest, os.O_RDONLY)  # a reader holding the old folder
    _atomic.replace(tmp, dest)
    assert (dest / "v").read_text() == "new" and not tmp.exists()
    if Path(f"/proc/self/fd/{fd}").exists():
        assert not Path(f"/proc/self/fd/{fd}/v").exists()  # the old folder, held open, was deleted
    os.close(fd)
    if _atomic._RENAMEAT2 is None:
        pytest.skip("no renameat2 on this system")
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_text("a")
    b.write_text("b")
    assert _atomic.exchange(a, b) and a.read_text() == "b" and b.read_text() == "a"


def test_recover_moves_back_an_old_version_set_aside_by_a_dead_writer(tmp_path):
    dest = tmp_path / "x.zarr"
    old = tmp_path / ".x.zarr.old-999999999-abcd1234"
    old.mkdir()
    (old / "zarr.json").write_text("{}")
    _atomic.recover(dest)
    assert (dest / "zarr.json").is_file() and not old.exists()
