"""One-hot spikes, ISI, AP arrays, max depolarisation per ms: golden values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurodata import seeds
from neurodata.isf import (
    ap_array,
    isi_array,
    isi_at,
    isi_from_spike_list,
    max_depolarization_per_ms,
    max_depolarization_per_ms_dask,
    spike_times_to_onehot,
    time_groups,
)


def test_onehot_probe():
    out = spike_times_to_onehot([0.0, 0.5, 3.2, 3.9, 9.99, 10.0], 0, 10)
    assert np.flatnonzero(out).tolist() == [0, 3, 9] and len(out) == 10
    assert spike_times_to_onehot(np.array([1, 4, 8.9]), 0, 10, 3).tolist() == [True, True, True, False]


def test_onehot_min_time_offset():
    """ISF: IndexError for min_time > 0 and a spike at exactly min_time dropped."""
    out = spike_times_to_onehot([150.0, 100.0, 99.0, 200.0], 100, 200)
    assert np.flatnonzero(out).tolist() == [0, 50] and len(out) == 100
    with pytest.raises(ValueError, match="must be 1-D"):
        spike_times_to_onehot(np.zeros((2, 2)), 0, 10)


def test_isi_list_probe_and_fixes():
    assert isi_from_spike_list([2, 5], 0, 8).tolist() == [1000, 1000, 0, 1, 2, 0, 1, 2]
    # min_time = 3: the spike at 2 still counts (ISF gave [3, 4, 5, 1, 2])
    assert isi_from_spike_list(np.array([2.0, 5.0]), 3, 8).tolist() == [1, 2, 0, 1, 2]
    assert isi_from_spike_list([2, 5], 0, 8, 2).tolist() == [1000, 0, 2, 1]
    assert isi_from_spike_list([], 0, 3, fillna=-1).tolist() == [-1, -1, -1]


def test_isi_at_probe():
    st = pd.DataFrame([[2, 5], [np.nan, np.nan], [0, np.nan]], index=["a", "b", "c"], dtype=float)
    out = isi_at(st, 5)
    assert out.to_dict() == {"a": 0.0, "b": 1000.0, "c": 5.0}
    assert isi_at(pd.Series([2.0, 5.0]), 4.5).tolist() == [2.5]


def test_isi_array_probe():
    st = pd.DataFrame([[2, 5], [np.nan, np.nan]], dtype=float)
    np.testing.assert_array_equal(isi_array(st, 0, 8), [[1000, 1000, 0, 1, 2, 0, 1, 2], [1000] * 8])
    np.testing.assert_allclose(isi_array(st, 0, 4, step=0.5)[0], [1000, 1000, 1000, 1000, 0, 0.5, 1, 1.5])


def test_ap_array_probe():
    st = pd.DataFrame([[2, 5], [np.nan, np.nan], [7.9, 0.0]], dtype=float)
    out = ap_array(st, 0, 8)
    assert out.dtype == bool
    np.testing.assert_array_equal(out.astype(int), [[0, 0, 1, 0, 0, 1, 0, 0], [0] * 8, [1, 0, 0, 0, 0, 0, 0, 1]])
    # float times and steps work (ISF: TypeError)
    np.testing.assert_array_equal(ap_array(np.array([[2.6]]), 0.5, 3.5, 1.5).astype(int), [[0, 1]])


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 50, allow_nan=False), max_size=8), st.sampled_from([0.5, 1.0, 2.5]))
def test_isi_zero_exactly_where_a_spike_starts_the_bin(spikes, step):
    """Invariants: AP count == spikes in window; ISI resets only at bins holding a spike."""
    grid = np.arange(0, 50, step)
    ap = ap_array(np.array([spikes + [np.nan]]), 0, 50, step)[0]
    assert ap.sum() == len({int(np.searchsorted(grid, s, side="right") - 1) for s in spikes if 0 <= s < grid[-1] + step})
    isi = isi_array(np.array([spikes + [np.nan]]), 0, 50, step=step)[0]
    earlier = [[s for s in spikes if s <= t] for t in grid]
    np.testing.assert_allclose(isi, [t - max(e) if e else 1000 for t, e in zip(grid, earlier, strict=True)])


def test_time_groups():
    assert time_groups(100) == [0] * 40 + [1] * 40 + [2] * 20
    assert time_groups(np.zeros((3, 5)), dt_ms=0.5) == [0, 0, 1, 1, 2]
    with pytest.raises(ValueError, match="'dt_ms' must divide 1 ms"):
        time_groups(10, dt_ms=0.3)


def test_max_per_ms_columns_from_zero():
    """ISF returned an empty frame when the float time columns start at 0.0 (and fails on pandas 3)."""
    t = np.arange(100) * 0.025
    values = np.vstack([np.arange(100.0), -np.arange(100.0)])
    vt = pd.DataFrame(values, index=["a", "b"], columns=t)
    out = max_depolarization_per_ms(vt)
    assert out.columns.tolist() == [0, 1, 2]
    np.testing.assert_array_equal(out.to_numpy(), [[39, 79, 99], [0, -40, -80]])
    assert max_depolarization_per_ms(vt.iloc[:, :0]).shape == (2, 0)


def test_max_per_ms_dask_equals_pandas():
    import dask.dataframe as dd

    rng = seeds.rng(0)
    vt = pd.DataFrame(rng.normal(-65, 5, (6, 200)), columns=np.arange(200) * 0.025, index=[f"t{i}" for i in range(6)])
    vt.columns = [f"{c:.3f}" for c in vt.columns]
    lazy = max_depolarization_per_ms_dask(dd.from_pandas(vt, npartitions=3))
    got = lazy.compute()
    assert got.index.astype(str).tolist() == vt.index.tolist()
    np.testing.assert_array_equal(got.to_numpy(), max_depolarization_per_ms(vt).to_numpy())
    assert got.columns.tolist() == [0, 1, 2, 3, 4]

