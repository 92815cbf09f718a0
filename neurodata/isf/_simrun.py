"""The synthetic ISF "simrun": morphology, synapse activations, soma voltage and spikes as one Dataset.

Layout of the ``isf_simrun`` Dataset (all in one Zarr group):

* ``section`` dim: ``section_label``, ``section_parent``, ``section_parent_x``,
  ``section_length``, ``section_min_distance``, ``section_max_distance``;
* ``point`` dim: ``point_section``, ``point_x``/``y``/``z``, ``point_diameter`` (the 3D points);
* ``celltype`` dim: ``celltype_is_excitatory``, ``celltype_weight``, ``celltype_n_synapses``;
* ``sa_row`` x ``activation_slot``: ISF's synapse-activation table, one row per active
  synapse and trial: ``sim_trial_index``, ``synapse_type``, ``synapse_ID``, ``soma_distance``,
  ``section_ID``, ``section_pt_ID``, ``dendrite_label`` and ``activation_times`` (ms, NaN-padded);
  rows are sorted by trial, then synapse type and ID;
* ``trial`` dim (coordinate = ISF ``sim_trial_index`` strings ``'<run>/<000000>'``):
  ``sa_row_start``/``sa_row_count`` (row range of each trial), ``n_spikes``;
* ``trial`` x ``time``: ``soma_voltage`` (mV, every 0.025 ms from 0);
* ``trial`` x ``spike``: ``spike_times`` (ms, NaN-padded, 0 mV upward crossings);
* ``rec_site`` dim (coordinate = ISF's site keys ``..._somaDist_<µm>``, with
  ``rec_site_soma_distance``, ``rec_site_section``, ``rec_site_x``): the dendritic
  recording sites on the apical trunk (ISF's two-site ``apical_proximal_distal_rec_sites``);
  ``dendrite_voltage`` (trial x rec_site x time, mV) and ``dendrite_spike_times``
  (trial x rec_site x dendrite_spike, ms, −30 mV upward crossings as ISF detects them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ._biophysics import Biophysics, compartmentalize, detect_spikes, simulate_cell_voltage
from ._landmarks import recording_sites
from ._morphology import Morphology, make_l5pt_morphology
from ._synapses import DEFAULT_CELL_TYPES, activation_times, place_synapses

__all__ = [
    "DENDRITE_SPIKE_THRESHOLD_MV",
    "SOMA_SPIKE_THRESHOLD_MV",
    "cell_morphology",
    "dendritic_recordings",
    "dendritic_spike_times",
    "make_simrun",
    "spike_times_frame",
    "synapse_activation_frame",
    "synaptic_weights",
    "voltage_frame",
]


#: ISF's detection thresholds: somatic APs at 0 mV, dendritic spikes at −30 mV (spec §2.3).
SOMA_SPIKE_THRESHOLD_MV = 0.0
DENDRITE_SPIKE_THRESHOLD_MV = -30.0


def _attrs(units: str | None, long_name: str) -> dict[str, str]:
    return {"long_name": long_name} if units is None else {"units": units, "long_name": long_name}


def make_simrun(
    *,
    seed: int,
    n_trials: int,
    t_stop_ms: float = 300.0,
    dt_ms: float = 0.025,
    stimulus_time_ms: float = 150.0,
    excitatory_celltypes: Sequence[str],
    inhibitory_celltypes: Sequence[str],
    cell_types: Mapping[str, Mapping[str, Any]] | None = None,
    synapse_scale: float = 1.0,
    column: str = "C2",
    morphology: Mapping[str, Any] | None = None,
    biophysics: Mapping[str, Any] | None = None,
    recording_site_fractions: Sequence[float] = (0.5, 1.0),
) -> tuple[xr.Dataset, Morphology]:
    """Simulate a synthetic ISF simrun: a seeded cell, its synapses and `n_trials` trials.

    Parameters
    ----------
    seed : int
        Root seed; morphology, synapse placement and activations use ``seed``, ``seed + 1``
        and ``seed + 2`` with ``np.random.default_rng``.
    n_trials : int
        Number of trials.
    t_stop_ms, dt_ms, stimulus_time_ms : float
        Trial duration, voltage sampling step and whisker-stimulus time (ms).
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
    simrun : Dataset
        See the module docstring.
    morphology : Morphology
    """
    types = {k: dict(v) for k, v in (cell_types or DEFAULT_CELL_TYPES).items()}
    for spec in types.values():
        spec["n"] = int(round(spec["n"] * synapse_scale))
    morph = make_l5pt_morphology(seed=seed, **dict(morphology or {}))
    syn = place_synapses(morph, types, excitatory_celltypes=excitatory_celltypes,
                         inhibitory_celltypes=inhibitory_celltypes, column=column, seed=seed + 1)
    trial, synapse, time = activation_times(syn, types, n_trials=n_trials, t_stop_ms=t_stop_ms,
                                            stimulus_time_ms=stimulus_time_ms, seed=seed + 2)
    bio = Biophysics(**dict(biophysics or {}))
    sites = recording_sites(morph, recording_site_fractions, compartmentalize(morph, bio).n_per_section)
    vm, vd = simulate_cell_voltage(morph, syn, trial, synapse, time, n_trials=n_trials, t_stop_ms=t_stop_ms,
                                   dt_ms=dt_ms, bio=bio, record=[(site.section, site.x) for site in sites])
    spikes = detect_spikes(vm, dt_ms, SOMA_SPIKE_THRESHOLD_MV)
    dend_spikes = [detect_spikes(vd[:, j], dt_ms, DENDRITE_SPIKE_THRESHOLD_MV) for j in range(len(sites))]
    n_dsp = np.array([[len(dend_spikes[j][r]) for j in range(len(sites))] for r in range(n_trials)], dtype=np.int64).reshape(n_trials, len(sites))
    dsp = np.full((n_trials, len(sites), max(1, int(n_dsp.max()) if n_dsp.size else 1)), np.nan)
    for j in range(len(sites)):
        for r, st in enumerate(dend_spikes[j]):
            dsp[r, j, : len(st)] = st

    # ISF table: one row per (trial, synapse) with at least one activation
    key = trial * len(syn) + synapse
    row_first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    row_of_event = np.cumsum(np.r_[False, key[1:] != key[:-1]])
    slot = np.arange(len(key)) - row_first[row_of_event]
    n_rows = len(row_first)
    n_slots = int(slot.max()) + 1 if len(slot) else 1
    act = np.full((n_rows, n_slots), np.nan)
    act[row_of_event, slot] = time
    row_trial = trial[row_first]
    row_syn = synapse[row_first]
    run = f"simrun_seed{seed}"
    sti = np.asarray([f"{run}/{i:06d}" for i in range(n_trials)], dtype=object)
    start = np.searchsorted(row_trial, np.arange(n_trials)).astype(np.int64)
    count = (np.searchsorted(row_trial, np.arange(n_trials), side="right") - start).astype(np.int64)
    n_spk = np.array([len(s) for s in spikes], dtype=np.int64)
    spk = np.full((n_trials, max(1, int(n_spk.max()) if n_trials else 1)), np.nan)
    for r, s in enumerate(spikes):
        spk[r, : len(s)] = s
    lo, hi = morph.section_distances()
    names = sorted(types)
    type_names = [f"{n}_{column}" for n in names]
    type_code = pd.Index(type_names).get_indexer(syn.synapse_type).astype(np.int16)
    ds = xr.Dataset(
        {
            "section_label": ("section", np.asarray(morph.label, dtype=object), _attrs(None, "section label (ISF)")),
            "section_parent": ("section", morph.parent, _attrs(None, "parent section (-1 for the soma)")),
            "section_parent_x": ("section", morph.parent_x, _attrs("1", "relative position on the parent where the section starts")),
            "section_length": ("section", morph.section_lengths(), _attrs("um", "section arc length")),
            "section_min_distance": ("section", lo, _attrs("um", "soma distance of the section start")),
            "section_max_distance": ("section", hi, _attrs("um", "soma distance of the section end")),
            "point_section": ("point", morph.point_section, _attrs(None, "section of the 3D point")),
            "point_x": ("point", morph.xyz[:, 0], _attrs("um", "x coordinate")),
            "point_y": ("point", morph.xyz[:, 1], _attrs("um", "y coordinate (pia direction)")),
            "point_z": ("point", morph.xyz[:, 2], _attrs("um", "z coordinate")),
            "point_diameter": ("point", morph.diam, _attrs("um", "diameter at the 3D point")),
            "celltype_is_excitatory": ("celltype", np.array([n in excitatory_celltypes for n in names]), _attrs(None, "presynaptic type is excitatory")),
            "celltype_weight": ("celltype", np.array([float(types[n]["weight_nS"]) for n in names]), _attrs("nS", "peak synaptic conductance")),
            "celltype_n_synapses": ("celltype", np.array([int(types[n]["n"]) for n in names], dtype=np.int64), _attrs(None, "number of synapses of the type")),
            "sim_trial_index": ("sa_row", sti[row_trial], _attrs(None, "ISF sim_trial_index of the row")),
            "synapse_type": ("sa_row", syn.synapse_type[row_syn], _attrs(None, "ISF synapse type '<celltype>_<column>'")),
            "synapse_type_code": ("sa_row", type_code[row_syn], _attrs(None, "position of the row's synapse type in the synapse_type_name coordinate (ISF stores the column as a category)")),
            "synapse_ID": ("sa_row", syn.synapse_ID[row_syn], _attrs(None, "synapse index within its type")),
            "soma_distance": ("sa_row", syn.soma_distance[row_syn], _attrs("um", "soma distance of the synapse")),
            "section_ID": ("sa_row", syn.section_ID[row_syn], _attrs(None, "section of the synapse")),
            "section_pt_ID": ("sa_row", syn.section_pt_ID[row_syn], _attrs(None, "nearest 3D point within the section")),
            "dendrite_label": ("sa_row", syn.dendrite_label[row_syn], _attrs(None, "label of the synapse's section")),
            "activation_times": (("sa_row", "activation_slot"), act, _attrs("ms", "synapse activation times (NaN-padded)")),
            "sa_row_start": ("trial", start, _attrs(None, "first sa_row of the trial")),
            "sa_row_count": ("trial", count, _attrs(None, "number of sa_rows of the trial")),
            "soma_voltage": (("trial", "time"), vm, _attrs("mV", "soma membrane potential")),
            "spike_times": (("trial", "spike"), spk, _attrs("ms", "soma spike times, 0 mV upward crossings (NaN-padded)")),
            "n_spikes": ("trial", n_spk, _attrs(None, "number of soma spikes")),
            "dendrite_voltage": (("trial", "rec_site", "time"), vd, _attrs("mV", "membrane potential at the dendritic recording site")),
            "dendrite_spike_times": (("trial", "rec_site", "dendrite_spike"), dsp,
                                     _attrs("ms", f"dendritic spike times, {DENDRITE_SPIKE_THRESHOLD_MV:g} mV upward crossings (NaN-padded)")),
            "n_dendrite_spikes": (("trial", "rec_site"), n_dsp, _attrs(None, "number of dendritic spikes at the site")),
        },
        coords={
            "section": ("section", np.arange(morph.n_sections, dtype=np.int64), _attrs(None, "section ID (hoc creation order)")),
            "celltype": ("celltype", np.asarray(names, dtype=object), _attrs(None, "presynaptic cell type")),
            "synapse_type_name": ("celltype", np.asarray(type_names, dtype=object), _attrs(None, "ISF synapse type of the cell type")),
            "trial": ("trial", sti, _attrs(None, "ISF sim_trial_index")),
            "time": ("time", np.arange(vm.shape[1]) * dt_ms, _attrs("ms", "time since trial start")),
            "rec_site": ("rec_site", np.asarray([site.name for site in sites], dtype=object),
                         _attrs(None, "dendritic recording site (ISF's key, ending in its soma distance)")),
            "rec_site_soma_distance": ("rec_site", np.array([site.soma_distance for site in sites]),
                                       _attrs("um", "soma distance of the recording site")),
            "rec_site_section": ("rec_site", np.array([site.section for site in sites], dtype=np.int64),
                                 _attrs(None, "section of the recording site")),
            "rec_site_x": ("rec_site", np.array([site.x for site in sites]), _attrs("1", "relative position on the section")),
        },
        attrs={
            "dt_ms": dt_ms, "t_stop_ms": t_stop_ms, "stimulus_time_ms": stimulus_time_ms, "column": column,
            "n_synapses": int(len(syn)),
            "model": "active L5PT compartmental model (Hay et al. 2011 channels: bAPs, Ca2+ hot zone, BAC firing), "
                     "AMPA/NMDA and GABA_A conductance synapses",
            "soma_spike_threshold_mV": SOMA_SPIKE_THRESHOLD_MV,
            "dendrite_spike_threshold_mV": DENDRITE_SPIKE_THRESHOLD_MV,
        },
    )
    return ds, morph


def cell_morphology(simrun: xr.Dataset) -> Morphology:
    """The cell of a simrun (ISF ``get_neuron_param_file``: where the cell description lives).

    ISF returned the path of the cell-parameter file in the database and could pick
    ``Loader.json`` instead (spec bug 9); here the cell is stored in the simrun itself, so
    there is exactly one.
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
    """Soma spike times in ISF's form: index ``sim_trial_index``, int columns 0..k-1, NaN-padded."""
    st = np.asarray(simrun["spike_times"].values)
    return pd.DataFrame(st, index=pd.Index(np.asarray(simrun["trial"].values).astype(object), name="sim_trial_index"))


def voltage_frame(simrun: xr.Dataset) -> pd.DataFrame:
    """Soma voltage traces in ISF's form: index ``sim_trial_index``, float time columns (ms)."""
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
            raise ValueError(msg)
    col = simrun.attrs.get("column", "C2")
    return {f"{n}_{col}": float(w) for n, w in zip(names, simrun["celltype_weight"].values, strict=True)}



def dendritic_recordings(simrun: xr.Dataset) -> dict[str, pd.DataFrame]:
    """ISF's ``dendritic_recordings``: per site key, the voltage frame of `voltage_frame`'s layout (mV)."""
    index = pd.Index(np.asarray(simrun["trial"].values).astype(object), name="sim_trial_index")
    time = np.asarray(simrun["time"].values)
    return {str(site): pd.DataFrame(np.asarray(simrun["dendrite_voltage"].isel(rec_site=j).values), index=index, columns=time)
            for j, site in enumerate(simrun["rec_site"].values)}


def dendritic_spike_times(simrun: xr.Dataset) -> dict[str, pd.DataFrame]:
    """ISF's ``dendritic_spike_times``: per ``'<site>_-30.0'``, spike times (ms) like `spike_times_frame`."""
    index = pd.Index(np.asarray(simrun["trial"].values).astype(object), name="sim_trial_index")
    thr = float(simrun.attrs.get("dendrite_spike_threshold_mV", DENDRITE_SPIKE_THRESHOLD_MV))
    return {f"{site}_{thr}": pd.DataFrame(np.asarray(simrun["dendrite_spike_times"].isel(rec_site=j).values), index=index)
            for j, site in enumerate(simrun["rec_site"].values)}
