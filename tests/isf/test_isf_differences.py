"""The three differences found against ISF's semantics (issue 12): two adopted, one documented."""

from __future__ import annotations

import numpy as np
import pytest

from neurodata.isf import (
    Morphology,
    ap_array,
    bin_adjacency_in_section,
    make_l5pt_morphology,
    neighbouring_spatial_bins,
    section_bin_size,
    section_distances,
    spatial_bin_adjacency,
    spike_times_to_onehot,
)


def _chain(lengths: list[float], parent: list[int], parent_x: list[float]) -> Morphology:
    """Sections as straight segments along y (x = section index), starting at parent_x of their parent."""
    starts, ends = {0: 10.0}, {0: 10.0}
    pts, sec = [[0.0, 0.0, 0.0], [0.0, 10.0, 0.0]], [0, 0]
    for i, (length, p, px) in enumerate(zip(lengths, parent, parent_x, strict=True), start=1):
        start = ends[p] if px == 1.0 else starts[p] + px * (ends[p] - starts[p])
        starts[i], ends[i] = start, start + length
        pts += [[float(i), start, 0.0], [float(i), ends[i], 0.0]]
        sec += [i, i]
    return Morphology(label=np.array(["Soma"] + ["ApicalDendrite"] * len(lengths), dtype=object),
                      parent=np.array([-1, *parent]), parent_x=np.array([0.0, *parent_x]),
                      point_section=np.array(sec), xyz=np.array(pts), diam=np.ones(len(pts)))


def test_distances_are_summed_bottom_up_as_isf():
    """A 120 µm section behind a 0.2 µm and a 17.7 µm one: ISF's order gives 119.99999999999997 µm, 2 bins of 60.

    Summed from the soma outwards (neurodata before issue 12) its extent was exactly 120 µm,
    a tie of 2 x 60 and 3 x 40 that goes to 3 bins: other bin names and array shapes.
    """
    m = _chain([0.2, 17.7, 120.0], [0, 1, 2], [0.5, 1.0, 1.0])
    length = m.section_lengths()
    assert length[3] == 120.0
    lo, hi = m.section_distances()
    # ISF: x * L, then L(parent) * parent_x walking up: (0 + L2) + L1 and (120 + L2) + L1
    assert lo[3] == (0.0 + length[2]) + length[1] and hi[3] == (120.0 + length[2]) + length[1]
    assert hi[3] - lo[3] == 119.99999999999997
    sdf = section_distances(m)
    assert sdf["n_bins"].iloc[3] == 2 and sdf["binsize"].iloc[3] == pytest.approx(60.0)
    top_down_lo = 0.0 + length[1] + length[2]
    assert (top_down_lo + 120.0) - top_down_lo == 120.0 and section_bin_size(120.0) == (40.0, 3)
    # a synapse's distance uses the same order, so x = 1 is exactly the section's end
    assert m.soma_distance(np.array([3]), np.array([1.0]))[0] == hi[3]


def test_onehot_drops_spikes_past_max_time_as_isf():
    """(0, 10, 3): steps [0, 3, 6, 9]; the last reaches 12 ms, but a spike at 10.5 ms is past max_time."""
    assert spike_times_to_onehot([10.5], 0, 10, 3).tolist() == [False] * 4
    assert spike_times_to_onehot([9.5], 0, 10, 3).tolist() == [False, False, False, True]
    # ISF's compute_AP_array counts the whole last step [9, 12), and so does ap_array
    assert ap_array(np.array([[10.5]]), 0, 10, 3).tolist() == [[False, False, False, True]]


@pytest.fixture
def oblique_cell() -> Morphology:
    """Soma; 1 <- soma (100 µm, bins [0, 50) [50, 100]); 2 <- 1 at its end (60 µm); 3 <- 1 at x = 0.2 (50 µm).

    3 starts at 20 µm, in bin 1/1 by either rule (containing bin, or ISF's nearest left edge 0).
    """
    return _chain([100.0, 60.0, 50.0], [0, 1, 1], [0.5, 1.0, 0.2])


def test_sibling_rule_both_behaviours(oblique_cell):
    sdf = section_distances(oblique_cell)
    assert sdf["n_bins"].tolist() == [1, 2, 1, 1] and sdf["min_"].tolist() == [0, 0, 100, 20]
    # neurodata: 2 starts in 1/2 (the branch point at 1's end), 3 in 1/1: only daughters of
    # one branch point are siblings, so 2 and 3 are not
    ours = bin_adjacency_in_section(oblique_cell, 2, sdf)
    assert ours == {"1/2": ["2/1"], "2/1": ["1/2"]}
    # ISF: 2 starts in its parent's last bin, so it pairs with every other child of 1
    isf = bin_adjacency_in_section(oblique_cell, 2, sdf, sibling_rule="isf")
    assert isf == {"1/2": ["2/1"], "2/1": ["1/2", "3/1"], "3/1": ["2/1"]}
    # ... asymmetrically: queried for section 3 (which starts in 1/1, not the last bin), no sibling
    assert bin_adjacency_in_section(oblique_cell, 3, sdf, sibling_rule="isf") == {"1/1": ["3/1"], "3/1": ["1/1"]}
    assert neighbouring_spatial_bins(oblique_cell, "2/1", sdf, sibling_rule="isf") == ["1/2", "3/1"]
    assert set(spatial_bin_adjacency(oblique_cell, sdf, "isf")) - set(spatial_bin_adjacency(oblique_cell, sdf)) == {("2/1", "3/1")}
    with pytest.raises(ValueError, match="'sibling_rule' must be one of \\['branch_point', 'isf'\\]"):
        bin_adjacency_in_section(oblique_cell, 2, sdf, sibling_rule="nearest")


def test_sibling_rule_on_the_default_cell():
    """The 6 pairs ISF has and neurodata's isf_spatial_bins does not (issue 12), all trunk-oblique."""
    m = make_l5pt_morphology(seed=0)
    sdf = section_distances(m)
    ours, isf = set(spatial_bin_adjacency(m, sdf)), set(spatial_bin_adjacency(m, sdf, "isf"))
    assert ours < isf
    assert sorted(isf - ours) == [("20/1", "27/1"), ("21/1", "25/1"), ("21/1", "28/1"), ("22/1", "29/1"),
                                  ("24/1", "27/1"), ("26/1", "29/1")]
