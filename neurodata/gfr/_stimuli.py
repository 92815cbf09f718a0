"""Allen-like stimulus protocols: Long Square, Ramp and the pink-noise sweeps Noise 1 / Noise 2.

A sweep is described by a small *recipe* (kind, onset, amplitude, ...) from which the
injected current is synthesised on the simulation grid; the recipe is what the
``gfr_cells`` artifact stores, so the current of every sweep can be rebuilt exactly.
Internal units: time in ms, current in pA.
"""

from __future__ import annotations

import numpy as np

from .. import seeds
from .._exceptions import ParamError

__all__ = [
    "KIND_CODES",
    "STIMULUS_NAMES",
    "long_square_amplitudes",
    "noise_layout",
    "pink_noise",
    "sweep_current",
]

#: stimulus names as the Allen sweep metadata (``aibs_stimulus_name``) spells them
STIMULUS_NAMES = ("Long Square", "Ramp", "Noise 1", "Noise 2")
#: integer code of each stimulus kind used by the simulation kernel
KIND_CODES = {"Long Square": 0, "Ramp": 1, "Noise 1": 2, "Noise 2": 3}

#: pink-noise sweep layout in units of rheobase: (duration [ms], epoch scale or 0 for no current)
_NOISE_EPOCHS_MS = ((5000.0, 0.0), (3000.0, 0.75), (5000.0, 0.0), (3000.0, 1.0), (5000.0, 0.0), (3000.0, 1.25),
                    (5000.0, 0.0))


def pink_noise(seed: int, *, dt: float, duration: float = 3000.0, f_max: int = 100) -> np.ndarray:
    """Normalised pink-noise segment of the Allen noise sweeps (Teeter et al. 2018).

    A sum of sinusoids at 1, 2, ..., ``f_max`` Hz with amplitude 1/sqrt(f) and i.i.d.
    uniform phases, mean-subtracted, scaled to SD 0.2 and shifted to mean 1 (CV 0.2).

    Parameters
    ----------
    seed : int
        Seed of the phase vector (Noise 1 and Noise 2 use different seeds); the phases are
        drawn from ``neurodata.seeds.rng(seed)``.
    dt : float
        Sampling step in ms.
    duration : float, default: 3000.0
        Segment length in ms.
    f_max : int, default: 100
        Highest frequency in Hz.

    Returns
    -------
    ndarray of shape (round(duration / dt),)
        Dimensionless waveform with mean 1 and SD 0.2.
    """
    rng = seeds.rng(seed)
    freqs = np.arange(1, f_max + 1, dtype=np.float64)
    phases = rng.uniform(0.0, 2.0 * np.pi, size=freqs.size)
    t_s = np.arange(int(round(duration / dt))) * dt * 1e-3
    wave = np.zeros(t_s.size)
    for f, ph in zip(freqs, phases, strict=True):
        wave += np.sin(2.0 * np.pi * f * t_s + ph) / np.sqrt(f)
    wave -= wave.mean()
    wave *= 0.2 / wave.std()
    return wave + 1.0


def noise_layout(seed: int, *, dt: float) -> np.ndarray:
    """Full 29 s noise sweep in units of rheobase.

    Layout ``[5 s zero, 0.75 P, 5 s zero, 1.00 P, 5 s zero, 1.25 P, 5 s zero]`` where P is
    :func:`pink_noise` (so each epoch keeps CV 0.2 around its own mean).

    Parameters
    ----------
    seed : int
        Seed of the pink-noise phases.
    dt : float
        Sampling step in ms.

    Returns
    -------
    ndarray of shape (round(29000 / dt),)
        Current divided by the cell's rheobase (dimensionless).
    """
    segment = pink_noise(seed, dt=dt)
    parts = []
    for dur, scale in _NOISE_EPOCHS_MS:
        n = int(round(dur / dt))
        parts.append(np.zeros(n) if scale == 0.0 else scale * segment[:n])
    return np.concatenate(parts)


def long_square_amplitudes(rheobase: float, *, start: float = -110.0, step: float = 20.0,
                           above: float = 160.0) -> np.ndarray:
    """Long Square step amplitudes of one cell, in pA.

    Steps from *start* in *step* increments up to ``rheobase + above``, plus the rheobase
    step itself (as in the Allen protocol, where the rheobase sweep is added).

    Parameters
    ----------
    rheobase : float
        Measured rheobase in pA.
    start, step, above : float
        First amplitude, increment and how far above rheobase the steps go, all in pA.

    Returns
    -------
    ndarray of shape (n_steps,)
        Sorted, unique amplitudes in pA.
    """
    amps = np.arange(start, rheobase + above + 1e-9, step)
    return np.unique(np.round(np.append(amps, rheobase), 6))


def sweep_current(kind: int, amplitude: float, onset: float, duration: float, n_steps: int, *, dt: float,
                  noise_waveforms: np.ndarray | None = None) -> np.ndarray:
    """Rebuild the injected current of one sweep from its recipe.

    Parameters
    ----------
    kind : int
        Stimulus code (:data:`KIND_CODES`).
    amplitude : float
        Long Square: step amplitude in pA; Ramp: slope in pA/ms; Noise: rheobase scale in pA.
    onset : float
        Stimulus onset in ms (Long Square and Ramp; the noise layout has its own 5 s lead).
    duration : float
        Step duration in ms (Long Square only).
    n_steps : int
        Number of samples of the recorded sweep.
    dt : float
        Sampling step in ms.
    noise_waveforms : ndarray of shape (2, n_noise), optional
        :func:`noise_layout` of Noise 1 and Noise 2; needed for noise sweeps.

    Returns
    -------
    ndarray of shape (n_steps,)
        Current in pA.
    """
    k = np.arange(n_steps)
    i0 = int(round(onset / dt))
    if kind == 0:
        i1 = i0 + int(round(duration / dt))
        return np.where((k >= i0) & (k < i1), amplitude, 0.0)
    if kind == 1:
        return np.where(k >= i0, amplitude * (k - i0) * dt, 0.0)
    if kind in (2, 3):
        if noise_waveforms is None:
            msg = ("The 'noise_waveforms' parameter of sweep_current must be an array of shape (2, n_noise) for a "
                   f"noise sweep (kind {kind}). Got None instead.")
            raise ParamError(msg)
        return amplitude * noise_waveforms[kind - 2, :n_steps]
    msg = (f"The 'kind' parameter of sweep_current must be one of {sorted(KIND_CODES.values())} ({KIND_CODES}). "
           f"Got {kind!r} instead.")
    raise ParamError(msg)
