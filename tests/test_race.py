"""Readers never mix builds: a reader process reads the catalog entry over and over while a
writer process rebuilds it with alternating shapes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

WRITER = """
import sys
import numpy as np, xarray as xr
import neurodata

builds = int(sys.argv[1])
for build in range(1, builds + 1):
    n_we = 4 if build % 2 else 3          # the shape changes with every build
    ds = xr.Dataset(
        {"median_vm": (("we", "seed"), np.full((n_we, 5), -float(build))),
         "output_rate": (("we", "seed"), np.full((n_we, 5), float(build)))},
        coords={"we": ("we", np.arange(n_we) * 0.01),
                "seed": ("seed", np.arange(5))},
        attrs={"N": build, "T_s": 1.0},
    )
    # one chunk per row: a read of one build is many chunk reads, so a rebuild can land in between
    neurodata.write_artifact(neurodata.schemas.label(ds, "adex_we_sweep"), "adex_we_sweep", params={"build": build},
                             encoding={"median_vm": {"chunks": (1, 5)}, "output_rate": {"chunks": (1, 5)}})
"""

READER = """
import json, random, sys, time
import numpy as np
import neurodata

stop_file = sys.argv[1]
counts = {"consistent": 0, "stale": 0, "mixed": 0}
random.seed(0)
cat = neurodata.open_catalog()
while True:
    done = __import__("os").path.exists(stop_file)
    try:
        ds = cat.adex_we_sweep.read()          # lazy: metadata of the build current now
        time.sleep(random.uniform(0, 0.02))    # a rebuild may land before the values are read
        ds = ds.load()
    except neurodata.StaleArtifact:
        counts["stale"] += 1
    else:
        build = int(ds.attrs["N"])
        same = (ds.sizes["we"] == (4 if build % 2 else 3)
                and np.all(ds["output_rate"].values == build) and np.all(ds["median_vm"].values == -build)
                and json.loads(ds.attrs["stage_params"])["build"] == build)
        counts["consistent" if same else "mixed"] += 1
    if done:
        break
print(json.dumps(counts))
"""


@pytest.mark.timeout(300)
def test_readers_never_mix_two_builds(tmp_path):
    env = {**os.environ, "NEURODATA_DATA_DIR": str(tmp_path / "data"), "NEURODATA_PROGRESS": "never"}
    (tmp_path / "writer.py").write_text(textwrap.dedent(WRITER))
    (tmp_path / "reader.py").write_text(textwrap.dedent(READER))
    stop = tmp_path / "stop"
    subprocess.run([sys.executable, str(tmp_path / "writer.py"), "1"], cwd=REPO, env=env, check=True)
    reader = subprocess.Popen([sys.executable, str(tmp_path / "reader.py"), str(stop)], cwd=REPO, env=env,
                              stdout=subprocess.PIPE, text=True)
    subprocess.run([sys.executable, str(tmp_path / "writer.py"), "80"], cwd=REPO, env=env, check=True)
    stop.touch()
    out, _ = reader.communicate(timeout=120)
    assert reader.returncode == 0
    counts = json.loads(out)
    print(f"race: {counts}")
    assert counts["mixed"] == 0
    assert counts["consistent"] + counts["stale"] >= 20  # the reader really raced the writer
