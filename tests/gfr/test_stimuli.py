"""Allen-like stimuli: pink noise statistics, the noise-sweep layout, Long Square amplitudes, recipes."""

import numpy as np
import pytest

from neurodata import ParamError
from neurodata.gfr import noise_layout, pink_noise
from neurodata.gfr._stimuli import long_square_amplitudes, sweep_current


def test_pink_noise_has_mean_one_cv_point_two_and_one_second_period():
    p = pink_noise(7, dt=0.5)
    assert p.size == 6000
    assert p.mean() == pytest.approx(1.0, abs=1e-12)
    assert p.std() == pytest.approx(0.2, abs=1e-12)
    np.testing.assert_allclose(p[:2000], p[2000:4000], atol=1e-9)  # 1 Hz spacing -> 1 s periodic
    assert not np.allclose(p, pink_noise(8, dt=0.5))


def test_pink_noise_power_falls_as_one_over_f():
    p = pink_noise(3, dt=1.0) - 1.0
    power = np.abs(np.fft.rfft(p)) ** 2          # 3 s -> frequency resolution 1/3 Hz
    harmonics = power[3 * np.array([1, 4, 16, 64])]
    np.testing.assert_allclose(harmonics[0] / harmonics, [1, 4, 16, 64], rtol=1e-6)


def test_noise_layout_epochs():
    w = noise_layout(1, dt=1.0)
    assert w.size == 29000
    for start, scale in ((5000, 0.75), (13000, 1.0), (21000, 1.25)):
        seg = w[start:start + 3000]
        assert seg.mean() == pytest.approx(scale, rel=1e-9)
        assert seg.std() / seg.mean() == pytest.approx(0.2, rel=1e-9)
    for start, stop in ((0, 5000), (8000, 13000), (16000, 21000), (24000, 29000)):
        assert not w[start:stop].any()


def test_long_square_amplitudes_from_minus_110_in_20_pa_steps_plus_rheobase():
    amps = long_square_amplitudes(100.0)
    assert amps[0] == -110 and 100.0 in amps and amps[-1] == 250.0
    assert set(np.diff(amps[amps != 100.0])) == {20.0}


def test_sweep_current_recipes():
    step = sweep_current(0, 50.0, onset=2.0, duration=3.0, n_steps=8, dt=1.0)
    np.testing.assert_array_equal(step, [0, 0, 50, 50, 50, 0, 0, 0])
    ramp = sweep_current(1, 0.5, onset=1.0, duration=0.0, n_steps=5, dt=1.0)
    np.testing.assert_array_equal(ramp, [0, 0, 0.5, 1.0, 1.5])
    with pytest.raises(ParamError, match="'noise_waveforms' parameter of sweep_current must be an array of shape"):
        sweep_current(2, 1.0, 0.0, 0.0, 5, dt=1.0)
    with pytest.raises(ParamError, match=r"'kind' parameter of sweep_current must be one of \[0, 1, 2, 3\].*Got 7 instead"):
        sweep_current(7, 1.0, 0.0, 0.0, 5, dt=1.0)
