"""Landmarks of an L5PT dendrite: the apical trunk, the main bifurcation, the recording sites.

The Ca²⁺ hot zone of the active model is placed around the main bifurcation (Hay et al.
2011), and the simrun records the dendrite at two sites on the trunk, as ISF's
``apical_proximal_distal_rec_sites`` landmark does; ISF's ``init`` then takes the site at
position [1] of the sites sorted by soma distance as "the distal dendrite" (spec §1.23).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .._exceptions import ParamError
from ._morphology import APICAL, SOMA, Morphology

__all__ = ["RecordingSite", "apical_trunk", "distal_recording_site", "main_bifurcation", "recording_sites"]

#: A branch point is the main bifurcation when its second-largest daughter subtree holds at
#: least this fraction of the largest one's dendritic length (obliques hold far less).
MAIN_BIFURCATION_RATIO = 0.25


def _subtree_lengths(morphology: Morphology) -> np.ndarray:
    """Total dendritic length (µm) of every section and all its descendants."""
    total = morphology.section_lengths().copy()
    for i in range(morphology.n_sections - 1, 0, -1):  # parents come before their children
        total[morphology.parent[i]] += total[i]
    return total


def apical_trunk(morphology: Morphology) -> list[int]:
    """Sections of the apical trunk, from the soma to the main bifurcation (inclusive).

    The trunk starts at the apical section on the soma with the largest subtree and follows,
    at every section, the daughter with the largest subtree, until a section whose two
    largest daughters both carry a tuft (see `MAIN_BIFURCATION_RATIO`), or a terminal one.

    Parameters
    ----------
    morphology : Morphology
        An L5PT-like cell (an apical section on the soma).

    Raises
    ------
    neurodata.ParamError
        If no apical section is attached to the soma.
    """
    sub = _subtree_lengths(morphology)
    kids: dict[int, list[int]] = {i: [] for i in range(morphology.n_sections)}
    for i in range(1, morphology.n_sections):
        kids[int(morphology.parent[i])].append(i)
    soma = int(np.flatnonzero(morphology.label == SOMA)[0])
    roots = [c for c in kids[soma] if morphology.label[c] == APICAL]
    if not roots:
        msg = "apical_trunk: the morphology has no 'ApicalDendrite' section attached to the soma; expected an L5PT-like cell."
        raise ParamError(msg)
    trunk = [max(roots, key=lambda c: (sub[c], -c))]
    while kids[trunk[-1]]:
        ranked = sorted(kids[trunk[-1]], key=lambda c: (-sub[c], c))
        if len(ranked) > 1 and sub[ranked[1]] >= MAIN_BIFURCATION_RATIO * sub[ranked[0]]:
            break
        trunk.append(ranked[0])
    return trunk


def main_bifurcation(morphology: Morphology) -> tuple[int, float]:
    """The last trunk section and the soma distance (µm, ISF's definition) of its end.

    Parameters
    ----------
    morphology : Morphology
        An L5PT-like cell.
    """
    trunk = apical_trunk(morphology)
    _, hi = morphology.section_distances()
    return trunk[-1], float(hi[trunk[-1]])


@dataclass(frozen=True)
class RecordingSite:
    """A dendritic recording site: section, relative position and soma distance (µm).

    Attributes
    ----------
    name : str
        ISF's site key (``..._somaDist_<µm>``).
    section : int
    x : float
        Relative position on the section (0..1).
    soma_distance : float
        µm.
    """

    name: str
    section: int
    x: float
    soma_distance: float


def recording_sites(morphology: Morphology, fractions: Sequence[float] = (0.5, 1.0),
                    compartments_per_section: np.ndarray | None = None) -> list[RecordingSite]:
    """Sites on the apical trunk at `fractions` of the main bifurcation's soma distance.

    Each site sits at the centre of the compartment holding that distance (so the recorded
    voltage is the compartment's), and is named as ISF names its landmark sites:
    ``apical_proximal_distal_rec_sites_ID_<i>_sec_<section>_seg_<k>_x_<x>_somaDist_<µm>``.

    Parameters
    ----------
    morphology : Morphology
    fractions : sequence of float in (0, 1]
        Default: halfway up the trunk and at the main bifurcation.
    compartments_per_section : ndarray of int, optional
        Compartments of every section (default one per section).

    Returns
    -------
    list of RecordingSite, in the order of `fractions`
    """
    bad = [f for f in fractions if not 0 < f <= 1]
    if bad:
        msg = f"recording_sites: 'fractions' must lie in (0, 1]. Got {bad} instead."
        raise ParamError(msg)
    trunk = apical_trunk(morphology)
    lo, hi = morphology.section_distances()
    target_end = hi[trunk[-1]]
    n_per = np.ones(morphology.n_sections, dtype=np.int64) if compartments_per_section is None else np.asarray(compartments_per_section)
    sites = []
    for i, f in enumerate(fractions):
        d = f * target_end
        sec = next((s for s in trunk if lo[s] <= d <= hi[s]), trunk[-1])
        n = int(n_per[sec])
        k = min(int((d - lo[sec]) / (hi[sec] - lo[sec]) * n), n - 1)
        x = (k + 0.5) / n
        dist = float(morphology.soma_distance(np.array([sec]), np.array([x]))[0])
        name = f"apical_proximal_distal_rec_sites_ID_{i:03d}_sec_{sec:03d}_seg_{k:03d}_x_{x:.3f}_somaDist_{dist:.1f}"
        sites.append(RecordingSite(name, int(sec), float(x), dist))
    return sites


def distal_recording_site(site_names: Sequence[str]) -> str:
    """The site ISF's ``init`` takes as the distal dendrite: position [1] by soma distance.

    ISF sorts the keys of ``dendritic_recordings`` by ``float(key.split('_')[-1])`` (the
    ``somaDist`` suffix) and takes index 1: the second-closest site, which is the distal one
    for ISF's two-site landmark (spec §1.23, quirk 10). The same rule is kept so that the
    same files give the same target.

    Parameters
    ----------
    site_names : sequence of str
        ISF site keys ending in ``_<soma distance in µm>``, at least two.

    Raises
    ------
    neurodata.ParamError
        With fewer than two sites, or a name without a numeric last ``_`` field.
    """
    names = list(site_names)
    if len(names) < 2:
        msg = f"distal_recording_site: ISF's rule takes the second site by soma distance; got {len(names)} site(s) {names}."
        raise ParamError(msg)
    try:
        return sorted(names, key=lambda n: float(str(n).split("_")[-1]))[1]
    except ValueError:
        msg = f"distal_recording_site: every site name must end in '_<soma distance>'. Got {names} instead."
        raise ParamError(msg) from None
