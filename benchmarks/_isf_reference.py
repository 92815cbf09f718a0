"""A faithful pandas re-implementation of ISF's original batch approach (for the benchmark only).

Written from the behavioural spec (../shared/specs/isf.md §1.2, §1.9, §1.16-1.18), not from
ISF's GPL code: per batch, ``augment_synapse_activation_df_with_branch_bin`` groups the table
by section and bins with ``np.digitize``, concatenates and sorts; then
``get_synapse_activation_array_weighted`` groups by (trial, EI, bin) and applies a
``np.histogram`` per group, collects a dict and fills a float64 array. Kept as in the
original, bugs included (1 ms bins only, unweighted), so the timing compares like with like.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def get_bin(value, bin_min, bin_max, n_bins, tolerance=0.1):
    edges = np.linspace(bin_min, bin_max, n_bins + 1)
    edges[0] = bin_min - tolerance
    edges[-1] = bin_max + tolerance
    if max(value) >= edges[-1] or min(value) <= edges[0]:
        raise RuntimeError("value outside of bin_min and bin_max!")
    return np.digitize(value, edges)


def augment(sa_: pd.DataFrame, sdf: pd.DataFrame, excitatory: list[str]) -> pd.DataFrame:
    out = []
    for sec_id, group in sa_.groupby("section_ID"):
        row = sdf.loc[sec_id]
        group = group.copy()
        if row["label"] == "Soma":
            group["branch_bin"] = 0
        else:
            group["branch_bin"] = get_bin(group["soma_distance"], row["min_"], row["max_"], int(row["n_bins"]))
        out.append(group)
    sa_ = pd.concat(out).sort_values(["synapse_type", "synapse_ID"]).sort_index()
    sa_["section/branch_bin"] = sa_["section_ID"].astype(str) + "/" + sa_["branch_bin"].astype(str)
    sa_["celltype"] = sa_["synapse_type"].str.split("_").str[0]
    sa_["EI"] = sa_["celltype"].isin(excitatory).map({True: "EXC", False: "INH"})
    return sa_


def _convertible_to_int(x) -> bool:
    try:
        int(x)
        return True
    except (TypeError, ValueError):
        return False


def temporal_binning(sa_augmented: pd.DataFrame, min_time, max_time, bin_size):
    cols = [c for c in sa_augmented.columns if _convertible_to_int(c)]
    values = sa_augmented[cols].to_numpy().flatten()
    values = values[~np.isnan(values)]
    bins = np.arange(min_time, max_time + bin_size, bin_size)
    counts, edges = np.histogram(values, bins=bins)
    return edges, counts


def activation_array(sa_: pd.DataFrame, selected_stis, spatial_bin_names, min_time, max_time) -> np.ndarray:
    groups = sa_.groupby([sa_.index, "EI", "section/branch_bin"])
    binned = groups.apply(lambda x: temporal_binning(x, min_time, max_time, 1)[1])
    result = dict(zip(binned.index, binned.values, strict=True))
    n_time = len(next(iter(result.values())))
    arr = np.zeros((len(selected_stis), 2, len(spatial_bin_names), n_time))
    for i, sti in enumerate(selected_stis):
        for j, ei in enumerate(["EXC", "INH"]):
            for k, name in enumerate(spatial_bin_names):
                counts = result.get((sti, ei, name))
                if counts is not None:
                    arr[i, j, k, :] = counts
    return arr


def reference_batch(sa_batch: pd.DataFrame, selected_stis, sdf, spatial_bin_names, excitatory, min_time, max_time) -> np.ndarray:
    """ISF ``save_SA_batch`` without the file write: augment, then the 4D array."""
    return activation_array(augment(sa_batch, sdf, excitatory), selected_stis, spatial_bin_names, min_time, max_time)
