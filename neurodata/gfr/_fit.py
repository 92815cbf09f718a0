"""Batched GFR fitting: activation first, then the full model with Poisson NLL and restarts, EVR, selection.

The procedure is the original one (spec §3), run for many cells, activation keys and restarts
at once:

* the activation g of every (cell, activation bin, repeat) is one row of a batched torch
  model trained full-batch with Adam;
* every (cell, key, restart) of a bin size is one model of the numba BPTT kernel
  (:func:`._kernels.gfr_loss_grad`), stepped by a vectorised Adam identical to ``torch.optim.Adam``
  (Adam is element-wise, so one batched optimiser equals one optimiser per model; each model
  keeps its own learning rate and early stop).

Fixes of the original, each documented where it happens: a zero-width slope in the activation
init falls back to slope 1 instead of inf/NaN; cells with NaN rates or empty sweeps are
reported, not fitted; a NaN validation EVR excludes the cell with a reason instead of crashing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._kernels import gfr_loss_grad, gfr_predict
from ._streams import ACTIVATION_INIT, GROUP_ORDER

__all__ = [
    "CellGroups",
    "FitConfig",
    "GROUPS",
    "activation_init",
    "explained_variance",
    "explained_variance_ratio",
    "fit_activations",
    "fit_gfr_models",
    "fit_keys",
    "model_evr",
    "pack_groups",
]

#: stimulus groups in packing order; the first three train, Noise 1 validates, Noise 2 tests
GROUPS = ("Long Square", "Ramp", "Noise 1", "Noise 2")
_VAL, _TEST = 2, 3


@dataclass
class FitConfig:
    """Training configuration (the original's ``configs/default.json``; its values are the
    ``gfr_params`` section of params.yaml, see :meth:`from_params`).

    Attributes
    ----------
    activation_epochs : int
        Adam steps of the activation fit.
    activation_repeats : int
        Independent activation fits; the lowest final loss wins.
    activation_lr : float
        Adam learning rate of the activation fit.
    hparams : list of (float, int)
        ``(lr, epochs)`` of each independent restart of the full fit.
    eps : float
        eps of the Poisson NLL (the original's 1e-8).
    """

    activation_epochs: int
    activation_repeats: int
    activation_lr: float
    hparams: list[tuple[float, int]]
    eps: float = 1e-8

    @classmethod
    def from_params(cls, p: Mapping[str, Any]) -> FitConfig:
        """The configuration of the ``gfr_params`` stage's parameters *p*.

        Parameters
        ----------
        p : mapping
            ``activation_epochs``, ``activation_repeats``, ``activation_lr``, ``restart_lrs``
            (one restart per learning rate) and ``epochs`` (of every restart).
        """
        return cls(activation_epochs=int(p["activation_epochs"]), activation_repeats=int(p["activation_repeats"]),
                   activation_lr=float(p["activation_lr"]),
                   hparams=[(float(lr), int(p["epochs"])) for lr in p["restart_lrs"]])


@dataclass
class CellGroups:
    """Sweeps of several cells at one bin size, grouped by stimulus and packed flat.

    Attributes
    ----------
    current, rate : ndarray of shape (n_packed,)
        Group ``(c, g)`` occupies ``[offset[c, g], offset[c, g] + Sc[c, g] * Lc[c, g])`` as
        ``Sc`` rows of ``Lc`` bins (pA, spikes/ms); shorter sweeps are zero-padded.
    offset, Lc, Sc : ndarray of shape (n_cells, 4), int64
    bin_size : int
        Bin width in ms.
    """

    current: np.ndarray
    rate: np.ndarray
    offset: np.ndarray
    Lc: np.ndarray
    Sc: np.ndarray
    bin_size: int

    def group(self, c: int, g: int) -> tuple[np.ndarray, np.ndarray]:
        """Current and rate of group *g* of cell *c*, each of shape (Sc, Lc)."""
        S, L, o = int(self.Sc[c, g]), int(self.Lc[c, g]), int(self.offset[c, g])
        return (self.current[o: o + S * L].reshape(S, L), self.rate[o: o + S * L].reshape(S, L))


def pack_groups(cells: list[dict[str, tuple[np.ndarray, np.ndarray]]], bin_size: int) -> CellGroups:
    """Pack per-cell sweep groups into one flat layout for the kernel.

    Parameters
    ----------
    cells : list of dict
        Per cell, ``{stimulus_name: (current, rate)}`` with arrays of shape (n_sweeps, n_bins)
        where NaN marks bins past a sweep's end (replaced by the original's zero padding).
    bin_size : int
        Bin width in ms.

    Returns
    -------
    CellGroups
    """
    n = len(cells)
    offset = np.zeros((n, len(GROUPS)), np.int64)
    Lc = np.zeros((n, len(GROUPS)), np.int64)
    Sc = np.zeros((n, len(GROUPS)), np.int64)
    cur_parts, rate_parts = [], []
    pos = 0
    for c, groups in enumerate(cells):
        for g, name in enumerate(GROUPS):
            if name not in groups or groups[name][0].size == 0:
                offset[c, g] = pos
                continue
            cur, rate = groups[name]
            cur_parts.append(np.nan_to_num(np.asarray(cur, np.float64), nan=0.0).ravel())
            rate_parts.append(np.nan_to_num(np.asarray(rate, np.float64), nan=0.0).ravel())
            Sc[c, g], Lc[c, g] = cur.shape
            offset[c, g] = pos
            pos += cur.size
    cur_flat = np.concatenate(cur_parts) if cur_parts else np.zeros(0)
    rate_flat = np.concatenate(rate_parts) if rate_parts else np.zeros(0)
    return CellGroups(cur_flat, rate_flat, offset, Lc, Sc, int(bin_size))


def explained_variance(x: np.ndarray, y: np.ndarray) -> float:
    """EV(x, y) = [Var x + Var y - Var(x - y)] / [Var x + Var y] (ddof 0; NaN if the denominator is 0)."""
    vx, vy = np.std(x) ** 2, np.std(y) ** 2
    den = vx + vy
    if den == 0:
        return float("nan")
    return float((vx + vy - np.std(x - y) ** 2) / den)


def explained_variance_ratio(observed: np.ndarray, predicted: np.ndarray) -> float:
    """EVR of a model prediction against repeated sweeps (spec §3.5).

    Parameters
    ----------
    observed : ndarray of shape (n_repeats, L)
        Observed rates in spikes/ms (padded group).
    predicted : ndarray of shape (L,)
        Model rate on the first sweep's current.

    Returns
    -------
    float
        ``mean_j EV(F_j, f_hat) / mean_j EV(F_j, PSTH)``; NaN when undefined.
    """
    psth = observed.mean(axis=0)
    ev_data = np.mean([explained_variance(row, psth) for row in observed])
    ev_model = np.mean([explained_variance(row, predicted) for row in observed])
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(ev_model / ev_data) if ev_data != 0 else float("nan")


def activation_init(current: np.ndarray, rate: np.ndarray, sigma: float, degree: int,
                    rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """Initial coefficients and threshold of g from (current, rate) pairs (``utils.activation_from_data``).

    Parameters
    ----------
    current, rate : ndarray of shape (n_pairs,)
        First-bin current (pA) and rate (spikes/ms) of each Long Square sweep.
    sigma : float
        Current scale in pA.
    degree : int
        Polynomial degree.
    rng : numpy.random.Generator

    Returns
    -------
    coeff : ndarray of shape (degree + 1,)
    b : float
        Threshold current in pA.

    Notes
    -----
    As the original: ``b`` is the current just below the first pair with rate > 0.01, the
    linear coefficient is ``|slope * sigma|`` between that pair and the maximal-rate pair
    (the squaring in g is ignored). Fix: when both pairs share one current (slope inf or
    NaN in the original) the slope falls back to 1.
    """
    order = np.argsort(current, kind="stable")
    x, y = current[order], rate[order]
    x2, y2 = x[np.argmax(y)], y[np.argmax(y)]
    above = np.flatnonzero(y > 0.01)
    if above.size:
        i = int(above[0])
        j = i - 1 if i - 1 > 0 else i
        x1, y1 = x[j], y[j]
    else:
        x1, y1 = 0.0, 0.0
    coeff = 0.1 * rng.standard_normal(degree + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (y2 - y1) / (x2 - x1)
    if not np.isfinite(slope):
        slope = 1.0
    if degree >= 1:
        coeff[1] = abs(slope * sigma)
    return coeff, float(x1)


def fit_activations(current: np.ndarray, rate: np.ndarray, mask: np.ndarray, gamma: np.ndarray, *, degree: int,
                    bin_size: int, config: FitConfig, rngs: list[np.random.Generator]) -> dict[str, np.ndarray]:
    """Fit g for many cells at once (``train.fit_activation``, batched over cells and repeats).

    Parameters
    ----------
    current, rate : ndarray of shape (n_cells, n_pairs)
        Long Square first-bin pairs (pA, spikes/ms); entries with ``mask == False`` are padding.
    mask : ndarray of bool, shape (n_cells, n_pairs)
    gamma : ndarray of shape (n_cells,)
        Maximal firing rate in spikes/ms (frozen).
    degree : int
        Polynomial degree (1 for activation bin 20 ms, 3 for 100 ms).
    bin_size : int
        Activation bin size in ms.
    config : FitConfig
    rngs : list of numpy.random.Generator, one per cell
        Random streams of the coefficient init.

    Returns
    -------
    dict
        ``poly_coeff`` (n_cells, degree + 1), ``b`` (n_cells,) pA, ``max_current`` (n_cells,) pA,
        ``max_firing_rate`` (n_cells,) spikes/ms, ``loss`` (n_cells,).
    """
    import torch

    n_cells, n_pairs = current.shape
    R = config.activation_repeats
    sigma = np.where(mask, np.abs(current), 0.0).max(axis=1)
    sigma = np.where(sigma > 0, sigma, 1.0)
    init_c = np.zeros((n_cells, R, degree + 1))
    init_b = np.zeros((n_cells, R))
    for c in range(n_cells):
        m = mask[c]
        for r in range(R):
            init_c[c, r], init_b[c, r] = activation_init(current[c, m], rate[c, m], sigma[c], degree, rngs[c])
    rep = lambda arr: torch.as_tensor(np.repeat(arr, R, axis=0), dtype=torch.float32)  # noqa: E731
    I_t, f_t, w_t = rep(np.where(mask, current, 0.0)), rep(np.where(mask, rate, 0.0)), rep(mask.astype(float))
    sig_t, gam_t = rep(sigma)[:, None], rep(gamma)[:, None]
    coeff = torch.nn.Parameter(torch.as_tensor(init_c.reshape(n_cells * R, degree + 1), dtype=torch.float32))
    thr = torch.nn.Parameter(torch.as_tensor(init_b.reshape(n_cells * R, 1), dtype=torch.float32))
    p = torch.arange(degree + 1)
    opt = torch.optim.Adam([coeff, thr], lr=config.activation_lr)

    def per_model_loss() -> torch.Tensor:
        x = (I_t - thr) / sig_t
        poly = ((x.unsqueeze(-1) ** p) * (coeff ** 2).unsqueeze(1)).sum(-1)
        g = torch.relu(gam_t * torch.tanh(poly))
        pred, obs = g * bin_size, f_t * bin_size
        return ((pred - obs * torch.log(pred + config.eps)) * w_t).sum(dim=1)

    loss = per_model_loss().detach()
    for _ in range(config.activation_epochs):
        opt.zero_grad()
        loss_m = per_model_loss()
        loss_m.sum().backward()
        opt.step()
        loss = loss_m.detach()
    loss = loss.numpy().reshape(n_cells, R)
    best = np.nanargmin(np.where(np.isfinite(loss), loss, np.inf), axis=1)
    idx = np.arange(n_cells) * R + best
    return {"poly_coeff": coeff.detach().numpy()[idx].astype(np.float64),
            "b": thr.detach().numpy()[idx, 0].astype(np.float64),
            "max_current": sigma.astype(np.float32).astype(np.float64),
            "max_firing_rate": np.asarray(gamma, np.float32).astype(np.float64),
            "loss": loss[np.arange(n_cells), best]}


def _adam_step(p, grad, m, v, step, lr, active, beta1=0.9, beta2=0.999, eps=1e-8):
    """In-place torch.optim.Adam update of the active rows (per-row lr and step count)."""
    rows = np.flatnonzero(active)
    if rows.size == 0:
        return
    g = grad[rows]
    m[rows] = m[rows] + (1 - beta1) * (g - m[rows])
    v[rows] = v[rows] * beta2 + (1 - beta2) * g * g
    bc1 = 1 - beta1 ** step[rows]
    bc2 = 1 - beta2 ** step[rows]
    denom = np.sqrt(v[rows]) / np.sqrt(bc2)[:, None] + eps
    p[rows] -= (lr[rows] / bc1)[:, None] * m[rows] / denom


def fit_gfr_models(data: CellGroups, cell_of: np.ndarray, order: np.ndarray, g: dict[str, np.ndarray],
                   ds: np.ndarray, lr: np.ndarray, epochs: np.ndarray, *, eps: float = 1e-8) -> dict[str, np.ndarray]:
    """Train many GFR models (one per row) with BPTT and Adam, as ``train.train_model`` does per cell.

    Parameters
    ----------
    data : CellGroups
        Packed sweeps at the models' bin size.
    cell_of : ndarray of int, shape (M,)
        Cell row of each model.
    order : ndarray of int, shape (M, 3)
        Order of the training groups (0 Long Square, 1 Ramp, 2 Noise 1) of each model.
    g : dict
        Frozen activation per model: ``max_current`` (M,), ``max_firing_rate`` (M,),
        ``poly_coeff`` (M, d_max + 1) zero-padded, ``b`` (M,).
    ds : ndarray of shape (n,)
        Decay coefficients.
    lr : ndarray of shape (M,)
        Learning rate of each model.
    epochs : ndarray of int, shape (M,)
        Epochs of each model.
    eps : float, default: 1e-8

    Returns
    -------
    dict
        ``a``, ``b`` (M, n); ``train_losses``, ``test_losses`` (M, max epochs) per-bin NLL, NaN
        after a model stopped; ``n_epochs`` (M,); ``evr1`` (M,) on Noise 1.
    """
    M = cell_of.size
    n = ds.size
    a = np.zeros((M, n))
    a[:, 0] = n
    b = np.zeros((M, n))
    ma, va, mb, vb = (np.zeros((M, n)) for _ in range(4))
    step = np.zeros(M)
    E = int(epochs.max()) if M else 0
    train = np.full((M, E), np.nan)
    test = np.full((M, E), np.nan)
    active = np.ones(M, dtype=np.bool_)
    n_epochs = np.zeros(M, np.int64)
    ds64 = np.asarray(ds, np.float64)
    args = (g["max_current"], g["max_firing_rate"], g["poly_coeff"], g["b"], float(data.bin_size), eps)
    cell_of = np.asarray(cell_of, np.int64)
    for e in range(E):
        active &= epochs > e
        if not active.any():
            break
        group_loss = np.zeros(M)
        for k in range(3):
            grp = order[:, k].astype(np.int64)
            loss, ga, gb = gfr_loss_grad(data.current, data.rate, data.offset, data.Lc, data.Sc, cell_of, grp,
                                         a, b, ds64, *args, active, True)
            group_loss += loss / np.maximum(data.Lc[cell_of, grp], 1)
            step[active] += 1
            _adam_step(a, ga, ma, va, step, lr, active)
            _adam_step(b, gb, mb, vb, step, lr, active)
        test_grp = np.full(M, _TEST, np.int64)
        tl, _, _ = gfr_loss_grad(data.current, data.rate, data.offset, data.Lc, data.Sc, cell_of, test_grp,
                                 a, b, ds64, *args, active, False)
        train[active, e] = group_loss[active] / 3.0
        test[active, e] = tl[active] / np.maximum(data.Lc[cell_of[active], _TEST], 1)
        n_epochs[active] = e + 1
        if e >= 2:
            same = (train[:, e] == train[:, e - 1]) & (train[:, e - 1] == train[:, e - 2])
            active &= ~same
    evr1 = model_evr(data, cell_of, np.full(M, _VAL), a, b, ds64, g)
    return {"a": a, "b": b, "train_losses": train, "test_losses": test, "n_epochs": n_epochs, "evr1": evr1}


def model_evr(data: CellGroups, cell_of: np.ndarray, group: np.ndarray, a: np.ndarray, b: np.ndarray,
              ds: np.ndarray, g: dict[str, np.ndarray]) -> np.ndarray:
    """EVR of each model on one group of its cell (prediction on the group's first-sweep current)."""
    M = cell_of.size
    out = np.full(M, np.nan)
    for m in range(M):
        cur, rate = data.group(int(cell_of[m]), int(group[m]))
        if cur.shape[0] == 0:
            continue
        pred = gfr_predict(cur[:1], a[m: m + 1], b[m: m + 1], ds, g["max_current"][m: m + 1],
                           g["max_firing_rate"][m: m + 1], g["poly_coeff"][m: m + 1], g["b"][m: m + 1])[0]
        out[m] = explained_variance_ratio(rate, pred)
    return out


def fit_keys(data: dict[int, CellGroups], act_pairs: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]],
             gamma: np.ndarray, keys: list[tuple[int, int]], degrees: dict[int, int], config: FitConfig,
             rng_of: Callable[..., np.random.Generator]) -> dict[tuple[int, int], dict[str, np.ndarray]]:
    """Fit every key for a block of (valid) cells: activation per activation bin, then all restarts at once.

    Parameters
    ----------
    data : dict
        ``{bin_size: CellGroups}`` of the block.
    act_pairs : dict
        ``{activation_bin_size: (current, rate, mask)}``, each of shape (n_cells, n_pairs).
    gamma : ndarray of shape (n_cells,)
        Maximal firing rate in spikes/ms.
    keys : list of (int, int)
        (bin_size, activation_bin_size) pairs to fit.
    degrees : dict
        Polynomial degree per activation bin size.
    config : FitConfig
    rng_of : callable
        ``rng_of(cell, purpose, *key) -> numpy.random.Generator``: the random stream of a cell
        for a purpose (:data:`._streams.ACTIVATION_INIT` with the activation bin size,
        :data:`._streams.GROUP_ORDER` with the key).

    Returns
    -------
    dict
        Per key: ``a``, ``b`` (n_cells, n), ``ds`` (n,), ``poly_coeff`` (n_cells, d + 1), ``g_b``,
        ``max_current``, ``max_firing_rate``, ``val_evr``, ``test_evr``, ``train_loss``, ``test_loss``
        (n_cells,), ``train_losses``, ``test_losses`` (n_cells, max epochs), ``restart`` (n_cells,).
    """
    from ._model import decay_coefficients

    n_cells = gamma.size
    acts = {}
    for ab in sorted({k[1] for k in keys}):
        cur, rate, mask = act_pairs[ab]
        rngs = [rng_of(c, ACTIVATION_INIT, ab) for c in range(n_cells)]
        acts[ab] = fit_activations(cur, rate, mask, gamma, degree=degrees[ab], bin_size=ab, config=config, rngs=rngs)
    out: dict[tuple[int, int], dict[str, np.ndarray]] = {}
    R = len(config.hparams)
    for bs in sorted({k[0] for k in keys}):
        bkeys = [k for k in keys if k[0] == bs]
        d_max = max(degrees[k[1]] for k in bkeys)
        cell_of, key_of, restart, order = [], [], [], []
        for ki, key in enumerate(bkeys):
            for c in range(n_cells):
                perm = rng_of(c, GROUP_ORDER, *key).permutation(3)   # training groups shuffled once per cell and key
                for r in range(R):
                    cell_of.append(c)
                    key_of.append(ki)
                    restart.append(r)
                    order.append(perm)
        cell_of, key_of, restart, order = map(np.asarray, (cell_of, key_of, restart, order))
        g = {"max_current": np.zeros(cell_of.size), "max_firing_rate": np.zeros(cell_of.size),
             "poly_coeff": np.zeros((cell_of.size, d_max + 1)), "b": np.zeros(cell_of.size)}
        for ki, key in enumerate(bkeys):
            sel = key_of == ki
            act = acts[key[1]]
            g["max_current"][sel] = act["max_current"][cell_of[sel]]
            g["max_firing_rate"][sel] = act["max_firing_rate"][cell_of[sel]]
            g["b"][sel] = act["b"][cell_of[sel]]
            g["poly_coeff"][sel, : act["poly_coeff"].shape[1]] = act["poly_coeff"][cell_of[sel]]
        lr = np.array([config.hparams[r][0] for r in restart], np.float64)
        ep = np.array([config.hparams[r][1] for r in restart], np.int64)
        ds = decay_coefficients(bs).numpy().astype(np.float64)
        res = fit_gfr_models(data[bs], cell_of, order, g, ds, lr, ep, eps=config.eps)
        evr2_all = model_evr(data[bs], cell_of, np.full(cell_of.size, _TEST), res["a"], res["b"], ds, g)
        for ki, key in enumerate(bkeys):
            act = acts[key[1]]
            n = ds.size
            E = res["train_losses"].shape[1]
            rec = {"a": np.full((n_cells, n), np.nan), "b": np.full((n_cells, n), np.nan), "ds": ds.copy(),
                   "poly_coeff": act["poly_coeff"], "g_b": act["b"], "max_current": act["max_current"],
                   "max_firing_rate": act["max_firing_rate"], "val_evr": np.full(n_cells, np.nan),
                   "test_evr": np.full(n_cells, np.nan), "train_loss": np.full(n_cells, np.nan),
                   "test_loss": np.full(n_cells, np.nan), "train_losses": np.full((n_cells, E), np.nan),
                   "test_losses": np.full((n_cells, E), np.nan), "restart": np.full(n_cells, -1, np.int64)}
            for c in range(n_cells):
                rows = np.flatnonzero((key_of == ki) & (cell_of == c))
                best = None
                for m in rows:   # highest evr1 wins; ties and NaN never replace (as the original)
                    e1 = res["evr1"][m]
                    if np.isnan(e1):
                        continue
                    if best is None or e1 > res["evr1"][best]:
                        best = m
                if best is None:
                    continue
                ne = res["n_epochs"][best]
                rec["a"][c], rec["b"][c] = res["a"][best], res["b"][best]
                rec["val_evr"][c], rec["test_evr"][c] = res["evr1"][best], evr2_all[best]
                rec["train_losses"][c], rec["test_losses"][c] = res["train_losses"][best], res["test_losses"][best]
                rec["train_loss"][c] = res["train_losses"][best, ne - 1]
                rec["test_loss"][c] = res["test_losses"][best, ne - 1]
                rec["restart"][c] = restart[best]
            out[key] = rec
    return out
