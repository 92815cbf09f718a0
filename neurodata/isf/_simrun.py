"""The synthetic ISF "simrun": a seeded cell, its synapses and their activity, simulated trial by trial.

`simulate_simrun` is the science (arrays in a `SimrunResult`); `make_simrun` returns it as the
labelled ``isf_simrun`` Dataset (`neurodata.isf._artifacts.simrun_dataset` describes its
layout). The readers below (`synapse_activation_frame`, `spike_times_frame`, ...) turn such a
Dataset into ISF's pandas layouts.

Random streams (``neurodata.seeds.rng``): the morphology draws from the root stream of the
seed (``rng(seed)``, so a seed's cell is the one it has always been: the model's densities
were refitted to seed 0's cell), the synapse placement from its child `SYNAPSE_STREAM` and
the activations from its child `ACTIVITY_STREAM`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .._exceptions import ParamError
from ..seeds import rng as rng_for
from ._biophysics import Biophysics, compartmentalize, detect_spikes, simulate_cell_voltage
from ._landmarks import RecordingSite, recording_sites
from ._morphology import Morphology, make_l5pt_morphology
from ._synapses import DEFAULT_CELL_TYPES, SynapseTable, activation_times, place_synapses

__all__ = [
    "ACTIVITY_STREAM",
    "DENDRITE_SPIKE_THRESHOLD_MV",
    "SOMA_SPIKE_THRESHOLD_MV",
    "SYNAPSE_STREAM",
    "SimrunResult",
    "cell_morphology",
    "dendritic_recordings",
    "dendritic_spike_times",
    "make_simrun",
    "simulate_simrun",
    "spike_times_frame",
    "synapse_activation_frame",
    "synaptic_weights",
    "voltage_frame",
]


#: ISF's detection thresholds: somatic APs at 0 mV, dendritic spikes at −30 mV (spec §2.3).
SOMA_SPIKE_THRESHOLD_MV = 0.0
DENDRITE_SPIKE_THRESHOLD_MV = -30.0
#: Child streams of the run's seed (``neurodata.seeds.rng(seed, *stream)``).
SYNAPSE_STREAM = (1,)
ACTIVITY_STREAM = (2,)
MODEL = ("active L5PT compartmental model (Hay et al. 2011 channels: bAPs, Ca2+ hot zone, BAC firing), "
         "AMPA/NMDA and GABA_A conductance synapses")


@dataclass(frozen=True)
class SimrunResult:
    """What `simulate_simrun` computes: the cell, its synapses, their activations and the responses.

    Attributes
    ----------
    morphology : Morphology
    synapses : SynapseTable
    cell_types : dict of str to dict
        The presynaptic types' parameters, synapse counts scaled (``n``).
    excitatory_celltypes : list of str
    column : str
        Suffix of the synapse type names.
    seed : int
    trial, synapse : ndarray of int64, shape (n_events,)
        Trial and synapse (index into `synapses`) of every activation, sorted by trial,
        synapse, time.
    time_ms : ndarray of float64, shape (n_events,)
        Activation times (ms).
    soma_voltage : ndarray of float32, shape (n_trials, n_steps)
        mV every `dt_ms` from 0.
    dendrite_voltage : ndarray of float32, shape (n_trials, n_sites, n_steps)
        mV at the recording sites.
    sites : list of RecordingSite
    spike_times : list of ndarray of float64
        Soma spike times (ms, `SOMA_SPIKE_THRESHOLD_MV` crossings) per trial.
    dendrite_spike_times : list of list of ndarray of float64
        ``[site][trial]``: spike times (ms, `DENDRITE_SPIKE_THRESHOLD_MV` crossings).
    t_stop_ms, dt_ms, stimulus_time_ms : float
        ms.
    """

    morphology: Morphology
    synapses: SynapseTable
    cell_types: dict[str, dict[str, Any]]
    excitatory_celltypes: list[str]
    column: str
    seed: int
    trial: np.ndarray
    synapse: np.ndarray
    time_ms: np.ndarray
    soma_voltage: np.ndarray
    dendrite_voltage: np.ndarray
    sites: list[RecordingSite]
    spike_times: list[np.ndarray]
    dendrite_spike_times: list[list[np.ndarray]]
    t_stop_ms: float
    dt_ms: float
    stimulus_time_ms: float

    @property
    def n_trials(self) -> int:
        return int(self.soma_voltage.shape[0])


def simulate_simrun(
    *,
    seed: int,
    n_trials: int,
    t_stop_ms: float,
    dt_ms: float,
    stimulus_time_ms: float,
    excitatory_celltypes: Sequence[str],
    inhibitory_celltypes: Sequence[str],
    cell_types: Mapping[str, Mapping[str, Any]] | None = None,
    synapse_scale: float = 1.0,
    column: str = "C2",
    morphology: Mapping[str, Any] | None = None,
    biophysics: Mapping[str, Any] | None = None,
    recording_site_fractions: Sequence[float] = (0.5, 1.0),
) -> SimrunResult:
    """Simulate a synthetic ISF simrun: a seeded cell, its synapses and `n_trials` trials.

    Parameters
    ----------
    seed : int
        The run's seed, >= 0 (streams: see the module docstring).
    n_trials : int
        Number of trials.
    t_stop_ms, dt_ms, stimulus_time_ms : float
        Trial duration, voltage sampling (and integration) step and whisker-stimulus time (ms).
    excitatory_celltypes, inhibitory_celltypes : sequence of str
        The EXC/INH split of presynaptic cell types.
    cell_types : mapping, optional
        Per-type synapse and activity parameters (default `DEFAULT_CELL_TYPES`).
    synapse_scale : float
        Multiplies every type's synapse count.
    column : str
        Suffix of synapse type names.
    morphology, biophysics : mapping, optional
        Keyword arguments of `make_l5pt_morphology` and `Biophysics`.
    recording_site_fractions : sequence of float
        Dendritic recording sites on the apical trunk, as fractions of the main bifurcation's
        soma distance (default: halfway and at the bifurcation, see `recording_sites`).

    Returns
    -------
    SimrunResult
    """
    types = {k: dict(v) for k, v in (cell_types or DEFAULT_CELL_TYPES).items()}
    for spec in types.values():
        spec["n"] = int(round(spec["n"] * synapse_scale))
    morph = make_l5pt_morphology(seed=seed, **dict(morphology or {}))
    syn = place_synapses(morph, types, excitatory_celltypes=excitatory_celltypes,
                         inhibitory_celltypes=inhibitory_celltypes, column=column, rng=rng_for(seed, *SYNAPSE_STREAM))
    trial, synapse, time = activation_times(syn, types, n_trials=n_trials, t_stop_ms=t_stop_ms,
                                            stimulus_time_ms=stimulus_time_ms, rng=rng_for(seed, *ACTIVITY_STREAM))
    bio = Biophysics(**dict(biophysics or {}))
    sites = recording_sites(morph, recording_site_fractions, compartmentalize(morph, bio).n_per_section)
    vm, vd = simulate_cell_voltage(morph, syn, trial, synapse, time, n_trials=n_trials, t_stop_ms=t_stop_ms,
                                   dt_ms=dt_ms, bio=bio, record=[(site.section, site.x) for site in sites])
    return SimrunResult(
        morphology=morph, synapses=syn, cell_types=types, excitatory_celltypes=list(excitatory_celltypes), column=column,
        seed=int(seed), trial=trial, synapse=synapse, time_ms=time, soma_voltage=vm, dendrite_voltage=vd, sites=list(sites),
        spike_times=detect_spikes(vm, dt_ms, SOMA_SPIKE_THRESHOLD_MV),
        dendrite_spike_times=[detect_spikes(vd[:, j], dt_ms, DENDRITE_SPIKE_THRESHOLD_MV) for j in range(len(sites))],
        t_stop_ms=float(t_stop_ms), dt_ms=float(dt_ms), stimulus_time_ms=float(stimulus_time_ms),
    )


def activation_table(trial: np.ndarray, synapse: np.ndarray, time_ms: np.ndarray, n_synapses: int,
                     n_trials: int) -> dict[str, np.ndarray]:
    """ISF's synapse-activation table: one row per (trial, synapse) with at least one activation.

    Parameters
    ----------
    trial, synapse : ndarray of int64, shape (n_events,)
        Sorted by trial, then synapse.
    time_ms : ndarray of float64, shape (n_events,)
    n_synapses, n_trials : int

    Returns
    -------
    dict of str to ndarray
        ``row_trial``, ``row_synapse`` (n_rows,); ``activation_times`` (n_rows, n_slots), ms,
        NaN-padded; ``row_start``, ``row_count`` (n_trials,): each trial's rows.
    """
    key = trial * n_synapses + synapse
    new_row = np.r_[True, key[1:] != key[:-1]] if len(key) else np.zeros(0, bool)
    row_first = np.flatnonzero(new_row)
    row_of_event = np.cumsum(new_row) - 1
    slot = np.arange(len(key)) - row_first[row_of_event] if len(key) else np.zeros(0, np.int64)
    n_slots = int(slot.max()) + 1 if len(slot) else 1
    act = np.full((len(row_first), n_slots), np.nan)
    act[row_of_event, slot] = time_ms
    row_trial = trial[row_first]
    start = np.searchsorted(row_trial, np.arange(n_trials)).astype(np.int64)
    count = (np.searchsorted(row_trial, np.arange(n_trials), side="right") - start).astype(np.int64)
    return {"row_trial": row_trial, "row_synapse": synapse[row_first], "activation_times": act,
            "row_start": start, "row_count": count}


def make_simrun(
    *,
    seed: int,
    n_trials: int,
    t_stop_ms: float = 300.0,
    dt_ms: float = 0.025,
    stimulus_time_ms: float = 150.0,
    excitatory_celltypes: Sequence[str],
    inhibitory_celltypes: Sequence[str],
    **kwargs: Any,
) -> tuple[xr.Dataset, Morphology]:
    """Simulate a synthetic ISF simrun (`simulate_simrun`) and return it as the ``isf_simrun`` Dataset.

    Parameters
    ----------
    seed : int
        The run's seed, >= 0.
    n_trials : int
        Number of trials.
    t_stop_ms, dt_ms, stimulus_time_ms : float
        Trial duration, voltage sampling step and whisker-stimulus time (ms).
    excitatory_celltypes, inhibitory_celltypes : sequence of str
        The EXC/INH split of presynaptic cell types.
    **kwargs
        ``cell_types``, ``synapse_scale``, ``column``, ``morphology``, ``biophysics``,
        ``recording_site_fractions`` of `simulate_simrun`.

    Returns
    -------
    simrun : Dataset
        Labelled from the ``isf_simrun`` contract (layout: `neurodata.isf._artifacts.simrun_dataset`).
    morphology : Morphology
    """
    from ._artifacts import simrun_dataset

    result = simulate_simrun(seed=seed, n_trials=n_trials, t_stop_ms=t_stop_ms, dt_ms=dt_ms,
                             stimulus_time_ms=stimulus_time_ms, excitatory_celltypes=excitatory_celltypes,
                             inhibitory_celltypes=inhibitory_celltypes, **kwargs)
    return simrun_dataset(result), result.morphology


def cell_morphology(simrun: xr.Dataset) -> Morphology:
    """The cell of a simrun (ISF ``get_neuron_param_file``: where the cell description lives).

    ISF returned the path of the cell-parameter file in the database and could pick
    ``Loader.json`` instead (spec bug 9); here the cell is stored in the simrun itself, so
    there is exactly one.

    Parameters
    ----------
    simrun : Dataset
        An ``isf_simrun`` artifact (its ``section_*`` and ``point_*`` variables).
    """
    return Morphology(
        label=np.asarray(simrun["section_label"].values, dtype=object),
        parent=np.asarray(simrun["section_parent"].values, dtype=np.int64),
        parent_x=np.asarray(simrun["section_parent_x"].values, dtype=np.float64),
        point_section=np.asarray(simrun["point_section"].values, dtype=np.int64),
        xyz=np.stack([np.asarray(simrun[f"point_{c}"].values, dtype=np.float64) for c in "xyz"], axis=1),
        diam=np.asarray(simrun["point_diameter"].values, dtype=np.float64),
    )


def synapse_activation_frame(simrun: xr.Dataset, trials: Sequence[int] | slice | None = None) -> pd.DataFrame:
    """The synapse-activation table in ISF's pandas form.

    Parameters
    ----------
    simrun : Dataset
    trials : slice or sequence of int, optional
        Trial positions to read (rows are read only for those; default all).

    Returns
    -------
    DataFrame indexed by ``sim_trial_index``
        Columns ``synapse_type``, ``synapse_ID``, ``soma_distance``, ``section_ID``,
        ``section_pt_ID``, ``dendrite_label`` and activation-time columns ``'0'``, ``'1'``, ...
    """
    if trials is None:
        rows = slice(None)
        sub = simrun
    else:
        n = simrun.sizes["trial"]
        try:
            pos = np.arange(n)[trials]
        except IndexError:
            msg = f"synapse_activation_frame: 'trials' {trials!r} selects positions outside the simrun's {n} trials (0..{n - 1})."
            raise IndexError(msg) from None
        start = np.asarray(simrun["sa_row_start"].values)[pos]
        count = np.asarray(simrun["sa_row_count"].values)[pos]
        rows = np.concatenate([np.arange(s, s + c) for s, c in zip(start, count, strict=True)]) if len(pos) else np.zeros(0, int)
        sub = simrun.isel(sa_row=rows)
    cols = ["synapse_type", "synapse_ID", "soma_distance", "section_ID", "section_pt_ID", "dendrite_label"]
    data = {c: np.asarray(sub[c].values) for c in cols}
    for c in ("synapse_type", "dendrite_label"):
        data[c] = data[c].astype(object)
    act = np.asarray(sub["activation_times"].values)
    frame = pd.DataFrame(data, index=pd.Index(np.asarray(sub["sim_trial_index"].values).astype(object), name="sim_trial_index"))
    times = pd.DataFrame(act, index=frame.index, columns=[str(i) for i in range(act.shape[1])])
    return pd.concat([frame, times], axis=1)


def spike_times_frame(simrun: xr.Dataset) -> pd.DataFrame:
    """Soma spike times in ISF's form: index ``sim_trial_index``, int columns 0..k-1, NaN-padded.

    Parameters
    ----------
    simrun : Dataset
        An ``isf_simrun`` artifact.
    """
    st = np.asarray(simrun["spike_times"].values)
    return pd.DataFrame(st, index=pd.Index(np.asarray(simrun["trial"].values).astype(object), name="sim_trial_index"))


def voltage_frame(simrun: xr.Dataset) -> pd.DataFrame:
    """Soma voltage traces in ISF's form: index ``sim_trial_index``, float time columns (ms).

    Parameters
    ----------
    simrun : Dataset
        An ``isf_simrun`` artifact.
    """
    return pd.DataFrame(
        np.asarray(simrun["soma_voltage"].values),
        index=pd.Index(np.asarray(simrun["trial"].values).astype(object), name="sim_trial_index"),
        columns=np.asarray(simrun["time"].values),
    )


def synaptic_weights(simrun: xr.Dataset, excitatory_celltypes: Sequence[str] | None = None) -> dict[str, float]:
    """Peak conductance (nS) of every synapse type of a simrun (ISF ``load_syn_weights``).

    ISF's version always raised ValueError (spec §1.15) and would have returned
    ``{sim_trial_index: {type: weight}}``; the weights are one per synapse type here, as its
    docstring intended.

    Parameters
    ----------
    simrun : Dataset
    excitatory_celltypes : sequence of str, optional
        Only checked for consistency with the simrun's EXC/INH split when given.

    Returns
    -------
    dict of str to float
        ``{'L5tt_C2': 0.5, ...}``.
    """
    names = [str(n) for n in simrun["celltype"].values]
    if excitatory_celltypes is not None:
        stored = {n for n, e in zip(names, simrun["celltype_is_excitatory"].values, strict=True) if e}
        given = {n for n in names if n in set(excitatory_celltypes)}
        if stored != given:
            msg = (
                f"synaptic_weights: 'excitatory_celltypes' disagrees with the simrun for "
                f"{sorted(stored ^ given)}; the simrun was made with {sorted(stored)} excitatory."
            )
            raise ParamError(msg)
    col = simrun.attrs.get("column", "C2")
    return {f"{n}_{col}": float(w) for n, w in zip(names, simrun["celltype_weight"].values, strict=True)}



def dendritic_recordings(simrun: xr.Dataset) -> dict[str, pd.DataFrame]:
    """ISF's ``dendritic_recordings``: per site key, the voltage frame of `voltage_frame`'s layout (mV).

    Parameters
    ----------
    simrun : Dataset
        An ``isf_simrun`` artifact.
    """
    index = pd.Index(np.asarray(simrun["trial"].values).astype(object), name="sim_trial_index")
    time = np.asarray(simrun["time"].values)
    return {str(site): pd.DataFrame(np.asarray(simrun["dendrite_voltage"].isel(rec_site=j).values), index=index, columns=time)
            for j, site in enumerate(simrun["rec_site"].values)}


def dendritic_spike_times(simrun: xr.Dataset) -> dict[str, pd.DataFrame]:
    """ISF's ``dendritic_spike_times``: per ``'<site>_-30.0'``, spike times (ms) like `spike_times_frame`.

    Parameters
    ----------
    simrun : Dataset
        An ``isf_simrun`` artifact.
    """
    index = pd.Index(np.asarray(simrun["trial"].values).astype(object), name="sim_trial_index")
    thr = float(simrun.attrs.get("dendrite_spike_threshold_mV", DENDRITE_SPIKE_THRESHOLD_MV))
    return {f"{site}_{thr}": pd.DataFrame(np.asarray(simrun["dendrite_spike_times"].isel(rec_site=j).values), index=index)
            for j, site in enumerate(simrun["rec_site"].values)}
