"""The GFR neuron as torch modules: ``PolynomialActivation`` (g) and ``GFR`` (the recurrent rate model).

Equations as the original code (AllenInstitute/GRNN ``model.py``) runs them, not as its README
writes them (see docs/gfr.md):

* ``h_t = (1 - ds) * h_{t-1} + a * I_t + 1000 * b * f_{t-1}`` (no Delta t factor; the feedback
  rate is converted from spikes/ms to Hz by the 1000x factor),
* ``f_t = g(mean_i h_t)``,
* ``g(z) = ReLU(gamma * tanh(sum_k c_k^2 ((z - b) / sigma)^k))`` (sigma divides ``z - b`` before
  the powers; the README divides the whole polynomial).

Units: current in pA, rate in spikes/ms, bin sizes in ms. torch is imported by this module
only, so ``import neurodata.gfr`` does not import torch until a model is built.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

__all__ = ["GFR", "PolynomialActivation", "decay_coefficients"]

#: candidate timescales of the GFR filters, in ms
TAUS_MS = (10, 20, 50, 100, 200, 500, 1000, 2000)


def decay_coefficients(bin_size: int) -> torch.Tensor:
    """Decay coefficients ``ds`` (lambda) of a GFR with bin size *bin_size* ms.

    Timescales tau >= bin_size are kept, ``lambda = 1 - exp(-bin_size / tau)`` and a memoryless
    ``lambda = 1`` is prepended, as ``model_pipeline.fit_model`` does.

    Parameters
    ----------
    bin_size : int
        Bin width in ms.

    Returns
    -------
    Tensor of shape (n,), float32
        n = 9, 8, 7, 6 for bin sizes 10, 20, 50, 100 ms.

    Notes
    -----
    Every step runs in float32, as in the original (an integer tensor of timescales divided by
    an int gives torch's default float32): the quotient, the exponential and the difference
    are each rounded to float32. ``1 - exp(.)`` cancels, so each lambda < 1 is a multiple of
    2**-24 and differs by up to a few dozen float32 ulps from a float64 computation cast to
    float32 (the released ``ds`` hold the float32 values).
    """
    taus = torch.tensor([t for t in TAUS_MS if t >= bin_size], dtype=torch.float32)
    lam = 1.0 - torch.exp(-float(bin_size) / taus)
    return torch.cat([torch.ones(1, dtype=torch.float32), lam])


class PolynomialActivation(nn.Module):
    """Activation g of a GFR neuron: ``ReLU(gamma * tanh(sum_k c_k^2 x^k))``, ``x = (z - b) / sigma``.

    Parameters
    ----------
    degree : int
        Polynomial degree d (d + 1 coefficients).
    max_current : float
        sigma, the current scale in pA.
    max_firing_rate : float
        gamma, the maximal firing rate in spikes/ms.
    bin_size : int
        Activation bin size in ms (metadata only).

    Notes
    -----
    ``poly_coeff`` starts at zero (the original draws it from an unseeded ``randn``; every
    caller here sets it explicitly).
    """

    def __init__(self, degree: int, max_current: float, max_firing_rate: float, bin_size: int) -> None:
        super().__init__()
        self.max_current = nn.Parameter(torch.tensor([float(max_current)]), requires_grad=False)
        self.max_firing_rate = nn.Parameter(torch.tensor([float(max_firing_rate)]), requires_grad=False)
        self.register_buffer("p", torch.arange(degree + 1, dtype=torch.int64))
        self.poly_coeff = nn.Parameter(torch.zeros(1, degree + 1))
        self.b = nn.Parameter(torch.zeros(1))
        self.bin_size = bin_size

    @property
    def degree(self) -> int:
        """Polynomial degree d."""
        return int(self.poly_coeff.shape[-1]) - 1

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Rate in spikes/ms for hidden state *z* (pA) of shape (B, 1); returns shape (B, 1)."""
        x = (z - self.b) / self.max_current
        powers = x.unsqueeze(-1) ** self.p                       # (B, 1, d+1)
        poly = torch.einsum("bjk,jk->bj", powers, self.poly_coeff ** 2)
        return torch.relu(self.max_firing_rate * torch.tanh(poly)).to(torch.float32)

    def freeze_parameters(self) -> None:
        """Freeze every parameter (coefficients and threshold included)."""
        for p in self.parameters():
            p.requires_grad_(False)

    def get_params(self) -> dict[str, Any]:
        """Parameters in the layout of the released dataset (Python lists)."""
        return {
            "max_current": self.max_current.detach().tolist(),
            "max_firing_rate": self.max_firing_rate.detach().tolist(),
            "poly_coeff": self.poly_coeff.detach().tolist(),
            "b": self.b.detach().tolist(),
            "bin_size": int(self.bin_size),
        }

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> PolynomialActivation:
        """Rebuild from :meth:`get_params` output; the degree comes from ``len(poly_coeff[0]) - 1``."""
        coeff = torch.as_tensor(params["poly_coeff"], dtype=torch.float32).reshape(1, -1)
        g = cls(coeff.shape[1] - 1, float(params["max_current"][0]), float(params["max_firing_rate"][0]),
                int(params["bin_size"]))
        with torch.no_grad():
            g.poly_coeff.copy_(coeff)
            g.b.copy_(torch.as_tensor(params["b"], dtype=torch.float32).reshape(1))
        return g

    @classmethod
    def default(cls) -> PolynomialActivation:
        """g(z) = ReLU(tanh z): degree 1, sigma = gamma = 1, bin 1 (2-D coefficients, so it runs alone)."""
        g = cls(1, 1.0, 1.0, 1)
        with torch.no_grad():
            g.poly_coeff.copy_(torch.tensor([[0.0, 1.0]]))
        return g


class GFR(nn.Module):
    """Generalized firing-rate neuron (one cell, batch of sequences).

    Parameters
    ----------
    g : PolynomialActivation
        The activation function.
    ds : Tensor or sequence of float, shape (n,)
        Decay coefficients lambda (see :func:`decay_coefficients`).
    bin_size : int
        Bin width in ms.
    freeze_g : bool, default: True
        Freeze every parameter of *g*.
    device : str or torch.device, optional
        Device of the state tensors.

    Notes
    -----
    ``a`` starts at ``[n, 0, ..., 0]`` (so that initially ``f = g(I)``) and ``b`` at zero.
    Call :meth:`reset` before a forward pass.
    """

    def __init__(self, g: PolynomialActivation, ds: Any, bin_size: int, freeze_g: bool = True,
                 device: Any = None) -> None:
        super().__init__()
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        ds_t = torch.as_tensor(ds, dtype=torch.float32).clone().reshape(-1)
        n = ds_t.numel()
        self.ds = nn.Parameter(ds_t, requires_grad=False)
        a = torch.zeros(1, n)
        a[0, 0] = float(n)
        self.a = nn.Parameter(a)
        self.b = nn.Parameter(torch.zeros(1, n))
        self.g = g
        if freeze_g:
            g.freeze_parameters()
        self.bin_size = bin_size
        self.v: torch.Tensor | None = None
        self.fs: torch.Tensor | None = None
        self.to(self.device)

    @property
    def n_timescales(self) -> int:
        """Number of filters n."""
        return int(self.ds.numel())

    def reset(self, batch_size: int) -> None:
        """Zero the state for *batch_size* sequences: ``v`` (B, 1, n) and ``fs`` (B, 1)."""
        self.v = torch.zeros(batch_size, 1, self.n_timescales, device=self.device)
        self.fs = torch.zeros(batch_size, 1, device=self.device)

    def forward(self, current: torch.Tensor) -> torch.Tensor:
        """One bin: current (B, 1) in pA -> rate (B, 1) in spikes/ms."""
        if self.v is None or self.fs is None:
            msg = "GFR state is not initialised: call reset(batch_size) before the first forward pass"
            raise RuntimeError(msg)
        self.v = (1.0 - self.ds) * self.v + self.a * current.unsqueeze(-1) + 1000.0 * self.b * self.fs.unsqueeze(-1)
        self.fs = self.g(self.v.mean(dim=-1))
        return self.fs

    def reg(self, p: float = 1) -> torch.Tensor:
        """``||a||_p + ||b||_p`` (the original trains with p = 0, which has no gradient)."""
        return self.a.norm(p=p) + self.b.norm(p=p)

    def predict(self, currents: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """Run one sequence without gradient.

        Parameters
        ----------
        currents : array-like of shape (L,)
            Current per bin in pA.

        Returns
        -------
        rates : Tensor of shape (L,)
            spikes/ms.
        hidden : Tensor of shape (L, n)
            Filter states in pA.
        """
        cur = torch.as_tensor(currents, dtype=torch.float32, device=self.device).reshape(-1)
        rates = torch.zeros(cur.numel(), device=self.device)
        hidden = torch.zeros(cur.numel(), self.n_timescales, device=self.device)
        with torch.no_grad():
            self.reset(1)
            for t in range(cur.numel()):
                rates[t] = self.forward(cur[t].reshape(1, 1))[0, 0]
                hidden[t] = self.v[0, 0]
        return rates, hidden

    def freeze_parameters(self) -> None:
        """Freeze every parameter."""
        for p in self.parameters():
            p.requires_grad_(False)

    def unfreeze_parameters(self) -> None:
        """Unfreeze only ``a`` and ``b`` (the original also unfroze ds, sigma, gamma and p)."""
        self.a.requires_grad_(True)
        self.b.requires_grad_(True)

    def get_params(self) -> dict[str, Any]:
        """Parameters in the released layout: ``a``, ``b`` ([[...]]), ``ds``, ``bin_size`` and ``g``."""
        return {
            "a": self.a.detach().tolist(),
            "b": self.b.detach().tolist(),
            "ds": self.ds.detach().tolist(),
            "bin_size": int(self.bin_size),
            "g": self.g.get_params(),
        }

    @classmethod
    def from_params(cls, params: dict[str, Any], freeze_g: bool = True, device: Any = None) -> GFR:
        """Rebuild from :meth:`get_params` output (``a``/``b`` trainable, ``ds``/``g`` frozen)."""
        g = PolynomialActivation.from_params(params["g"])
        model = cls(g, params["ds"], int(params["bin_size"]), freeze_g=freeze_g, device=device)
        with torch.no_grad():
            model.a.copy_(torch.as_tensor(params["a"], dtype=torch.float32).reshape(1, -1))
            model.b.copy_(torch.as_tensor(params["b"], dtype=torch.float32).reshape(1, -1))
        return model

    @classmethod
    def default(cls) -> GFR:
        """The network neuron: n = 4, ds = [1, .6321, .3935, .1813], bin 1, a = [4, 0, 0, 0], g = ReLU(tanh)."""
        ds = torch.tensor([1.0, 1.0 - torch.exp(torch.tensor(-1.0)).item(), 1.0 - torch.exp(torch.tensor(-0.5)).item(),
                           1.0 - torch.exp(torch.tensor(-0.2)).item()])
        return cls(PolynomialActivation.default(), ds, 1)
