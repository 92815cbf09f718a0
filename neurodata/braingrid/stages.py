"""DVC stages of the BrainGrid family: HDF5 -> spike table -> bursts -> windows -> baselines.

Every stage has the same shape: ``@stage`` checks the params against the spec and rules (one
call, before any work), the stage reads its inputs through the store, calls the family's pure
functions (which label their results from the contracts, :mod:`._artifacts`) and hands the
result to the store, which validates it and writes it atomically. The CSV exports in the
seed's layouts (``allBurst.csv``, ``temp_{w}.csv``, ``space_{w}.csv``) are written beside the
stores, also through a temporary name, and only after the store was written. The generator
stage (``braingrid_simulation``) lives in ``stages_simulation.py`` and is merged into
:data:`STAGES` here. Each stage publishes its figures (:mod:`._summaries`) as DVC metrics.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .._exceptions import ArtifactCorrupt, ArtifactNotBuilt
from .._manifest import file_sha256
from .._pipeline import stage
from ..params import Boolean, Interval, ListOf, Nullable, Options, Rule
from ..seeds import seed_record
from ..store import atomic_output, is_built, load_artifact, open_artifact, write_artifact
from ._baselines import window_baselines
from ._artifacts import concat_cultures
from ._bursts import DETECTORS, allburst_frame, ensemble_burst_table
from ._hdf5_layout import check_layout
from ._spike_table import spike_table
from ._summaries import baselines_metrics, burst_size_histogram, bursts_metrics, spikes_metrics, windows_metrics
from ._windows import SPLIT_BY, burst_windows, bursts_of_detector, scaled_gap, window_frames
from .hdf5 import open_braingrid_h5
from .stages_simulation import FOREIGN_H5, H5_DIR, simulate

__all__ = [
    "BASELINES_SPEC",
    "BURSTS_SPEC",
    "SPIKES_SPEC",
    "STAGES",
    "WINDOWS_RULES",
    "WINDOWS_SPEC",
    "baselines_stage",
    "bursts_stage",
    "spikes_stage",
    "windows_stage",
]

SIMULATION_ARTIFACT = "braingrid_simulation"
#: CSV exports in the seed's layouts, relative to the data folder.
ALLBURST_FILE = "braingrid_allBurst.csv"
TRAIN_DATA_DIR = "braingrid_train_data"

_SEED = Interval(int, 0, 2**32 - 1)

SPIKES_SPEC = {
    "block_neurons": Nullable(Interval(int, 1, None)),
    "block_mib": Interval(int, 1, 4096),
}
BURSTS_SPEC = {
    "detectors": ListOf(Options(list(DETECTORS)), unique=True, min_len=1),
    "scale_to_n": Boolean(),
    "burst_min": Nullable(Interval(float, 0, None)),
    "binned_threshold": Interval(float, 0, None, closed="neither"),
    "binned_min_spikes": Nullable(Interval(float, 0, None)),
    "bin_steps": Interval(int, 1, None),
    "quirks": Boolean(),
    "mean_isi_steps": Nullable(Interval(float, 0, None, closed="neither")),
}
WINDOWS_SPEC = {
    "windows": ListOf(Interval(int, 1, None), unique=True, increasing=True, min_len=1),
    "gap": Interval(int, 1, None),
    "scale_gap_to_n": Boolean(),
    "min_gap_steps": Nullable(Interval(int, 0, None)),
    "detector": Options(list(DETECTORS)),
    "split_fractions": ListOf(Interval(float, 0, 1), min_len=3, max_len=3),
    "split": Options(list(SPLIT_BY)),
    "seed": _SEED,
    "export_csv": Boolean(),
}
WINDOWS_RULES = (
    Rule("split_fractions[0] > 0", param="split_fractions",
         must="give the train split a fraction > 0 (train, val, test)"),
    Rule("split_fractions[2] > 0", when="split == 'culture'", param="split_fractions",
         must="give the test split a fraction > 0 with split 'culture' (a held-out culture to test on)"),
)
"""The number of cultures is braingrid_simulation's: split 'culture' with fewer cultures than
splits is rejected when the stage reads the spikes (:func:`._windows.culture_splits`)."""
BASELINES_SPEC = {"seed": _SEED}


def _input(name: str, data_dir: Path, stage: str) -> Any:
    if not is_built(name, data_dir):
        msg = f"Stage {stage} needs artifact {name!r}, which is not built in {data_dir}; run `neurodata run {name}` (or `dvc repro -P`) first."
        raise ArtifactNotBuilt(msg)
    return open_artifact(name, data_dir=data_dir, verify=True)


def _culture_files(data_dir: Path) -> list[tuple[int, Path, str | None]]:
    """(culture, HDF5 path, expected SHA-256) of every culture to read: the files the generator
    listed in its summary, or else a single BrainGrid file put in the data folder by hand (a
    BrainGrid run, read as culture 0 as is)."""
    data_dir = Path(data_dir)
    if is_built(SIMULATION_ARTIFACT, data_dir):
        with _input(SIMULATION_ARTIFACT, data_dir, "braingrid_spikes") as summary:
            cultures = np.asarray(summary["culture"].values).tolist()
            files = [str(v) for v in summary["h5_file"].values]
            sha = [str(v) for v in summary["h5_sha256"].values]
        return [(int(c), data_dir / f, h) for c, f, h in zip(cultures, files, sha, strict=True)]
    foreign = data_dir / FOREIGN_H5
    if foreign.is_file():
        return [(0, foreign, None)]
    msg = (f"Stage braingrid_spikes needs the generator's folder {data_dir / H5_DIR} with its summary, or a BrainGrid "
           f"run's file {foreign}; run `neurodata run braingrid_simulation` (or `dvc repro -P`) first.")
    raise ArtifactNotBuilt(msg)


def _check_h5_is_the_built_one(path: Path, expected: str | None) -> None:
    """The HDF5 file must be the one braingrid_simulation wrote (its SHA-256 is in the summary)."""
    if expected is None:
        return
    if not path.is_file():
        msg = (f"{path} is missing, though {SIMULATION_ARTIFACT} lists it; rerun `dvc repro pipelines/braingrid/dvc.yaml:braingrid_simulation` "
               "or restore it with `dvc checkout`.")
        raise ArtifactNotBuilt(msg)
    actual = file_sha256(path)
    if expected != actual:
        msg = (f"{path}: SHA-256 {actual[:16]}... differs from the {str(expected)[:16]}... that "
               f"{SIMULATION_ARTIFACT} recorded: the file is damaged or from another build. Rerun "
               "`dvc repro pipelines/braingrid/dvc.yaml:braingrid_simulation` or restore it with `dvc checkout`.")
        raise ArtifactCorrupt(msg)


@stage("braingrid_spikes", spec=SPIKES_SPEC,
       metrics=lambda data_dir: spikes_metrics(load_artifact("braingrid_spikes", data_dir=data_dir)))
def spikes_stage(p: dict[str, Any], *, data_dir: Path, scheduler: str | None = None) -> list[Path]:
    """Stage ``braingrid_spikes``: every culture's HDF5 file -> one spike table (coordinate ``culture``).

    Raises
    ------
    ArtifactNotBuilt
        No HDF5 file (neither the generator's nor a BrainGrid run's).
    neurodata.ArtifactCorrupt
        A culture's file is not the one the generator wrote (SHA-256).
    neurodata.SchemaViolation
        A file is not readable HDF5 (e.g. truncated), or breaks the BrainGrid layout (a key
        missing, a wrong dtype or shape, a column not increasing...); nothing is written.
    """
    tables = []
    files = _culture_files(Path(data_dir))
    for culture, path, sha in files:
        _check_h5_is_the_built_one(path, sha)
        with open_braingrid_h5(path) as h5:
            check_layout(h5)
            tables.append(spike_table(h5, block_neurons=p["block_neurons"], block_bytes=p["block_mib"] * 2**20,
                                      source=str(path), culture=culture))
    ds = concat_cultures(tables, "spike", shared=("cell_x", "cell_y", "cell_type", "starter"), artifact="braingrid_spikes")
    ds.attrs["source"] = H5_DIR if files[0][2] is not None else FOREIGN_H5
    ds.attrs["n_cultures"] = len(tables)
    return [write_artifact(ds, "braingrid_spikes", params=p, data_dir=data_dir)]


def _bursts_metrics(data_dir: Path) -> dict[str, Any]:
    dt_s = float(open_artifact("braingrid_spikes", data_dir=data_dir).attrs["dt_s"])
    return bursts_metrics(load_artifact("braingrid_bursts", data_dir=data_dir), dt_s)


@stage("braingrid_bursts", spec=BURSTS_SPEC, metrics=_bursts_metrics,
       plots=lambda data_dir: {"braingrid_burst_sizes": burst_size_histogram(load_artifact("braingrid_bursts", data_dir=data_dir))})
def bursts_stage(p: dict[str, Any], *, data_dir: Path, scheduler: str | None = None) -> list[Path]:
    """Stage ``braingrid_bursts``: spike table -> bursts of both detectors in every culture, and ``allBurst.csv``
    (the bursts of every culture, column ``Culture`` appended to the original's layout).

    Raises
    ------
    neurodata.SchemaViolation
        No burst was found (the message gives the thresholds); nothing is written.
    """
    with _input("braingrid_spikes", data_dir, "braingrid_bursts") as spikes:
        time_step = np.asarray(spikes["time_step"].values)
        culture = np.asarray(spikes["culture"].values)
        n_neurons, n_steps = int(spikes.attrs["n_neurons"]), int(spikes.attrs["n_steps"])
    ds = ensemble_burst_table(time_step, culture, n_neurons=n_neurons, n_steps=n_steps, **p)
    outputs = [write_artifact(ds, "braingrid_bursts", params=p, data_dir=data_dir)]
    dest = Path(data_dir) / ALLBURST_FILE  # always rewritten (header only without avalanche bursts): never stale
    with atomic_output(dest) as tmp:
        allburst_frame(ds).to_csv(tmp, index=False)
    return [*outputs, dest]


@stage("burst_windows", spec=WINDOWS_SPEC, rules=WINDOWS_RULES,
       metrics=lambda data_dir: windows_metrics(load_artifact("burst_windows", data_dir=data_dir)))
def windows_stage(p: dict[str, Any], *, data_dir: Path, scheduler: str | None = None) -> list[Path]:
    """Stage ``burst_windows``: spike table + bursts -> labelled windows per size (DataTree),
    and the seed's ``temp_{w}.csv`` / ``space_{w}.csv`` in ``data/braingrid_train_data/``."""
    with _input("braingrid_spikes", data_dir, "burst_windows") as spikes, \
            _input("braingrid_bursts", data_dir, "burst_windows") as bursts:
        n_neurons, dt_s = int(spikes.attrs["n_neurons"]), float(spikes.attrs["dt_s"])
        chosen = bursts_of_detector(bursts["detector"].values, p["detector"])
        starts = np.asarray(bursts["start_step"].values)[chosen]
        start_culture = np.asarray(bursts["culture"].values)[chosen]
        spk = {k: np.asarray(spikes[k].values) for k in ("time_step", "x", "y", "neuron", "culture")}
    tree = burst_windows(
        spk["time_step"], spk["x"], spk["y"], spk["neuron"], starts,
        windows=p["windows"], gap=scaled_gap(n_neurons, p["gap"]) if p["scale_gap_to_n"] else p["gap"],
        min_gap_steps=p["min_gap_steps"], dt_s=dt_s, split_fractions=p["split_fractions"], seed=p["seed"],
        burst_index=chosen, culture=spk["culture"], start_culture=start_culture, split_by=p["split"],
    )
    tree.attrs.update(detector=p["detector"], n_neurons=n_neurons)
    encoding = {
        f"window_{w}/{var}": {"chunks": (min(1024, max(1, 2**20 // (8 * w))), w)}
        for w in p["windows"]
        for var in ("temporal", "x", "y", "neuron")
    }
    outputs = [write_artifact(tree, "burst_windows", params=p, seeds=seed_record(p, "seed"), data_dir=data_dir,
                              encoding=encoding)]
    dest = Path(data_dir) / TRAIN_DATA_DIR  # always rewritten, so no export survives from an earlier run
    with atomic_output(dest) as tmp:
        tmp.mkdir()
        if not p["export_csv"]:
            (tmp / "README.txt").write_text("No CSV export: burst_windows.export_csv is false in params.yaml.\n")
        for w in p["windows"] if p["export_csv"] else []:
            temp, space = window_frames(tree[f"window_{w}"].to_dataset())
            temp.to_csv(tmp / f"temp_{w}.csv", header=False, index=False)
            space.to_csv(tmp / f"space_{w}.csv", header=False, index=False)
    return [*outputs, dest]


@stage("braingrid_baselines", spec=BASELINES_SPEC,
       metrics=lambda data_dir: baselines_metrics(load_artifact("braingrid_baselines", data_dir=data_dir)))
def baselines_stage(p: dict[str, Any], *, data_dir: Path, scheduler: str | None = None) -> list[Path]:
    """Stage ``braingrid_baselines``: width threshold and decision tree per window size and kind."""
    with _input("burst_windows", data_dir, "braingrid_baselines") as windows:
        ds = window_baselines(windows, seed=p["seed"])
    ds.attrs["source"] = "burst_windows"
    return [write_artifact(ds, "braingrid_baselines", params=p, seeds=seed_record(p, "seed"), data_dir=data_dir)]


STAGES = {s.name: s for s in (simulate, spikes_stage, bursts_stage, windows_stage, baselines_stage)}
