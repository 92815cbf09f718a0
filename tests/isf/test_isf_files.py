"""A hand-made ISF simrun folder (spec §2 formats) through the reader, every function and an ANN batch.

The folder ``simresults/run_20240`` holds a 5-section cell (+ the 3 axon sections ISF appends
for an AIS block), two trials with a few synapses each, soma traces with one AP, and two
dendritic recording sites. Every expected value below is worked out by hand in the comments.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from neurodata.isf import (
    ap_array,
    as_section_distances,
    augment_with_spatial_bins,
    bin_adjacency_in_section,
    bin_index,
    bin_soma_distances,
    distal_recording_site,
    isi_array,
    isi_at,
    isi_from_spike_list,
    make_ann_batch,
    max_depolarization_per_ms,
    max_depolarization_per_ms_dask,
    neighbouring_spatial_bins,
    read_cell_parameters,
    read_hoc_morphology,
    read_isf_simrun,
    read_network_weights,
    save_synapse_activation_batch,
    section_bin_size,
    section_distances,
    spatial_bin_names,
    spike_times_to_onehot,
    synapse_activation_array,
    temporal_binning,
    time_groups,
)

EXC = ["L2", "L5tt", "VPM"]
INH = ["L1", "SymLocal1"]
DT = 0.025
N_SAMPLES = 400  # 0 .. 9.975 ms
PROXIMAL = "apical_proximal_distal_rec_sites_ID_001_sec_002_seg_001_x_0.500_somaDist_60.0"
DISTAL = "apical_proximal_distal_rec_sites_ID_000_sec_003_seg_000_x_0.875_somaDist_190.0"

HOC = """// hand-made test cell
{create soma}
{access soma}
{nseg = 1}
{pt3dclear()}
{pt3dadd(0,-5,0,10)}
{pt3dadd(0,0,0,10)}
{pt3dadd(0,5,0,10)}

{create BasalDendrite_1_0}
{connect BasalDendrite_1_0(0), soma(0.009696)}
{access BasalDendrite_1_0}
{pt3dclear()}
{pt3dadd(0,-5,0,2)}
{pt3dadd(0,-45,0,2)}

{create ApicalDendrite_1_0}
{connect ApicalDendrite_1_0(0), soma(1)}
{access ApicalDendrite_1_0}
{pt3dclear()}
{pt3dadd(0,5,0,3)}
{pt3dadd(0,65,0,3)}
{pt3dadd(0,125,0,3)}

{create ApicalDendrite_2_0}
{connect ApicalDendrite_2_0(0), ApicalDendrite_1_0(1)}
{access ApicalDendrite_2_0}
{pt3dclear()}
{pt3dadd(0,125,0,2)}
{pt3dadd(0,205,0,2)}

{create ApicalDendrite_3_0}
{connect ApicalDendrite_3_0(0), ApicalDendrite_1_0(0.5)}
{access ApicalDendrite_3_0}
{pt3dclear()}
{pt3dadd(0,65,0,1)}
{pt3dadd(30,65,0,1)}
"""

CELL_PARAM = {
    "info": {"name": "hand-made test cell"},
    "neuron": {
        "filename": "/somewhere/else/morphology/cell.hoc",  # resolved by name in the folder
        "Soma": {"properties": {"cm": 1.0}, "mechanisms": {"range": {"pas": {"g": 3.38e-05, "e": -90}}}},
        "AIS": {"properties": {"cm": 1.0}, "mechanisms": {"range": {}}},
    },
    "sim": {"Vinit": -75.0, "tStart": 0.0, "tStop": 10.0, "dt": 0.025, "T": 34.0, "recordingSites": ["sites.landmarkAscii"]},
}

NETWORK_PARAM = {
    "info": {"name": "hand-made network"},
    "network": {
        "L5tt_C2": {"celltype": "spiketrain", "synapses": {"receptors": {"glutamate_syn": {"weight": [0.0005, 0.0005]}}}},
        "L2_C2": {"celltype": "spiketrain", "synapses": {"receptors": {"glutamate_syn": {"weight": [0.0004, 0.0004]}}}},
        "VPM_C2": {"celltype": "spiketrain", "synapses": {"receptors": {"glutamate_syn": {"weight": [0.0007, 0.0007]}}}},
        "L1_C2": {"celltype": "spiketrain", "synapses": {"receptors": {"gaba_syn": {"weight": 0.0006}}}},
        "SymLocal1_C2": {"celltype": "spiketrain", "synapses": {"receptors": {"gaba_syn": {"weight": 0.0008}}}},
    },
}

HEADER = "# synapse type, synapse ID, soma distance, section ID, section pt ID, dendrite label, activation times\n"
SYNAPSES = {
    0: [
        "L5tt_C2\t0\t10.0\t1\t0\tDendrite\t1.2,5.7,",  # section 1 [0, 40]: 1/1, EXC
        "L2_C2\t3\t190.0\t3\t1\tApicalDendrite\t3.1,3.9,",  # section 3 [120, 200] in 2 bins: 3/2
        "SymLocal1_C2\t1\t0.0\t0\t1\tSoma\t2.0,",  # the soma: 0/0, INH
        "L1_C2\t2\t45.0\t2\t1\tApicalDendrite\t7.5,",  # section 2 [0, 120] in 3 bins: 2/2, INH
    ],
    1: [
        "VPM_C2\t0\t75.0\t4\t0\tApicalDendrite\t0.5,9.99,12.0,",  # section 4 [60, 90]: 4/1; 12.0 > max_time
        "L5tt_C2\t0\t40.05\t1\t1\tDendrite\t4.0,",  # 0.05 µm past section 1's end: within 0.1 µm, 1/1
    ],
}


def _traces(values: np.ndarray) -> str:
    """ISF's trace layout: a 't' column (ms) and one 'Vm run NN' column per trial, tab-separated."""
    lines = ["t\t" + "\t".join(f"Vm run {r:02d}" for r in range(values.shape[0]))]
    for k in range(values.shape[1]):
        lines.append(f"{k * DT:.3f}\t" + "\t".join(f"{v:.2f}" for v in values[:, k]))
    return "\n".join(lines) + "\n"


def write_simrun(root: Path) -> Path:
    run = root / "simresults" / "run_20240"
    run.mkdir(parents=True)
    (run / "cell.hoc").write_text(HOC)
    (run / "20240_neuron_model.param").write_text(repr(CELL_PARAM))
    (run / "20240_network_model.param").write_text(repr(NETWORK_PARAM))
    for trial, rows in SYNAPSES.items():
        (run / f"simulation_run{trial:04d}_synapses.csv").write_text(HEADER + "\n".join(rows) + "\n")
    soma = np.full((2, N_SAMPLES), -70.0)
    soma[0, 120:140] = 20.0  # an AP from 3.000 ms (sample 120) for 0.5 ms
    soma[1] = -68.0
    (run / "20240_vm_all_traces.csv").write_text(_traces(soma))
    distal = np.full((2, N_SAMPLES), -65.0)
    distal[0, 160:240] = -20.0  # a dendritic spike from 4.000 to 5.975 ms
    distal[1, 320:340] = -20.0  # and one from 8.000 ms
    (run / f"20240_{DISTAL}_vm_dend_traces.csv").write_text(_traces(distal))
    (run / f"20240_{PROXIMAL}_vm_dend_traces.csv").write_text(_traces(np.full((2, N_SAMPLES), -66.0)))
    return run


@pytest.fixture(scope="module")
def simrun(tmp_path_factory):
    return read_isf_simrun(write_simrun(tmp_path_factory.mktemp("isf_files")))


def isf_style(sdf: pd.DataFrame) -> pd.DataFrame:
    """ISF's get_section_distances_df layout: no label column, 'Soma' strings in the soma row."""
    soma = (sdf["label"] == "Soma").to_numpy()
    return pd.DataFrame({
        "min_": sdf["min_"].to_numpy(), "max_": sdf["max_"].to_numpy(),
        "n_bins": pd.Series(np.where(soma, "Soma", sdf["n_bins"].to_numpy().astype(object)), dtype=object),
        "binsize": pd.Series(np.where(soma, "Soma", sdf["binsize"].to_numpy().astype(object)), dtype=object),
    })


def test_morphology_and_parameters(simrun, tmp_path):
    m = simrun.morphology
    assert simrun.section_names == ["soma", "BasalDendrite_1_0", "ApicalDendrite_1_0", "ApicalDendrite_2_0",
                                    "ApicalDendrite_3_0", "axon_0", "axon_0_0", "myelin"]
    assert m.label.tolist() == ["Soma", "Dendrite", "ApicalDendrite", "ApicalDendrite", "ApicalDendrite", "AIS", "AIS", "Myelin"]
    assert m.parent.tolist() == [-1, 0, 0, 2, 2, 0, 5, 6]
    assert m.parent_x.tolist() == [0.0, 0.5, 0.5, 1.0, 0.5, 0.5, 1.0, 1.0]  # soma children forced to 0.5, as ISF
    np.testing.assert_array_equal(m.section_lengths(), [10, 40, 120, 80, 30, 20, 30, 1000])
    assert simrun.cell_parameters["sim"]["dt"] == 0.025
    # the morphology alone (no AIS block appended)
    alone, names = read_hoc_morphology(write_hoc(tmp_path))
    assert alone.n_sections == 5 and names[-1] == "ApicalDendrite_3_0"


def write_hoc(folder: Path) -> Path:
    path = folder / "cell.hoc"
    path.write_text(HOC)
    return path


def test_hoc_and_param_errors(tmp_path):
    bad = tmp_path / "bad.hoc"
    bad.write_text("{create dend_1}\n{access dend_1}\n{pt3dadd(0,0,0,1)}\n{pt3dadd(0,1,0,1)}\n")
    with pytest.raises(ValueError, match="the first created section must be the soma"):
        read_hoc_morphology(bad)
    bad.write_text(HOC.replace("{connect ApicalDendrite_2_0(0), ApicalDendrite_1_0(1)}", "{connect ApicalDendrite_2_0(1), ApicalDendrite_1_0(1)}"))
    with pytest.raises(ValueError, match=r"connect ApicalDendrite_2_0\(1\).*end 0"):
        read_hoc_morphology(bad)
    bad.write_text(HOC.replace("{create BasalDendrite_1_0}", "{create Spine_1_0}").replace("BasalDendrite_1_0", "Spine_1_0"))
    with pytest.raises(ValueError, match="cannot tell its label"):
        read_hoc_morphology(bad)
    param = tmp_path / "cell.param"
    param.write_text(repr({"neuron": {"filename": "missing.hoc"}}))
    with pytest.raises(FileNotFoundError, match="'missing.hoc' was not found"):
        read_cell_parameters(param)
    param.write_text("{'neuron': ")
    with pytest.raises(ValueError, match="not a Python-literal parameter file"):
        read_cell_parameters(param)
    with pytest.raises(ValueError, match="is not inside 'simresult_path'"):
        read_isf_simrun(tmp_path, simresult_path=tmp_path / "elsewhere")


def test_network_weights_converted_to_nS(simrun, tmp_path):
    assert simrun.synaptic_weights == pytest.approx({"L5tt_C2": 0.5, "L2_C2": 0.4, "VPM_C2": 0.7, "L1_C2": 0.6, "SymLocal1_C2": 0.8})
    assert simrun.excitatory_synapse_types == ["L2_C2", "L5tt_C2", "VPM_C2"]  # by receptor: L1 is GABAergic (spec §3.2)
    path = tmp_path / "net.param"
    path.write_text(repr({"network": {"X_C2": {"synapses": {"receptors": {"nmda_only": {"weight": 1}}}}}}))
    with pytest.raises(ValueError, match="expected a 'glutamate_syn' or 'gaba_syn' receptor"):
        read_network_weights(path)


def test_tables_in_isf_layout(simrun):
    sa = simrun.synapse_activation
    assert sa.index.name == "sim_trial_index"
    assert sa.index.unique().tolist() == ["run_20240/000000", "run_20240/000001"]
    assert list(sa.columns) == ["synapse_type", "synapse_ID", "soma_distance", "section_ID", "section_pt_ID",
                                "dendrite_label", "0", "1", "2"]
    np.testing.assert_array_equal(sa.loc["run_20240/000001", "2"].to_numpy(), [12.0, np.nan])
    assert sa["synapse_ID"].dtype == np.int64 and sa["soma_distance"].dtype == np.float64
    vt = simrun.voltage_traces
    assert vt.shape == (2, N_SAMPLES) and vt.columns[1] == pytest.approx(0.025) and vt.attrs["units"] == "mV"
    # spikes detected as ISF does: the first sample at or above 0 mV after one below
    assert simrun.spike_times.iloc[0].tolist() == [3.0] and np.isnan(simrun.spike_times.iloc[1, 0])
    assert set(simrun.dendritic_recordings) == {DISTAL, PROXIMAL}
    assert set(simrun.dendritic_spike_times) == {f"{DISTAL}_-30.0", f"{PROXIMAL}_-30.0"}
    assert simrun.dendritic_spike_times[f"{DISTAL}_-30.0"].iloc[:, 0].tolist() == [4.0, 8.0]
    assert distal_recording_site(list(simrun.dendritic_recordings)) == DISTAL  # [60.0, 190.0][1]


def test_section_distances_and_bins(simrun):
    sdf = section_distances(simrun.morphology)
    np.testing.assert_array_equal(sdf["min_"], [0, 0, 0, 120, 60, 0, 20, 50])
    np.testing.assert_array_equal(sdf["max_"], [0, 40, 120, 200, 90, 20, 50, 1050])
    # 120 µm: 2 bins of 60 or 3 of 40 are equally far from 50 µm; ties go to more bins
    assert sdf["n_bins"].tolist() == [1, 1, 3, 2, 1, 1, 1, 20]
    assert section_bin_size(120.0) == (40.0, 3) and section_bin_size(80.0) == (40.0, 2)
    names = spatial_bin_names(sdf)
    assert names[:10] == ["0/0", "1/1", "2/1", "2/2", "2/3", "3/1", "3/2", "4/1", "5/1", "6/1"] and len(names) == 30
    isf = isf_style(sdf)
    assert "label" not in isf and isf["n_bins"].iloc[0] == "Soma"
    assert spatial_bin_names(isf) == names  # ISF's table is accepted
    norm = as_section_distances(isf)
    assert norm["label"].iloc[0] == "Soma" and norm["label"].iloc[1:].isna().all()  # ISF's table has no labels
    assert norm["n_bins"].tolist() == sdf["n_bins"].tolist() and np.isnan(norm["binsize"].iloc[0])
    assert bin_soma_distances(2, isf) == pytest.approx([20.0, 60.0, 100.0])  # centres
    assert bin_index(190.0, 120.0, 200.0, 2) == 2
    adj = bin_adjacency_in_section(simrun.morphology, 2, isf)
    # the oblique (section 4) starts at 60 µm, inside bin 2/2 = [40, 80); section 3 at 2/3's end
    assert adj["2/2"] == ["2/1", "2/3", "4/1"] and adj["2/3"] == ["2/2", "3/1"] and adj["0/0"] == ["2/1"]
    assert neighbouring_spatial_bins(simrun.morphology, "3/1", isf) == ["2/3", "3/2"]
    with pytest.raises(ValueError, match="columns \\['binsize'\\] are missing"):
        spatial_bin_names(isf.drop(columns="binsize"))


def test_augment_and_activation_array(simrun):
    sdf = isf_style(section_distances(simrun.morphology))
    sa = simrun.synapse_activation
    aug = augment_with_spatial_bins(sa, sdf, simrun.synaptic_weights, EXC, INH)
    by = aug.reset_index().set_index(["sim_trial_index", "synapse_type"])
    t0, t1 = "run_20240/000000", "run_20240/000001"
    assert by.loc[(t0, "L5tt_C2"), "section/branch_bin"] == "1/1"
    assert by.loc[(t0, "L2_C2"), "section/branch_bin"] == "3/2"
    assert by.loc[(t0, "SymLocal1_C2"), "section/branch_bin"] == "0/0" and by.loc[(t0, "SymLocal1_C2"), "EI"] == "INH"
    assert by.loc[(t0, "L1_C2"), "section/branch_bin"] == "2/2" and by.loc[(t0, "L1_C2"), "EI"] == "INH"
    assert by.loc[(t1, "L5tt_C2"), "section/branch_bin"] == "1/1"  # 40.05 µm, within the tolerance
    assert by.loc[(t1, "VPM_C2"), "syn_weight"] == pytest.approx(0.7)
    names = spatial_bin_names(sdf)
    arr = synapse_activation_array(aug, [t0, t1], names, 0, 10, 1)
    i = {n: k for k, n in enumerate(names)}
    expected = np.zeros((2, 2, 30, 10), dtype=np.float32)
    expected[0, 0, i["1/1"], [1, 5]] = 1  # 1.2, 5.7
    expected[0, 0, i["3/2"], 3] = 2  # 3.1, 3.9
    expected[0, 1, i["0/0"], 2] = 1  # 2.0
    expected[0, 1, i["2/2"], 7] = 1  # 7.5
    expected[1, 0, i["4/1"], [0, 9]] = 1  # 0.5, 9.99 (12.0 is outside [0, 10])
    expected[1, 0, i["1/1"], 4] = 1  # 4.0
    np.testing.assert_array_equal(arr, expected)
    weighted = synapse_activation_array(aug, [t0, t1], names, 0, 10, 1, use_weights=True)
    assert weighted[0, 0, i["3/2"], 3] == pytest.approx(0.8) and weighted[1, 0, i["4/1"], 9] == pytest.approx(0.7)
    edges, counts = temporal_binning(aug.loc[[t1]], 0, 10, 5)
    assert edges.tolist() == [0, 5, 10] and counts.tolist() == [2, 1]


def test_spike_and_voltage_functions(simrun):
    st = simrun.spike_times
    assert spike_times_to_onehot(st.iloc[0].dropna().to_numpy(), 0, 10).nonzero()[0].tolist() == [3]
    assert isi_from_spike_list(st.iloc[0].dropna().to_numpy(), 0, 6).tolist() == [1000, 1000, 1000, 0, 1, 2]
    assert isi_at(st, 5.0).tolist() == [2.0, 1000.0]
    np.testing.assert_array_equal(isi_array(st, 2, 6), [[1000, 0, 1, 2], [1000] * 4])
    np.testing.assert_array_equal(ap_array(st, 0, 10, 5), [[True, False], [False, False]])
    vt = simrun.voltage_traces
    assert time_groups(vt)[:41] == [0] * 40 + [1]
    vmax = max_depolarization_per_ms(vt)
    assert vmax.shape == (2, 10) and vmax.iloc[0, 3] == 20.0 and vmax.iloc[0, 2] == -70.0 and vmax.iloc[1].max() == -68.0
    import dask.dataframe as dd

    lazy = max_depolarization_per_ms_dask(dd.from_pandas(vt.rename(columns=lambda c: f"{c:.3f}"), npartitions=2))
    np.testing.assert_array_equal(lazy.compute().to_numpy(), vmax.to_numpy())


def test_batches_saved_one_task_per_batch_like_isf_init(simrun, tmp_path):
    """ISF's init saved one batch per dask task through run_delayeds_incrementally; neurodata's one
    scheduler, runner.run_sweep, does the same and returns every result in order."""
    from neurodata.runner import run_sweep

    sdf = section_distances(simrun.morphology)
    trials = simrun.sim_trial_index
    save = functools.partial(_save_one_batch, sa=simrun.synapse_activation, trials=trials, out=tmp_path,
                             sdf=isf_style(sdf))
    paths = run_sweep(save, range(len(trials)), scheduler="synchronous")
    assert [p.name for p in paths] == ["batch_0_SYNAPSE_ACTIVATION.npy", "batch_1_SYNAPSE_ACTIVATION.npy"]
    assert np.load(paths[1]).sum() == 3  # 0.5, 9.99 and 4.0 ms
    assert json.loads((tmp_path / "batch_0_SYNAPSE_ACTIVATION.json").read_text())["trial"] == ["run_20240/000000"]


def _save_one_batch(b, *, sa, trials, out, sdf):
    return save_synapse_activation_batch(sa, [trials[b]], b, out, sdf, min_time=0, max_time=10,
                                         excitatory_celltypes=EXC, inhibitory_celltypes=INH)


def test_ann_batch_from_the_files(simrun):
    """make_ann_batch on the read frames: the 4D array and the soma and distal-dendrite targets."""
    sdf = isf_style(section_distances(simrun.morphology))
    sa = simrun.synapse_activation
    trials = simrun.sim_trial_index
    site = distal_recording_site(list(simrun.dendritic_recordings))
    out = make_ann_batch(
        row_trial=pd.Index(trials).get_indexer(sa.index), section_ID=sa["section_ID"].to_numpy(),
        soma_distance=sa["soma_distance"].to_numpy(), synapse_type=sa["synapse_type"].to_numpy(object),
        synapse_ID=sa["synapse_ID"].to_numpy(), activation_times=sa[["0", "1", "2"]].to_numpy(),
        soma_voltage=simrun.voltage_traces.to_numpy(), spike_times=simrun.spike_times.to_numpy(), trial_names=trials,
        section_distances_df=sdf, min_time=0.0, max_time=10.0, bin_size=1.0, dt_ms=DT,
        excitatory_celltypes=EXC, inhibitory_celltypes=INH,
        dendrite_voltage=simrun.dendritic_recordings[site].to_numpy(),
        dendrite_spike_times=simrun.dendritic_spike_times[f"{site}_-30.0"].to_numpy(),
        t0_ms=float(simrun.voltage_traces.columns[0]),
    )
    assert out.synapse_activation.shape == (2, 2, 30, 10) and out.synapse_activation.sum() == 9  # 6 + 3 times in [0, 10]
    assert out.n_outside.tolist() == [0, 1]  # 12.0 ms
    assert out.vt_max_per_ms[0].tolist() == [-70, -70, -70, 20, -70, -70, -70, -70, -70, -70]
    assert out.vt_soma[0, 3] == 20.0 and out.vt_soma[0, 4] == -70.0 and np.all(out.vt_soma[1] == -68.0)
    assert out.ap[0].nonzero()[0].tolist() == [3] and not out.ap[1].any()
    assert out.isi[0].tolist() == [1000, 1000, 1000, 0, 1, 2, 3, 4, 5, 6]
    assert out.vt_dend_max_per_ms[0].tolist() == [-65, -65, -65, -65, -20, -20, -65, -65, -65, -65]
    assert out.vt_dend_max_per_ms[1, 8] == -20.0
    assert out.ap_dend[0].nonzero()[0].tolist() == [4] and out.ap_dend[1].nonzero()[0].tolist() == [8]
    assert out.isi_dend[1].tolist() == [1000] * 8 + [0, 1]
