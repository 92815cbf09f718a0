"""One seed idiom for every family: a stage's integer seed, and independent named streams from it.

``rng(seed)`` is ``numpy.random.default_rng(seed)``; ``rng(seed, k)`` is the *k*-th child of
``numpy.random.SeedSequence(seed)`` (what ``SeedSequence(seed).spawn(n)[k]`` gives), so the
streams of one run are independent and each is reproducible on its own, whatever the order
or the process that draws them (a dask task per cell, per trial batch, per culture).

Provenance records the seeds as one shape: a mapping of the parameters that seeded the run to
their values (``{"seed": 0}``, ``{"seeds": [0, 1, 2]}``), see :func:`seed_record`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["rng", "seed_record", "seed_sequence"]


def seed_sequence(seed: int, *stream: int) -> np.random.SeedSequence:
    """The ``SeedSequence`` of one stream of a run seeded with *seed*.

    Parameters
    ----------
    seed : int
        The run's seed (a stage parameter), >= 0.
    *stream : int
        The stream's path of child indices (e.g. ``(2,)`` for the third child, ``(2, cell_id)``
        for one cell of it), each >= 0.

    Examples
    --------
    >>> seed_sequence(7, 2).spawn_key == np.random.SeedSequence(7).spawn(3)[2].spawn_key
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        msg = f"A seed must be an int >= 0. Got {seed!r} instead."
        raise ValueError(msg)
    if any(isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 0 for k in stream):
        msg = f"A stream is a path of ints >= 0. Got {stream!r} instead."
        raise ValueError(msg)
    return np.random.SeedSequence(int(seed), spawn_key=tuple(int(k) for k in stream))


def rng(seed: int, *stream: int) -> np.random.Generator:
    """A numpy ``Generator`` for one stream of a run seeded with *seed* (see :func:`seed_sequence`).

    Parameters
    ----------
    seed : int
        The run's seed, >= 0.
    *stream : int
        The stream's path of child indices.

    Examples
    --------
    >>> bool(rng(7).integers(10**9) == np.random.default_rng(7).integers(10**9))
    True
    >>> a, b = rng(7, 0).random(3), rng(7, 1).random(3)   # independent streams
    >>> bool((a != b).all())
    True
    """
    return np.random.default_rng(seed_sequence(seed, *stream))


def seed_record(params: Mapping[str, Any], *names: str) -> dict[str, int | list[int]]:
    """The provenance ``seeds`` of a run: ``{name: params[name]}`` for the seeding parameters.

    Parameters
    ----------
    params : mapping
        The stage's checked parameters.
    *names : str
        The parameters that seed it (``"seed"``, ``"seeds"``, ``"noise_seeds"``, ...).
    """
    record: dict[str, int | list[int]] = {}
    for name in names:
        value = params[name]
        record[name] = [int(v) for v in value] if isinstance(value, Sequence) else int(value)
    return record
