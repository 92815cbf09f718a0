"""Batched fitting: kernel gradients vs torch autograd, batched fits vs the original loop, EVR, activation init."""

import numpy as np
import pytest
import torch

from neurodata.gfr import GFR, PolynomialActivation, explained_variance_ratio
from neurodata.gfr._fit import (FitConfig, activation_init, explained_variance, fit_activations, fit_gfr_models,
                                pack_groups)
from neurodata.gfr._kernels import gfr_loss_grad, gfr_predict
from neurodata.gfr._model import decay_coefficients
from neurodata.gfr._reference import fit_cell_reference

G_PARAMS = {"max_current": [150.0], "max_firing_rate": [0.2], "poly_coeff": [[0.3, 1.1, 0.2, 0.4]], "b": [40.0],
            "bin_size": 100}


def synthetic_cell(rng, lengths=(12, 30, 40, 40), sweeps=(4, 2, 3, 3)):
    """Random currents (pA) and Poisson rates (spikes/ms) for the four groups, zero-padded like the original."""
    out = {}
    for name, L, S in zip(("Long Square", "Ramp", "Noise 1", "Noise 2"), lengths, sweeps, strict=True):
        cur = rng.uniform(-50, 200, (S, L))
        rate = rng.poisson(np.clip(cur, 0, None) / 200.0, (S, L)) / 50.0
        cur[-1, L - 3:] = np.nan           # a shorter last sweep: NaN past its end becomes zero padding
        rate[-1, L - 3:] = np.nan
        out[name] = (cur, rate)
    return out


def g_arrays(M):
    return {"max_current": np.full(M, 150.0), "max_firing_rate": np.full(M, np.float32(0.2).item()),
            "poly_coeff": np.tile(np.float32(G_PARAMS["poly_coeff"][0]).astype(float), (M, 1)),
            "b": np.full(M, 40.0)}


def test_kernel_loss_and_gradient_equal_torch_autograd(rng):
    data = pack_groups([synthetic_cell(rng)], 50)
    model = GFR(PolynomialActivation.from_params(G_PARAMS), decay_coefficients(50), 50)
    with torch.no_grad():
        model.a.copy_(torch.tensor([[6.5, 0.3, -0.2, 0.1, 0.0, 0.05, 0.02]]))
        model.b.copy_(torch.tensor([[-0.01, 0.004, 0.0, -0.002, 0.001, 0.0, 0.003]]))
    for group in range(4):
        cur, rate = (torch.as_tensor(x, dtype=torch.float32) for x in data.group(0, group))
        model.zero_grad()
        model.reset(cur.shape[0])
        ell = torch.zeros(cur.shape[0])
        for t in range(cur.shape[1]):
            f = model(cur[:, t:t + 1])[:, 0]
            ell = ell + f * 50 - rate[:, t] * 50 * torch.log(f * 50 + 1e-8)
        ell.mean().backward()
        a = model.a.detach().double().numpy()
        b = model.b.detach().double().numpy()
        loss, ga, gb = gfr_loss_grad(data.current, data.rate, data.offset, data.Lc, data.Sc, np.array([0]),
                                     np.array([group]), a, b, model.ds.double().numpy(), *g_arrays(1).values(),
                                     50.0, 1e-8, np.array([True]), True)
        assert loss[0] == pytest.approx(ell.mean().item(), rel=1e-4)
        np.testing.assert_allclose(ga[0], model.a.grad[0].numpy(), rtol=2e-3, atol=1e-6)
        np.testing.assert_allclose(gb[0], model.b.grad[0].numpy(), rtol=2e-3, atol=1e-3)
        pred = gfr_predict(data.group(0, group)[0][:1], a, b, model.ds.double().numpy(),
                           *(v[:1] for v in g_arrays(1).values()))[0]
        np.testing.assert_allclose(pred, model.predict(data.group(0, group)[0][0])[0].numpy(), rtol=1e-4, atol=1e-7)


def test_batched_fit_equals_the_original_loop(rng):
    cells = [synthetic_cell(rng), synthetic_cell(rng)]
    data = pack_groups(cells, 50)
    hparams = [(1e-2, 4), (1e-3, 3)]
    orders = np.array([[2, 0, 1], [1, 2, 0]])
    cell_of = np.array([0, 0, 1, 1])
    res = fit_gfr_models(data, cell_of, orders[cell_of], g_arrays(4), decay_coefficients(50).double().numpy(),
                         np.array([1e-2, 1e-3, 1e-2, 1e-3]), np.array([4, 3, 4, 3]))
    assert np.isnan(res["train_losses"][1, 3]) and res["n_epochs"].tolist() == [4, 3, 4, 3]
    for c in range(2):
        ref = fit_cell_reference(data, c, G_PARAMS, orders[c], hparams)
        rows = [2 * c, 2 * c + 1]
        best = rows[int(np.argmax(res["evr1"][rows]))]
        assert res["evr1"][best] == pytest.approx(ref["evr1"], abs=1e-4)
        np.testing.assert_allclose(res["a"][best], ref["params"]["a"][0], rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(res["b"][best], ref["params"]["b"][0], rtol=1e-3, atol=1e-6)
        ne = res["n_epochs"][best]
        np.testing.assert_allclose(res["train_losses"][best, :ne], ref["train_losses"], rtol=1e-4)
        np.testing.assert_allclose(res["test_losses"][best, :ne], ref["test_losses"], rtol=1e-4)


def test_explained_variance_by_hand():
    x = np.array([0.0, 1.0, 0.0, 1.0])
    assert explained_variance(x, x) == 1.0
    assert explained_variance(x, np.zeros(4)) == 0.0
    assert explained_variance(x, 1 - x) == -1.0
    assert np.isnan(explained_variance(np.zeros(4), np.zeros(4)))
    obs = np.array([[0.0, 1.0, 0.0, 1.0], [0.0, 1.0, 1.0, 1.0]])
    psth = obs.mean(axis=0)
    assert explained_variance_ratio(obs, psth) == pytest.approx(1.0)
    assert np.isnan(explained_variance_ratio(np.zeros((3, 4)), np.zeros(4)))


def test_activation_init_heuristic():
    rng = np.random.default_rng(0)
    cur = np.array([-110.0, -90.0, 10.0, 30.0, 50.0, 70.0])
    rate = np.array([0.0, 0.0, 0.0, 0.005, 0.02, 0.04])
    coeff, b = activation_init(cur, rate, 110.0, 1, rng)
    assert b == 30.0                                      # the pair just below the first rate > 0.01
    assert coeff[1] == pytest.approx((0.04 - 0.005) / (70 - 30) * 110)
    coeff, b = activation_init(cur, np.zeros(6), 110.0, 3, rng)
    assert b == 0.0 and coeff.shape == (4,)               # no rate > 0.01: (0, 0); slope from the max pair
    coeff, _ = activation_init(np.array([5.0, 5.0]), np.array([0.02, 0.02]), 5.0, 1, rng)
    assert coeff[1] == 5.0                                # x2 == x1: slope 1 instead of inf/NaN


def test_activation_fit_recovers_a_known_activation():
    g = PolynomialActivation.from_params({**G_PARAMS, "poly_coeff": [[0.2, 1.3]], "bin_size": 20})
    cur = np.linspace(-110, 250, 19)[None, :]
    with torch.no_grad():
        rate = g(torch.tensor(cur.T, dtype=torch.float32))[:, 0].numpy()[None, :].astype(float)
    cfg = FitConfig(activation_epochs=600, activation_repeats=2, activation_lr=0.05, hparams=[])
    out = fit_activations(cur, rate, np.ones_like(cur, bool), np.array([0.2]), degree=1, bin_size=20, config=cfg,
                          rngs=[np.random.default_rng(1)])
    fitted = PolynomialActivation.from_params({"max_current": [out["max_current"][0]], "max_firing_rate": [0.2],
                                               "poly_coeff": [out["poly_coeff"][0].tolist()], "b": [out["b"][0]],
                                               "bin_size": 20})
    assert out["max_current"][0] == 250.0                 # sigma = max |I|
    with torch.no_grad():
        again = fitted(torch.tensor(cur.T, dtype=torch.float32))[:, 0].numpy()
    np.testing.assert_allclose(again, rate[0], atol=0.01)
