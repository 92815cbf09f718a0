"""The original one-cell-at-a-time training loop (``train.train_model``), on the torch ``GFR`` module.

Kept as the reference the batched fitter is checked and benchmarked against: it steps the
module bin by bin with autograd and ``torch.optim.Adam``, one restart after another.
"""

from __future__ import annotations

import numpy as np

from ._fit import _TEST, _VAL, CellGroups, explained_variance_ratio

__all__ = ["fit_cell_reference"]


def _group_loss(model, cur, rate, bin_size: int, eps: float):
    import torch

    S, L = cur.shape
    model.reset(S)
    ell = torch.zeros(S)
    for t in range(L):
        f = model(cur[:, t: t + 1])[:, 0]
        obs = rate[:, t] * bin_size
        ell = ell + (f * bin_size - obs * torch.log(f * bin_size + eps))
    return ell.mean(), L


def fit_cell_reference(data: CellGroups, cell: int, g_params: dict, order: np.ndarray,
                       hparams: list[tuple[float, int]], *, eps: float = 1e-8) -> dict:
    """Fit one cell at one bin size the way the original code does (float32, per-bin autograd).

    Parameters
    ----------
    data : CellGroups
        Packed sweeps; only cell *cell* is used.
    cell : int
        Cell row in *data*.
    g_params : dict
        Activation in the released layout (``PolynomialActivation.get_params()``).
    order : ndarray of int, shape (3,)
        Order of the training groups (0 Long Square, 1 Ramp, 2 Noise 1).
    hparams : list of (float, int)
        ``(lr, epochs)`` of each restart.
    eps : float, default: 1e-8

    Returns
    -------
    dict
        ``params`` (released layout), ``evr1``, ``evr2``, ``train_losses``, ``test_losses``
        of the restart with the highest Noise 1 EVR (None if every EVR is NaN).
    """
    import torch

    from ._model import GFR, PolynomialActivation, decay_coefficients

    groups = [tuple(torch.as_tensor(x, dtype=torch.float32) for x in data.group(cell, k)) for k in range(4)]
    best = None
    for lr, epochs in hparams:
        model = GFR(PolynomialActivation.from_params(g_params), decay_coefficients(data.bin_size), data.bin_size)
        opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
        train_losses, test_losses = [], []
        for _ in range(epochs):
            per_group = []
            for k in order:
                cur, rate = groups[int(k)]
                opt.zero_grad()
                loss, L = _group_loss(model, cur, rate, data.bin_size, eps)
                loss.backward()
                opt.step()
                per_group.append(loss.item() / L)
            train_losses.append(float(np.mean(per_group)))
            with torch.no_grad():
                tl, L = _group_loss(model, *groups[_TEST], data.bin_size, eps)
            test_losses.append(tl.item() / L)
            if len(train_losses) >= 3 and train_losses[-1] == train_losses[-2] == train_losses[-3]:
                break
        pred = model.predict(groups[_VAL][0][0])[0].numpy()
        evr1 = explained_variance_ratio(groups[_VAL][1].numpy(), pred)
        run = {"model": model, "evr1": evr1, "train_losses": train_losses, "test_losses": test_losses}
        if np.isnan(evr1):
            continue
        if best is None or evr1 > best["evr1"]:
            best = run
    if best is None:
        return {"params": None, "evr1": float("nan"), "evr2": float("nan"), "train_losses": [], "test_losses": []}
    pred2 = best["model"].predict(groups[_TEST][0][0])[0].numpy()
    return {"params": best["model"].get_params(), "evr1": best["evr1"],
            "evr2": explained_variance_ratio(groups[_TEST][1].numpy(), pred2),
            "train_losses": best["train_losses"], "test_losses": best["test_losses"]}
