"""The torch modules GFR and PolynomialActivation: equations as the original code runs them."""

import math

import numpy as np
import pytest
import torch

from neurodata.gfr import GFR, PolynomialActivation
from neurodata.gfr._model import decay_coefficients


@pytest.mark.parametrize(("bin_size", "expected"), [
    (10, [1, .6321, .3935, .1813, .0952, .0488, .0198, .0100, .0050]),
    (20, [1, .6321, .3297, .1813, .0952, .0392, .0198, .0100]),
    (50, [1, .6321, .3935, .2212, .0952, .0488, .0247]),
    (100, [1, .6321, .3935, .1813, .0952, .0488]),
])
def test_decay_coefficients_table(bin_size, expected):
    ds = decay_coefficients(bin_size)
    assert ds.dtype == torch.float32
    np.testing.assert_allclose(ds.numpy(), expected, atol=6e-5)


def make_g(coeff=(0.5, 1.0), sigma=2.0, gamma=0.5, b=1.0):
    return PolynomialActivation.from_params({"max_current": [sigma], "max_firing_rate": [gamma],
                                             "poly_coeff": [list(coeff)], "b": [b], "bin_size": 20})


def test_activation_normalises_before_the_powers():
    g = make_g()
    z = torch.tensor([[3.0], [-10.0], [1.0]])
    out = g(z)[:, 0].detach().numpy()
    # code form: poly = c0^2 + c1^2 (z - b) / sigma; the README form (c0^2 + c1^2 (z - b)) / sigma differs
    assert out[0] == pytest.approx(0.5 * math.tanh(0.25 + 1.0), rel=1e-6)
    assert out[1] == 0.0                                    # ReLU
    assert out[2] == pytest.approx(0.5 * math.tanh(0.25), rel=1e-6)
    cubic = make_g(coeff=(0.0, 1.0, 0.0, 1.0))
    assert cubic(torch.tensor([[5.0]]))[0, 0].item() == pytest.approx(0.5 * math.tanh(2.0 + 8.0), rel=1e-6)
    assert cubic.degree == 3


def test_gfr_update_by_hand():
    g = PolynomialActivation.default()                      # ReLU(tanh z)
    model = GFR(g, [1.0, 0.5], 10)
    assert model.a.tolist() == [[2.0, 0.0]] and model.b.tolist() == [[0.0, 0.0]]
    with torch.no_grad():
        model.b.copy_(torch.tensor([[0.001, 0.002]]))
    currents = [0.3, 0.1, 0.0]
    h = np.zeros(2)
    f = 0.0
    rates = []
    for cur in currents:
        h = (1 - np.array([1.0, 0.5])) * h + np.array([2.0, 0.0]) * cur + 1000 * np.array([0.001, 0.002]) * f
        f = max(0.0, math.tanh(h.mean()))
        rates.append(f)
    pred, hidden = model.predict(torch.tensor(currents))
    np.testing.assert_allclose(pred.numpy(), rates, rtol=1e-6)
    assert hidden.shape == (3, 2)


def test_forward_needs_reset():
    with pytest.raises(RuntimeError, match="reset"):
        GFR.default()(torch.zeros(1, 1))


def test_get_params_layout_and_round_trip():
    model = GFR(make_g(), decay_coefficients(20), 20)
    params = model.get_params()
    assert list(params) == ["a", "b", "ds", "bin_size", "g"]
    assert list(params["g"]) == ["max_current", "max_firing_rate", "poly_coeff", "b", "bin_size"]
    assert len(params["a"]) == 1 and len(params["a"][0]) == 8 and params["a"][0][0] == 8.0
    assert params["bin_size"] == 20 and params["g"]["poly_coeff"] == [[0.5, 1.0]]
    again = GFR.from_params(params)
    assert again.get_params() == params
    assert again.a.requires_grad and not again.ds.requires_grad
    assert not any(p.requires_grad for p in again.g.parameters())


def test_default_neuron_runs_alone():
    model = GFR.default()       # the original's default g had 1-D coefficients and could not run forward
    rates, _ = model.predict(torch.ones(5))
    assert rates.shape == (5,) and (rates > 0).all()
    np.testing.assert_allclose(model.ds.numpy(), [1.0, 0.6321, 0.3935, 0.1813], atol=6e-5)
