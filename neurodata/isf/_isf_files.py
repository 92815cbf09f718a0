"""Reading a simrun folder written by ISF (spec §2) into the objects the functions take.

An ISF simulation run folder (``<simresult_path>/<run>/``) holds, per spec §2:

* the cell-parameter file (a Python-literal ``.param`` with ``info``, ``neuron`` and ``sim``;
  ``neuron.filename`` names the ``.hoc`` morphology);
* one synapse-activation file per trial, ``simulation_run<NNNN>_synapses.csv``;
* the soma voltage traces ``<uid>_vm_all_traces.csv`` (a ``t`` column, then ``Vm run NN``);
* the dendritic traces ``<uid>_<site>_vm_dend_traces.csv``, one file per recording site;
* the network-parameter file (``network.<synapse type>.synapses.receptors``), whose
  synaptic weights are in µS.

`read_isf_simrun` turns them into the layouts ISF's database uses (and this package's
functions take): a `Morphology`, the synapse-activation DataFrame, voltage and spike-time
frames indexed by ``sim_trial_index``, dendritic recordings and spike times per site, and
the weights converted to nS. Spike times are detected from the traces with ISF's rule (the
first sample at or above the threshold after one below it: 0 mV at the soma, −30 mV in the
dendrite), as ISF's ``init`` of the database does.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._exceptions import ParamError
from ._biophysics import detect_spikes
from ._morphology import AIS, APICAL, BASAL, MYELIN, SOMA, Morphology

__all__ = [
    "IsfSimrun",
    "read_cell_parameters",
    "read_hoc_morphology",
    "read_isf_simrun",
    "read_network_weights",
    "read_synapse_activation_file",
    "read_voltage_traces_file",
]

#: Units of the frames of `IsfSimrun` (ISF's, except the weights: µS in the files, nS here).
UNITS = {"soma_distance": "um", "activation_times": "ms", "time": "ms", "voltage": "mV", "spike_times": "ms",
         "synaptic_weight": "nS"}
_US_TO_NS = 1000.0
SOMA_THRESHOLD_MV = 0.0
DENDRITE_THRESHOLD_MV = -30.0
# sections ISF appends after the hoc ones when the cell parameters have an AIS block (spec
# §1.4, Hay et al. 2013): (name, label, length µm), each attached to the previous one
_AIS_SECTIONS = (("axon_0", AIS, 20.0), ("axon_0_0", AIS, 30.0), ("myelin", MYELIN, 1000.0))

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_CREATE = re.compile(r"\bcreate\s+([A-Za-z_]\w*)")
_ACCESS = re.compile(r"\baccess\s+([A-Za-z_]\w*)")
_CONNECT = re.compile(rf"\bconnect\s+([A-Za-z_]\w*)\s*\(\s*({_NUMBER})\s*\)\s*,\s*([A-Za-z_]\w*)\s*\(\s*({_NUMBER})\s*\)")
_PT3DADD = re.compile(r"\bpt3dadd\s*\(([^)]*)\)")


def section_label(name: str) -> str:
    """ISF's label of a hoc section name (``soma``, ``BasalDendrite_1_0``, ``ApicalDendrite_3``, ...).

    Raises
    ------
    neurodata.ParamError
        For a name that is none of soma, (basal/apical) dendrite, axon/AIS or myelin.
    """
    low = name.lower()
    for key, label in (("soma", SOMA), ("apical", APICAL), ("dend", BASAL), ("myelin", MYELIN), ("axon", AIS), ("ais", AIS)):
        if key in low:
            return label
    msg = (f"hoc section {name!r}: cannot tell its label; expected a name containing 'soma', 'apical', "
           f"'dend', 'axon'/'AIS' or 'myelin' (as ISF's hoc files name them).")
    raise ParamError(msg)


def read_hoc_morphology(path: str | Path) -> tuple[Morphology, list[str]]:
    """Read an ISF ``.hoc`` morphology (``create``, ``connect``, ``pt3dadd``; spec §2.6).

    Section IDs follow ``create`` order (ISF's ``section_ID``); lengths are the arc lengths
    of the 3D points; a section's ``parent_x`` is the parent location of its ``connect``
    (0.5 for children of the soma, as ISF forces it).

    Parameters
    ----------
    path : path
        The ``.hoc`` file.

    Returns
    -------
    morphology : Morphology
    names : list of str
        hoc name of every section.

    Raises
    ------
    neurodata.ParamError
        If the soma is not the first section, a section has fewer than two points, a child is
        connected by its end 1, a parent is created after its child, or a name is unknown.
    """
    path = Path(path)
    names: list[str] = []
    points: dict[str, list[list[float]]] = {}
    parent: dict[str, tuple[str, float]] = {}
    current: str | None = None
    for lineno, line in enumerate(path.read_text().splitlines(), start=1):
        code = line.split("//", 1)[0]
        for m in _CREATE.finditer(code):
            if m.group(1) not in points:
                names.append(m.group(1))
                points[m.group(1)] = []
        for m in _CONNECT.finditer(code):
            child, child_x, par, par_x = m.group(1), float(m.group(2)), m.group(3), float(m.group(4))
            if child_x != 0.0:
                msg = f"{path}:{lineno}: 'connect {child}({child_x:g}), ...': ISF's cells connect a child by its end 0."
                raise ParamError(msg)
            parent[child] = (par, par_x)
        for m in _ACCESS.finditer(code):
            current = m.group(1)
        for m in _PT3DADD.finditer(code):
            if current not in points:
                msg = f"{path}:{lineno}: pt3dadd before any 'access' of a created section."
                raise ParamError(msg)
            values = [float(v) for v in m.group(1).split(",")]
            if len(values) != 4:
                msg = f"{path}:{lineno}: pt3dadd needs (x, y, z, diam). Got {m.group(1)!r} instead."
                raise ParamError(msg)
            points[current].append(values)
    if not names or section_label(names[0]) != SOMA:
        msg = f"{path}: the first created section must be the soma. Got {names[:1]} instead."
        raise ParamError(msg)
    index = {n: i for i, n in enumerate(names)}
    labels, parents, parent_x = [], [], []
    for i, name in enumerate(names):
        labels.append(section_label(name))
        if len(points[name]) < 2:
            msg = f"{path}: section {name!r} has {len(points[name])} pt3dadd point(s); expected at least 2."
            raise ParamError(msg)
        if i == 0:
            parents.append(-1)
            parent_x.append(0.0)
            continue
        if name not in parent:
            msg = f"{path}: section {name!r} is never connected to a parent."
            raise ParamError(msg)
        par, px = parent[name]
        if par not in index or index[par] >= i:
            msg = f"{path}: section {name!r} connects to {par!r}, which is not created before it."
            raise ParamError(msg)
        parents.append(index[par])
        parent_x.append(0.5 if index[par] == 0 else px)
    xyzd = np.concatenate([np.asarray(points[n], dtype=np.float64) for n in names])
    morph = Morphology(
        label=np.asarray(labels, dtype=object), parent=np.asarray(parents, dtype=np.int64),
        parent_x=np.asarray(parent_x, dtype=np.float64),
        point_section=np.concatenate([np.full(len(points[n]), i, dtype=np.int64) for i, n in enumerate(names)]),
        xyz=xyzd[:, :3].copy(), diam=xyzd[:, 3].copy(),
    )
    return morph, names


def _read_literal(path: Path) -> dict[str, Any]:
    try:
        value = ast.literal_eval(path.read_text())
    except (SyntaxError, ValueError) as exc:
        msg = f"{path}: not a Python-literal parameter file ({exc.__class__.__name__}: {exc})."
        raise ParamError(msg) from None
    if not isinstance(value, dict):
        msg = f"{path}: expected a dict at the top level. Got {type(value).__name__} instead."
        raise ParamError(msg)
    return value


def read_cell_parameters(path: str | Path) -> tuple[dict[str, Any], Morphology, list[str]]:
    """Read an ISF cell-parameter file and the morphology it names (spec §2.5, §1.4).

    ``neuron.filename`` is resolved as given, then relative to the parameter file, then by
    its name in the parameter file's folder. If the parameters have an ``AIS`` block, ISF's
    cell builder appends a hillock (``axon_0``, 20 µm), an initial segment (``axon_0_0``,
    30 µm) and a myelinated axon (``myelin``, 1000 µm) after the hoc sections; they are
    appended here too (straight down from the soma, 1 µm thick), so that section IDs match.

    Parameters
    ----------
    path : str or Path
        The cell-parameter (``.param``) file.

    Returns
    -------
    parameters : dict
    morphology : Morphology
    names : list of str
        Section names (hoc names, then the appended ones).
    """
    path = Path(path)
    params = _read_literal(path)
    neuron = params.get("neuron")
    if not isinstance(neuron, Mapping) or "filename" not in neuron:
        msg = f"{path}: a cell-parameter file needs neuron.filename (the .hoc morphology). Got keys {sorted(params)}."
        raise ParamError(msg)
    given = Path(str(neuron["filename"]))
    candidates = [given, path.parent / given, path.parent / given.name]
    hoc = next((c for c in candidates if c.is_file()), None)
    if hoc is None:
        msg = f"{path}: the morphology {str(given)!r} was not found (tried {[str(c) for c in candidates]})."
        raise FileNotFoundError(msg)
    morph, names = read_hoc_morphology(hoc)
    if "AIS" in neuron:
        morph, names = _append_axon(morph, names)
    return params, morph, names


def _append_axon(morph: Morphology, names: list[str]) -> tuple[Morphology, list[str]]:
    label, parent, parent_x = list(morph.label), list(morph.parent), list(morph.parent_x)
    xyz, diam, point_section = [morph.xyz], [morph.diam], [morph.point_section]
    soma_pts = morph.xyz[morph.point_section == 0]
    top = soma_pts.mean(axis=0)
    prev = 0
    for name, lab, length in _AIS_SECTIONS:
        sec = len(label)
        label.append(lab)
        parent.append(prev)
        parent_x.append(0.5 if prev == 0 else 1.0)
        pts = np.stack([top, top - np.array([0.0, length, 0.0])])
        xyz.append(pts)
        diam.append(np.ones(2))
        point_section.append(np.full(2, sec, dtype=np.int64))
        names.append(name)
        top, prev = pts[-1], sec
    return Morphology(np.asarray(label, dtype=object), np.asarray(parent, dtype=np.int64),
                      np.asarray(parent_x, dtype=np.float64), np.concatenate(point_section),
                      np.concatenate(xyz), np.concatenate(diam)), names


def read_network_weights(path: str | Path) -> tuple[dict[str, float], list[str]]:
    """Synaptic weights (nS) of every presynaptic synapse type of an ISF network ``.param`` (spec §2.7).

    Excitatory types have ``synapses.receptors.glutamate_syn.weight = [AMPA, NMDA]`` and
    inhibitory ones ``gaba_syn.weight``; ISF's weights are in µS and are multiplied by 1000
    here. The AMPA part is the excitatory weight (as ISF's ``load_syn_weights`` intended).

    Parameters
    ----------
    path : str or Path
        The network-parameter (``.param``) file.

    Returns
    -------
    weights : dict of str to float
        ``{synapse_type: nS}``.
    excitatory : list of str
        Synapse types with a glutamate receptor (sorted).
    """
    path = Path(path)
    network = _read_literal(path).get("network")
    if not isinstance(network, Mapping):
        msg = f"{path}: a network-parameter file needs a 'network' block."
        raise ParamError(msg)
    weights, excitatory = {}, []
    for syn_type, spec in network.items():
        try:
            receptors = spec["synapses"]["receptors"]
        except (KeyError, TypeError):
            msg = f"{path}: network.{syn_type} has no synapses.receptors block."
            raise ParamError(msg) from None
        if "glutamate_syn" in receptors:
            w = receptors["glutamate_syn"]["weight"]
            weights[str(syn_type)] = float(w[0] if isinstance(w, list | tuple) else w) * _US_TO_NS
            excitatory.append(str(syn_type))
        elif "gaba_syn" in receptors:
            w = receptors["gaba_syn"]["weight"]
            weights[str(syn_type)] = float(w[0] if isinstance(w, list | tuple) else w) * _US_TO_NS
        else:
            msg = f"{path}: network.{syn_type}: expected a 'glutamate_syn' or 'gaba_syn' receptor. Got {sorted(receptors)}."
            raise ParamError(msg)
    return weights, sorted(excitatory)


def read_synapse_activation_file(path: str | Path, sim_trial_index: str) -> pd.DataFrame:
    """One trial's ``simulation_run<NNNN>_synapses.csv`` as ISF's synapse-activation frame (spec §2.1).

    Each row is ``type, ID, soma distance (µm), section ID, section point ID, label`` separated
    by tabs, then the activation times (ms) separated by commas, the list ending with one.

    Parameters
    ----------
    path : str or Path
        The ``simulation_run<NNNN>_synapses.csv`` file.
    sim_trial_index : str
        The trial's ISF id (``'<run>/<NNNNNN>'``), the frame's index.

    Returns
    -------
    DataFrame indexed by ``sim_trial_index``
        Columns ``synapse_type``, ``synapse_ID``, ``soma_distance``, ``section_ID``,
        ``section_pt_ID``, ``dendrite_label`` and the times ``'0'``, ``'1'``, ... (NaN-padded).
    """
    path = Path(path)
    rows, times = [], []
    for lineno, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) < 6:
            msg = f"{path}:{lineno}: expected 6 tab-separated fields and the activation times. Got {line!r} instead."
            raise ParamError(msg)
        try:
            rows.append((fields[0].strip(), int(fields[1]), float(fields[2]), int(fields[3]), int(fields[4]), fields[5].strip()))
            times.append([float(t) for t in re.split(r"[,\t]", "\t".join(fields[6:])) if t.strip()])
        except ValueError as exc:
            msg = f"{path}:{lineno}: {exc}."
            raise ParamError(msg) from None
    cols = ["synapse_type", "synapse_ID", "soma_distance", "section_ID", "section_pt_ID", "dendrite_label"]
    frame = pd.DataFrame(rows, columns=cols).astype({"synapse_ID": np.int64, "section_ID": np.int64, "section_pt_ID": np.int64,
                                                     "soma_distance": np.float64})
    width = max((len(t) for t in times), default=0)
    act = np.full((len(times), max(width, 1)), np.nan)
    for r, t in enumerate(times):
        act[r, : len(t)] = t
    frame = pd.concat([frame, pd.DataFrame(act, columns=[str(i) for i in range(act.shape[1])])], axis=1)
    frame.index = pd.Index([sim_trial_index] * len(frame), dtype=object, name="sim_trial_index")
    return frame


def read_voltage_traces_file(path: str | Path, run_prefix: str) -> pd.DataFrame:
    """A ``*_vm_all_traces.csv`` / ``*_vm_dend_traces.csv`` file as ISF's voltage frame (spec §2.4).

    The file has a ``t`` column (ms) and one ``Vm run NN`` column (mV) per trial, separated by
    tabs or commas.

    Parameters
    ----------
    path : str or Path
        The traces file.
    run_prefix : str
        The run's folder name: trial ``NN`` becomes ``'<run_prefix>/<NNNNNN>'``.

    Returns
    -------
    DataFrame, shape (n_trials, n_samples)
        Index ``sim_trial_index`` (``'<run_prefix>/<NNNNNN>'``), float columns = times (ms,
        axis name ``t_ms``), values mV.
    """
    path = Path(path)
    with path.open() as fh:
        header = fh.readline()
    sep = "\t" if "\t" in header else ","
    raw = pd.read_csv(path, sep=sep)
    raw.columns = [str(c).strip() for c in raw.columns]
    if raw.columns[0] != "t":
        msg = f"{path}: the first column must be 't' (ms). Got {raw.columns[0]!r} instead."
        raise ParamError(msg)
    runs = []
    for c in raw.columns[1:]:
        m = re.fullmatch(r"Vm run (\d+)", c)
        if m is None:
            msg = f"{path}: column {c!r} is not 'Vm run <NN>'."
            raise ParamError(msg)
        runs.append(int(m.group(1)))
    frame = pd.DataFrame(raw.iloc[:, 1:].to_numpy(dtype=np.float64).T,
                         index=pd.Index([f"{run_prefix}/{r:06d}" for r in runs], dtype=object, name="sim_trial_index"),
                         columns=pd.Index(raw["t"].to_numpy(dtype=np.float64), name="t_ms"))
    frame.attrs["units"] = UNITS["voltage"]
    return frame


def _spike_frame(vt: pd.DataFrame, threshold_mV: float) -> pd.DataFrame:
    """Spike times (ms, absolute) per trial by ISF's rule, NaN-padded int columns (spec §2.3)."""
    t = vt.columns.to_numpy(dtype=np.float64)
    if len(t) > 1 and not np.allclose(np.diff(t), t[1] - t[0]):
        msg = "voltage traces: the time columns must be evenly spaced to detect spikes."
        raise ParamError(msg)
    dt = float(t[1] - t[0]) if len(t) > 1 else 1.0
    spikes = detect_spikes(vt.to_numpy(dtype=np.float64), dt, threshold_mV)
    width = max((len(s) for s in spikes), default=0)
    out = np.full((len(spikes), width), np.nan)
    for r, s in enumerate(spikes):
        out[r, : len(s)] = s + t[0]
    frame = pd.DataFrame(out, index=vt.index)
    frame.attrs["units"] = UNITS["spike_times"]
    return frame


@dataclass(frozen=True)
class IsfSimrun:
    """An ISF simrun folder read into ISF's in-memory layouts (units in `UNITS`).

    Attributes
    ----------
    morphology : Morphology
        The cell (section IDs as in the synapse files).
    section_names : list of str
    cell_parameters : dict
    synapse_activation : DataFrame
        See `read_synapse_activation_file`; all trials, sorted by ``sim_trial_index``.
    voltage_traces : DataFrame
        Soma mV, index ``sim_trial_index``, columns ms.
    spike_times : DataFrame
        Soma spikes (0 mV), ms, NaN-padded.
    dendritic_recordings : dict of str to DataFrame
        Per ISF site key (``..._somaDist_<µm>``), like `voltage_traces`.
    dendritic_spike_times : dict of str to DataFrame
        Per ``'<site>_-30.0'`` (ISF's key), spikes at −30 mV.
    synaptic_weights : dict of str to float
        nS per synapse type (ISF: µS).
    excitatory_synapse_types : list of str
    """

    morphology: Morphology
    section_names: list[str]
    cell_parameters: dict[str, Any]
    synapse_activation: pd.DataFrame
    voltage_traces: pd.DataFrame
    spike_times: pd.DataFrame
    dendritic_recordings: dict[str, pd.DataFrame] = field(default_factory=dict)
    dendritic_spike_times: dict[str, pd.DataFrame] = field(default_factory=dict)
    synaptic_weights: dict[str, float] = field(default_factory=dict)
    excitatory_synapse_types: list[str] = field(default_factory=list)

    @property
    def sim_trial_index(self) -> list[str]:
        """Trials, in the order of the voltage traces."""
        return [str(s) for s in self.voltage_traces.index]


def read_isf_simrun(run_dir: str | Path, simresult_path: str | Path | None = None) -> IsfSimrun:
    """Read an ISF simulation-run folder (spec §2).

    Parameters
    ----------
    run_dir : path
        The folder of one run (``<simresult_path>/<run>``).
    simresult_path : path, optional
        The folder ``sim_trial_index`` is relative to (default: the parent of `run_dir`), so a
        trial is ``'<run>/<NNNNNN>'`` as in ISF's database (spec §2.2).

    Returns
    -------
    IsfSimrun

    Raises
    ------
    FileNotFoundError
        If the cell-parameter file, the soma traces or the synapse files are missing.
    """
    run_dir = Path(run_dir)
    base = Path(simresult_path) if simresult_path is not None else run_dir.parent
    try:
        prefix = run_dir.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        msg = f"read_isf_simrun: 'run_dir' {str(run_dir)!r} is not inside 'simresult_path' {str(base)!r}."
        raise ParamError(msg) from None
    cell = net = None
    for p in sorted(run_dir.glob("*.param")):
        keys = _read_literal(p).keys()
        if "neuron" in keys and cell is None:
            cell = p
        elif "network" in keys and net is None:
            net = p
    if cell is None:
        msg = f"{run_dir}: no cell-parameter file (a .param with a 'neuron' block)."
        raise FileNotFoundError(msg)
    params, morph, names = read_cell_parameters(cell)
    soma_files = sorted(run_dir.glob("*_vm_all_traces.csv"))
    if len(soma_files) != 1:
        msg = f"{run_dir}: expected one '<uid>_vm_all_traces.csv'. Got {[p.name for p in soma_files]}."
        raise FileNotFoundError(msg)
    uid = soma_files[0].name[: -len("_vm_all_traces.csv")]
    vt = read_voltage_traces_file(soma_files[0], prefix)
    syn_files = sorted(run_dir.glob("simulation_run*_synapses.csv"))
    if not syn_files:
        msg = f"{run_dir}: no 'simulation_run<NNNN>_synapses.csv' files."
        raise FileNotFoundError(msg)
    frames = []
    for p in syn_files:
        run = int(re.fullmatch(r"simulation_run(\d+)_synapses\.csv", p.name).group(1))
        frames.append(read_synapse_activation_file(p, f"{prefix}/{run:06d}"))
    sa = pd.concat(frames)
    width = max(int(c) for c in sa.columns if c.isdigit()) + 1
    sa = sa[[*sa.columns[:6], *[str(i) for i in range(width)]]]
    dend, dend_st = {}, {}
    for p in sorted(run_dir.glob(f"{uid}_*_vm_dend_traces.csv")):
        site = p.name[len(uid) + 1: -len("_vm_dend_traces.csv")]
        dend[site] = read_voltage_traces_file(p, prefix)
        dend_st[f"{site}_{DENDRITE_THRESHOLD_MV}"] = _spike_frame(dend[site], DENDRITE_THRESHOLD_MV)
    weights, exc = read_network_weights(net) if net is not None else ({}, [])
    return IsfSimrun(morph, names, params, sa, vt, _spike_frame(vt, SOMA_THRESHOLD_MV), dend, dend_st, weights, exc)


def trial_rows(synapse_activation: pd.DataFrame, trials: Sequence[str]) -> np.ndarray:
    """Position in `trials` of every row of a synapse-activation frame (-1 if not selected)."""
    return pd.Index(list(trials)).get_indexer(synapse_activation.index.astype(object)).astype(np.int64)
