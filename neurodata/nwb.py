"""NWB export of the spike artifacts (``ei_spikes``, ``braingrid_spikes``).

One NWB file per artifact: a units table with one unit per simulated neuron (silent ones
included), spike times in seconds, the neuron table as unit columns, each unit's observed
interval, and session metadata from the artifact's provenance attrs. pynwb is imported inside
the functions, so ``import neurodata`` does not load it.

Determinism: the file's ``identifier`` is a UUID derived from the artifact's content (every
variable's values and the attrs that describe the data, not the build's date or commit), so
the same artifact always gives the same identifier. ``session_start_time`` is a fixed
placeholder, :data:`SESSION_START_TIME`: a simulation has no wall-clock start, and a date
taken from the export would give two exports of the same data two different sessions. Every time in the file is simulated time in seconds from that reference.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from ._exceptions import ParamError, SchemaViolation
from ._version import __version__

if TYPE_CHECKING:
    from pynwb import NWBFile

__all__ = ["EXPORTABLE", "SESSION_START_TIME", "content_identifier", "export_nwb", "to_nwbfile"]

EXPORTABLE = ("braingrid_spikes", "ei_spikes")
"""The artifacts (and catalog entries of the same name) that :func:`export_nwb` writes."""

SESSION_START_TIME = datetime(2000, 1, 1, tzinfo=UTC)
"""Placeholder start of every exported session (simulations have no wall-clock start)."""

# Attrs that say when and by which code an artifact was built, not what it holds: left out
# of the content identifier, so a rebuild of the same data keeps its identifier.
_BUILD_ATTRS = frozenset({"code_sha256", "neurodata_version", "stage"})

# Namespace of the identifiers' UUIDs (version 5, RFC 4122); fixed once, never to change.
_NAMESPACE = uuid.UUID("5b0f3c1e-7a52-4f0e-9d0b-2c6a1f7e8d43")

# NCBI Taxonomy "synthetic construct": the subject is a simulated network, not an organism.
_SYNTHETIC_SPECIES = "http://purl.obolibrary.org/obo/NCBITaxon_32630"

_SOURCES: dict[str, dict[str, Any]] = {
    "ei_spikes": {
        "experiment_description": (
            "Reproduction of the EI-clustered spiking network of Rostami V, Rost T, Schmitt FJ, "
            "van Albada SJ, Riehle A, Nawrot MP (2024), 'Spiking attractor model of motor cortex "
            "explains modulation of neural and behavioral variability by prior target information', "
            "Nature Communications 15:6304, after the NEST example 'EI-clustered network' "
            "(Schmitt, Rostami, Nawrot): excitatory and inhibitory leaky integrate-and-fire neurons "
            "in clusters with strengthened in-cluster weights, a step stimulus to some E clusters."
        ),
        "related_publications": ["doi:10.1038/s41467-024-49889-4"],
        "keywords": ["simulation", "spiking neural network", "clustered network", "excitation-inhibition balance",
                     "NEST"],
    },
    "braingrid_spikes": {
        "experiment_description": (
            "Reproduction of the cortical-culture growth model of Kawasaki F, Stiber M (2014), "
            "'A simple model of cortical culture growth: burst property dependence on network "
            "composition and activity', Biological Cybernetics 108(4):423-443, as simulated by "
            "BrainGrid (the tR_1.0--fE_0.90 configuration): leaky integrate-and-fire neurons on a "
            "square grid, endogenously active starter neurons, depressing/facilitating synapses "
            "and activity-dependent growth of connection radii, which makes the network burst."
        ),
        "related_publications": ["doi:10.1007/s00422-014-0611-9"],
        "keywords": ["simulation", "spiking neural network", "cortical culture", "network bursts",
                     "activity-dependent growth", "BrainGrid"],
    },
}


@dataclass
class _UnitsSpec:
    """What one artifact contributes to the NWB file; times in seconds."""

    unit_ids: np.ndarray  # (n_units,)
    spike_unit: np.ndarray  # (n_spikes,) position of each spike's unit in unit_ids
    spike_times_s: np.ndarray  # (n_spikes,)
    observed_s: tuple[float, float]
    resolution_s: float
    units_description: str
    session_description: str
    data_collection: str
    age: str  # ISO 8601 duration: simulated time from the network's creation to t = 0
    columns: list[tuple[str, np.ndarray, str]] = field(default_factory=list)  # (name, values, description)
    generated_by: list[tuple[str, str]] = field(default_factory=list)
    stimulus: tuple[np.ndarray, np.ndarray, str] | None = None  # (start_s, stop_s, description)
    stimulus_notes: str | None = None


# --------------------------------------------------------------------------------------
# public functions


def export_nwb(
    entry: str,
    path: str | os.PathLike[str],
    *,
    data_dir: str | os.PathLike[str] | None = None,
    rev: str | None = None,
    repo: str | os.PathLike[str] | None = None,
    session_start_time: datetime | None = None,
    experimenter: str | list[str] | None = None,
    institution: str | None = None,
    lab: str | None = None,
) -> Path:
    """Write a spike artifact as an NWB file.

    Parameters
    ----------
    entry : {"ei_spikes", "braingrid_spikes"}
        Catalog entry (the artifact of the same name).
    path : path-like
        The NWB file to write, ending in ``.nwb``; written atomically (an existing file is
        replaced only once the new one is complete).
    data_dir, rev, repo : optional
        Where to read the artifact, as for :func:`neurodata.open_artifact`.
    session_start_time : datetime, optional
        Timezone-aware start of the session; default :data:`SESSION_START_TIME`.
    experimenter, institution, lab : optional
        Who ran the simulation and where (experimenter as ``"Last, First"``); left out of the
        file when not given, since an artifact does not record them.

    Returns
    -------
    Path
        *path*.

    Raises
    ------
    neurodata.ParamError
        *entry* is not a spike artifact, or *path* does not end in ``.nwb``.
    neurodata.ArtifactNotBuilt
        The artifact is not built.
    neurodata.SchemaViolation
        The artifact lacks a variable or attr the export reads, or a spike's neuron is not in
        its neuron table.

    Examples
    --------
    >>> neurodata.export_nwb("ei_spikes", "ei_spikes.nwb")  # doctest: +SKIP
    PosixPath('ei_spikes.nwb')
    """
    from .store import atomic_output, load_artifact

    artifact = _exportable(entry)
    dest = Path(path)
    if not (dest.name.endswith(".nwb") and len(dest.name) > len(".nwb")):
        msg = f"The 'path' parameter of export_nwb must be a file name ending in '.nwb'. Got {str(path)!r} instead."
        raise ParamError(msg)
    ds = load_artifact(artifact, data_dir=data_dir, rev=rev, repo=repo)
    nwbfile = to_nwbfile(ds, artifact, session_start_time=session_start_time, experimenter=experimenter,
                         institution=institution, lab=lab)

    from pynwb import NWBHDF5IO

    with atomic_output(dest) as tmp, warnings.catch_warnings():
        # The temporary name beside *dest* does not end in .nwb; *dest* does.
        warnings.filterwarnings("ignore", message="The file path provided: .* does not end in '.nwb'")
        with NWBHDF5IO(str(tmp), mode="w") as io:
            io.write(nwbfile)
    return dest


def to_nwbfile(
    ds: xr.Dataset,
    artifact: str | None = None,
    *,
    session_start_time: datetime | None = None,
    experimenter: str | list[str] | None = None,
    institution: str | None = None,
    lab: str | None = None,
) -> NWBFile:
    """The in-memory NWB file of a spike artifact (no I/O).

    Parameters
    ----------
    ds : xarray.Dataset
        An ``ei_spikes`` or ``braingrid_spikes`` dataset (numpy- or dask-backed).
    artifact : {"ei_spikes", "braingrid_spikes"}, optional
        Which artifact *ds* is; default its ``artifact`` attr (set by the store).
    session_start_time : datetime, optional
        Timezone-aware; default :data:`SESSION_START_TIME`.
    experimenter, institution, lab : optional
        As for :func:`export_nwb`.

    Returns
    -------
    pynwb.NWBFile
        ``units``: one row per neuron (id = the artifact's neuron id), ``spike_times`` [s]
        ascending within each unit, ``obs_intervals`` [s], the neuron-table columns;
        ``intervals["stimulus_windows"]`` for ``ei_spikes`` with stimulus windows.
    """
    from pynwb import NWBFile
    from pynwb.file import Subject

    artifact = _exportable(artifact if artifact is not None else ds.attrs.get("artifact"))
    start = _session_start(session_start_time)
    ds = ds.compute()  # a loaded copy: the caller's dask-backed dataset stays lazy
    spec = _SPEC_BUILDERS[artifact](ds)
    identifier = content_identifier(ds)
    source = _SOURCES[artifact]
    nwbfile = NWBFile(
        session_description=spec.session_description,
        identifier=identifier,
        session_start_time=start,
        file_create_date=_file_create_date(),
        session_id=artifact,
        experiment_description=source["experiment_description"],
        related_publications=list(source["related_publications"]),
        keywords=list(source["keywords"]),
        data_collection=spec.data_collection,
        stimulus_notes=spec.stimulus_notes,
        notes=_provenance_notes(ds, artifact, start),
        experimenter=experimenter,
        institution=institution,
        lab=lab,
        source_script=f"neurodata.export_nwb (neurodata {__version__})",
        source_script_file_name="neurodata/nwb.py",
        was_generated_by=[("neurodata", __version__), *spec.generated_by],
        subject=Subject(
            subject_id=f"{artifact}-{identifier[:8]}",
            description=(
                "A simulated network, not an animal: species is NCBI Taxonomy 'synthetic construct', "
                "sex 'O' (not applicable), age the simulated time from the network's creation to "
                "the session's t = 0."
            ),
            species=_SYNTHETIC_SPECIES,
            sex="O",
            age=spec.age,
        ),
    )
    nwbfile.units = _units_table(spec)
    if spec.stimulus is not None:
        nwbfile.add_time_intervals(_stimulus_table(*spec.stimulus))
    return nwbfile


def content_identifier(ds: xr.Dataset) -> str:
    """A UUID (version 5) of an artifact's content: equal for equal data, whenever it was built.

    Hashes every variable (name, dims, dtype, values) and every attr except those of the
    build itself (``code_sha256``, ``neurodata_version``, ``stage``).

    Parameters
    ----------
    ds : xarray.Dataset

    Returns
    -------
    str
        e.g. ``"3f2b...-..."`` (36 characters).
    """
    digest = hashlib.sha256()
    for name in sorted(map(str, ds.variables)):
        var = ds.variables[name]
        values = np.asarray(var.values)
        # Strings hash by their text: object, fixed-width and numpy StringDType (what Zarr v3
        # reads back) arrays of the same strings give the same identifier.
        text = values.dtype.kind in "OUST"
        header = json.dumps([name, list(map(str, var.dims)), "str" if text else values.dtype.str, list(values.shape)])
        digest.update(header.encode())
        if text:
            digest.update("\x00".join(map(str, values.ravel().tolist())).encode())
        else:
            digest.update(np.ascontiguousarray(values).tobytes())
    attrs = {k: v for k, v in ds.attrs.items() if k not in _BUILD_ATTRS}
    digest.update(json.dumps(attrs, sort_keys=True, default=str).encode())
    return str(uuid.uuid5(_NAMESPACE, digest.hexdigest()))


# --------------------------------------------------------------------------------------
# per-artifact mapping


def _ei_spec(ds: xr.Dataset) -> _UnitsSpec:
    _require(ds, "ei_spikes", ["time_ms", "neuron", "population", "cluster", "background_current", "v_init",
                               "stimulated", "stim_start_ms", "stim_end_ms"],
             ["N_E", "N_I", "n_clusters", "warmup_ms", "simtime_ms", "dt_ms", "seed", "threads", "simulator"])
    a = ds.attrs
    ids = np.asarray(ds["neuron_id"].values, dtype=np.int64)
    spike_unit = _unit_positions(ids, ds["neuron"].values, "ei_spikes", "neuron_id")
    simtime_s, warmup_s, dt_s = float(a["simtime_ms"]) / 1e3, float(a["warmup_ms"]) / 1e3, float(a["dt_ms"]) / 1e3
    neuron_model = _stage_params(ds).get("neuron_type", "leaky integrate-and-fire")
    simulator = str(a["simulator"])
    name, _, version = simulator.partition(" ")
    starts = np.asarray(ds["stim_start_ms"].values, dtype=np.float64) / 1e3
    stops = np.asarray(ds["stim_end_ms"].values, dtype=np.float64) / 1e3
    stim_clusters = [int(c) for c in np.atleast_1d(a.get("stim_clusters", []))]
    stim_amp = a.get("stim_amp_pA")
    stim_text = (f"Step current of {stim_amp} pA into every E neuron of clusters {stim_clusters} (the units with "
                 "stimulated = True) during each window; a spike stamped t belongs to a window when start < t <= stop.")
    return _UnitsSpec(
        unit_ids=ids,
        spike_unit=spike_unit,
        spike_times_s=np.asarray(ds["time_ms"].values, dtype=np.float64) / 1e3,
        observed_s=(0.0, simtime_s),
        resolution_s=dt_s,
        units_description=(
            f"One unit per simulated neuron ({a['N_E']} E then {a['N_I']} I, in cluster order; id = the artifact's "
            "neuron_id), silent neurons included. spike_times [s] after the warm-up: the end of the integration "
            "step in which the membrane potential crossed threshold (NEST's convention)."
        ),
        session_description=(
            f"Simulated spikes of the EI-clustered network (Rostami et al. 2024): {a['N_E']} E and {a['N_I']} I "
            f"neurons in {a['n_clusters']} clusters, {simtime_s:g} s recorded after a {warmup_s:g} s warm-up. "
            "Exported from the neurodata artifact ei_spikes."
        ),
        data_collection=(
            f"Simulated with {simulator} ({neuron_model} neurons), time step {float(a['dt_ms']):g} ms, seed "
            f"{a['seed']}, {a['threads']} thread(s), {a.get('num_connections', 'unknown')} connections. The first "
            f"{float(a['warmup_ms']):g} ms (the warm-up) were simulated but not recorded; t = 0 is the end of "
            "the warm-up."
        ),
        age=_iso_duration(warmup_s),
        columns=[
            _column(ds, "population", as_str=True),
            _column(ds, "cluster"),
            _column(ds, "background_current"),
            _column(ds, "v_init"),
            _column(ds, "stimulated"),
        ],
        generated_by=[(name, version)] if version else [],
        stimulus=(starts, stops, stim_text) if starts.size else None,
        stimulus_notes=stim_text if starts.size else "No stimulus windows.",
    )


def _braingrid_spec(ds: xr.Dataset) -> _UnitsSpec:
    _require(ds, "braingrid_spikes", ["time_step", "neuron", "cell_x", "cell_y", "cell_type", "starter"],
             ["dt_s", "n_steps", "n_neurons", "n_probed", "grid_width"])
    a = ds.attrs
    ids = np.asarray(ds["cell"].values, dtype=np.int64)
    spike_unit = _unit_positions(ids, ds["neuron"].values, "braingrid_spikes", "cell")
    dt_s = _decimal_step(float(a["dt_s"]))
    rounded = (f" (the artifact's dt_s, {float(a['dt_s'])!r}, is BrainGrid's float32 step; read as the decimal "
               f"{dt_s:g} s)" if dt_s != float(a["dt_s"]) else "")
    first = int(a.get("first_simulated_step", 0))
    n_steps, width = int(a["n_steps"]), int(a["grid_width"])
    cell_type = np.asarray(ds["cell_type"].values)
    population = np.where(cell_type == 1, "I", "E").astype(object)
    skipped = (f" Steps before {first} ({first * dt_s:g} s) were grown in closed form, not simulated: they hold "
               "no spikes and are outside each unit's observed interval." if first else "")
    return _UnitsSpec(
        unit_ids=ids,
        spike_unit=spike_unit,
        spike_times_s=np.asarray(ds["time_step"].values, dtype=np.float64) * dt_s,
        observed_s=(first * dt_s, n_steps * dt_s),
        resolution_s=dt_s,
        units_description=(
            f"One unit per neuron of the {width} x {width} grid (id = neuron id = y * {width} + x), silent neurons "
            f"included; {a['n_probed']} of {a['n_neurons']} neurons were probed. spike_times [s] = time step x "
            f"{dt_s:g} s{rounded}."
        ),
        session_description=(
            f"Simulated spikes of a BrainGrid growth network (Kawasaki & Stiber 2014): {a['n_neurons']} neurons on "
            f"a {width} x {width} grid, {n_steps * dt_s:g} s. Exported from the neurodata artifact braingrid_spikes."
        ),
        data_collection=(
            f"Time step {dt_s:g} s, {n_steps} steps; spike table read from {a.get('source', 'a BrainGrid HDF5 file')} "
            f"(BrainGrid's layout).{skipped}"
        ),
        age=_iso_duration(0.0),
        columns=[
            ("x", np.asarray(ds["cell_x"].values), "x position of the neuron on the grid [grid units, 1 apart]"),
            ("y", np.asarray(ds["cell_y"].values), "y position of the neuron on the grid [grid units, 1 apart]"),
            ("population", population, "population of the neuron: E (excitatory, cell_type 2) or I (inhibitory, 1)"),
            _column(ds, "cell_type"),
            _column(ds, "starter"),
        ],
    )


_SPEC_BUILDERS = {"ei_spikes": _ei_spec, "braingrid_spikes": _braingrid_spec}


# --------------------------------------------------------------------------------------
# NWB containers


def _units_table(spec: _UnitsSpec) -> Any:
    from hdmf.backends.hdf5 import H5DataIO
    from hdmf.common import VectorData, VectorIndex
    from pynwb.misc import Units

    n_units = spec.unit_ids.size
    # Grouped by unit, ascending in time within each (NWB's layout of a ragged column).
    order = np.lexsort((spec.spike_times_s, spec.spike_unit))
    times = spec.spike_times_s[order]
    ends = np.cumsum(np.bincount(spec.spike_unit, minlength=n_units)).astype(np.uint64)
    spike_times = VectorData(
        name="spike_times",
        description="spike times of the unit [s], ascending",
        data=H5DataIO(times, compression="gzip", shuffle=True) if times.size else times,
    )
    obs = VectorData(
        name="obs_intervals",
        description="interval of simulated time in which the unit's spikes were recorded [s]",
        data=np.tile(np.asarray(spec.observed_s, dtype=np.float64), (n_units, 1)),
    )
    columns = [
        spike_times,
        VectorIndex(name="spike_times_index", data=ends, target=spike_times),
        obs,
        VectorIndex(name="obs_intervals_index", data=np.arange(1, n_units + 1, dtype=np.uint64), target=obs),
    ]
    columns += [VectorData(name=name, description=text, data=values) for name, values, text in spec.columns]
    return Units(
        name="units",
        id=spec.unit_ids,
        columns=columns,
        description=spec.units_description,
        resolution=spec.resolution_s,
    )


def _stimulus_table(start_s: np.ndarray, stop_s: np.ndarray, description: str) -> Any:
    from pynwb.epoch import TimeIntervals

    table = TimeIntervals(name="stimulus_windows", description=description)
    for start, stop in zip(start_s.tolist(), stop_s.tolist(), strict=True):
        table.add_interval(start_time=start, stop_time=stop)
    return table


# --------------------------------------------------------------------------------------
# helpers


def _exportable(entry: Any) -> str:
    if entry not in EXPORTABLE:
        msg = (f"The 'entry' parameter of export_nwb must be a spike artifact, one of {list(EXPORTABLE)}; only "
               f"those are exported as NWB. Got {entry!r} instead.")
        raise ParamError(msg)
    return str(entry)


def _session_start(value: datetime | None) -> datetime:
    if value is None:
        return SESSION_START_TIME
    if not isinstance(value, datetime) or value.tzinfo is None:
        msg = (f"The 'session_start_time' parameter of export_nwb must be a timezone-aware datetime. "
               f"Got {value!r} instead.")
        raise ParamError(msg)
    return value


def _file_create_date() -> datetime:
    """Now, or ``SOURCE_DATE_EPOCH`` when set (reproducible exports)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    return datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)


def _require(ds: xr.Dataset, artifact: str, variables: list[str], attrs: list[str]) -> None:
    missing = [f"variable {v!r}" for v in variables if v not in ds.variables]
    missing += [f"attr {a!r}" for a in attrs if a not in ds.attrs]
    if missing:
        msg = (f"Cannot export the dataset as {artifact}: it lacks {', '.join(missing)}. Expected an artifact "
               f"satisfying schemas/{artifact}.yaml.")
        raise SchemaViolation(msg)


def _unit_positions(ids: np.ndarray, neuron: Any, artifact: str, table: str) -> np.ndarray:
    """Position in *ids* of each spike's neuron; every neuron must be in the table."""
    neuron = np.asarray(neuron, dtype=np.int64)
    pos = np.searchsorted(ids, neuron)
    inside = pos < ids.size
    bad = ~inside | (ids[np.minimum(pos, ids.size - 1)] != neuron) if ids.size else np.ones(neuron.size, dtype=bool)
    if np.any(bad):
        first = int(np.flatnonzero(bad)[0])
        msg = (f"Cannot export {artifact}: spike {first} is of neuron {int(neuron[first])}, which is not in the neuron "
               f"table ({table}, {ids.size} neurons). Expected every spike's neuron in {table}.")
        raise SchemaViolation(msg)
    return pos


def _column(ds: xr.Dataset, name: str, *, as_str: bool = False) -> tuple[str, np.ndarray, str]:
    var = ds[name]
    description = str(var.attrs.get("long_name", name))
    if "units" in var.attrs:
        description += f" [{var.attrs['units']}]"
    values = np.asarray(var.values)
    if as_str:
        values = np.array([str(v) for v in values.tolist()], dtype=object)
    return name, values, description


def _stage_params(ds: xr.Dataset) -> dict[str, Any]:
    try:
        params = json.loads(ds.attrs.get("stage_params", "{}"))
    except (TypeError, ValueError):
        return {}
    return params if isinstance(params, dict) else {}


def _decimal_step(dt_s: float) -> float:
    """The decimal time step that a float32 attribute was meant to hold, e.g. 1e-4 for 9.99999974737875e-05.

    BrainGrid stores its step as a float32 (``attrPNUint``); multiplying step counts by the
    float32 value would put the last spike of a 6e8-step run 1.5 ms (15 steps) early. A value
    that is not a float32 (a double given on purpose) is kept as is.
    """
    single = np.float32(dt_s)
    return float(str(single)) if float(single) == dt_s else dt_s


def _iso_duration(seconds: float) -> str:
    """ISO 8601 duration of *seconds*, e.g. ``PT0.1S``."""
    return f"PT{np.format_float_positional(float(seconds), trim='-')}S"


def _provenance_notes(ds: xr.Dataset, artifact: str, start: datetime) -> str:
    a = ds.attrs
    keys = ("neurodata_version", "stage", "code_sha256", "schema", "schema_version", "seeds", "stage_params")
    lines = [f"Provenance of the neurodata artifact {artifact}:"]
    lines += [f"  {key}: {a[key]}" for key in keys if key in a]
    if len(lines) == 1:
        lines.append("  (no provenance attrs: the dataset was not read from the artifact store)")
    if start == SESSION_START_TIME:
        lines.append(
            f"session_start_time ({start.isoformat()}) is a fixed reference, not a recording date: a simulation "
            "has no wall-clock start. All times are simulated seconds from it."
        )
    return "\n".join(lines)
