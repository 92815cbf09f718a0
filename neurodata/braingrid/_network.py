"""The BrainGrid growth network on a W x W grid: neurons, synapses and the two growth schedules.

An independent re-implementation of the model behind BrainGrid's ``tR_1.0--fE_0.90`` runs
(spec ``braingrid.md`` §1.3-1.5, §4.2): exponential-Euler LIF neurons with injected and
Gaussian noise currents, a deterministic lattice of starter (endogenously active) and
inhibitory neurons, short-term depressing/facilitating synapses with fixed delays, and
activity-dependent growth of connection radii whose disc overlaps set the weights.

Deviations from BrainGrid, on purpose:

* float64 state instead of BrainGrid's float32 ``BGFLOAT`` (the file stores float32);
* the noise comes from ``neurodata.seeds.rng`` (numpy's PCG64), not a Mersenne Twister; one
  N(0, 1) draw per integrating neuron per step, as in BrainGrid;
* synaptic currents are summed per post-synaptic neuron in two accumulators (excitatory
  tau = 3 ms, inhibitory tau = 6 ms), with per-synapse plasticity state: identical in exact
  arithmetic to BrainGrid's per-synapse PSRs;
* a pair over the 200-inputs cap gets no synapse; BrainGrid then writes the weight through a
  stale index (spec §1.5 item 5), which is not reproduced;
* schedule (b) simulates its pre-onset epochs without synaptic coupling (only the starters
  can fire then); the growth still creates the synapses of those epochs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..seeds import rng
from ._growth import GrowthParams, SynapseTable, outgrowth
from ._hdf5_layout import DT_S, EXC, INH
from ._kernels import run_lif_network
from ._record import BrainGridRecord, spike_trains_from_events

__all__ = [
    "SCHEDULES",
    "GrowthSimulation",
    "NeuronParams",
    "Neurons",
    "SynapseParams",
    "culture_stream",
    "inhibitory_mask",
    "make_neurons",
    "simulate_growth_network",
    "starter_mask",
]

# Child streams of the run's seed (neurodata.seeds.rng(seed, k)); their indices are part of the
# calibrated profiles' outputs, so they never change. Culture c of an ensemble draws children
# 3 c + k, so culture 0 is the single-culture run of the same seed.
_STREAM_NEURONS, _STREAM_UNCOUPLED, _STREAM_COUPLED = 0, 1, 2
_STREAMS_PER_CULTURE = 3


def culture_stream(culture: int, stream: int) -> int:
    """Child index of the run's ``SeedSequence`` that culture *culture* draws stream *stream* from.

    Parameters
    ----------
    culture : int
        The culture's index in the ensemble, >= 0.
    stream : int
        0 (neuron parameters), 1 (uncoupled epochs' noise) or 2 (coupled epochs' noise).

    Examples
    --------
    >>> culture_stream(0, 2), culture_stream(1, 0), culture_stream(4, 1)
    (2, 3, 13)
    """
    if not 0 <= stream < _STREAMS_PER_CULTURE:
        msg = f"stream must be 0, 1 or 2. Got {stream!r} instead."
        raise ValueError(msg)
    if isinstance(culture, bool) or not isinstance(culture, int | np.integer) or culture < 0:
        msg = f"culture must be an int >= 0. Got {culture!r} instead."
        raise ValueError(msg)
    return _STREAMS_PER_CULTURE * int(culture) + stream

SCHEDULES = ("accelerated", "pregrowth")
"""Growth schedules of spec §4.2: (a) every epoch coupled; (b) uncoupled pre-onset epochs + coupled tail."""


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

    Parameters
    ----------
    width : int
        Grid side W (N = W^2 neurons, id ``y * W + x``).
    """
    x, y = _grid_xy(width)
    a, xm = y % 10, x % 10
    return (np.isin(a, (0, 3, 6, 9)) & (xm == 7)) | (np.isin(a, (1, 4, 7)) & np.isin(xm, (1, 4)))


def inhibitory_mask(width: int) -> np.ndarray:
    """Inhibitory neurons of BrainGrid's lattice, shape (width**2,), bool.

    With ``a = y mod 10`` and ``b = (y div 10) mod 2``: for b = 0, ``x mod 10 == 2`` if
    a in {0, 3, 6, 9} and ``x mod 10`` in {5, 8} if a in {2, 5, 8}; for b = 1, 8 and
    {2, 5}. Disjoint from :func:`starter_mask`.

    Parameters
    ----------
    width : int
        Grid side W (N = W^2 neurons, id ``y * W + x``).
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
        Spike time steps of every epoch (uncoupled and coupled), ascending (dt = 1e-4 s).
    spike_neurons : ndarray of shape (n_spikes,), int32
        Neuron of each spike; ascending within a step.
    radii_history : ndarray of shape (n_epochs + 1, n) [grid units]
    rates_history : ndarray of shape (n_epochs + 1, n) [Hz]
    n_synapses : ndarray of shape (n_epochs + 1,), int64
        Synapses in existence after the growth step of epoch k (index 0: at the start).
    epoch_s : float
        Epoch length Tsim [s].
    analytic_epochs : int
        Leading epochs simulated without synaptic coupling (schedule (b)), 0 for schedule (a).
    intrinsic_rates : ndarray of shape (n,) [Hz]
        Mean rate over the uncoupled epochs (zeros for (a) or without such epochs).
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
        """Total growth epochs (uncoupled and coupled)."""
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


def _starter_subnetwork(neurons: Neurons) -> tuple[np.ndarray, Neurons]:
    """The starters alone, as a network of their own (ids ascending, constants shared)."""
    idx = np.flatnonzero(neurons.is_starter)
    sub = Neurons(
        width=neurons.width, xloc=neurons.xloc[idx], yloc=neurons.yloc[idx], is_inh=neurons.is_inh[idx],
        is_starter=neurons.is_starter[idx], vthresh=neurons.vthresh[idx], vreset=neurons.vreset[idx],
        vinit=neurons.vinit[idx], trefract_steps=neurons.trefract_steps[idx], inoise=neurons.inoise[idx],
        i0=neurons.i0[idx], c1=neurons.c1[idx], c2=neurons.c2[idx])
    return idx, sub


def simulate_growth_network(
    width: int,
    *,
    schedule: str = "pregrowth",
    epoch_s: float = 10.0,
    simulated_epochs: int = 60,
    analytic_epochs: int = 80,
    seed: int = 0,
    culture: int = 0,
    growth: GrowthParams | None = None,
    neuron_params: NeuronParams | None = None,
    synapse_params: SynapseParams | None = None,
    on_epoch: Callable[[int, int], None] | None = None,
) -> GrowthSimulation:
    """Simulate the BrainGrid growth network on a ``width x width`` grid.

    Schedules (spec §4.2):

    * ``"accelerated"`` (a): *simulated_epochs* epochs of *epoch_s* seconds, all simulated
      with synaptic coupling, radii growing from ``start_radius``; *analytic_epochs* is ignored.
    * ``"pregrowth"`` (b): the first *analytic_epochs* epochs are simulated **without synaptic
      coupling** (the pre-onset approximation of spec §4.2 (b): non-starters are silent and
      starter-starter coupling is weak before onset). Only the starters are integrated there:
      the other neurons' noise-free asymptote lies 1.5 mV (about 30 noise SDs) below their
      threshold, so they cannot fire without input. Their spikes are recorded and their
      per-epoch rates drive the growth, so the file holds exactly what happened. Then
      *simulated_epochs* epochs follow with coupling, from the starters' membrane state and
      with the other neurons at their noise-free asymptote ``Rm * I0`` (their stationary
      noise, SD ~0.05 mV, builds up within tau_m = 30 ms), synaptic queues empty.

    At the end of every epoch: ``rate = spikes / epoch_s``; radii move by
    ``epoch_s * rho * outgrowth(rate)``; weights are recomputed from the unclamped radii; then
    radii below ``min_radius`` are clamped (BrainGrid's recorder order). The original runs use
    ``epoch_s = 100``, ``rho = 1e-4``; the default here is ``epoch_s = 10`` with
    ``rho = 1e-3`` (same growth per epoch).

    Parameters
    ----------
    width : int
        Grid side W >= 2 (N = W^2; 10 % starters and 10 % inhibitory when W is a multiple of 10).
    schedule : {"pregrowth", "accelerated"}, default "pregrowth"
    epoch_s : float, default 10.0
        Epoch length Tsim [s], a multiple of 1 s.
    simulated_epochs : int, default 60
        Epochs simulated with synaptic coupling.
    analytic_epochs : int, default 80
        Leading epochs simulated without coupling (schedule "pregrowth").
    seed : int, default 0
        The run's seed: streams ``neurodata.seeds.rng(seed, 0)``, ``(seed, 1)`` and ``(seed, 2)``
        draw the neuron parameters, the uncoupled epochs' noise and the coupled epochs' noise. The uncoupled
        epochs do not depend on *analytic_epochs*: a run with more of them extends one with
        fewer.
    culture : int, default 0
        The culture of an ensemble seeded with *seed*: its streams are children ``3 culture + k``
        (:func:`culture_stream`) instead of ``k``, independent of every other culture's; culture 0
        is the run above.
    growth : GrowthParams, optional
        Default: BrainGrid's, with ``rho = 1e-3 * 10 / epoch_s`` so that ``epoch_s * rho = 0.01``.
    neuron_params : NeuronParams, optional
    synapse_params : SynapseParams, optional
    on_epoch : callable(done, total), optional
        Called after each epoch, uncoupled or coupled (progress reporting).

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
    if schedule == "pregrowth" and analytic_epochs < 0:
        msg = f"schedule 'pregrowth' needs analytic_epochs >= 0; got {analytic_epochs!r}"
        raise ValueError(msg)
    width = int(width)
    growth = growth or GrowthParams(rho=0.01 / epoch_s)
    neuron_params = neuron_params or NeuronParams()
    synapse_params = synapse_params or SynapseParams()
    neurons = make_neurons(width, rng(seed, culture_stream(culture, _STREAM_NEURONS)), neuron_params)
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
    epoch_counts = np.zeros((n_epochs, n), dtype=np.int64)
    radii[0] = growth.start_radius
    n_syn[0] = table.grow(radii[0])
    steps_out: list[np.ndarray] = []
    neurons_out: list[np.ndarray] = []

    def end_epoch(k: int) -> None:
        rates[k] = epoch_counts[k - 1] / epoch_s
        unclamped = radii[k - 1] + epoch_s * growth.rho * outgrowth(rates[k], growth)
        n_syn[k] = table.grow(unclamped)
        radii[k] = np.maximum(unclamped, growth.min_radius)
        if on_epoch is not None:
            on_epoch(k, n_epochs)

    if k0:
        starters, sub = _starter_subnetwork(neurons)
        sub_state = _NetworkState(sub, capacity=1 << 20)
        sub_counts = np.zeros((k0, starters.size), dtype=np.int64)
        rng_uncoupled = rng(seed, culture_stream(culture, _STREAM_UNCOUPLED))
        for k in range(1, k0 + 1):
            sub_steps: list[np.ndarray] = []
            sub_ids: list[np.ndarray] = []
            _simulate_span(sub_state, sub, None, synapse_params, rng_uncoupled, (k - 1) * steps_per_epoch,
                           k * steps_per_epoch, sub_counts, steps_per_epoch, 0, sub_steps, sub_ids)
            steps_out.extend(sub_steps)
            neurons_out.extend(starters[ids].astype(np.int32) for ids in sub_ids)
            epoch_counts[k - 1, starters] = sub_counts[k - 1]
            end_epoch(k)
        # the coupled epochs continue from the starters' state; the others sit at their
        # noise-free asymptote Rm * I0 (= c2 * I0 / (1 - c1))
        state.v[:] = neurons.c2 * neurons.i0 / (1.0 - neurons.c1)
        state.v[starters] = sub_state.v
        state.refrac[starters] = sub_state.refrac

    rng_run = rng(seed, culture_stream(culture, _STREAM_COUPLED))
    for k in range(k0 + 1, n_epochs + 1):
        start = (k - 1) * steps_per_epoch
        _simulate_span(state, neurons, table, synapse_params, rng_run, start, start + steps_per_epoch, epoch_counts,
                       steps_per_epoch, 0, steps_out, neurons_out)
        end_epoch(k)
    spike_steps = np.concatenate(steps_out) if steps_out else np.zeros(0, np.int64)
    spike_neurons = np.concatenate(neurons_out) if neurons_out else np.zeros(0, np.int32)
    intrinsic = epoch_counts[:k0].sum(axis=0) / (k0 * epoch_s) if k0 else np.zeros(n)
    settings = {"width": width, "schedule": schedule, "epoch_s": float(epoch_s),
                "simulated_epochs": int(simulated_epochs), "analytic_epochs": int(k0), "seed": int(seed),
                "culture": int(culture),
                "rho": growth.rho}
    return GrowthSimulation(
        neurons=neurons, spike_steps=spike_steps, spike_neurons=spike_neurons, radii_history=radii,
        rates_history=rates, n_synapses=n_syn, epoch_s=float(epoch_s), analytic_epochs=int(k0),
        intrinsic_rates=intrinsic, settings=settings)
