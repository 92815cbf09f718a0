"""DVC stages of the BrainGrid family: HDF5 -> spike table -> bursts -> windows -> baselines.

Each stage checks its params, reads its input, calls the pure functions of the family and
hands a labelled Dataset (or DataTree) to the store, which validates it and writes it
atomically. The CSV exports in the seed's layouts (``allBurst.csv``, ``temp_{w}.csv``,
``space_{w}.csv``) are written beside the stores, also through a temporary name, and only
after the store was written. The generator stage (``braingrid_simulation``) lives in
``stages_simulation.py`` and is merged into :data:`STAGES` here.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .._exceptions import ArtifactCorrupt, ArtifactNotBuilt, SchemaViolation
from .._manifest import file_sha256
from ..params import Boolean, Interval, ListOf, Nullable, Options, check_params
from ..store import artifact_path, atomic_output, is_built, open_artifact, write_artifact
from ._baselines import format_baselines, window_baselines
from ._bursts import allburst_frame, burst_table
from ._spike_table import spike_table
from ._windows import burst_windows, scaled_gap, window_frames
from .stages_simulation import SIM_STAGES

__all__ = [
    "BASELINES_SPEC",
    "BURSTS_SPEC",
    "SIMULATION_FILE",
    "SPIKES_SPEC",
    "STAGES",
    "WINDOWS_SPEC",
    "baseline_report",
    "baselines_stage",
    "bursts_stage",
    "spikes_stage",
    "windows_stage",
]

#: The generator's output, relative to the data folder, and its summary artifact.
SIMULATION_FILE = "braingrid_simulation.h5"
SIMULATION_ARTIFACT = "braingrid_simulation"
#: CSV exports in the seed's layouts, relative to the data folder.
ALLBURST_FILE = "braingrid_allBurst.csv"
TRAIN_DATA_DIR = "braingrid_train_data"

SPIKES_SPEC = {
    "block_neurons": Nullable(Interval(int, 1, None), default=None),
    "block_mib": Interval(int, 1, 4096, default=4),
}
BURSTS_SPEC = {
    "detectors": ListOf(Options(["avalanche", "binned"]), unique=True, default=["avalanche", "binned"]),
    "scale_to_n": Boolean(default=True),
    "burst_min": Nullable(Interval(float, 0, None), default=None),
    "binned_threshold": Interval(float, 0, None, closed="neither", default=0.005),
    "binned_min_spikes": Nullable(Interval(float, 0, None), default=None),
    "bin_steps": Interval(int, 1, None, default=100),
    "quirks": Boolean(default=True),
    "mean_isi_steps": Nullable(Interval(float, 0, None, closed="neither"), default=None),
}
WINDOWS_SPEC = {
    "windows": ListOf(Interval(int, 1, None), unique=True, increasing=True, default=[5, 10, 50, 100, 500]),
    "gap": Interval(int, 1, None, default=2000),
    "scale_gap_to_n": Boolean(default=True),
    "min_gap_steps": Nullable(Interval(int, 0, None), default=None),
    "detector": Options(["avalanche", "binned"], default="avalanche"),
    "split_fractions": ListOf(Interval(float, 0, 1), min_len=3, max_len=3, default=[0.7, 0.15, 0.15]),
    "seed": Interval(int, 0, 2**32 - 1, default=0),
    "export_csv": Boolean(default=True),
}
BASELINES_SPEC = {
    "seed": Interval(int, 0, 2**32 - 1, default=0),
}


def _input(name: str, data_dir: Path, stage: str) -> Any:
    if not is_built(name, data_dir):
        msg = f"Stage {stage} needs artifact {name!r}, which is not built in {data_dir}; run `neurodata run {name}` (or `dvc repro`) first."
        raise ArtifactNotBuilt(msg)
    return open_artifact(name, data_dir=data_dir, verify=True)


def _check_h5_is_the_built_one(path: Path, data_dir: Path) -> None:
    """The HDF5 file must be the one braingrid_simulation wrote (its SHA-256 is in the summary);
    a file without a summary beside it comes from elsewhere (a BrainGrid run) and is read as is."""
    if not is_built(SIMULATION_ARTIFACT, data_dir):
        return
    with _input(SIMULATION_ARTIFACT, data_dir, "braingrid_spikes") as summary:
        expected = summary.attrs.get("h5_sha256")
    actual = file_sha256(path)
    if expected != actual:
        msg = (f"{path}: SHA-256 {actual[:16]}... differs from the {str(expected)[:16]}... that "
               f"{SIMULATION_ARTIFACT} recorded: the file is damaged or from another build. Rerun "
               "`dvc repro braingrid_simulation` or restore it with `dvc checkout`.")
        raise ArtifactCorrupt(msg)


def spikes_stage(params: Mapping[str, Any], *, data_dir: Path, scheduler: str | None = None) -> list[Path]:
    """Stage ``braingrid_spikes``: ``data/braingrid_simulation.h5`` -> spike table.

    Raises
    ------
    ArtifactNotBuilt
        The HDF5 file is missing.
    neurodata.SchemaViolation
        The file is not readable HDF5 (e.g. truncated), or breaks the BrainGrid layout (a key
        missing, a wrong dtype or shape, a column not increasing...); nothing is written.
    """
    from ._hdf5_layout import check_layout as check_file_layout
    from ._hdf5_layout import open_braingrid_h5

    p = check_params(params, SPIKES_SPEC, stage="braingrid_spikes")
    data_dir = Path(data_dir)
    path = data_dir / SIMULATION_FILE
    if not path.is_file():
        msg = f"Stage braingrid_spikes needs {path}; run `neurodata run braingrid_simulation` (or `dvc repro`) first."
        raise ArtifactNotBuilt(msg)
    _check_h5_is_the_built_one(path, data_dir)
    with open_braingrid_h5(path) as h5:
        check_file_layout(h5)
        try:
            ds = spike_table(h5, block_neurons=p["block_neurons"], block_bytes=p["block_mib"] * 2**20, source=str(path))
        except (KeyError, TypeError, ValueError, OSError) as exc:
            raise SchemaViolation(str(exc)) from exc
    ds.attrs["source"] = SIMULATION_FILE
    return [write_artifact(ds, "braingrid_spikes", params=p, data_dir=data_dir)]


def bursts_stage(params: Mapping[str, Any], *, data_dir: Path, scheduler: str | None = None) -> list[Path]:
    """Stage ``braingrid_bursts``: spike table -> bursts of both detectors, and ``allBurst.csv``.

    Raises
    ------
    ValueError
        No burst was found (the message gives the thresholds); nothing is written.
    """
    p = check_params(params, BURSTS_SPEC, stage="braingrid_bursts")
    data_dir = Path(data_dir)
    spikes = _input("braingrid_spikes", data_dir, "braingrid_bursts")
    time_step = np.asarray(spikes["time_step"].values)
    n_neurons = int(spikes.attrs["n_neurons"])
    n_steps = int(spikes.attrs["n_steps"])
    spikes.close()
    ds = burst_table(
        time_step,
        n_neurons=n_neurons,
        n_steps=n_steps,
        detectors=p["detectors"],
        burst_min=p["burst_min"],
        binned_threshold=p["binned_threshold"],
        binned_min_spikes=p["binned_min_spikes"],
        scale_to_n=p["scale_to_n"],
        quirks=p["quirks"],
        bin_steps=p["bin_steps"],
        mean_isi_steps=p["mean_isi_steps"],
    )
    outputs = [write_artifact(ds, "braingrid_bursts", params=p, data_dir=data_dir)]
    dest = data_dir / ALLBURST_FILE  # always rewritten (header only without avalanche bursts): never stale
    with atomic_output(dest) as tmp:
        allburst_frame(ds).to_csv(tmp, index=False)
    return [*outputs, dest]


def windows_stage(params: Mapping[str, Any], *, data_dir: Path, scheduler: str | None = None) -> list[Path]:
    """Stage ``burst_windows``: spike table + bursts -> labelled windows per size (DataTree),
    and the seed's ``temp_{w}.csv`` / ``space_{w}.csv`` in ``data/braingrid_train_data/``."""
    p = check_params(params, WINDOWS_SPEC, stage="burst_windows")
    data_dir = Path(data_dir)
    spikes = _input("braingrid_spikes", data_dir, "burst_windows")
    bursts = _input("braingrid_bursts", data_dir, "burst_windows")
    n_neurons = int(spikes.attrs["n_neurons"])
    dt_s = float(spikes.attrs["dt_s"])
    gap = scaled_gap(n_neurons, p["gap"]) if p["scale_gap_to_n"] else p["gap"]
    detector = np.asarray(bursts["detector"].values).astype(object)
    chosen = np.flatnonzero(detector == p["detector"])
    if chosen.size == 0:
        msg = f"Stage burst_windows: the burst table has no {p['detector']!r} bursts (detectors: {sorted(set(detector))}); add it to braingrid_bursts.detectors."
        raise ValueError(msg)
    starts = np.asarray(bursts["start_step"].values)[chosen]
    spk = {k: np.asarray(spikes[k].values) for k in ("time_step", "x", "y", "neuron")}
    spikes.close()
    bursts.close()
    tree = burst_windows(
        spk["time_step"],
        spk["x"],
        spk["y"],
        spk["neuron"],
        starts,
        windows=p["windows"],
        gap=gap,
        min_gap_steps=p["min_gap_steps"],
        dt_s=dt_s,
        split_fractions=p["split_fractions"],
        seed=p["seed"],
        burst_index=chosen,
    )
    tree.attrs.update(detector=p["detector"], n_neurons=n_neurons)
    encoding = {
        f"window_{w}/{var}": {"chunks": (min(1024, max(1, 2**20 // (8 * w))), w)}
        for w in p["windows"]
        for var in ("temporal", "x", "y", "neuron")
    }
    outputs = [write_artifact(tree, "burst_windows", params=p, seeds={"seed": p["seed"]}, data_dir=data_dir, encoding=encoding)]
    dest = data_dir / TRAIN_DATA_DIR  # always rewritten, so no export survives from an earlier run
    with atomic_output(dest) as tmp:
        tmp.mkdir()
        if not p["export_csv"]:
            (tmp / "README.txt").write_text("No CSV export: burst_windows.export_csv is false in params.yaml.\n")
        for w in p["windows"] if p["export_csv"] else []:
            temp, space = window_frames(tree[f"window_{w}"].to_dataset())
            temp.to_csv(tmp / f"temp_{w}.csv", header=False, index=False)
            space.to_csv(tmp / f"space_{w}.csv", header=False, index=False)
    return [*outputs, dest]


def baselines_stage(params: Mapping[str, Any], *, data_dir: Path, scheduler: str | None = None) -> list[Path]:
    """Stage ``braingrid_baselines``: width threshold and decision tree per window size and kind."""
    p = check_params(params, BASELINES_SPEC, stage="braingrid_baselines")
    data_dir = Path(data_dir)
    windows = _input("burst_windows", data_dir, "braingrid_baselines")
    ds = window_baselines(windows, seed=p["seed"])
    windows.close()
    ds.attrs["source"] = "burst_windows"
    return [write_artifact(ds, "braingrid_baselines", params=p, seeds={"seed": p["seed"]}, data_dir=data_dir)]


def baseline_report(data_dir: str | Path | None = None) -> str:
    """Test accuracy of the baselines per window size and kind, as a text table.

    Reads the ``braingrid_baselines`` artifact; if only ``burst_windows`` is built, fits the
    baselines on the fly (seed 0).

    Raises
    ------
    ArtifactNotBuilt
        Neither artifact is built.
    """
    from .._options import data_dir as default_data_dir

    folder = Path(data_dir) if data_dir is not None else default_data_dir()
    if is_built("braingrid_baselines", folder):
        ds = open_artifact("braingrid_baselines", data_dir=folder)
        note = ""
    elif is_built("burst_windows", folder):
        ds = window_baselines(open_artifact("burst_windows", data_dir=folder))
        note = "\n(fitted now from burst_windows; run `neurodata run braingrid_baselines` to store them)"
    else:
        msg = (
            f"Neither braingrid_baselines nor burst_windows is built in {folder} "
            f"({artifact_path('braingrid_baselines', folder)}); run `dvc repro braingrid_baselines`."
        )
        raise ArtifactNotBuilt(msg)
    if isinstance(ds, xr.DataTree):  # pragma: no cover - defensive
        ds = ds.to_dataset()
    return format_baselines(ds) + note


STAGES: dict[str, Any] = {
    **SIM_STAGES,
    "braingrid_spikes": spikes_stage,
    "braingrid_bursts": bursts_stage,
    "burst_windows": windows_stage,
    "braingrid_baselines": baselines_stage,
}
