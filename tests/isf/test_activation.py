"""Augmentation, temporal binning and the 4D activation array: hand-computed cases and bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from neurodata.isf import (
    augment_with_spatial_bins,
    classify_celltypes,
    save_synapse_activation_batch,
    spatial_bin_names,
    synapse_activation_array,
    temporal_binning,
    time_bin_edges,
)

NAN = np.nan
EXC = ["L2", "L34", "L4py", "L4sp", "L4ss", "L5st", "L5tt", "L6cc", "L6ccinv", "L6ct", "VPM"]
INH = ["L1", "L23Trans", "L45Sym", "L56Trans", "SymLocal1", "SymLocal2"]


def toy_sa() -> pd.DataFrame:
    """Three rows of trial a, two of trial b, none of trial c (section ranges: see conftest)."""
    rows = [
        # sti, type, ID, distance, section, times...
        ("a", "L5tt_C2", 0, 10.0, 1, 1.2, 5.7, NAN),   # 1/1 EXC
        ("a", "SymLocal1_C2", 3, 0.0, 0, 2.0, NAN, NAN),  # 0/0 INH
        ("a", "L2_C2", 1, 100.0, 2, 3.1, 3.9, 10.0),   # 2/2 EXC (83 <= 100 < 131); 10.0 = max_time
        ("b", "L4ss_C2", 7, 131.05, 2, 7.5, NAN, NAN),  # 2/2 EXC, 0.05 µm past the end: within tolerance
        ("b", "L1_C2", 2, 45.0, 4, 0.0, 0.4, 12.0),     # 4/1 INH; 12.0 outside [0, 10]
    ]
    frame = pd.DataFrame(rows, columns=["sti", "synapse_type", "synapse_ID", "soma_distance", "section_ID", "0", "1", "2"])
    return frame.set_index("sti").rename_axis("sim_trial_index")


def test_augment_columns(toy_sdf):
    aug = augment_with_spatial_bins(toy_sa(), toy_sdf, excitatory_celltypes=EXC, inhibitory_celltypes=INH)
    assert aug["section/branch_bin"].tolist() == ["2/2", "1/1", "0/0", "4/1", "2/2"]
    by = aug.reset_index().set_index(["sim_trial_index", "synapse_type"])
    assert by.loc[("a", "L5tt_C2"), "section/branch_bin"] == "1/1"
    assert by.loc[("a", "SymLocal1_C2"), "section/branch_bin"] == "0/0"
    assert by.loc[("a", "SymLocal1_C2"), "branch_bin"] == 0
    assert by.loc[("a", "L2_C2"), "section/branch_bin"] == "2/2"
    assert by.loc[("b", "L1_C2"), "EI"] == "INH" and by.loc[("b", "L1_C2"), "celltype"] == "L1"
    assert by.loc[("b", "L4ss_C2"), "EI"] == "EXC"
    # stable order: by trial, then synapse type and ID
    assert aug.index.tolist() == ["a", "a", "a", "b", "b"]
    assert aug["synapse_type"].tolist() == ["L2_C2", "L5tt_C2", "SymLocal1_C2", "L1_C2", "L4ss_C2"]


def test_augment_with_weights(toy_sdf):
    weights = {"L5tt_C2": 0.5, "SymLocal1_C2": 0.8, "L2_C2": 0.4, "L4ss_C2": 0.6, "L1_C2": 1.0}
    aug = augment_with_spatial_bins(toy_sa(), toy_sdf, weights, EXC, INH)
    assert aug["syn_weight"].tolist() == [0.4, 0.5, 0.8, 1.0, 0.6]
    with pytest.raises(ValueError, match=r"no synaptic weight for synapse types \['L1_C2'\]"):
        augment_with_spatial_bins(toy_sa(), toy_sdf, {k: v for k, v in weights.items() if k != "L1_C2"}, EXC, INH)


def test_synapse_outside_its_section_names_it(toy_sdf):
    sa = toy_sa()
    sa.iloc[3, sa.columns.get_loc("soma_distance")] = 131.2  # 0.2 µm past section 2's end
    with pytest.raises(ValueError, match=r"synapse L4ss_C2 #7 \(sim_trial_index 'b'\): soma_distance 131.2 µm lies outside its section 2"):
        augment_with_spatial_bins(sa, toy_sdf, excitatory_celltypes=EXC, inhibitory_celltypes=INH)
    # a larger tolerance accepts it, in the last bin
    aug = augment_with_spatial_bins(sa, toy_sdf, excitatory_celltypes=EXC, inhibitory_celltypes=INH, tolerance=0.5)
    assert aug.loc["b"].set_index("synapse_type").loc["L4ss_C2", "section/branch_bin"] == "2/2"


def test_unknown_section(toy_sdf):
    sa = toy_sa()
    sa.iloc[0, sa.columns.get_loc("section_ID")] = 9
    with pytest.raises(ValueError, match=r"synapse L5tt_C2 #0 \(sim_trial_index 'a'\): section_ID 9 is not a section"):
        augment_with_spatial_bins(sa, toy_sdf, excitatory_celltypes=EXC, inhibitory_celltypes=INH)


def test_unknown_cell_type(toy_sdf):
    sa = toy_sa()
    sa.iloc[0, sa.columns.get_loc("synapse_type")] = "L7xx_C2"
    with pytest.raises(ValueError, match=r"unknown cell type\(s\) \['L7xx'\]"):
        augment_with_spatial_bins(sa, toy_sdf, excitatory_celltypes=EXC, inhibitory_celltypes=INH)
    # without an inhibitory list ISF's rule applies: not excitatory -> INH
    aug = augment_with_spatial_bins(sa, toy_sdf, excitatory_celltypes=EXC)
    assert aug.set_index("synapse_type").loc["L7xx_C2", "EI"] == "INH"


def test_classify_celltypes():
    np.testing.assert_array_equal(classify_celltypes(np.array(["L5tt_C2", "L1_C2", "VPM_C3", "SymLocal1_C2"]), EXC, INH), [0, 1, 0, 1])


def test_time_bin_edges():
    np.testing.assert_allclose(time_bin_edges(0, 10, 2.5), [0, 2.5, 5, 7.5, 10])
    with pytest.raises(ValueError, match=r"'bin_size' \(3 ms\) must divide max_time - min_time = 10 ms"):
        time_bin_edges(0, 10, 3)
    with pytest.raises(ValueError, match="must be finite and less than 'max_time'"):
        time_bin_edges(10, 10, 1)


def test_temporal_binning_hand_case():
    frame = pd.DataFrame({"0": [0.5, 1.7, 3.0, -1.0], "1": [1.2, NAN, 10.0, 11.0], "syn_weight": [1.0, 2.0, 3.0, 4.0]})
    edges, counts = temporal_binning(frame, 0, 10, 1)
    np.testing.assert_allclose(edges, np.arange(11))
    assert counts.tolist() == [1, 2, 0, 1, 0, 0, 0, 0, 0, 1]
    _, weighted = temporal_binning(frame, 0, 10, 1, use_weights=True)
    assert weighted.tolist() == [1.0, 3.0, 0, 3.0, 0, 0, 0, 0, 0, 3.0]
    _, coarse = temporal_binning(frame, 0, 10, 5)
    assert coarse.tolist() == [4, 1]


def test_synapse_activation_array_hand_case(toy_sdf):
    aug = augment_with_spatial_bins(toy_sa(), toy_sdf, excitatory_celltypes=EXC, inhibitory_celltypes=INH)
    names = spatial_bin_names(toy_sdf)
    arr = synapse_activation_array(aug, ["a", "b", "c"], names, 0, 10, 1)
    assert arr.shape == (3, 2, 13, 10) and arr.dtype == np.float32
    expected = np.zeros_like(arr)
    i = {n: k for k, n in enumerate(names)}
    expected[0, 0, i["1/1"], [1, 5]] = 1
    expected[0, 1, i["0/0"], 2] = 1
    expected[0, 0, i["2/2"], 3] = 2   # 3.1 and 3.9
    expected[0, 0, i["2/2"], 9] = 1   # 10.0 == max_time: the last bin is closed
    expected[1, 0, i["2/2"], 7] = 1
    expected[1, 1, i["4/1"], 0] = 2   # 0.0 and 0.4; 12.0 is outside and ignored
    np.testing.assert_array_equal(arr, expected)  # trial c is empty: zeros
    # bin_size is honoured (ISF always used 1 ms)
    coarse = synapse_activation_array(aug, ["a", "b", "c"], names, 0, 10, 5)
    np.testing.assert_array_equal(coarse, expected.reshape(3, 2, 13, 2, 5).sum(-1))
    # trial order follows selected_stis; unselected trials are left out
    np.testing.assert_array_equal(synapse_activation_array(aug, ["b"], names, 0, 10, 1)[0], expected[1])


def test_synapse_activation_array_weighted_and_empty(toy_sdf):
    weights = {"L5tt_C2": 0.5, "SymLocal1_C2": 0.8, "L2_C2": 0.4, "L4ss_C2": 0.6, "L1_C2": 1.0}
    aug = augment_with_spatial_bins(toy_sa(), toy_sdf, weights, EXC, INH)
    names = spatial_bin_names(toy_sdf)
    arr = synapse_activation_array(aug, ["a", "b"], names, 0, 10, 1, use_weights=True)
    assert arr[0, 0, names.index("2/2"), 3] == pytest.approx(0.8)
    assert arr[1, 1, names.index("4/1"), 0] == pytest.approx(2.0)
    empty = synapse_activation_array(aug.iloc[:0], ["a"], names, 0, 10, 1)
    assert empty.shape == (1, 2, 13, 10) and not empty.any()


def test_save_batch_writes_npy_and_labels(toy_sdf, tmp_path):
    path = save_synapse_activation_batch(toy_sa(), ["a", "b"], 7, tmp_path, toy_sdf, min_time=0, max_time=10,
                                         bin_size=2, excitatory_celltypes=EXC, inhibitory_celltypes=INH)
    assert path.name == "batch_7_SYNAPSE_ACTIVATION.npy"
    arr = np.load(path)
    assert arr.shape == (2, 2, 13, 5)
    side = json.loads((tmp_path / "batch_7_SYNAPSE_ACTIVATION.json").read_text())
    assert side["trial"] == ["a", "b"] and side["syn_type"] == ["EXC", "INH"]
    assert side["spatial_bin"][:3] == ["0/0", "1/1", "2/1"] and side["time_bin_edges_ms"] == [0, 2, 4, 6, 8, 10]
    weighted = save_synapse_activation_batch(toy_sa(), ["a"], 8, tmp_path, toy_sdf, min_time=0, max_time=10,
                                             synaptic_weights={"L5tt_C2": 0.5, "SymLocal1_C2": 0.8, "L2_C2": 0.4,
                                                               "L4ss_C2": 0.6, "L1_C2": 1.0},
                                             excitatory_celltypes=EXC, inhibitory_celltypes=INH)
    assert weighted.name == "batch_8_SYNAPSE_ACTIVATION_WEIGHTED.npy"
    with pytest.raises(FileNotFoundError, match="is not an existing folder"):
        save_synapse_activation_batch(toy_sa(), ["a"], 1, tmp_path / "nope", toy_sdf)


def test_make_ann_batch_hand_case(toy_sdf):
    """The stage's fast path on the toy table: an empty trial, times outside the window, targets."""
    from neurodata.isf import make_ann_batch

    sa = toy_sa()
    row_trial = np.array([0, 0, 0, 2, 2])  # trial 1 is empty
    vm = np.full((3, 400), -70.0, dtype=np.float32)
    vm[2, 123] = 20.0  # sample 123 = 3.075 ms, in ms block 3
    st = np.array([[np.nan], [np.nan], [3.075]])
    out = make_ann_batch(
        row_trial=row_trial, section_ID=sa["section_ID"].to_numpy(), soma_distance=sa["soma_distance"].to_numpy(),
        synapse_type=sa["synapse_type"].to_numpy(object), synapse_ID=sa["synapse_ID"].to_numpy(),
        activation_times=sa[["0", "1", "2"]].to_numpy(), soma_voltage=vm, spike_times=st,
        trial_names=["a", "x", "b"], section_distances_df=toy_sdf, min_time=0.0, max_time=10.0, bin_size=2.0,
        dt_ms=0.025, excitatory_celltypes=EXC, inhibitory_celltypes=INH,
    )
    aug = augment_with_spatial_bins(sa, toy_sdf, excitatory_celltypes=EXC, inhibitory_celltypes=INH)
    ref = synapse_activation_array(aug, ["a", "x", "b"], spatial_bin_names(toy_sdf), 0, 10, 2)
    np.testing.assert_array_equal(out.synapse_activation, ref)
    assert not out.synapse_activation[1].any()
    assert out.n_outside.tolist() == [0, 0, 1]  # 12.0 ms in trial b
    assert out.vt_max_per_ms.shape == (3, 10) and out.vt_max_per_ms[2, 3] == 20.0 and out.vt_max_per_ms[0].max() == -70
    assert out.ap.astype(int).tolist()[2] == [0, 1, 0, 0, 0] and not out.ap[:2].any()
    np.testing.assert_allclose(out.isi[2], [1000, 1000, 0.925, 2.925, 4.925], rtol=1e-6)
