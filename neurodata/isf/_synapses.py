"""Synapses placed on the dendrites by presynaptic cell type, and their Poisson activation times."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._exceptions import ParamError
from ._morphology import APICAL, BASAL, SOMA, Morphology

__all__ = ["DEFAULT_CELL_TYPES", "SynapseTable", "activation_times", "celltype_of", "place_synapses"]

# ISF-like presynaptic cell types of a barrel-cortex L5 pyramid (names as in ISF's network
# files). Per type: number of synapses, the sections it targets, a Gaussian soma-distance
# preference (mean, sd in µm), ongoing rate (Hz), mean extra spikes per synapse evoked by a
# whisker deflection, their latency and jitter (ms), and the peak AMPA (or GABA_A)
# conductance (nS; excitatory synapses add an NMDA part, see Biophysics.nmda_ratio). The
# weights and evoked counts set the cell's in-vivo-like regime (docs/isf.md): a few Hz of
# ongoing firing, an evoked response 10-20 ms after the stimulus, and, through the heavier
# L2 synapses on the tuft, a dendritic Ca2+ event in about half of the trials.
DEFAULT_CELL_TYPES: dict[str, dict[str, Any]] = {
    "L2": {"n": 1100, "targets": [APICAL], "distance_um": [900, 250], "rate_hz": 1.5, "evoked": 0.085, "latency_ms": 22, "jitter_ms": 8, "weight_nS": 1.0},
    "L34": {"n": 1700, "targets": [BASAL, APICAL], "distance_um": [350, 200], "rate_hz": 1.75, "evoked": 0.064, "latency_ms": 14, "jitter_ms": 6, "weight_nS": 0.375},
    "L4py": {"n": 300, "targets": [BASAL, APICAL], "distance_um": [200, 150], "rate_hz": 1.5, "evoked": 0.064, "latency_ms": 12, "jitter_ms": 5, "weight_nS": 0.375},
    "L4sp": {"n": 500, "targets": [BASAL, APICAL], "distance_um": [200, 150], "rate_hz": 1.5, "evoked": 0.08, "latency_ms": 11, "jitter_ms": 4, "weight_nS": 0.375},
    "L4ss": {"n": 900, "targets": [BASAL, APICAL], "distance_um": [180, 150], "rate_hz": 1.5, "evoked": 0.112, "latency_ms": 10, "jitter_ms": 3, "weight_nS": 0.375},
    "L5st": {"n": 700, "targets": [BASAL], "distance_um": [120, 80], "rate_hz": 2.25, "evoked": 0.016, "latency_ms": 15, "jitter_ms": 8, "weight_nS": 0.375},
    "L5tt": {"n": 1400, "targets": [BASAL, APICAL], "distance_um": [150, 120], "rate_hz": 3.75, "evoked": 0.048, "latency_ms": 12, "jitter_ms": 6, "weight_nS": 0.375},
    "L6cc": {"n": 1000, "targets": [BASAL], "distance_um": [120, 80], "rate_hz": 2.0, "evoked": 0.032, "latency_ms": 14, "jitter_ms": 6, "weight_nS": 0.375},
    "L6ccinv": {"n": 200, "targets": [BASAL], "distance_um": [120, 80], "rate_hz": 2.0, "evoked": 0.016, "latency_ms": 16, "jitter_ms": 6, "weight_nS": 0.375},
    "L6ct": {"n": 200, "targets": [BASAL], "distance_um": [100, 80], "rate_hz": 1.0, "evoked": 0.016, "latency_ms": 18, "jitter_ms": 6, "weight_nS": 0.375},
    "VPM": {"n": 400, "targets": [BASAL, APICAL], "distance_um": [150, 120], "rate_hz": 2.5, "evoked": 0.096, "latency_ms": 6, "jitter_ms": 2, "weight_nS": 0.525},
    "L1": {"n": 250, "targets": [APICAL], "distance_um": [1000, 200], "rate_hz": 4.0, "evoked": 0.064, "latency_ms": 20, "jitter_ms": 8, "weight_nS": 0.6},
    "L23Trans": {"n": 300, "targets": [APICAL], "distance_um": [450, 200], "rate_hz": 4.0, "evoked": 0.096, "latency_ms": 14, "jitter_ms": 5, "weight_nS": 0.6},
    "L45Sym": {"n": 300, "targets": [BASAL, APICAL], "distance_um": [150, 100], "rate_hz": 4.0, "evoked": 0.16, "latency_ms": 9, "jitter_ms": 3, "weight_nS": 0.6},
    "L56Trans": {"n": 300, "targets": [BASAL, APICAL], "distance_um": [120, 100], "rate_hz": 4.0, "evoked": 0.096, "latency_ms": 12, "jitter_ms": 4, "weight_nS": 0.6},
    "SymLocal1": {"n": 200, "targets": [SOMA, BASAL], "distance_um": [20, 40], "rate_hz": 5.0, "evoked": 0.16, "latency_ms": 9, "jitter_ms": 3, "weight_nS": 0.8},
    "SymLocal2": {"n": 300, "targets": [SOMA, BASAL, APICAL], "distance_um": [60, 60], "rate_hz": 5.0, "evoked": 0.128, "latency_ms": 10, "jitter_ms": 3, "weight_nS": 0.8},
}
_CELLTYPE_KEYS = ("n", "targets", "distance_um", "rate_hz", "evoked", "latency_ms", "jitter_ms", "weight_nS")


def celltype_of(synapse_type: Any) -> Any:
    """Presynaptic cell type of ISF synapse types: the part before the first ``'_'``.

    ``'L5tt_C2'`` -> ``'L5tt'``. Accepts a str or an array of str (vectorised).

    Parameters
    ----------
    synapse_type : str or array of str, shape (n,)
        ISF synapse types ``'<celltype>_<column>'``.
    """
    if isinstance(synapse_type, str):
        return synapse_type.split("_", 1)[0]
    return np.asarray([str(s).split("_", 1)[0] for s in np.asarray(synapse_type)], dtype=object)


@dataclass(frozen=True)
class SynapseTable:
    """All synapses of the cell, ordered by synapse type then synapse ID.

    Attributes
    ----------
    synapse_type : ndarray of str, shape (n_synapses,)
        ISF-style ``'<celltype>_<column>'``, e.g. ``'L5tt_C2'``.
    synapse_ID : ndarray of int64, shape (n_synapses,)
        Index of the synapse within its type.
    section_ID : ndarray of int64, shape (n_synapses,)
    section_pt_ID : ndarray of int64, shape (n_synapses,)
        Index (within its section) of the 3D point nearest the synapse.
    soma_distance : ndarray of float64, shape (n_synapses,)
        µm, ISF's definition (0 on the soma).
    x : ndarray of float64, shape (n_synapses,)
        Relative position on the section (0..1).
    dendrite_label : ndarray of str, shape (n_synapses,)
    weight : ndarray of float64, shape (n_synapses,)
        Peak conductance in nS.
    is_excitatory : ndarray of bool, shape (n_synapses,)
    """

    synapse_type: np.ndarray
    synapse_ID: np.ndarray
    section_ID: np.ndarray
    section_pt_ID: np.ndarray
    soma_distance: np.ndarray
    x: np.ndarray
    dendrite_label: np.ndarray
    weight: np.ndarray
    is_excitatory: np.ndarray

    def __len__(self) -> int:
        return len(self.synapse_ID)


def _check_cell_types(cell_types: Mapping[str, Mapping[str, Any]], excitatory: Sequence[str],
                      inhibitory: Sequence[str]) -> None:
    for name, spec in cell_types.items():
        missing = [k for k in _CELLTYPE_KEYS if k not in spec]
        if missing:
            msg = f"cell type {name!r}: missing keys {missing}; expected {list(_CELLTYPE_KEYS)}"
            raise ParamError(msg)
        if name not in excitatory and name not in inhibitory:
            msg = (
                f"unknown cell type {name!r}: it is in neither excitatory_celltypes {sorted(excitatory)} "
                f"nor inhibitory_celltypes {sorted(inhibitory)}; add it to one of them."
            )
            raise ParamError(msg)
        bad = [t for t in spec["targets"] if t not in (SOMA, BASAL, APICAL)]
        if bad:
            msg = f"cell type {name!r}: targets {bad} are not dendritic labels {[SOMA, BASAL, APICAL]}"
            raise ParamError(msg)


def place_synapses(
    morphology: Morphology,
    cell_types: Mapping[str, Mapping[str, Any]],
    *,
    excitatory_celltypes: Sequence[str],
    inhibitory_celltypes: Sequence[str],
    column: str = "C2",
    rng: np.random.Generator,
) -> SynapseTable:
    """Place each cell type's synapses on its target sections with its distance preference.

    Candidate sites are the segments between consecutive 3D points of the target sections,
    drawn with probability proportional to segment length times a Gaussian of the segment's
    soma distance; the synapse sits uniformly within the drawn segment. Soma targets get
    one site of weight ``20 µm`` at distance 0.

    Parameters
    ----------
    morphology : Morphology
    cell_types : mapping of str to mapping
        Per presynaptic type: ``n``, ``targets`` (labels), ``distance_um`` ([mean, sd]),
        ``weight_nS`` and the activity keys used by `activation_times`.
    excitatory_celltypes, inhibitory_celltypes : sequence of str
        The EXC/INH split; every type must be in exactly one of them.
    column : str, default "C2"
        Suffix of the synapse type names (``'L5tt_C2'``).
    rng : numpy.random.Generator
        The random stream of the placement (a stream of ``neurodata.seeds.rng``).

    Returns
    -------
    SynapseTable
    """
    _check_cell_types(cell_types, excitatory_celltypes, inhibitory_celltypes)
    both = sorted(set(excitatory_celltypes) & set(inhibitory_celltypes))
    if both:
        msg = f"cell types {both} are listed as both excitatory and inhibitory"
        raise ParamError(msg)
    sec = morphology.point_section
    lengths = morphology.section_lengths()
    arc = morphology.point_arclength()
    dist = morphology.point_soma_distance()
    same = sec[1:] == sec[:-1]
    seg_start = np.flatnonzero(same)  # segment k runs from point k to k + 1
    seg_len = arc[seg_start + 1] - arc[seg_start]
    seg_mid = 0.5 * (dist[seg_start] + dist[seg_start + 1])
    seg_label = morphology.label[sec[seg_start]]
    start = morphology.point_start
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("type", "id", "sec", "pt", "dist", "x", "label", "w", "exc")}
    for name in sorted(cell_types, key=str):
        spec = cell_types[name]
        n = int(spec["n"])
        mean, sd = (float(v) for v in spec["distance_um"])
        on_target = np.isin(seg_label, list(spec["targets"])) & (seg_label != SOMA)
        weight = np.where(on_target, seg_len * np.exp(-0.5 * ((seg_mid - mean) / sd) ** 2), 0.0)
        soma_w = 20.0 * np.exp(-0.5 * (mean / sd) ** 2) if SOMA in spec["targets"] else 0.0
        total = weight.sum() + soma_w
        if n and total <= 0:
            msg = f"cell type {name!r}: no dendrite matches targets {spec['targets']} near {mean} ± {sd} µm"
            raise ParamError(msg)
        on_soma = rng.random(n) < soma_w / total if n else np.zeros(0, bool)
        k = rng.choice(len(seg_start), size=n, p=weight / weight.sum()) if weight.sum() > 0 else np.zeros(n, int)
        u = rng.random(n)
        s = np.where(on_soma, 0, sec[seg_start[k]])
        a = arc[seg_start[k]] + u * seg_len[k]
        x = np.where(on_soma, 0.5, a / np.where(lengths[s] > 0, lengths[s], 1.0))
        d = np.where(on_soma, 0.0, morphology.soma_distance(s, x))
        # nearest point within the section (point indices are section-local, as in ISF)
        pt = np.where(u < 0.5, seg_start[k], seg_start[k] + 1) - start[s]
        pt = np.where(on_soma, 1, pt)
        order = np.lexsort((d, s))
        cols["type"].append(np.full(n, f"{name}_{column}", dtype=object))
        cols["id"].append(np.arange(n, dtype=np.int64))
        cols["sec"].append(s[order].astype(np.int64))
        cols["pt"].append(pt[order].astype(np.int64))
        cols["dist"].append(d[order])
        cols["x"].append(x[order])
        cols["label"].append(np.asarray(morphology.label, dtype=object)[s[order]])
        cols["w"].append(np.full(n, float(spec["weight_nS"])))
        cols["exc"].append(np.full(n, name in excitatory_celltypes))
    cat = {k: np.concatenate(v) if v else np.zeros(0) for k, v in cols.items()}
    return SynapseTable(
        synapse_type=cat["type"].astype(object), synapse_ID=cat["id"].astype(np.int64),
        section_ID=cat["sec"].astype(np.int64), section_pt_ID=cat["pt"].astype(np.int64),
        soma_distance=cat["dist"].astype(np.float64), x=cat["x"].astype(np.float64),
        dendrite_label=cat["label"].astype(object), weight=cat["w"].astype(np.float64),
        is_excitatory=cat["exc"].astype(bool),
    )


def activation_times(
    synapses: SynapseTable,
    cell_types: Mapping[str, Mapping[str, Any]],
    *,
    n_trials: int,
    t_stop_ms: float,
    stimulus_time_ms: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Poisson activation times of every synapse in every trial, with a whisker-evoked transient.

    Each synapse fires as a Poisson process at its type's ongoing rate over ``[0, t_stop_ms)``,
    plus a Poisson number (mean ``evoked``) of evoked spikes at
    ``stimulus_time_ms + latency_ms`` with Gaussian jitter ``jitter_ms`` (spikes falling
    outside the trial are dropped).

    Parameters
    ----------
    synapses : SynapseTable
        From `place_synapses`.
    cell_types : mapping of str to mapping
        Per presynaptic type: ``rate_hz`` (ongoing rate, Hz), ``evoked`` (mean evoked spikes
        per synapse and trial), ``latency_ms`` and ``jitter_ms`` (ms).
    n_trials : int
        Number of trials.
    t_stop_ms, stimulus_time_ms : float
        Trial duration and whisker-stimulus time (ms).
    rng : numpy.random.Generator
        The random stream of the activity (a stream of ``neurodata.seeds.rng``).

    Returns
    -------
    trial : ndarray of int64, shape (n_events,)
    synapse : ndarray of int64, shape (n_events,)
        Index into `synapses`.
    time_ms : ndarray of float64, shape (n_events,)
        Sorted by (trial, synapse, time).
    """
    ctype = celltype_of(synapses.synapse_type)
    names = sorted(set(ctype.tolist()))
    missing = [c for c in names if c not in cell_types]
    if missing:
        msg = f"activation_times: no activity parameters for cell types {missing}"
        raise ParamError(msg)
    rate = np.array([cell_types[c]["rate_hz"] for c in ctype], dtype=np.float64)
    evoked = np.array([cell_types[c]["evoked"] for c in ctype], dtype=np.float64)
    latency = np.array([cell_types[c]["latency_ms"] for c in ctype], dtype=np.float64)
    jitter = np.array([cell_types[c]["jitter_ms"] for c in ctype], dtype=np.float64)
    n_syn = len(synapses)
    n_bg = rng.poisson(rate * t_stop_ms / 1000.0, size=(n_trials, n_syn))
    n_ev = rng.poisson(evoked, size=(n_trials, n_syn))
    tr_bg, sy_bg = np.nonzero(n_bg)
    rep = n_bg[tr_bg, sy_bg]
    tr_bg, sy_bg = np.repeat(tr_bg, rep), np.repeat(sy_bg, rep)
    t_bg = rng.uniform(0.0, t_stop_ms, size=tr_bg.size)
    tr_ev, sy_ev = np.nonzero(n_ev)
    rep = n_ev[tr_ev, sy_ev]
    tr_ev, sy_ev = np.repeat(tr_ev, rep), np.repeat(sy_ev, rep)
    t_ev = stimulus_time_ms + latency[sy_ev] + jitter[sy_ev] * rng.standard_normal(sy_ev.size)
    keep = (t_ev >= 0) & (t_ev < t_stop_ms)
    trial = np.concatenate([tr_bg, tr_ev[keep]]).astype(np.int64)
    synapse = np.concatenate([sy_bg, sy_ev[keep]]).astype(np.int64)
    time = np.concatenate([t_bg, t_ev[keep]])
    order = np.lexsort((time, synapse, trial))
    return trial[order], synapse[order], time[order]
