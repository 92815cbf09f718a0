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



def _float32_reference(bin_size):
    """lambda = 1 - exp(-bin_size / tau) with every step rounded to float32 (spec gfr.md §1.2).

    The quotient is an IEEE float32 division, the exponential is evaluated in float64 and
    rounded once to float32 (a correctly rounded float32 exp), and ``1 - e`` is exact in
    float32 for e in [0.25, 1] (Sterbenz).
    """
    taus = np.array([t for t in (10, 20, 50, 100, 200, 500, 1000, 2000) if t >= bin_size], np.float32)
    e = np.exp((np.float32(-bin_size) / taus).astype(np.float64)).astype(np.float32)
    return np.concatenate([[np.float32(1.0)], np.float32(1.0) - e]), e


@pytest.mark.parametrize("bin_size", [10, 20, 50, 100])
def test_decay_coefficients_are_computed_in_float32(bin_size):
    ds = decay_coefficients(bin_size).numpy()
    ref, e = _float32_reference(bin_size)
    # within one float32 ulp of the exponential (torch's float32 exp may round the other way)
    ulp_e = np.concatenate([[0.0], np.spacing(e)])
    assert np.all(np.abs(ds.astype(np.float64) - ref.astype(np.float64)) <= ulp_e)
    # the signature of the float32 path: lambda = 1 - e for a float32 e, so 1 - (1 - lambda)
    # gives lambda back exactly; a float64 computation cast to float32 keeps bits below e's ulp
    one = np.float32(1.0)
    assert np.array_equal(one - (one - ds), ds)
    taus = np.array([t for t in (10, 20, 50, 100, 200, 500, 1000, 2000) if t >= bin_size], np.float64)
    via64 = np.concatenate([[1.0], 1.0 - np.exp(-bin_size / taus)]).astype(np.float32)
    assert not np.array_equal(one - (one - via64), via64)
    assert np.count_nonzero(ds != via64) >= 3          # the 1-ulp-level differences of the issue

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
