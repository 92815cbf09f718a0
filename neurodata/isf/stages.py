"""DVC stages of the isf family: simrun -> spatial bins -> ANN batches (thin; the science is in _*.py)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr

from .._exceptions import ParamError
from ..params import Boolean, Interval, ListOf, Text, check_params
from ..runner import run_sweep
from ..store import ArtifactWriter, artifact_path, atomic_output, open_artifact, write_artifact
from ._activation import EI_LABELS, time_bin_edges
from ._ann_batches import accumulate_batch_rows, dendrite_targets, point_sampled_voltage, soma_targets
from ._landmarks import distal_recording_site
from ._simrun import cell_morphology, make_simrun, synaptic_weights
from ._spatial_bins import section_distances, spatial_bin_adjacency, spatial_bin_names, spatial_bin_table

__all__ = ["STAGES", "ann_batches", "simrun", "spatial_bins"]

_POS_FLOAT = Interval(float, 0, None, closed="neither")
_CELLTYPES = ListOf(Text(r"[A-Za-z0-9]+"), unique=True)

SIMRUN_SPEC = {
    "seed": Interval(int, 0, 2**31 - 1),
    "n_trials": Interval(int, 1, None),
    "t_stop_ms": _POS_FLOAT,
    "dt_ms": Interval(float, 0, 1, closed="right"),
    "stimulus_time_ms": Interval(float, 0, None),
    "synapse_scale": _POS_FLOAT,
    "excitatory_celltypes": _CELLTYPES,
    "inhibitory_celltypes": _CELLTYPES,
    "n_basal_stems": Interval(int, 1, 20),
    "n_trunk_sections": Interval(int, 1, 20),
    "n_obliques": Interval(int, 0, 40),
    "tuft_levels": Interval(int, 0, 5),
}
SPATIAL_BINS_SPEC = {"bin_size_um": _POS_FLOAT}
ANN_SPEC = {
    "min_time_ms": Interval(float, 0, None),
    "max_time_ms": _POS_FLOAT,
    "bin_size_ms": _POS_FLOAT,
    "batch_size": Interval(int, 1, None),
    "weighted": Boolean(),
    "excitatory_celltypes": _CELLTYPES,
    "inhibitory_celltypes": _CELLTYPES,
    "tolerance_um": Interval(float, 0, None),
    "isi_fill_ms": _POS_FLOAT,
}


def _write_text_atomic(path: Path, text: str) -> None:
    with atomic_output(path) as tmp:
        tmp.write_text(text)


def simrun(params: Mapping[str, Any], *, data_dir: Path, scheduler: str | None = None) -> list[Path]:
    """Stage ``isf_simrun``: simulate the synthetic simrun; also write the morphology as SWC and hoc."""
    p = check_params(params, SIMRUN_SPEC, stage="isf_simrun")
    if p["stimulus_time_ms"] >= p["t_stop_ms"]:
        msg = f"The 'stimulus_time_ms' parameter of stage isf_simrun must be < t_stop_ms ({p['t_stop_ms']}). Got {p['stimulus_time_ms']} instead."
        raise ParamError(msg)
    ds, morph = make_simrun(
        seed=p["seed"], n_trials=p["n_trials"], t_stop_ms=p["t_stop_ms"], dt_ms=p["dt_ms"],
        stimulus_time_ms=p["stimulus_time_ms"], excitatory_celltypes=p["excitatory_celltypes"],
        inhibitory_celltypes=p["inhibitory_celltypes"], synapse_scale=p["synapse_scale"],
        morphology={k: p[k] for k in ("n_basal_stems", "n_trunk_sections", "n_obliques", "tuft_levels")},
    )
    n_slots = ds.sizes["activation_slot"]
    rows = 1 << 16
    encoding = {
        "soma_voltage": {"chunks": (min(50, ds.sizes["trial"]), ds.sizes["time"])},
        "dendrite_voltage": {"chunks": (min(50, ds.sizes["trial"]), 1, ds.sizes["time"])},
        "activation_times": {"chunks": (rows, n_slots)},
        **{v: {"chunks": (rows,)} for v in ("sim_trial_index", "synapse_type", "synapse_type_code", "synapse_ID", "soma_distance",
                                             "section_ID", "section_pt_ID", "dendrite_label")},
    }
    path = write_artifact(ds, "isf_simrun", params=p, seeds={"seed": p["seed"]},
                          data_dir=data_dir, encoding=encoding)
    swc = Path(data_dir) / "isf_morphology.swc"
    hoc = Path(data_dir) / "isf_morphology.hoc"
    _write_text_atomic(swc, morph.to_swc())
    _write_text_atomic(hoc, morph.to_hoc())
    return [path, swc, hoc]


def _sdf_from_spatial_bins(bins: xr.Dataset) -> pd.DataFrame:
    frame = pd.DataFrame({
        "label": np.asarray(bins["section_label"].values).astype(object),
        "min_": np.asarray(bins["section_min_distance"].values, dtype=np.float64),
        "max_": np.asarray(bins["section_max_distance"].values, dtype=np.float64),
        "n_bins": np.asarray(bins["section_n_bins"].values, dtype=np.int64),
        "binsize": np.asarray(bins["section_bin_size"].values, dtype=np.float64),
    })
    frame.index.name = "section_ID"
    return frame


def spatial_bins(params: Mapping[str, Any], *, data_dir: Path, scheduler: str | None = None) -> list[Path]:
    """Stage ``isf_spatial_bins``: bins of every section of the simrun's cell, and their adjacency."""
    p = check_params(params, SPATIAL_BINS_SPEC, stage="isf_spatial_bins")
    with open_artifact("isf_simrun", data_dir=data_dir, verify=True) as sim:
        morph = cell_morphology(sim[["section_label", "section_parent", "section_parent_x", "point_section",
                                     "point_x", "point_y", "point_z", "point_diameter"]].load())
    sdf = section_distances(morph, p["bin_size_um"])
    table = spatial_bin_table(sdf)
    names = spatial_bin_names(sdf)
    pos = {n: i for i, n in enumerate(names)}
    pairs = spatial_bin_adjacency(morph, sdf)
    point_bin = _point_spatial_bins(morph, sdf)
    um = "um"
    ds = xr.Dataset(
        {
            "bin_section": ("spatial_bin", table["section"].to_numpy(np.int64), {"long_name": "section of the bin"}),
            "bin_index": ("spatial_bin", table["bin"].to_numpy(np.int64), {"long_name": "bin within its section (0 = soma, else 1-based from the soma side)"}),
            "bin_label": ("spatial_bin", table["label"].to_numpy(object), {"long_name": "section label"}),
            "bin_start_distance": ("spatial_bin", table["start"].to_numpy(np.float64), {"units": um, "long_name": "soma distance of the bin start"}),
            "bin_end_distance": ("spatial_bin", table["end"].to_numpy(np.float64), {"units": um, "long_name": "soma distance of the bin end"}),
            "bin_soma_distance": ("spatial_bin", table["centre"].to_numpy(np.float64), {"units": um, "long_name": "soma distance of the bin centre"}),
            "section_label": ("section", sdf["label"].to_numpy(object), {"long_name": "section label"}),
            "section_min_distance": ("section", sdf["min_"].to_numpy(np.float64), {"units": um, "long_name": "soma distance of the section start"}),
            "section_max_distance": ("section", sdf["max_"].to_numpy(np.float64), {"units": um, "long_name": "soma distance of the section end"}),
            "section_n_bins": ("section", sdf["n_bins"].to_numpy(np.int64), {"long_name": "number of bins of the section"}),
            "section_bin_size": ("section", sdf["binsize"].to_numpy(np.float64), {"units": um, "long_name": "bin width (NaN for the soma)"}),
            "point_x": ("point", morph.xyz[:, 0], {"units": um, "long_name": "x coordinate of the 3D point"}),
            "point_y": ("point", morph.xyz[:, 1], {"units": um, "long_name": "y coordinate of the 3D point"}),
            "point_z": ("point", morph.xyz[:, 2], {"units": um, "long_name": "z coordinate of the 3D point"}),
            "point_section": ("point", morph.point_section, {"long_name": "section of the 3D point"}),
            "point_spatial_bin": ("point", point_bin, {"long_name": "position (along spatial_bin) of the bin holding the 3D point"}),
            "adjacency_from": ("adjacency", np.array([pos[a] for a, _ in pairs], dtype=np.int64), {"long_name": "position of the first bin of an adjacent pair"}),
            "adjacency_to": ("adjacency", np.array([pos[b] for _, b in pairs], dtype=np.int64), {"long_name": "position of the second bin of an adjacent pair"}),
        },
        coords={
            "spatial_bin": ("spatial_bin", np.asarray(names, dtype=object), {"long_name": "spatial bin '<section>/<bin>'"}),
            "section": ("section", np.arange(len(sdf), dtype=np.int64), {"long_name": "section ID"}),
        },
        attrs={"bin_size_goal_um": p["bin_size_um"]},
    )
    return [write_artifact(ds, "isf_spatial_bins", params=p, data_dir=data_dir)]


def _point_spatial_bins(morph: Any, sdf: pd.DataFrame) -> np.ndarray:
    """Position of the spatial bin that holds each 3D point of the morphology."""
    from ._activation import assign_spatial_bins

    _, position = assign_spatial_bins(morph.point_section, morph.point_soma_distance(), sdf, tolerance=1e-6)
    return position


ROWS_PER_PIECE = 1 << 17  # activation-table rows read and binned at once


def _ann_batch_task(batch: tuple[int, int, int], *, data_dir: str, out_path: str, sdf: pd.DataFrame,
                    options: Mapping[str, Any]) -> int:
    """Compute one batch of trials [start, stop) and write it into its own chunk of the store.

    The batch's activation rows are read and binned in pieces of ``ROWS_PER_PIECE`` rows, so
    memory stays at about one output batch plus one piece, whatever the number of trials.
    """
    b, start, stop = batch
    opts = dict(options)
    edges = time_bin_edges(opts["min_time"], opts["max_time"], opts["bin_size"])
    n = stop - start
    out = np.zeros((n, 2, int(opts.pop("n_spatial_bins")), len(edges) - 1), dtype=np.float32)
    n_outside = np.zeros(n, dtype=np.int64)
    with open_artifact("isf_simrun", data_dir=data_dir, chunks=None) as sim:
        rs = np.asarray(sim["sa_row_start"].values[start:stop])
        rc = np.asarray(sim["sa_row_count"].values[start:stop])
        names = [str(t) for t in sim["trial"].values[start:stop]]
        if n > 1 and np.any(np.diff(rs) != rc[:-1]):
            msg = f"isf_simrun: activation rows of trials {names[0]}..{names[-1]} are not contiguous; rebuild the simrun."
            raise ValueError(msg)
        type_names = [str(t) for t in sim["synapse_type_name"].values]
        lo, hi = int(rs[0]), int(rs[-1] + rc[-1])
        row_trial_all = np.repeat(np.arange(n), rc)
        for a in range(lo, hi, ROWS_PER_PIECE):
            z = min(a + ROWS_PER_PIECE, hi)
            piece = sim[["section_ID", "soma_distance", "synapse_type_code", "synapse_ID", "activation_times"]].isel(sa_row=slice(a, z))
            rows = {k: np.asarray(v.values) for k, v in piece.data_vars.items()}
            accumulate_batch_rows(
                out, n_outside, row_trial=row_trial_all[a - lo:z - lo], section_ID=rows["section_ID"],
                soma_distance=rows["soma_distance"], synapse_type=rows["synapse_type_code"], synapse_ID=rows["synapse_ID"],
                synapse_type_names=type_names,
                activation_times=rows["activation_times"], trial_names=names, section_distances_df=sdf, edges=edges,
                excitatory_celltypes=opts["excitatory_celltypes"], inhibitory_celltypes=opts["inhibitory_celltypes"],
                synaptic_weights=opts["synaptic_weights"], tolerance=opts["tolerance"],
            )
            del rows, piece
        vm = np.asarray(sim["soma_voltage"].isel(trial=slice(start, stop)).values)
        st = np.asarray(sim["spike_times"].isel(trial=slice(start, stop)).values)
        site = {"rec_site": opts["dendrite_site"], "trial": slice(start, stop)}
        vd = np.asarray(sim["dendrite_voltage"].isel(site).values)
        sd = np.asarray(sim["dendrite_spike_times"].isel(site).values)
        dt_ms = float(sim.attrs["dt_ms"])
    window = {"min_time": opts["min_time"], "max_time": opts["max_time"], "dt_ms": dt_ms}
    vt_max, ap, isi = soma_targets(vm, st, bin_size=opts["bin_size"], isi_fill=opts["isi_fill"], **window)
    vt_dend, ap_dend, isi_dend = dendrite_targets(vd, sd, bin_size=opts["bin_size"], isi_fill=opts["isi_fill"], **window)
    piece = xr.Dataset({
        "synapse_activation": (("trial", "syn_type", "spatial_bin", "time"), out),
        "vt_max_per_ms": (("trial", "time_ms"), vt_max),
        "ap": (("trial", "time"), ap),
        "isi": (("trial", "time"), isi),
        "vt_soma": (("trial", "time_ms"), point_sampled_voltage(vm, **window)),
        "vt_dend_max_per_ms": (("trial", "time_ms"), vt_dend),
        "ap_dend": (("trial", "time"), ap_dend),
        "isi_dend": (("trial", "time"), isi_dend.astype(np.float32)),
        "batch": ("trial", np.full(n, b, dtype=np.int64)),
        "n_activations_outside": ("trial", n_outside),
    })
    piece.to_zarr(out_path, region={"trial": slice(start, stop)}, mode="r+", consolidated=False)
    return b


def ann_batches(params: Mapping[str, Any], *, data_dir: Path, scheduler: str | None = None) -> list[Path]:
    """Stage ``isf_ann_batches``: the 4D activation array and soma targets, one task and chunk per batch."""
    p = check_params(params, ANN_SPEC, stage="isf_ann_batches")
    edges = time_bin_edges(p["min_time_ms"], p["max_time_ms"], p["bin_size_ms"]) if p["max_time_ms"] > p["min_time_ms"] else None
    with open_artifact("isf_simrun", data_dir=data_dir, verify=True) as sim:
        t_stop, dt_ms = float(sim.attrs["t_stop_ms"]), float(sim.attrs["dt_ms"])
        trials = np.asarray(sim["trial"].values).astype(object)
        sites = [str(x) for x in sim["rec_site"].values]
        dend_site = sites.index(distal_recording_site(sites))
        dend_distance = float(sim["rec_site_soma_distance"].values[dend_site])
        weights = synaptic_weights(sim[["celltype_weight", "celltype_is_excitatory"]].load()) if p["weighted"] else None
    if edges is None or p["max_time_ms"] > t_stop:
        msg = (f"The 'max_time_ms' parameter of stage isf_ann_batches must be in (min_time_ms, t_stop_ms of the "
               f"simrun = {t_stop}]. Got {p['max_time_ms']} instead.")
        raise ParamError(msg)
    with open_artifact("isf_spatial_bins", data_dir=data_dir, verify=True) as bins:
        bins = bins.load()
    sdf = _sdf_from_spatial_bins(bins)
    n_trials, n_bins, n_time = len(trials), bins.sizes["spatial_bin"], len(edges) - 1
    n_ms = -(-int(round((p["max_time_ms"] - p["min_time_ms"]) / dt_ms)) // int(round(1 / dt_ms)))
    bs = min(p["batch_size"], n_trials)
    template = xr.Dataset(
        {
            "synapse_activation": (("trial", "syn_type", "spatial_bin", "time"),
                                   da.zeros((n_trials, 2, n_bins, n_time), dtype=np.float32, chunks=(bs, 2, n_bins, n_time)),
                                   {"units": "nS" if p["weighted"] else "1",
                                    "long_name": "summed synaptic weight of activations" if p["weighted"] else "number of synapse activations"}),
            "vt_max_per_ms": (("trial", "time_ms"), da.zeros((n_trials, n_ms), dtype=np.float32, chunks=(bs, n_ms)),
                              {"units": "mV", "long_name": "maximum soma voltage in the ms"}),
            "ap": (("trial", "time"), da.zeros((n_trials, n_time), dtype=bool, chunks=(bs, n_time)),
                   {"long_name": "soma action potential in the time bin"}),
            "isi": (("trial", "time"), da.zeros((n_trials, n_time), dtype=np.float32, chunks=(bs, n_time)),
                    {"units": "ms", "long_name": f"time since the last soma spike at the bin start ({p['isi_fill_ms']} if none)"}),
            "vt_soma": (("trial", "time_ms"), da.zeros((n_trials, n_ms), dtype=np.float32, chunks=(bs, n_ms)),
                        {"units": "mV", "long_name": "soma voltage at the start of the ms (ISF VT_ALL)"}),
            "vt_dend_max_per_ms": (("trial", "time_ms"), da.zeros((n_trials, n_ms), dtype=np.float32, chunks=(bs, n_ms)),
                                   {"units": "mV", "long_name": "maximum voltage in the ms at the distal dendritic site (ISF VT_DEND)"}),
            "ap_dend": (("trial", "time"), da.zeros((n_trials, n_time), dtype=bool, chunks=(bs, n_time)),
                        {"long_name": "dendritic spike (-30 mV crossing at the distal site) in the time bin (ISF AP_DEND)"}),
            "isi_dend": (("trial", "time"), da.zeros((n_trials, n_time), dtype=np.float32, chunks=(bs, n_time)),
                         {"units": "ms", "long_name": f"time since the last dendritic spike at the bin start ({p['isi_fill_ms']} if none; ISF ISI_DEND)"}),
            "batch": ("trial", da.zeros((n_trials,), dtype=np.int64, chunks=(bs,)), {"long_name": "batch of the trial"}),
            "n_activations_outside": ("trial", da.zeros((n_trials,), dtype=np.int64, chunks=(bs,)),
                                      {"long_name": "activation times outside [min_time, max_time] (ignored)"}),
        },
        coords={
            "trial": ("trial", trials, {"long_name": "ISF sim_trial_index"}),
            "syn_type": ("syn_type", np.asarray(EI_LABELS, dtype=object), {"long_name": "presynaptic class"}),
            "spatial_bin": ("spatial_bin", bins["spatial_bin"].values.astype(object), {"long_name": "spatial bin '<section>/<bin>'"}),
            "bin_section": ("spatial_bin", bins["bin_section"].values.astype(np.int64), {"long_name": "section of the spatial bin"}),
            "bin_soma_distance": ("spatial_bin", bins["bin_soma_distance"].values.astype(np.float64), {"units": "um", "long_name": "soma distance of the bin centre"}),
            "time": ("time", edges[:-1], {"units": "ms", "long_name": "start of the temporal bin"}),
            "time_ms": ("time_ms", p["min_time_ms"] + np.arange(n_ms, dtype=np.float64), {"units": "ms", "long_name": "start of the 1 ms block"}),
            "dendrite_site": ((), np.array(sites[dend_site], dtype=object), {"long_name": "distal dendritic recording site (ISF's rule: second by soma distance)"}),
            "dendrite_soma_distance": ((), dend_distance, {"units": "um", "long_name": "soma distance of the distal recording site"}),
        },
        attrs={"min_time_ms": p["min_time_ms"], "max_time_ms": p["max_time_ms"], "bin_size_ms": p["bin_size_ms"],
               "batch_size": bs, "weighted": int(p["weighted"]), "bin_size_goal_um": float(bins.attrs["bin_size_goal_um"])},
    )
    batches = [(b, s, min(s + bs, n_trials)) for b, s in enumerate(range(0, n_trials, bs))]
    options = {
        "min_time": p["min_time_ms"], "max_time": p["max_time_ms"], "bin_size": p["bin_size_ms"],
        "excitatory_celltypes": p["excitatory_celltypes"], "inhibitory_celltypes": p["inhibitory_celltypes"],
        "synaptic_weights": weights, "tolerance": p["tolerance_um"], "isi_fill": p["isi_fill_ms"],
        "n_spatial_bins": n_bins, "dendrite_site": dend_site,
    }
    with ArtifactWriter("ann_batches", params=p, data_dir=data_dir) as writer:
        writer.write_template(template, {name: {"chunks": var.data.chunksize} for name, var in template.data_vars.items()})
        task = functools.partial(_ann_batch_task, data_dir=str(data_dir),
                                 out_path=str(writer.path), sdf=sdf, options=options)
        run_sweep(task, batches, scheduler=scheduler, desc="isf ann batches")
        # validated one batch at a time: memory stays at one batch, not the whole 4D array
        path = writer.commit(validate_slices=("trial", bs))
    return [path]


STAGES = {"isf_simrun": simrun, "isf_spatial_bins": spatial_bins, "isf_ann_batches": ann_batches}
