"""The BrainGrid growth network on a W x W grid: neurons, synapses and the two growth schedules.

An independent re-implementation of the model behind BrainGrid's ``tR_1.0--fE_0.90`` runs
(spec ``braingrid.md`` §1.3-1.5, §4.2): exponential-Euler LIF neurons with injected and
Gaussian noise currents, a deterministic lattice of starter (endogenously active) and
inhibitory neurons, short-term depressing/facilitating synapses with fixed delays, and
activity-dependent growth of connection radii whose disc overlaps set the weights.

Deviations from BrainGrid, on purpose:

* float64 state instead of BrainGrid's float32 ``BGFLOAT`` (the file stores float32);
* the noise comes from ``numpy.random.default_rng`` (PCG64), not a Mersenne Twister; one
  N(0, 1) draw per integrating neuron per step, as in BrainGrid;
* synaptic currents are summed per post-synaptic neuron in two accumulators (excitatory
  tau = 3 ms, inhibitory tau = 6 ms), with per-synapse plasticity state: identical in exact
  arithmetic to BrainGrid's per-synapse PSRs;
* a pair over the 200-inputs cap gets no synapse; BrainGrid then writes the weight through a
  stale index (spec §1.5 item 5), which is not reproduced.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ._growth import GrowthParams, SynapseTable, analytic_pregrowth, outgrowth
from ._hdf5_layout import DT_S, EXC, INH, BrainGridRecord, spike_trains_from_events
from ._kernels import avalanche_scan, run_lif_network

__all__ = [
    "SCHEDULES",
    "GrowthSimulation",
    "NeuronParams",
    "Neurons",
    "SynapseParams",
    "detect_avalanche_bursts",
    "inhibitory_mask",
    "make_neurons",
    "simulate_growth_network",
    "starter_mask",
]

SCHEDULES = ("accelerated", "pregrowth")
"""Growth schedules of spec §4.2: (a) every epoch simulated; (b) analytic pre-growth + simulated tail."""


@dataclass(frozen=True)
class NeuronParams:
    """LIF parameters of BrainGrid's ``AllLIFNeurons`` (spec §1.3), SI units.

    Ranges are (min, max) of a uniform draw; a fixed value has min == max.
    """

    cm: float = 3e-8                                   # membrane capacitance [F]
    rm: float = 1e6                                    # membrane resistance [Ohm]
    iinject: float = 13.5e-9                           # injected current [A]
    inoise: tuple[float, float] = (1.0e-9, 1.5e-9)     # SD of the per-step noise current [A]
    vthresh: float = 15.0e-3                           # ordinary threshold [V]
    starter_vthresh: tuple[float, float] = (13.565e-3, 13.655e-3)  # [V]
    vreset: float = 13.5e-3                            # [V]
    starter_vreset: float = 13.0e-3                    # [V]
    vinit: float = 13.0e-3                             # [V]
    vrest: float = 0.0                                 # [V]
    trefract_exc: float = 3e-3                         # [s]
    trefract_inh: float = 2e-3                         # [s]


@dataclass(frozen=True)
class SynapseParams:
    """``AllDSSynapses`` parameters per pair EE, EI, IE, II (pre type first; spec §1.4).

    Delays are in steps: BrainGrid's ``int(delay / dt) + 1`` evaluated in float32 gives 16
    for 1.5 ms and 9 for 0.8 ms.
    """

    tau: tuple[float, float, float, float] = (3e-3, 3e-3, 6e-3, 6e-3)      # PSR decay [s]
    delay_steps: tuple[int, int, int, int] = (16, 9, 9, 9)                  # [steps]
    U: tuple[float, float, float, float] = (0.5, 0.05, 0.25, 0.32)
    D: tuple[float, float, float, float] = (1.1, 0.125, 0.7, 0.144)         # [s]
    F: tuple[float, float, float, float] = (0.05, 1.2, 0.02, 0.06)          # [s]
    u_init: float = 0.4
    r_init: float = 1.0


def starter_mask(width: int) -> np.ndarray:
    """Starter (endogenously active) neurons of BrainGrid's lattice, shape (width**2,), bool.

    With ``a = y mod 10``: ``x mod 10 == 7`` if a in {0, 3, 6, 9}; ``x mod 10`` in {1, 4}
    if a in {1, 4, 7}; none if a in {2, 5, 8} (spec §1.3; 10 % of a grid whose side is a
    multiple of 10).
    """
    x, y = _grid_xy(width)
    a, xm = y % 10, x % 10
    return (np.isin(a, (0, 3, 6, 9)) & (xm == 7)) | (np.isin(a, (1, 4, 7)) & np.isin(xm, (1, 4)))


def inhibitory_mask(width: int) -> np.ndarray:
    """Inhibitory neurons of BrainGrid's lattice, shape (width**2,), bool.

    With ``a = y mod 10`` and ``b = (y div 10) mod 2``: for b = 0, ``x mod 10 == 2`` if
    a in {0, 3, 6, 9} and ``x mod 10`` in {5, 8} if a in {2, 5, 8}; for b = 1, 8 and
    {2, 5}. Disjoint from :func:`starter_mask`.
    """
    x, y = _grid_xy(width)
    a, b, xm = y % 10, (y // 10) % 2, x % 10
    rows_a = np.isin(a, (0, 3, 6, 9))
    rows_b = np.isin(a, (2, 5, 8))
    even = (rows_a & (xm == 2)) | (rows_b & np.isin(xm, (5, 8)))
    odd = (rows_a & (xm == 8)) | (rows_b & np.isin(xm, (2, 5)))
    return np.where(b == 0, even, odd)


def _grid_xy(width: int) -> tuple[np.ndarray, np.ndarray]:
    i = np.arange(width * width)
    return i % width, i // width


@dataclass
class Neurons:
    """Per-neuron constants of a W x W network (arrays of shape (n,), SI units)."""

    width: int
    xloc: np.ndarray
    yloc: np.ndarray
    is_inh: np.ndarray
    is_starter: np.ndarray
    vthresh: np.ndarray
    vreset: np.ndarray
    vinit: np.ndarray
    trefract_steps: np.ndarray
    inoise: np.ndarray
    i0: np.ndarray
    c1: np.ndarray
    c2: np.ndarray


def make_neurons(width: int, rng: np.random.Generator, params: NeuronParams = NeuronParams()) -> Neurons:
    """Draw the neurons of a ``width x width`` grid.

    Parameters
    ----------
    width : int
        Grid side W; neuron i sits at ``(i % W, i // W)``.
    rng : numpy.random.Generator
        Draws, in this order, the noise SD of every neuron, then the starters' thresholds.
    params : NeuronParams

    Returns
    -------
    Neurons
        ``c1 = exp(-dt / (Rm Cm))``, ``c2 = Rm (1 - c1)`` [Ohm], ``i0 = Iinject + Vrest / Rm`` [A],
        refractory periods ``int(Trefract / dt + 0.5)`` steps.
    """
    n = width * width
    x, y = _grid_xy(width)
    is_inh = inhibitory_mask(width)
    is_starter = starter_mask(width)
    inoise = rng.uniform(params.inoise[0], params.inoise[1], n)
    vthresh = np.full(n, params.vthresh)
    n_start = int(is_starter.sum())
    vthresh[is_starter] = rng.uniform(params.starter_vthresh[0], params.starter_vthresh[1], n_start)
    vreset = np.where(is_starter, params.starter_vreset, params.vreset)
    tref = np.where(is_inh, params.trefract_inh, params.trefract_exc)
    tref_steps = (tref / DT_S + 0.5).astype(np.int32)
    tau = params.rm * params.cm
    c1 = math.exp(-DT_S / tau)
    return Neurons(
        width=width, xloc=x, yloc=y, is_inh=is_inh, is_starter=is_starter, vthresh=vthresh, vreset=vreset,
        vinit=np.full(n, params.vinit), trefract_steps=tref_steps, inoise=inoise,
        i0=np.full(n, params.iinject + params.vrest / params.rm), c1=np.full(n, c1),
        c2=np.full(n, params.rm * (1.0 - c1)))


@dataclass
class GrowthSimulation:
    """Result of :func:`simulate_growth_network`.

    Attributes
    ----------
    neurons : Neurons
    spike_steps : ndarray of shape (n_spikes,), int64
        Spike time steps of the simulated epochs, ascending (dt = 1e-4 s), on the time axis of
        the whole growth run (schedule (b): the tail starts at ``analytic_epochs * Tsim``).
    spike_neurons : ndarray of shape (n_spikes,), int32
        Neuron of each spike; ascending within a step.
    radii_history : ndarray of shape (n_epochs + 1, n) [grid units]
    rates_history : ndarray of shape (n_epochs + 1, n) [Hz]
    n_synapses : ndarray of shape (n_epochs + 1,), int64
        Synapses in existence after the growth step of epoch k (index 0: at the start).
    epoch_s : float
        Epoch length Tsim [s].
    analytic_epochs : int
        Epochs grown in closed form (schedule (b)), 0 for schedule (a).
    intrinsic_rates : ndarray of shape (n,) [Hz]
        Rates of the unconnected network used for the analytic epochs (zeros for (a)).
    settings : dict
        The arguments of the run (JSON-able), recorded as provenance.
    """

    neurons: Neurons
    spike_steps: np.ndarray
    spike_neurons: np.ndarray
    radii_history: np.ndarray
    rates_history: np.ndarray
    n_synapses: np.ndarray
    epoch_s: float
    analytic_epochs: int
    intrinsic_rates: np.ndarray
    settings: dict = field(default_factory=dict)

    @property
    def n_epochs(self) -> int:
        """Total growth epochs (analytic and simulated)."""
        return self.radii_history.shape[0] - 1

    def to_record(self, attrs: dict | None = None) -> BrainGridRecord:
        """The BrainGrid-layout content (all neurons probed, in index order)."""
        nr = self.neurons
        n = nr.xloc.shape[0]
        steps, counts = spike_trains_from_events(self.spike_steps, self.spike_neurons, n)
        all_attrs = {"analyticEpochs": self.analytic_epochs}
        all_attrs.update(attrs or {})
        return BrainGridRecord(
            xloc=nr.xloc, yloc=nr.yloc, neuron_types=np.where(nr.is_inh, INH, EXC),
            neuron_thresh=nr.vthresh, starter_neurons=np.flatnonzero(nr.is_starter),
            probed_neurons=np.arange(n), spike_steps=steps, spike_counts=counts,
            radii_history=self.radii_history, rates_history=self.rates_history, tsim_s=self.epoch_s,
            attrs=all_attrs)


class _NetworkState:
    """Mutable dynamical state plus spike buffers of one run."""

    def __init__(self, neurons: Neurons, capacity: int) -> None:
        n = neurons.xloc.shape[0]
        self.v = neurons.vinit.astype(np.float64).copy()
        self.refrac = np.zeros(n, dtype=np.int32)
        self.acc_e = np.zeros(n, dtype=np.float64)
        self.acc_i = np.zeros(n, dtype=np.float64)
        self.ring = np.zeros((32, n), dtype=np.int32)
        self.ring_count = np.zeros(32, dtype=np.int32)
        self.capacity = max(capacity, 4 * n)
        self.out_steps = np.empty(self.capacity, dtype=np.int64)
        self.out_neurons = np.empty(self.capacity, dtype=np.int32)

    def clear_synaptic(self) -> None:
        self.acc_e[:] = 0.0
        self.acc_i[:] = 0.0
        self.ring_count[:] = 0


def _simulate_span(
    state: _NetworkState, neurons: Neurons, table: SynapseTable | None, synapse: SynapseParams,
    rng: np.random.Generator, step_start: int, step_stop: int, epoch_counts: np.ndarray,
    steps_per_epoch: int, epoch_offset: int, steps_out: list, neurons_out: list,
) -> None:
    """Run the kernel over ``[step_start, step_stop)``, draining the spike buffer as needed."""
    n = neurons.xloc.shape[0]
    if table is None:
        delays = np.array([1], dtype=np.int64)
        ptr = np.zeros((1, n + 1), dtype=np.int64)
        out_syn = np.zeros(0, dtype=np.int64)
        post = np.zeros(1, dtype=np.int32)
        w = u = r = np.zeros(1)
        last = np.zeros(1, dtype=np.int64)
        pair = np.zeros(1, dtype=np.int8)
    else:
        delays, ptr, out_syn = table.csr()
        post, w, u, r, last = table.post, table.w, table.u, table.r, table.last
        pair = table.pair()
    if delays.max() >= state.ring.shape[0]:
        msg = f"synaptic delay {delays.max()} steps exceeds the spike ring of {state.ring.shape[0]} steps"
        raise ValueError(msg)
    pair_u = np.asarray(synapse.U, dtype=np.float64)
    pair_d = np.asarray(synapse.D, dtype=np.float64)
    pair_f = np.asarray(synapse.F, dtype=np.float64)
    decay_e = math.exp(-DT_S / synapse.tau[0])
    decay_i = math.exp(-DT_S / synapse.tau[2])
    t = step_start
    while t < step_stop:
        t, n_out = run_lif_network(
            rng, t, step_stop, state.capacity, state.v, state.refrac, state.acc_e, state.acc_i, state.ring,
            state.ring_count, epoch_counts, steps_per_epoch, epoch_offset, neurons.c1, neurons.c2, neurons.i0,
            neurons.inoise, neurons.vthresh, neurons.vreset, neurons.trefract_steps, neurons.is_inh, decay_e,
            decay_i, delays, ptr, out_syn, post, w, u, r, last, pair, pair_u, pair_d, pair_f, DT_S,
            state.out_steps, state.out_neurons)
        steps_out.append(state.out_steps[:n_out].copy())
        neurons_out.append(state.out_neurons[:n_out].copy())


def simulate_growth_network(
    width: int,
    *,
    schedule: str = "pregrowth",
    epoch_s: float = 10.0,
    simulated_epochs: int = 60,
    analytic_epochs: int = 80,
    intrinsic_s: float = 100.0,
    seed: int = 0,
    growth: GrowthParams | None = None,
    neuron_params: NeuronParams | None = None,
    synapse_params: SynapseParams | None = None,
    on_epoch: Callable[[int, int], None] | None = None,
) -> GrowthSimulation:
    """Simulate the BrainGrid growth network on a ``width x width`` grid.

    Schedules (spec §4.2):

    * ``"accelerated"`` (a): *simulated_epochs* epochs of *epoch_s* seconds, all simulated,
      radii growing from ``start_radius``; *analytic_epochs* and *intrinsic_s* are ignored.
    * ``"pregrowth"`` (b): (1) *intrinsic_s* seconds of the unconnected network give every
      neuron's intrinsic rate (these spikes are not part of the result); (2)
      *analytic_epochs* epochs of growth in closed form at those rates
      (:func:`~neurodata.braingrid._growth.analytic_pregrowth`); (3) *simulated_epochs*
      epochs simulated normally, continuing from the membrane state of (1) with empty
      synapses. The result reads as one growth run of ``analytic_epochs + simulated_epochs``
      epochs whose first epochs carry no recorded spikes.

    At the end of every simulated epoch: ``rate = spikes / epoch_s``; radii move by
    ``epoch_s * rho * outgrowth(rate)``; weights are recomputed from the unclamped radii; then
    radii below ``min_radius`` are clamped (BrainGrid's recorder order). The original runs use
    ``epoch_s = 100``, ``rho = 1e-4``; the accelerated default is ``epoch_s = 10`` with
    ``rho = 1e-3`` (same growth per epoch).

    Parameters
    ----------
    width : int
        Grid side W >= 2 (N = W^2; 10 % starters and 10 % inhibitory when W is a multiple of 10).
    schedule : {"pregrowth", "accelerated"}, default "pregrowth"
    epoch_s : float, default 10.0
        Epoch length Tsim [s], a multiple of 1 s.
    simulated_epochs : int, default 60
        Epochs simulated with connections.
    analytic_epochs : int, default 80
        Epochs grown in closed form (schedule "pregrowth").
    intrinsic_s : float, default 100.0
        Length of the unconnected run that measures intrinsic rates [s] (schedule "pregrowth").
    seed : int, default 0
        Seeds ``numpy.random.SeedSequence(seed)``; its three children draw the neuron
        parameters, the unconnected run's noise and the growth run's noise.
    growth : GrowthParams, optional
        Default: BrainGrid's, with ``rho = 1e-3 * 10 / epoch_s`` so that ``epoch_s * rho = 0.01``.
    neuron_params : NeuronParams, optional
    synapse_params : SynapseParams, optional
    on_epoch : callable(done, total), optional
        Called after each simulated epoch (progress reporting).

    Returns
    -------
    GrowthSimulation

    Raises
    ------
    ValueError
        For a width, schedule, epoch length or epoch count out of range, naming it.
    """
    if not isinstance(width, (int, np.integer)) or width < 2:
        msg = f"width must be an integer >= 2 (grid side W); got {width!r}"
        raise ValueError(msg)
    if schedule not in SCHEDULES:
        msg = f"schedule must be one of {SCHEDULES}; got {schedule!r}"
        raise ValueError(msg)
    if not (epoch_s >= 1.0 and abs(epoch_s - round(epoch_s)) < 1e-9):
        msg = f"epoch_s must be a whole number of seconds >= 1; got {epoch_s!r}"
        raise ValueError(msg)
    if simulated_epochs < 1:
        msg = f"simulated_epochs must be >= 1; got {simulated_epochs!r}"
        raise ValueError(msg)
    if schedule == "pregrowth" and (analytic_epochs < 0 or intrinsic_s <= 0):
        msg = (f"schedule 'pregrowth' needs analytic_epochs >= 0 and intrinsic_s > 0; got "
               f"analytic_epochs={analytic_epochs!r}, intrinsic_s={intrinsic_s!r}")
        raise ValueError(msg)
    width = int(width)
    growth = growth or GrowthParams(rho=0.01 / epoch_s)
    neuron_params = neuron_params or NeuronParams()
    synapse_params = synapse_params or SynapseParams()
    ss_params, ss_intrinsic, ss_run = np.random.SeedSequence(seed).spawn(3)
    neurons = make_neurons(width, np.random.default_rng(ss_params), neuron_params)
    n = width * width
    steps_per_epoch = round(epoch_s / DT_S)
    state = _NetworkState(neurons, capacity=1 << 20)
    table = SynapseTable(width, neurons.is_inh, growth, np.asarray(synapse_params.delay_steps),
                         synapse_params.u_init, synapse_params.r_init)

    k0 = analytic_epochs if schedule == "pregrowth" else 0
    n_epochs = k0 + simulated_epochs
    radii = np.empty((n_epochs + 1, n), dtype=np.float64)
    rates = np.zeros((n_epochs + 1, n), dtype=np.float64)
    n_syn = np.zeros(n_epochs + 1, dtype=np.int64)
    intrinsic = np.zeros(n)
    if schedule == "pregrowth":
        steps_i = round(intrinsic_s / DT_S)
        counts_i = np.zeros((1, n), dtype=np.int64)
        _simulate_span(state, neurons, None, synapse_params, np.random.default_rng(ss_intrinsic), 0, steps_i,
                       counts_i, steps_i, 0, [], [])
        intrinsic = counts_i[0] / intrinsic_s
        hist, unclamped = analytic_pregrowth(intrinsic, k0, epoch_s, growth)
        radii[: k0 + 1] = hist
        rates[1: k0 + 1] = intrinsic
        n_syn[0] = table.grow(radii[0])
        for k in range(1, k0 + 1):  # the same synapses, in the same order, as a simulated growth
            n_syn[k] = table.grow(unclamped[k - 1])
        state.clear_synaptic()
    else:
        radii[0] = growth.start_radius
        n_syn[0] = table.grow(radii[0])

    rng = np.random.default_rng(ss_run)
    epoch_counts = np.zeros((simulated_epochs, n), dtype=np.int64)
    steps_out: list[np.ndarray] = []
    neurons_out: list[np.ndarray] = []
    offset = k0 * steps_per_epoch
    for e in range(simulated_epochs):
        k = k0 + e + 1
        start = offset + e * steps_per_epoch
        _simulate_span(state, neurons, table, synapse_params, rng, start, start + steps_per_epoch, epoch_counts,
                       steps_per_epoch, offset, steps_out, neurons_out)
        rates[k] = epoch_counts[e] / epoch_s
        unclamped = radii[k - 1] + epoch_s * growth.rho * outgrowth(rates[k], growth)
        n_syn[k] = table.grow(unclamped)
        radii[k] = np.maximum(unclamped, growth.min_radius)
        if on_epoch is not None:
            on_epoch(e + 1, simulated_epochs)
    spike_steps = np.concatenate(steps_out) if steps_out else np.zeros(0, np.int64)
    spike_neurons = np.concatenate(neurons_out) if neurons_out else np.zeros(0, np.int32)
    settings = {"width": width, "schedule": schedule, "epoch_s": float(epoch_s),
                "simulated_epochs": int(simulated_epochs), "analytic_epochs": int(k0),
                "intrinsic_s": float(intrinsic_s) if schedule == "pregrowth" else 0.0, "seed": int(seed),
                "rho": growth.rho}
    return GrowthSimulation(
        neurons=neurons, spike_steps=spike_steps, spike_neurons=spike_neurons, radii_history=radii,
        rates_history=rates, n_synapses=n_syn, epoch_s=float(epoch_s), analytic_epochs=int(k0),
        intrinsic_rates=intrinsic, settings=settings)


def detect_avalanche_bursts(
    spike_steps: np.ndarray, n_steps: int, *, burst_min: float, mean_isi: float | None = None
) -> dict[str, np.ndarray]:
    """Bursts of the avalanche detector (spec §2.2) on a merged, sorted spike train.

    The generator's self-check (spec §4.5 items 6-7); the labelled burst table with all
    columns and the CSV export is the ``braingrid_bursts`` artifact.

    Parameters
    ----------
    spike_steps : ndarray of shape (n_spikes,), int
        All spike steps, ascending.
    n_steps : int
        Simulated steps (``meanISI = n_steps / n_spikes`` unless *mean_isi* is given).
    burst_min : float
        An avalanche with more spikes than this is a burst (1e4 originally; N for small grids).
    mean_isi : float, optional
        Network mean inter-spike interval [steps].

    Returns
    -------
    dict of ndarray
        ``start_step``, ``end_step``, ``width_steps``, ``total_spikes``, ``ibi_steps``
        (quiet gap from the previous burst's end; from the first spike for the first burst),
        and ``mean_isi`` (0-d).
    """
    steps = np.asarray(spike_steps, dtype=np.int64)
    times, counts = np.unique(steps, return_counts=True)
    if mean_isi is None:
        mean_isi = n_steps / max(steps.size, 1)
    rows = avalanche_scan(times, counts.astype(np.int64), float(mean_isi), float(burst_min))
    start = times[rows[:, 0]] if rows.size else np.zeros(0, np.int64)
    end = times[rows[:, 1]] if rows.size else np.zeros(0, np.int64)
    prev_end = np.concatenate([[times[0] if times.size else 0], end[:-1]])
    return {"start_step": start, "end_step": end, "width_steps": rows[:, 3].copy(),
            "total_spikes": rows[:, 2].copy(), "ibi_steps": start - prev_end, "mean_isi": np.asarray(mean_isi)}

