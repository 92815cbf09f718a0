"""The BrainGrid artifacts as labelled xarray objects, built from the science's plain arrays.

Values only; ``units`` and ``long_name`` come from the contracts (:func:`neurodata.schemas.label`,
``schemas/braingrid_*.yaml`` and ``schemas/burst_windows.yaml``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from ..schemas import label

__all__ = ["baselines_dataset", "bursts_dataset", "concat_cultures", "simulation_dataset", "spikes_dataset",
           "windows_tree"]


def spikes_dataset(arrays: Mapping[str, np.ndarray], layout: Any, culture: int = 0) -> xr.Dataset:
    """The ``braingrid_spikes`` Dataset of one culture (join cultures with :func:`concat_cultures`).

    Parameters
    ----------
    arrays : mapping
        ``time_step`` (uint64, steps), ``neuron`` (int32), ``x``, ``y`` (int16, grid units),
        each of shape (n_spikes,), sorted by (time step, neuron).
    layout : BrainGridLayout
        What :func:`~._spike_reader.read_layout` read: the neuron table and the run's sizes.
    culture : int, default 0
        The culture of every spike (coordinate ``culture`` along ``spike``).
    """
    starter = np.zeros(layout.n_neurons, dtype=bool)
    starter[layout.starters] = True
    ds = xr.Dataset(
        {
            "time_step": ("spike", arrays["time_step"]),
            "neuron": ("spike", arrays["neuron"]),
            "x": ("spike", arrays["x"]),
            "y": ("spike", arrays["y"]),
            "cell_x": ("cell", layout.xloc),
            "cell_y": ("cell", layout.yloc),
            "cell_type": ("cell", layout.neuron_types),
            "starter": ("cell", starter),
        },
        coords={"cell": ("cell", np.arange(layout.n_neurons, dtype=np.int32)),
                "culture": ("spike", np.full(arrays["time_step"].shape[0], culture, dtype=np.int16))},
        attrs={
            "dt_s": layout.dt_s,
            "n_steps": layout.n_steps,
            "n_neurons": layout.n_neurons,
            "n_probed": layout.n_cols,
            "grid_width": int(layout.xloc.max()) + 1 if layout.n_neurons else 0,
            "sort_order": "culture, then time_step, then neuron (stable; ties within a step by neuron id)",
        },
    )
    return label(ds, "braingrid_spikes")


def concat_cultures(tables: Sequence[xr.Dataset], dim: str, shared: Sequence[str] = (), artifact: str | None = None,
                    attrs: Mapping[str, Any] | None = None) -> xr.Dataset:
    """Join per-culture tables of one artifact along *dim*, in the order given (culture order).

    Parameters
    ----------
    tables : sequence of xarray.Dataset
        One labelled table per culture, each with a ``culture`` coordinate along *dim*.
    dim : str
        The table's row dim (``spike``, ``burst``).
    shared : sequence of str
        Variables not along *dim* that every culture must share (the neuron table); taken from
        the first.
    artifact : str, optional
        Label the result from this artifact's contract.
    attrs : mapping, optional
        The result's attrs (default: the first table's).

    Raises
    ------
    ValueError
        A shared variable or an attr differs between cultures (files of different grids or runs).
    """
    first = tables[0]
    for k, t in enumerate(tables[1:], start=1):
        for name in shared:
            if not np.array_equal(t[name].values, first[name].values):
                msg = f"Culture table {k} has another {name!r} than table 0: the cultures of one ensemble share the grid."
                raise ValueError(msg)
        for key in ("dt_s", "n_steps", "n_neurons", "n_probed", "grid_width"):
            if key in first.attrs and t.attrs.get(key) != first.attrs[key]:
                msg = f"Culture table {k} has {key} = {t.attrs.get(key)!r}, table 0 {first.attrs[key]!r}: the cultures must share the run's sizes."
                raise ValueError(msg)
    if len(tables) == 1:
        joined = first.copy()
        joined.attrs = dict(first.attrs if attrs is None else attrs)
        return label(joined, artifact) if artifact else joined
    along = [t.drop_vars([n for n in shared if n in t.variables]) for t in tables]
    joined = xr.concat(along, dim=dim, data_vars="minimal", coords="minimal", compat="override",
                       combine_attrs="override")
    for name in shared:
        joined[name] = first[name]
    if dim in first.coords and first[dim].dims == (dim,):
        joined = joined.assign_coords({dim: (dim, np.arange(joined.sizes[dim], dtype=first[dim].dtype), first[dim].attrs)})
    joined.attrs = dict(first.attrs if attrs is None else attrs)
    return label(joined, artifact) if artifact else joined


def bursts_dataset(columns: Mapping[str, np.ndarray], detector: Sequence[str], burst_id: np.ndarray,
                   attrs: Mapping[str, Any]) -> xr.Dataset:
    """The ``braingrid_bursts`` Dataset: one row per burst.

    Parameters
    ----------
    columns : mapping of str -> ndarray of shape (n_bursts,), int64
        The burst table's variables (steps, counts, rows; see the contract).
    detector : sequence of str, length n_bursts
        The detector of each burst.
    burst_id : ndarray of shape (n_bursts,), int64
        1-based ID within the detector.
    attrs : mapping
        Thresholds and counts of the run.
    """
    n = len(detector)
    ds = xr.Dataset(
        {name: ("burst", np.asarray(values, dtype=np.int64)) for name, values in columns.items()},
        coords={
            "burst": ("burst", np.arange(n, dtype=np.int64)),
            "detector": ("burst", np.array(list(detector), dtype=object)),
            "burst_id": ("burst", np.asarray(burst_id, dtype=np.int64)),
        },
        attrs=dict(attrs),
    )
    return label(ds, "braingrid_bursts")


def windows_tree(root_attrs: Mapping[str, Any], nodes: Mapping[int, Mapping[str, Any]]) -> xr.DataTree:
    """The ``burst_windows`` DataTree: one node ``window_{w}`` per window size.

    Parameters
    ----------
    root_attrs : mapping
        The run's figures (gap, seed, counts).
    nodes : mapping of int -> mapping
        Per window size *w*: ``values`` (name -> array; (sample, position) for ``temporal``,
        ``x``, ``y``, ``neuron``, (sample,) for the rest; ``culture`` becomes a coordinate) and ``attrs``.
    """
    tree: dict[str, xr.Dataset] = {"/": xr.Dataset(attrs=dict(root_attrs))}
    for w, node in nodes.items():
        values = node["values"]
        n_samples = len(values["label"])
        coords = {"sample": ("sample", np.arange(n_samples, dtype=np.int64)),
                  "position": ("position", np.arange(w, dtype=np.int32))}
        if "culture" in values:
            coords["culture"] = ("sample", np.asarray(values["culture"], dtype=np.int64))
        tree[f"window_{w}"] = xr.Dataset(
            {name: (("sample", "position") if np.ndim(v) == 2 else "sample", v) for name, v in values.items()
             if name != "culture"},
            coords=coords,
            attrs=dict(node["attrs"]),
        )
    return label(xr.DataTree.from_dict(tree), "burst_windows")


def baselines_dataset(sizes: Sequence[int], kinds: Sequence[str], models: Sequence[str], values: Mapping[str, np.ndarray],
                      attrs: Mapping[str, Any], cultures: Sequence[int] = (0,)) -> xr.Dataset:
    """The ``braingrid_baselines`` Dataset.

    Parameters
    ----------
    sizes, kinds, models : sequence
        The window sizes [spikes], window kinds and baseline models (the coordinates).
    values : mapping of str -> ndarray
        ``test_accuracy``, ``val_accuracy``, ``cv_*`` of shape (window, kind, model);
        ``culture_accuracy`` of shape (window, kind, model, culture); ``threshold``,
        ``threshold_sign`` of shape (window, kind); ``n_train``, ``n_val``, ``n_test`` of shape (window,).
    attrs : mapping
        The fit's settings.
    cultures : sequence of int
        The cultures (coordinate of ``culture_accuracy``).
    """
    dims = {4: ("window", "kind", "model", "culture"), 3: ("window", "kind", "model"), 2: ("window", "kind"),
            1: ("window",)}
    ds = xr.Dataset(
        {name: (dims[np.ndim(v)], v) for name, v in values.items()},
        coords={"window": ("window", np.array(sizes, dtype=np.int64)),
                "kind": ("kind", np.array(list(kinds), dtype=object)),
                "model": ("model", np.array(list(models), dtype=object)),
                "culture": ("culture", np.asarray(cultures, dtype=np.int64))},
        attrs=dict(attrs),
    )
    return label(ds, "braingrid_baselines")


def _aggregate_checks(checks: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The ensemble's burst check: counts summed, the first burst the earliest, other figures averaged over cultures."""
    out: dict[str, Any] = {}
    for key in checks[0]:
        values = [c[key] for c in checks]
        if key == "first_burst_step":
            out[key] = int(min(values))
        elif isinstance(values[0], int | np.integer):
            out[key] = int(sum(values))
        else:
            finite = [float(v) for v in values if np.isfinite(v)]
            out[key] = float(np.mean(finite)) if finite else float("nan")
    return out


def simulation_dataset(runs: Sequence[Mapping[str, Any]], h5_files: Sequence[str]) -> xr.Dataset:
    """The ``braingrid_simulation`` summary of an ensemble of growth runs.

    Parameters
    ----------
    runs : sequence of mapping, one per culture
        What :func:`~.stages_simulation.simulate_culture` returns: ``check`` (the burst check
        of spec §4.5), ``sha256`` and the arrays ``radius``, ``rate`` (epochs + 1, N),
        ``n_synapses`` (epochs + 1,), ``intrinsic_rate``, ``threshold``, ``x``, ``y``,
        ``is_inh``, ``starter`` (N,).
    h5_files : sequence of str
        Each culture's HDF5 file, relative to the data folder.

    Returns
    -------
    xarray.Dataset
        Dims (culture, epoch, neuron): ``radius`` [grid_unit] and ``rate`` [Hz] (epoch 0 =
        start); ``n_synapses`` per culture and epoch; ``coupled`` per epoch; per culture
        ``n_bursts``, ``h5_file``, ``h5_sha256``; per neuron ``x``, ``y``, ``neuron_type``,
        ``starter`` (the lattice, the same in every culture); per culture and neuron
        ``threshold`` [V], ``intrinsic_rate`` [Hz]. Attrs ``burst_check_*``: the ensemble's
        check (counts summed, figures averaged over cultures).
    """
    first = runs[0]
    for c, run in enumerate(runs):
        for key in ("x", "y", "is_inh", "starter"):
            if not np.array_equal(run[key], first[key]):
                msg = f"Culture {c} has another {key!r} lattice than culture 0: the cultures of one ensemble share the grid."
                raise ValueError(msg)
    n_epochs = first["radius"].shape[0] - 1
    epochs = np.arange(n_epochs + 1, dtype=np.int64)
    stack = lambda key, dtype: np.stack([np.asarray(r[key], dtype=dtype) for r in runs])  # noqa: E731
    ds = xr.Dataset(
        {
            "radius": (("culture", "epoch", "neuron"), stack("radius", np.float32)),
            "rate": (("culture", "epoch", "neuron"), stack("rate", np.float32)),
            "n_synapses": (("culture", "epoch"), stack("n_synapses", np.int64)),
            "coupled": ("epoch", epochs > first["analytic_epochs"]),
            "intrinsic_rate": (("culture", "neuron"), stack("intrinsic_rate", np.float64)),
            "threshold": (("culture", "neuron"), stack("threshold", np.float32)),
            "n_bursts": ("culture", np.array([r["check"]["n_bursts"] for r in runs], dtype=np.int64)),
            "h5_file": ("culture", np.array(list(h5_files), dtype=object)),
            "h5_sha256": ("culture", np.array([r["sha256"] for r in runs], dtype=object)),
        },
        coords={
            "culture": ("culture", np.arange(len(runs), dtype=np.int64)),
            "epoch": ("epoch", epochs),
            "neuron": ("neuron", np.arange(first["x"].shape[0], dtype=np.int64)),
            "x": ("neuron", first["x"].astype(np.int32)),
            "y": ("neuron", first["y"].astype(np.int32)),
            "neuron_type": ("neuron", np.where(first["is_inh"], 1, 2).astype(np.int32)),
            "starter": ("neuron", first["starter"].astype(bool)),
        },
        attrs={
            "title": "BrainGrid growth networks (an ensemble of cultures): radii, rates and connectivity per epoch",
            "epoch_s": float(first["epoch_s"]),
            "analytic_epochs": int(first["analytic_epochs"]),
            "width": int(first["width"]),
            "n_cultures": len(runs),
            **{f"burst_check_{k}": v for k, v in _aggregate_checks([r["check"] for r in runs]).items()},
        },
    )
    return label(ds, "braingrid_simulation")
