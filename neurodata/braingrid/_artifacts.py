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

__all__ = ["baselines_dataset", "bursts_dataset", "simulation_dataset", "spikes_dataset", "windows_tree"]


def spikes_dataset(arrays: Mapping[str, np.ndarray], layout: Any) -> xr.Dataset:
    """The ``braingrid_spikes`` Dataset.

    Parameters
    ----------
    arrays : mapping
        ``time_step`` (uint64, steps), ``neuron`` (int32), ``x``, ``y`` (int16, grid units),
        each of shape (n_spikes,), sorted by (time step, neuron).
    layout : BrainGridLayout
        What :func:`~._spike_reader.read_layout` read: the neuron table and the run's sizes.
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
        coords={"cell": ("cell", np.arange(layout.n_neurons, dtype=np.int32))},
        attrs={
            "dt_s": layout.dt_s,
            "n_steps": layout.n_steps,
            "n_neurons": layout.n_neurons,
            "n_probed": layout.n_cols,
            "grid_width": int(layout.xloc.max()) + 1 if layout.n_neurons else 0,
            "sort_order": "time_step, then neuron (stable; ties within a step by neuron id)",
        },
    )
    return label(ds, "braingrid_spikes")


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
        ``x``, ``y``, ``neuron``, (sample,) for the rest) and ``attrs``.
    """
    tree: dict[str, xr.Dataset] = {"/": xr.Dataset(attrs=dict(root_attrs))}
    for w, node in nodes.items():
        values = node["values"]
        n_samples = len(values["label"])
        tree[f"window_{w}"] = xr.Dataset(
            {name: (("sample", "position") if np.ndim(v) == 2 else "sample", v) for name, v in values.items()},
            coords={"sample": ("sample", np.arange(n_samples, dtype=np.int64)),
                    "position": ("position", np.arange(w, dtype=np.int32))},
            attrs=dict(node["attrs"]),
        )
    return label(xr.DataTree.from_dict(tree), "burst_windows")


def baselines_dataset(sizes: Sequence[int], kinds: Sequence[str], models: Sequence[str], values: Mapping[str, np.ndarray],
                      attrs: Mapping[str, Any]) -> xr.Dataset:
    """The ``braingrid_baselines`` Dataset.

    Parameters
    ----------
    sizes, kinds, models : sequence
        The window sizes [spikes], window kinds and baseline models (the coordinates).
    values : mapping of str -> ndarray
        ``test_accuracy``, ``val_accuracy`` of shape (window, kind, model); ``threshold``,
        ``threshold_sign`` of shape (window, kind); ``n_train``, ``n_val``, ``n_test`` of shape (window,).
    attrs : mapping
        The fit's settings.
    """
    dims = {3: ("window", "kind", "model"), 2: ("window", "kind"), 1: ("window",)}
    ds = xr.Dataset(
        {name: (dims[np.ndim(v)], v) for name, v in values.items()},
        coords={"window": ("window", np.array(sizes, dtype=np.int64)),
                "kind": ("kind", np.array(list(kinds), dtype=object)),
                "model": ("model", np.array(list(models), dtype=object))},
        attrs=dict(attrs),
    )
    return label(ds, "braingrid_baselines")


def simulation_dataset(sim: Any, check: Mapping[str, Any], h5_file: str) -> xr.Dataset:
    """The ``braingrid_simulation`` summary of a growth run.

    Parameters
    ----------
    sim : GrowthSimulation
        The run.
    check : mapping
        Output of :func:`~._checklist.burst_check`, stored as ``burst_check_*`` attrs.
    h5_file : str
        The name of the run's HDF5 file in the data folder.

    Returns
    -------
    xarray.Dataset
        Dims (epoch, neuron): ``radius`` [grid_unit] and ``rate`` [Hz] (epoch 0 = start);
        ``n_synapses`` and ``coupled`` per epoch; per neuron ``x``, ``y``, ``neuron_type``,
        ``starter``, ``threshold`` [V], ``intrinsic_rate`` [Hz].
    """
    nr = sim.neurons
    n = nr.xloc.shape[0]
    epochs = np.arange(sim.n_epochs + 1, dtype=np.int64)
    ds = xr.Dataset(
        {
            "radius": (("epoch", "neuron"), sim.radii_history.astype(np.float32)),
            "rate": (("epoch", "neuron"), sim.rates_history.astype(np.float32)),
            "n_synapses": ("epoch", sim.n_synapses.astype(np.int64)),
            "coupled": ("epoch", epochs > sim.analytic_epochs),
            "intrinsic_rate": ("neuron", sim.intrinsic_rates.astype(np.float64)),
        },
        coords={
            "epoch": ("epoch", epochs),
            "neuron": ("neuron", np.arange(n, dtype=np.int64)),
            "x": ("neuron", nr.xloc.astype(np.int32)),
            "y": ("neuron", nr.yloc.astype(np.int32)),
            "neuron_type": ("neuron", np.where(nr.is_inh, 1, 2).astype(np.int32)),
            "starter": ("neuron", nr.is_starter.astype(bool)),
            "threshold": ("neuron", nr.vthresh.astype(np.float32)),
        },
        attrs={
            "title": "BrainGrid growth network: radii, rates and connectivity per epoch",
            "epoch_s": float(sim.epoch_s),
            "analytic_epochs": int(sim.analytic_epochs),
            "width": int(nr.width),
            "h5_file": h5_file,
            **{f"burst_check_{k}": v for k, v in check.items()},
        },
    )
    return label(ds, "braingrid_simulation")
