"""Spatial bins: golden values from hand computation (and ISF's probes in the spec)."""

from __future__ import annotations

import numpy as np
import pytest

from neurodata import seeds
from neurodata.isf import (
    bin_adjacency_in_section,
    bin_index,
    bin_soma_distances,
    neighbouring_spatial_bins,
    section_bin_size,
    section_distances,
    spatial_bin_adjacency,
    spatial_bin_names,
)


@pytest.mark.parametrize(
    ("length", "expected"),
    [(10, (10.0, 1)), (49, (49.0, 1)), (50, (50.0, 1)), (60, (60.0, 1)), (70, (35.0, 2)), (75, (37.5, 2)),
     (100, (50.0, 2)), (124, (124 / 3, 3)), (149, (149 / 3, 3)), (1000, (50.0, 20)), (66.6, (66.6, 1)),
     (66.67, (33.335, 2)), (120, (40.0, 3)), (0, (0.0, 1))],
)
def test_section_bin_size_goal_50(length, expected):
    size, n = section_bin_size(length, 50)
    assert n == expected[1]
    assert size == pytest.approx(expected[0])


def test_section_bin_size_other_goal_and_errors():
    assert section_bin_size(45, 20) == (22.5, 2)
    with pytest.raises(ValueError, match="'bin_size_goal' must be a float in the range"):
        section_bin_size(10, 0)
    with pytest.raises(ValueError, match="'length' must be a finite length"):
        section_bin_size(-1, 50)


@pytest.mark.parametrize(("value", "expected"), [(0, 1), (24.999, 1), (25.0, 2), (50.0, 2), (50.09, 2), (-0.09, 1)])
def test_bin_index_probe(value, expected):
    assert bin_index(value, 0, 50, 2) == expected


@pytest.mark.parametrize("value", [50.1, -0.1, np.nan])
def test_bin_index_outside_names_the_value(value):
    with pytest.raises(ValueError, match="lies outside the range"):
        bin_index([10.0, value], 0, 50, 2)


def test_bin_index_array():
    np.testing.assert_array_equal(bin_index(np.array([0.0, 12.5, 37.5, 50.0]), 0, 50, 4), [1, 2, 4, 4])


def test_section_distances_toy(toy_sdf):
    np.testing.assert_allclose(toy_sdf["min_"], [0, 0, 35, 35, 45, 45, 135], atol=1e-9)
    np.testing.assert_allclose(toy_sdf["max_"], [0, 35, 131, 45, 245, 165, 165], atol=1e-9)
    assert toy_sdf["n_bins"].tolist() == [1, 1, 2, 1, 4, 3, 1]
    np.testing.assert_allclose(toy_sdf["binsize"].iloc[1:], [35, 48, 10, 50, 40, 30], atol=1e-9)
    assert np.isnan(toy_sdf["binsize"].iloc[0]) and toy_sdf["label"].iloc[0] == "Soma"


def test_section_distances_honours_bin_size(toy_cell):
    """ISF ignored the goal and always used 50 µm; a goal of 25 µm doubles the bins of section 4 (200 µm -> 8)."""
    assert section_distances(toy_cell, 25.0)["n_bins"].tolist() == [1, 2, 4, 1, 8, 5, 1]


def test_spatial_bin_names_toy(toy_sdf):
    assert spatial_bin_names(toy_sdf) == ["0/0", "1/1", "2/1", "2/2", "3/1", "4/1", "4/2", "4/3", "4/4",
                                          "5/1", "5/2", "5/3", "6/1"]


def test_bin_soma_distances_are_centres(toy_sdf):
    assert bin_soma_distances(2, toy_sdf) == pytest.approx([59.0, 107.0])
    assert bin_soma_distances(4, toy_sdf) == pytest.approx([70.0, 120.0, 170.0, 220.0])
    assert bin_soma_distances(0, toy_sdf) == [0.0]  # ISF: TypeError
    with pytest.raises(ValueError, match="'section_id' must be a section index in 0..6"):
        bin_soma_distances(7, toy_sdf)


def test_adjacency_section_3_matches_isf(toy_cell, toy_sdf):
    assert bin_adjacency_in_section(toy_cell, 3, toy_sdf) == {
        "1/1": ["3/1"], "2/1": ["3/1"], "3/1": ["1/1", "2/1", "4/1", "5/1"], "4/1": ["3/1"], "5/1": ["3/1"],
    }


def test_adjacency_section_4_with_mid_parent_child(toy_cell, toy_sdf):
    # section 6 starts at 135 µm, inside bin 4/2 = [95, 145); ISF's nearest-left-edge rule gave 4/3
    assert bin_adjacency_in_section(toy_cell, 4, toy_sdf) == {
        "3/1": ["4/1"], "4/1": ["3/1", "4/2", "5/1"], "4/2": ["4/1", "4/3", "6/1"], "4/3": ["4/2", "4/4"],
        "4/4": ["4/3"], "5/1": ["4/1"], "6/1": ["4/2"],
    }


def test_adjacency_soma_and_first_order(toy_cell, toy_sdf):
    """ISF raised TypeError for both."""
    assert bin_adjacency_in_section(toy_cell, 0, toy_sdf) == {"0/0": ["1/1"], "1/1": ["0/0"]}
    assert bin_adjacency_in_section(toy_cell, 1, toy_sdf) == {
        "0/0": ["1/1"], "1/1": ["0/0", "2/1", "3/1"], "2/1": ["1/1"], "3/1": ["1/1"],
    }


def test_adjacency_accepts_isf_mapping(toy_cell, toy_sdf):
    assert bin_adjacency_in_section(toy_cell.section_adjacency(), 3, toy_sdf) == bin_adjacency_in_section(toy_cell, 3, toy_sdf)


def test_neighbouring_spatial_bins(toy_cell, toy_sdf):
    assert neighbouring_spatial_bins(toy_cell, "4/1", toy_sdf) == ["3/1", "4/2", "5/1"]
    assert neighbouring_spatial_bins(toy_cell, "3/1", toy_sdf) == ["1/1", "2/1", "4/1", "5/1"]
    assert neighbouring_spatial_bins(toy_cell, "0/0", toy_sdf) == ["1/1"]
    with pytest.raises(ValueError, match="bin '4/5' does not exist; section 4 has bins 1..4"):
        neighbouring_spatial_bins(toy_cell, "4/5", toy_sdf)
    with pytest.raises(ValueError, match="bin '0/1' does not exist; section 0 has bins 0..0"):
        neighbouring_spatial_bins(toy_cell, "0/1", toy_sdf)
    with pytest.raises(ValueError, match="'bin_id' must be '<section>/<bin>'"):
        neighbouring_spatial_bins(toy_cell, "x", toy_sdf)


def test_global_adjacency_is_symmetric_and_connected(toy_cell, toy_sdf):
    pairs = spatial_bin_adjacency(toy_cell, toy_sdf)
    names = spatial_bin_names(toy_sdf)
    assert len(pairs) == len(set(pairs))
    # the bin graph of a tree morphology is connected
    seen, todo = {"0/0"}, ["0/0"]
    nb: dict[str, set[str]] = {}
    for a, b in pairs:
        nb.setdefault(a, set()).add(b)
        nb.setdefault(b, set()).add(a)
    while todo:
        for n in nb.get(todo.pop(), ()):
            if n not in seen:
                seen.add(n)
                todo.append(n)
    assert seen == set(names)


def test_vectorised_bins_equal_bin_index(toy_sdf):
    """assign_spatial_bins (all synapses at once) == bin_index section by section, on seeded random input."""
    from neurodata.isf import assign_spatial_bins

    rng = seeds.rng(0)
    sec = rng.integers(1, len(toy_sdf), 2000)
    lo, hi = toy_sdf["min_"].to_numpy()[sec], toy_sdf["max_"].to_numpy()[sec]
    dist = rng.uniform(lo - 0.09, hi + 0.09)
    edges_hit = rng.random(2000) < 0.2  # exact interior edges and ends
    k = rng.integers(0, 5, 2000)
    n = toy_sdf["n_bins"].to_numpy()[sec]
    dist = np.where(edges_hit, lo + np.minimum(k, n) * (hi - lo) / n, dist)
    branch, position = assign_spatial_bins(sec, dist, toy_sdf)
    names = spatial_bin_names(toy_sdf)
    for s in np.unique(sec):
        m = sec == s
        row = toy_sdf.iloc[s]
        expected = bin_index(dist[m], row["min_"], row["max_"], int(row["n_bins"]))
        np.testing.assert_array_equal(branch[m], expected)
        assert [names[p] for p in position[m]] == [f"{s}/{b}" for b in expected]
