"""Activity-dependent growth of connection radii and the synapses it creates (spec §1.5, §4.2).

Each neuron is a disc of radius r on the grid; at the end of every epoch its radius moves by
``Tsim * rho * outgrowth(rate)``, and every ordered pair of overlapping discs is connected
with a weight proportional to the overlap area.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._kernels import overlap_area, update_growth_synapses

__all__ = [
    "GrowthParams",
    "SynapseTable",
    "outgrowth",
    "overlap_area",
]


@dataclass(frozen=True)
class GrowthParams:
    """BrainGrid's ``GrowthParams`` (spec §1.5) and the synapse strength scale.

    Attributes
    ----------
    epsilon : float, default 0.6
        Null point of the outgrowth sigmoid, as a fraction of ``max_rate``.
    beta : float, default 0.1
        Width of the outgrowth sigmoid.
    rho : float, default 1e-4
        Outgrowth rate [grid units per s per unit outgrowth].
    target_rate : float, default 1.0
        Rate at which a radius stops changing [Hz].
    start_radius : float, default 0.4
        Initial radius [grid units].
    min_radius : float, default 0.1
        Radii below it are clamped up after each epoch [grid units].
    strength : float, default 1e-8
        ``SYNAPSE_STRENGTH_ADJUSTMENT``: weight per unit overlap area [A / grid unit^2].
    max_synapses_per_neuron : int, default 200
        Maximum number of inputs per neuron.
    """

    epsilon: float = 0.60
    beta: float = 0.10
    rho: float = 1e-4
    target_rate: float = 1.0
    start_radius: float = 0.4
    min_radius: float = 0.1
    strength: float = 1e-8
    max_synapses_per_neuron: int = 200

    @property
    def max_rate(self) -> float:
        """``target_rate / epsilon`` [Hz]."""
        return self.target_rate / self.epsilon


def outgrowth(rate_hz: np.ndarray, growth: GrowthParams) -> np.ndarray:
    """Outgrowth ``1 - 2 / (1 + exp((epsilon - rate / max_rate) / beta))``, in (-1, 1).

    Parameters
    ----------
    rate_hz : ndarray of shape (n,)
        Firing rate over the epoch [Hz].
    growth : GrowthParams

    Returns
    -------
    ndarray of shape (n,)
        +0.995 at rate 0 (default parameters), 0 at ``target_rate``, towards -1 above.
    """
    rate = np.asarray(rate_hz, dtype=np.float64)
    return 1.0 - 2.0 / (1.0 + np.exp((growth.epsilon - rate / growth.max_rate) / growth.beta))


# pair index: 0 EE, 1 EI, 2 IE, 3 II  (pre type first)
def pair_index(pre_inh: np.ndarray, post_inh: np.ndarray) -> np.ndarray:
    """Synapse class index ``2 * pre_inh + post_inh``: 0 EE, 1 EI, 2 IE, 3 II."""
    return (2 * np.asarray(pre_inh, dtype=np.int8) + np.asarray(post_inh, dtype=np.int8)).astype(np.int8)


class SynapseTable:
    """The growing synapse set of an n-neuron grid, with per-synapse short-term-plasticity state.

    Synapse ids are assigned in creation order and never reused; state (``u``, ``r``, step of
    the previous arrival) persists across epochs. :meth:`grow` recomputes all weights from the
    radii; :meth:`csr` gives the synapse ids by (delay class, pre-synaptic neuron).

    Parameters
    ----------
    width : int
        Grid side W (n = W^2).
    is_inh : ndarray of shape (n,), bool
        Inhibitory neurons.
    growth : GrowthParams
    pair_delay_steps : ndarray of shape (4,), int
        Delay [steps] of EE, EI, IE, II synapses.
    u_init, r_init : float
        Initial utilisation and available fraction of a new synapse (0.4, 1.0).
    """

    def __init__(self, width: int, is_inh: np.ndarray, growth: GrowthParams, pair_delay_steps: np.ndarray,
                 u_init: float = 0.4, r_init: float = 1.0) -> None:
        n = width * width
        cap = n * growth.max_synapses_per_neuron
        self.width = width
        self.is_inh = np.ascontiguousarray(is_inh, dtype=np.bool_)
        self.growth = growth
        self.u_init = u_init
        self.r_init = r_init
        self.pair_delay_steps = np.asarray(pair_delay_steps, dtype=np.int64)
        self.delays = np.unique(self.pair_delay_steps)
        self.pre = np.zeros(cap, dtype=np.int32)
        self.post = np.zeros(cap, dtype=np.int32)
        self.w = np.zeros(cap, dtype=np.float64)
        self.u = np.zeros(cap, dtype=np.float64)
        self.r = np.zeros(cap, dtype=np.float64)
        self.last = np.full(cap, -1, dtype=np.int64)
        self.in_count = np.zeros(n, dtype=np.int32)
        self.in_syn = np.zeros((n, growth.max_synapses_per_neuron), dtype=np.int32)
        self.n_syn = 0

    def grow(self, radii: np.ndarray) -> int:
        """Set all weights from *radii* (grid units), creating new synapses; return the count."""
        self.n_syn = int(update_growth_synapses(
            np.ascontiguousarray(radii, dtype=np.float64), self.width, self.is_inh, self.growth.strength,
            self.growth.max_synapses_per_neuron, self.pre, self.post, self.w, self.u, self.r, self.last,
            self.n_syn, self.in_count, self.in_syn, self.u_init, self.r_init))
        return self.n_syn

    def pair(self) -> np.ndarray:
        """Class index (0 EE, 1 EI, 2 IE, 3 II) of every synapse, shape (capacity,)."""
        return pair_index(self.is_inh[self.pre], self.is_inh[self.post])

    def csr(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Synapse ids grouped by (delay class, pre).

        Zero-weight synapses stay in: their plasticity state follows the pre-synaptic spikes
        as BrainGrid's does, although they add no current.

        Returns
        -------
        delays : ndarray of shape (n_delays,), int64 [steps]
        out_ptr : ndarray of shape (n_delays, n + 1), int64
        out_syn : ndarray of shape (n_out,), int64
            Ids of delay class k and pre j are ``out_syn[out_ptr[k, j]:out_ptr[k, j + 1]]``,
            ascending.
        """
        n = self.in_count.shape[0]
        ids = np.arange(self.n_syn, dtype=np.int64)
        pair = pair_index(self.is_inh[self.pre[ids]], self.is_inh[self.post[ids]])
        klass = np.searchsorted(self.delays, self.pair_delay_steps[pair])
        key = klass.astype(np.int64) * n + self.pre[ids]
        order = np.argsort(key, kind="stable")
        counts = np.bincount(key, minlength=self.delays.size * n).reshape(self.delays.size, n)
        ptr = np.zeros((self.delays.size, n + 1), dtype=np.int64)
        flat = np.concatenate([[0], np.cumsum(counts.ravel())])
        for k in range(self.delays.size):
            ptr[k] = flat[k * n: (k + 1) * n + 1]
        return self.delays.astype(np.int64), ptr, ids[order]
