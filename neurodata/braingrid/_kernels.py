"""numba kernels of the BrainGrid growth network (spec ``braingrid.md`` §1.3-1.5).

Internal units: SI throughout -- volts, amperes, ohms, seconds -- and integer time steps of
dt = 1e-4 s. Arrays are plain numpy arrays; the validating wrappers live in ``_network.py``
and ``_growth.py``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = [
    "overlap_area",
    "run_lif_network",
    "update_growth_synapses",
]


@njit(cache=True)
def overlap_area(r1: float, r2: float, d: float) -> float:
    """Area [grid units^2] of the intersection of two discs of radii r1, r2 at distance d.

    0 when ``d >= r1 + r2``; ``pi * min(r1, r2)**2`` when one disc lies inside the other
    (``d <= |r1 - r2|``); otherwise the lens ``0.5 * [r1^2 (t1 - sin t1) + r2^2 (t2 - sin t2)]``
    with ``t1 = 2 acos((d^2 + r1^2 - r2^2) / (2 d r1))`` and likewise ``t2``.
    Negative radii count as 0.
    """
    r1 = max(r1, 0.0)
    r2 = max(r2, 0.0)
    if r1 == 0.0 or r2 == 0.0 or d >= r1 + r2:
        return 0.0
    if d <= abs(r1 - r2):
        rm = min(r1, r2)
        return math.pi * rm * rm
    c1 = (d * d + r1 * r1 - r2 * r2) / (2.0 * d * r1)
    c2 = (d * d + r2 * r2 - r1 * r1) / (2.0 * d * r2)
    t1 = 2.0 * math.acos(min(1.0, max(-1.0, c1)))
    t2 = 2.0 * math.acos(min(1.0, max(-1.0, c2)))
    return 0.5 * (r1 * r1 * (t1 - math.sin(t1)) + r2 * r2 * (t2 - math.sin(t2)))


@njit(cache=True, nogil=True)
def update_growth_synapses(
    radii, width, is_inh, strength, max_in,
    syn_pre, syn_post, syn_w, syn_u, syn_r, syn_last, n_syn,
    in_count, in_syn, u_init, r_init,
):
    """Set every synapse weight from the disc overlaps of the current radii (spec §1.5 items 4-5).

    Neurons sit on a ``width x width`` grid (``x = i % width``, ``y = i // width``, unit
    spacing, no wrap-around). For every ordered pair (pre j, post i), j != i, with
    ``dist < r_i + r_j`` the weight is ``area * strength * sign(pre)`` (sign -1 for an
    inhibitory pre). A synapse is created (state ``u_init``, ``r_init``, no previous arrival)
    when its area first becomes > 0 and post has fewer than *max_in* inputs; synapses are
    never deleted (a zero area leaves weight 0). BrainGrid's stale-index write when post is
    full is not reproduced: a pair over the cap gets no synapse and no weight.

    Parameters
    ----------
    radii : float64 (n,)  [grid units]
    width : int
    is_inh : bool (n,)
    strength : float  [A per grid unit^2]  (1e-8 in BrainGrid)
    max_in : int  maximum inputs per post neuron (200)
    syn_pre, syn_post : int32 (capacity,)
    syn_w, syn_u, syn_r : float64 (capacity,)  weight [A], utilisation, available fraction
    syn_last : int64 (capacity,)  step of the previous arrival, -1 = none
    n_syn : int  synapses in use
    in_count : int32 (n,)  inputs per post
    in_syn : int32 (n, max_in)  synapse ids of each post's inputs
    u_init, r_init : float

    Returns
    -------
    int
        The new number of synapses in use.
    """
    n = radii.shape[0]
    rmax = 0.0
    for i in range(n):
        if radii[i] > rmax:
            rmax = radii[i]
    for s in range(n_syn):
        syn_w[s] = 0.0
    for i in range(n):
        ri = radii[i]
        if ri <= 0.0:
            continue
        xi = i % width
        yi = i // width
        reach = int(math.ceil(ri + rmax))
        for dy in range(-reach, reach + 1):
            y = yi + dy
            if y < 0 or y >= width:
                continue
            for dx in range(-reach, reach + 1):
                x = xi + dx
                if x < 0 or x >= width or (dx == 0 and dy == 0):
                    continue
                j = y * width + x
                d = math.sqrt(float(dx * dx + dy * dy))
                if d >= ri + radii[j]:
                    continue
                area = overlap_area(radii[j], ri, d)
                if area <= 0.0:
                    continue
                w = area * strength
                if is_inh[j]:
                    w = -w
                found = -1
                for k in range(in_count[i]):
                    s = in_syn[i, k]
                    if syn_pre[s] == j:
                        found = s
                        break
                if found < 0:
                    if in_count[i] >= max_in:
                        continue
                    found = n_syn
                    n_syn += 1
                    syn_pre[found] = j
                    syn_post[found] = i
                    syn_u[found] = u_init
                    syn_r[found] = r_init
                    syn_last[found] = -1
                    in_syn[i, in_count[i]] = found
                    in_count[i] += 1
                syn_w[found] = w
    return n_syn


@njit(cache=True, nogil=True)
def run_lif_network(
    rng, step_start, step_stop, capacity,
    v, refrac, acc_e, acc_i, ring, ring_count, epoch_counts, steps_per_epoch, epoch_offset,
    c1, c2, i0, inoise, vthresh, vreset, trefract, is_inh, decay_e, decay_i,
    delays, out_ptr, out_syn, syn_post, syn_w, syn_u, syn_r, syn_last, syn_pair,
    pair_u, pair_d, pair_f, dt,
    out_steps, out_neurons,
):
    """Advance the LIF network from step *step_start* until *step_stop* or a full spike buffer.

    Per step (BrainGrid order: all neurons, then all synapses):

    * neuron i: ``isyn = acc_e[i] + acc_i[i]`` (summed PSRs of the previous step). If its
      refractory counter is > 0 it is decremented (V kept, input discarded); else if
      ``V >= Vthresh`` it fires (step recorded, counter = *trefract*, ``V = Vreset``, no
      integration); else ``V <- c1 V + c2 (i0 + inoise * xi + isyn)`` with one fresh
      ``xi ~ N(0, 1)`` from *rng*.
    * synapses: both accumulators decay (``acc *= exp(-dt/tau)``, tau = 3 ms for excitatory
      and 6 ms for inhibitory pre-synaptic neurons); then every spike fired *d* steps ago
      arrives on the synapses of delay *d*: the depression/facilitation state is updated
      from the inter-arrival interval ``isi`` (``r <- 1 + (r (1 - u) - 1) exp(-isi/D)``,
      ``u <- U + u (1 - U) exp(-isi/F)``, skipped on a first arrival) and ``w u r`` is added
      to the post's accumulator of the pre's sign class. This equals BrainGrid's per-synapse
      ``psr <- psr decay + w u r`` summed per post.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the membrane noise (one draw per integrating neuron per step).
    step_start, step_stop : int
        Steps ``[step_start, step_stop)`` of the run, in dt units.
    capacity : int
        Size of the spike buffers; the run stops early when fewer than n free slots remain.
    v : float64 (n,) [V];  refrac : int32 (n,) [steps];  acc_e, acc_i : float64 (n,) [A]
        Neuron state, updated in place.
    ring : int32 (n_ring, n);  ring_count : int32 (n_ring,)
        Neurons fired at each of the last n_ring steps (slot ``step % n_ring``).
    epoch_counts : int64 (n_epochs, n)
        Spike counts per epoch, incremented in place (row ``(step - epoch_offset) // steps_per_epoch``).
    c1 : float64 (n,);  c2 : float64 (n,) [Ohm];  i0, inoise : float64 (n,) [A]
    vthresh, vreset : float64 (n,) [V];  trefract : int32 (n,) [steps];  is_inh : bool (n,)
    decay_e, decay_i : float
    delays : int64 (n_delays,) [steps]
    out_ptr : int64 (n_delays, n + 1);  out_syn : int64 (n_out,)
        CSR of synapse ids by (delay class, pre).
    syn_post : int32;  syn_w : float64 [A];  syn_u, syn_r : float64;  syn_last : int64;
    syn_pair : int8 (pair index 0 EE, 1 EI, 2 IE, 3 II)
    pair_u, pair_d, pair_f : float64 (4,)  U, D [s], F [s] per pair
    dt : float [s]
    out_steps : int64 (capacity,);  out_neurons : int32 (capacity,)
        Recorded spikes (step, neuron), filled from index 0.

    Returns
    -------
    (int, int)
        The step reached (exclusive) and the number of spikes recorded.
    """
    n = v.shape[0]
    n_ring = ring.shape[0]
    n_del = delays.shape[0]
    n_out = 0
    t = step_start
    while t < step_stop:
        if capacity - n_out < n:
            break
        slot = t % n_ring
        nf = 0
        erow = (t - epoch_offset) // steps_per_epoch
        for i in range(n):
            isyn = acc_e[i] + acc_i[i]
            # this step's synaptic update starts with the decay (arrivals are added below)
            acc_e[i] *= decay_e
            acc_i[i] *= decay_i
            if refrac[i] > 0:
                refrac[i] -= 1
            elif v[i] >= vthresh[i]:
                out_steps[n_out] = t
                out_neurons[n_out] = i
                n_out += 1
                epoch_counts[erow, i] += 1
                refrac[i] = trefract[i]
                v[i] = vreset[i]
                ring[slot, nf] = i
                nf += 1
            else:
                v[i] = c1[i] * v[i] + c2[i] * (i0[i] + inoise[i] * rng.standard_normal() + isyn)
        ring_count[slot] = nf
        for k in range(n_del):
            d = delays[k]
            t_fire = t - d
            if t_fire < 0:
                continue
            src = t_fire % n_ring
            for q in range(ring_count[src]):
                j = ring[src, q]
                for p in range(out_ptr[k, j], out_ptr[k, j + 1]):
                    s = out_syn[p]
                    w = syn_w[s]
                    pr = syn_pair[s]
                    u = syn_u[s]
                    r = syn_r[s]
                    if syn_last[s] >= 0:
                        isi = (t - syn_last[s]) * dt
                        r = 1.0 + (r * (1.0 - u) - 1.0) * math.exp(-isi / pair_d[pr])
                        u = pair_u[pr] + u * (1.0 - pair_u[pr]) * math.exp(-isi / pair_f[pr])
                        syn_u[s] = u
                        syn_r[s] = r
                    syn_last[s] = t
                    if w != 0.0:
                        post = syn_post[s]
                        if is_inh[j]:
                            acc_i[post] += w * u * r
                        else:
                            acc_e[post] += w * u * r
        t += 1
    return t, n_out
