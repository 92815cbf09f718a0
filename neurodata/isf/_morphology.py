"""A layer-5-pyramidal-like dendritic morphology: sections, parents, 3D points, SWC and hoc text.

Distances follow ISF's definition (``compute_distance_to_soma`` in ISF's
``single_cell_parser.analyze.synanalysis``): the soma is at 0, a section attached to the soma
starts at 0 (the soma's own extent is not added), and a position ``x`` on a section lies at
``x * L`` plus ``parent_x * L(parent)`` of every ancestor below the soma, summed in that
(bottom-up) order. Lengths are the arc lengths of the 3D points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._exceptions import ParamError
from ..seeds import rng as rng_for

__all__ = ["Morphology", "make_l5pt_morphology"]

SOMA = "Soma"
BASAL = "Dendrite"
APICAL = "ApicalDendrite"
AIS = "AIS"
MYELIN = "Myelin"
SECTION_LABELS = (SOMA, BASAL, APICAL, AIS, MYELIN)
_SWC_TYPE = {SOMA: 1, AIS: 2, MYELIN: 2, BASAL: 3, APICAL: 4}


@dataclass(frozen=True)
class Morphology:
    """A neuron morphology as an ordered list of sections (hoc ``create`` order).

    Parameters
    ----------
    label : ndarray of str, shape (n_sections,)
        Section label: ``'Soma'``, ``'Dendrite'`` (basal), ``'ApicalDendrite'``, ``'AIS'``
        or ``'Myelin'``.
    parent : ndarray of int64, shape (n_sections,)
        Index of the parent section, -1 for the soma. Parents come before their children.
    parent_x : ndarray of float64, shape (n_sections,)
        Relative position (0..1) on the parent where the section starts.
    point_section : ndarray of int64, shape (n_points,)
        Section of each 3D point; points of one section are contiguous and ordered.
    xyz : ndarray of float64, shape (n_points, 3)
        Point coordinates in µm.
    diam : ndarray of float64, shape (n_points,)
        Diameter at each point in µm.
    """

    label: np.ndarray
    parent: np.ndarray
    parent_x: np.ndarray
    point_section: np.ndarray
    xyz: np.ndarray
    diam: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.label)
        if n == 0 or self.label[0] != SOMA or self.parent[0] != -1:
            msg = f"Morphology: section 0 must be the soma with parent -1; got label {self.label[:1]!r}"
            raise ParamError(msg)
        bad = np.flatnonzero((self.parent[1:] < 0) | (self.parent[1:] >= np.arange(1, n)))
        if bad.size:
            i = int(bad[0]) + 1
            msg = f"Morphology: section {i} has parent {int(self.parent[i])}; expected 0 <= parent < {i}"
            raise ParamError(msg)
        counts = np.bincount(self.point_section, minlength=n)
        if np.any(counts < 2) or np.any(np.diff(self.point_section) < 0):
            msg = "Morphology: every section needs >= 2 contiguous points (point_section sorted)"
            raise ParamError(msg)

    @property
    def n_sections(self) -> int:
        """Number of sections."""
        return len(self.label)

    @property
    def point_start(self) -> np.ndarray:
        """Index of each section's first point, shape (n_sections + 1,) (last = n_points)."""
        counts = np.bincount(self.point_section, minlength=self.n_sections)
        return np.concatenate([[0], np.cumsum(counts)])

    def point_arclength(self) -> np.ndarray:
        """Arc length from each section's first point to each point, µm, shape (n_points,)."""
        seg = np.linalg.norm(np.diff(self.xyz, axis=0), axis=1)
        same = self.point_section[1:] == self.point_section[:-1]
        seg = np.where(same, seg, 0.0)
        cum = np.concatenate([[0.0], np.cumsum(seg)])
        start = self.point_start[:-1]
        return cum - cum[start][self.point_section]

    def section_lengths(self) -> np.ndarray:
        """Arc length of each section in µm, shape (n_sections,)."""
        arc = self.point_arclength()
        return arc[self.point_start[1:] - 1]

    def soma_distance(self, section: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Soma distance (µm) of relative positions `x` on `section`, summed as ISF sums it.

        ISF's ``compute_distance_to_soma`` starts with ``x * L(section)`` and then, walking up
        to the soma, adds ``L(parent) * parent_x(child)`` at every step (bottom-up). Floating
        point addition is not associative, so the order is kept: summed top-down the same
        distances differ in the last bit, which at an exact bin-size tie (e.g. a 120 µm
        section, spec §1.1) changes the number of bins. Positions on the soma are 0.

        Parameters
        ----------
        section : ndarray of int, shape (n,)
        x : ndarray of float, shape (n,)
            Relative positions in [0, 1].

        Returns
        -------
        ndarray of float64, shape (n,)
        """
        sec = np.asarray(section, dtype=np.int64)
        length = self.section_lengths()
        d = np.asarray(x, dtype=np.float64) * length[sec]
        soma = self.label == SOMA
        d = np.where(soma[sec], 0.0, d)
        cur = sec.copy()
        walking = ~soma[sec]
        while True:
            par = np.where(walking, self.parent[cur], 0)
            walking &= ~soma[par]
            if not walking.any():
                return d
            d = np.where(walking, d + length[par] * self.parent_x[cur], d)
            cur = np.where(walking, par, cur)

    def section_distances(self) -> tuple[np.ndarray, np.ndarray]:
        """Soma distance of each section's start and end (µm), ISF's definition and summation order.

        Returns
        -------
        min_, max_ : ndarray of float64, shape (n_sections,)
            ``0, 0`` for the soma; each end computed on its own by `soma_distance` (so
            ``max_ - min_`` equals the length only up to rounding, as in ISF).
        """
        sec = np.arange(self.n_sections)
        return self.soma_distance(sec, np.zeros(self.n_sections)), self.soma_distance(sec, np.ones(self.n_sections))

    def section_adjacency(self) -> dict[int, dict[str, list[int]]]:
        """Parents and children of each section, ``{i: {'parents': [p], 'children': [...]}}``.

        The same layout as ISF's ``Cell.get_section_adjacancy_map``; the soma has no parents.
        """
        adj = {i: {"parents": [], "children": []} for i in range(self.n_sections)}
        for i in range(1, self.n_sections):
            p = int(self.parent[i])
            adj[i]["parents"].append(p)
            adj[p]["children"].append(i)
        return adj

    def point_soma_distance(self) -> np.ndarray:
        """Soma distance of every 3D point (µm), shape (n_points,); soma points are 0."""
        length = self.section_lengths()
        sec = self.point_section
        x = self.point_arclength() / np.where(length[sec] > 0, length[sec], 1.0)
        return self.soma_distance(sec, x)

    def to_swc(self) -> str:
        """The morphology as SWC text (one line per 3D point; radius = diam / 2).

        A section's first point is linked to the point of its parent nearest to
        ``parent_x`` (points are placed there when the morphology is made); soma children
        link to the soma's middle point. Types: 1 soma, 2 axon, 3 basal, 4 apical.
        """
        start = self.point_start
        arc = self.point_arclength()
        lengths = self.section_lengths()
        lines = ["# neurodata isf synthetic layer-5 pyramidal morphology", "# id type x y z radius parent"]
        for s in range(self.n_sections):
            for k in range(start[s], start[s + 1]):
                if k > start[s]:
                    par = k  # previous point, 1-based id k
                elif s == 0:
                    par = -1
                else:
                    p = self.parent[s]
                    pts = np.arange(start[p], start[p + 1])
                    target = 0.5 if p == 0 else self.parent_x[s]
                    j = pts[np.argmin(np.abs(arc[pts] - target * lengths[p]))]
                    par = int(j) + 1
                x, y, z = self.xyz[k]
                t = _SWC_TYPE[str(self.label[s])]
                lines.append(f"{k + 1} {t} {x:.4f} {y:.4f} {z:.4f} {self.diam[k] / 2:.4f} {par}")
        return "\n".join(lines) + "\n"

    def to_hoc(self) -> str:
        """The morphology as NEURON hoc text (``create``, ``pt3dadd``, ``connect``).

        Section names are ``<label>_<index>`` so hoc creation order equals the section index.
        """
        names = [f"{lab}_{i}" if lab != SOMA else "soma" for i, lab in enumerate(self.label)]
        start = self.point_start
        out = ["// neurodata isf synthetic layer-5 pyramidal morphology"]
        for i, name in enumerate(names):
            out.append(f"{{create {name}}}")
            if i > 0:
                p = int(self.parent[i])
                px = 0.5 if p == 0 else float(self.parent_x[i])
                out.append(f"{{connect {name}(0), {names[p]}({px:.6f})}}")
            out.append(f"{{access {name}}}")
            out.append("{pt3dclear()}")
            for k in range(start[i], start[i + 1]):
                x, y, z = self.xyz[k]
                out.append(f"{{pt3dadd({x:.4f},{y:.4f},{z:.4f},{self.diam[k]:.4f})}}")
        return "\n".join(out) + "\n"


def _grow_path(rng: np.random.Generator, start: np.ndarray, direction: np.ndarray, length: float,
               step_um: float, wiggle: float) -> np.ndarray:
    """Points of a gently wiggling path from `start` of arc length about `length` µm."""
    n_steps = max(1, int(np.ceil(length / step_um)))
    step = length / n_steps
    d = direction / np.linalg.norm(direction)
    pts = [start]
    for _ in range(n_steps):
        d = d + wiggle * rng.standard_normal(3)
        d = d / np.linalg.norm(d)
        pts.append(pts[-1] + step * d)
    return np.asarray(pts)


def _unit(rng: np.random.Generator, base: np.ndarray, spread: float) -> np.ndarray:
    v = base / np.linalg.norm(base) + spread * rng.standard_normal(3)
    return v / np.linalg.norm(v)


def make_l5pt_morphology(
    *,
    seed: int,
    n_basal_stems: int = 6,
    n_trunk_sections: int = 5,
    trunk_section_um: float = 180.0,
    n_obliques: int = 6,
    tuft_levels: int = 2,
    step_um: float = 10.0,
    trunk_diameter_um: tuple[float, float] = (6.5, 2.6),
) -> Morphology:
    """Grow a seeded layer-5-pyramidal-like morphology.

    Structure (section order = hoc order): soma (20 µm cylinder); basal dendrites
    (``n_basal_stems`` stems of 20-60 µm, each bifurcating into two 80-200 µm branches);
    the apical trunk (``n_trunk_sections`` sections of about ``trunk_section_um`` µm, upward,
    tapering linearly over `trunk_diameter_um`, by default 6.5 to 2.6 µm); oblique branches (100-250 µm) starting part-way along the
    first trunk sections; the tuft (``tuft_levels`` generations of bifurcations, 150-300 µm
    each); and the axon (hillock 20 µm and initial segment 30 µm labelled ``AIS``, then
    200 µm labelled ``Myelin``).

    Parameters
    ----------
    seed : int
        The cell's seed, >= 0; the morphology draws from its root stream,
        ``neurodata.seeds.rng(seed)`` (other parts of a simrun draw from child streams).
    n_basal_stems, n_trunk_sections, n_obliques, tuft_levels : int
        Counts of each part (see above).
    trunk_section_um : float
        Mean length of one trunk section (µm).
    step_um : float
        Spacing of 3D points (µm).
    trunk_diameter_um : (float, float)
        Diameter of the trunk at the soma and at the main bifurcation (µm).

    Returns
    -------
    Morphology
    """
    rng = rng_for(seed)
    labels: list[str] = []
    parents: list[int] = []
    parent_x: list[float] = []
    paths: list[np.ndarray] = []
    diams: list[np.ndarray] = []

    def add(label: str, parent: int, px: float, path: np.ndarray, d0: float, d1: float) -> int:
        labels.append(label)
        parents.append(parent)
        parent_x.append(px)
        paths.append(path)
        diams.append(np.linspace(d0, d1, len(path)))
        return len(labels) - 1

    def attach(parent: int, frac: float) -> tuple[np.ndarray, float]:
        """A point of `parent` near relative position `frac`, and its exact relative position."""
        path = paths[parent]
        seg = np.linalg.norm(np.diff(path, axis=0), axis=1)
        arc = np.concatenate([[0.0], np.cumsum(seg)])
        k = int(np.argmin(np.abs(arc - frac * arc[-1])))
        return path[k], float(arc[k] / arc[-1])

    soma = add(SOMA, -1, 0.0, np.array([[0.0, -10.0, 0.0], [0.0, 0.0, 0.0], [0.0, 10.0, 0.0]]), 20.0, 20.0)
    centre = np.zeros(3)
    # basal dendrites: stems around and below the soma, each bifurcating once
    for k in range(n_basal_stems):
        ang = 2 * np.pi * (k + rng.uniform(0, 0.5)) / n_basal_stems
        base = np.array([np.cos(ang), -0.6, np.sin(ang)])
        start = centre + 10.0 * base / np.linalg.norm(base)
        path = _grow_path(rng, start, base, rng.uniform(20, 60), step_um, 0.15)
        stem = add(BASAL, soma, 0.5, path, 2.5, 1.8)
        for _ in range(2):
            path = _grow_path(rng, paths[stem][-1], _unit(rng, base, 0.6), rng.uniform(80, 200), step_um, 0.15)
            add(BASAL, stem, 1.0, path, 1.5, 0.7)
    # apical trunk
    trunk: list[int] = []
    start, parent, px = centre + np.array([0.0, 10.0, 0.0]), soma, 0.5
    for k in range(n_trunk_sections):
        d_soma, d_bif = trunk_diameter_um
        d0 = d_soma + (d_bif - d_soma) * k / max(n_trunk_sections, 1)
        d1 = d_soma + (d_bif - d_soma) * (k + 1) / max(n_trunk_sections, 1)
        path = _grow_path(rng, start, _unit(rng, np.array([0.0, 1.0, 0.0]), 0.05),
                          trunk_section_um * rng.uniform(0.85, 1.15), step_um, 0.04)
        parent = add(APICAL, parent, px, path, d0, d1)
        trunk.append(parent)
        start, px = path[-1], 1.0
    # obliques start part-way along the lower trunk sections
    hosts = trunk[: max(1, min(3, len(trunk)))]
    for k in range(n_obliques):
        host = hosts[k % len(hosts)]
        p0, frac = attach(host, rng.uniform(0.3, 0.9))
        side = np.array([np.cos(2.4 * k), 0.35, np.sin(2.4 * k)])
        path = _grow_path(rng, p0, side, rng.uniform(100, 250), step_um, 0.15)
        add(APICAL, host, frac, path, 1.2, 0.6)
    # tuft: generations of bifurcations from the trunk's end
    tips = [trunk[-1]]
    for level in range(tuft_levels):
        new = []
        for tip in tips:
            for _ in range(2):
                base = np.array([rng.uniform(-1, 1), 1.0, rng.uniform(-1, 1)])
                path = _grow_path(rng, paths[tip][-1], base, rng.uniform(150, 300), step_um, 0.15)
                d = 1.6 - 0.5 * level
                new.append(add(APICAL, tip, 1.0, path, d, max(d - 0.6, 0.4)))
        tips = new
    # axon: hillock + initial segment (AIS) then a myelinated stretch
    start = centre - np.array([0.0, 10.0, 0.0])
    hill = add(AIS, soma, 0.5, _grow_path(rng, start, np.array([0.0, -1.0, 0.0]), 20.0, 5.0, 0.02), 3.0, 1.5)
    ais = add(AIS, hill, 1.0, _grow_path(rng, paths[hill][-1], np.array([0.0, -1.0, 0.0]), 30.0, 5.0, 0.02), 1.5, 1.0)
    add(MYELIN, ais, 1.0, _grow_path(rng, paths[ais][-1], np.array([0.0, -1.0, 0.0]), 200.0, step_um, 0.05), 1.0, 1.0)

    point_section = np.concatenate([np.full(len(p), i, dtype=np.int64) for i, p in enumerate(paths)])
    return Morphology(
        label=np.asarray(labels, dtype=object),
        parent=np.asarray(parents, dtype=np.int64),
        parent_x=np.asarray(parent_x, dtype=np.float64),
        point_section=point_section,
        xyz=np.concatenate(paths).astype(np.float64),
        diam=np.concatenate(diams).astype(np.float64),
    )
