"""Julia 1.9's default random stream, re-implemented so the seed's inputs can be drawn exactly.

``Random.seed!(seed)`` then ``randn``, ``randexp``, ``rand`` and ``randn(N)`` of Julia 1.9
(Xoshiro256++ seeded through SHA-256, 256-layer ziggurats, and the 8-lane bulk generator
behind ``randn(N)``), written from the description of that stream in the project's AdEx
notes (docs/adex.md, "Two random streams"). The state is a ``uint64`` array of shape (4,)
updated in place by the numba functions, so they can be called from other kernels.

The ziggurat tables are Julia's constants (``ki, wi, fi`` for the normal, ``ke, we, fe``
for the exponential), shipped as ``data/julia_ziggurat.csv``.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from typing import NamedTuple

import numpy as np
import pandas as pd
from numba import njit

__all__ = [
    "ZigguratTables",
    "next_uint64",
    "rand",
    "randexp",
    "randn",
    "randn_array",
    "seed_state",
    "ziggurat_tables",
]

_U = np.uint64
#: Multipliers of the 8-lane fork behind Julia's bulk generator (hash(UInt(k)) | 1, k = 1..4).
_FORK = (_U(0x02011CE34BCE797F), _U(0x5A94851FB48A6E05), _U(0x3688CF5D48899FA7), _U(0x867B4BB4C42E5661))
_LANES = 8
#: Below this length Julia's randn! draws scalar normals; from it on, bulk words first.
_BULK_MIN_LENGTH = 7
_MASK52 = _U((1 << 52) - 1)
_TWO_M53 = 2.0**-53
_NOR_R = 3.6541528853610088  # start of the normal ziggurat's tail
_NOR_INV_R = 1.0 / _NOR_R
_EXP_R = 7.69711747013104972  # start of the exponential ziggurat's tail


class ZigguratTables(NamedTuple):
    """Julia's 256-layer ziggurat constants; ``k*`` are int64 thresholds on 52-bit draws."""

    ki: np.ndarray
    wi: np.ndarray
    fi: np.ndarray
    ke: np.ndarray
    we: np.ndarray
    fe: np.ndarray


@cache
def ziggurat_tables() -> ZigguratTables:
    """The tables of Julia 1.9's ``randn`` and ``randexp`` (stdlib Random, ``normal.jl``)."""
    with resources.files(__package__).joinpath("data", "julia_ziggurat.csv").open() as fh:
        table = pd.read_csv(fh)
    return ZigguratTables(
        ki=table["ki"].to_numpy(np.int64),
        wi=table["wi"].to_numpy(np.float64),
        fi=table["fi"].to_numpy(np.float64),
        ke=table["ke"].to_numpy(np.int64),
        we=table["we"].to_numpy(np.float64),
        fe=table["fe"].to_numpy(np.float64),
    )


def seed_state(seed: int) -> np.ndarray:
    """Xoshiro256++ state of ``Random.seed!(seed)`` in Julia 1.9, shape (4,) uint64.

    The seed is split into little-endian 32-bit words (0 is one word), their little-endian
    bytes are hashed with SHA-256 and the digest is read as four little-endian UInt64.
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        msg = f"The Julia stream's seed must be a non-negative int. Got {seed!r} instead."
        raise ValueError(msg)
    seed = int(seed)
    words = []
    while True:
        words.append(seed & 0xFFFFFFFF)
        seed >>= 32
        if seed == 0:
            break
    digest = hashlib.sha256(np.array(words, dtype="<u4").tobytes()).digest()
    return np.frombuffer(digest, dtype="<u8").astype(np.uint64)


@njit(inline="always")
def _rotl(x: np.uint64, k: int) -> np.uint64:
    return (x << _U(k)) | (x >> _U(64 - k))


@njit(cache=True)
def next_uint64(state: np.ndarray) -> np.uint64:
    """One Xoshiro256++ output; advances *state* (uint64, shape (4,)) in place."""
    s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
    result = _rotl(s0 + s3, 23) + s0
    t = s1 << _U(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    state[0], state[1], state[2], state[3] = s0, s1, s2, s3
    return result


@njit(cache=True)
def rand(state: np.ndarray) -> float:
    """A uniform float in [0, 1): the top 53 bits of one output times 2**-53."""
    return float(next_uint64(state) >> _U(11)) * _TWO_M53


@njit(cache=True)
def _normal_from_bits(state: np.ndarray, r: np.int64, ki: np.ndarray, wi: np.ndarray, fi: np.ndarray) -> float:
    """A standard normal from the 52 random bits *r*, as Julia's ``_randn``.

    Rejections that need more randomness (the tail and the wedges) draw uniforms from
    *state*; a rejected wedge point is replaced by a fresh scalar normal from *state*.
    """
    while True:
        rabs = r >> 1  # the lowest bit is the sign
        idx = rabs & 0xFF
        x = float(-rabs if r & 1 else rabs) * wi[idx]
        if rabs < ki[idx]:
            return x
        if idx == 0:
            while True:
                xx = -_NOR_INV_R * np.log(rand(state))
                yy = -np.log(rand(state))
                if yy + yy > xx * xx:
                    return -_NOR_R - xx if (rabs >> 8) & 1 else _NOR_R + xx
        if (fi[idx - 1] - fi[idx]) * rand(state) + fi[idx] < np.exp(-0.5 * x * x):
            return x
        r = np.int64(next_uint64(state) >> _U(12))


@njit(cache=True)
def randn(state: np.ndarray, ki: np.ndarray, wi: np.ndarray, fi: np.ndarray) -> float:
    """One scalar ``randn()``: 52 bits of one output through the normal ziggurat."""
    return _normal_from_bits(state, np.int64(next_uint64(state) >> _U(12)), ki, wi, fi)


@njit(cache=True)
def randexp(state: np.ndarray, ke: np.ndarray, we: np.ndarray, fe: np.ndarray) -> float:
    """One scalar ``randexp()`` (rate 1) through the exponential ziggurat."""
    while True:
        r = np.int64(next_uint64(state) >> _U(12))
        idx = r & 0xFF
        x = float(r) * we[idx]
        if r < ke[idx]:
            return x
        if idx == 0:
            return _EXP_R - np.log(rand(state))
        if (fe[idx - 1] - fe[idx]) * rand(state) + fe[idx] < np.exp(-x):
            return x


@njit(cache=True)
def _bulk_words(state: np.ndarray, out: np.ndarray) -> None:
    """Fill *out* (uint64) as Julia's ``rand!`` of UInt64 does: 8 forked lanes, then the main stream.

    The lanes' states are the products of 32 main-stream outputs with the fork multipliers
    (lane k's word j from output 8 j + k); each round writes one word per lane, lane order,
    while at least 8 words remain. The leftover words come from the main stream.
    """
    n = out.size
    done = 0
    if n >= _LANES:
        lanes = np.empty((_LANES, 4), dtype=np.uint64)
        for j in range(4):
            for k in range(_LANES):
                lanes[k, j] = _FORK[j] * next_uint64(state)
        while done + _LANES <= n:
            for k in range(_LANES):
                out[done + k] = next_uint64(lanes[k])
            done += _LANES
    for i in range(done, n):
        out[i] = next_uint64(state)


@njit(cache=True)
def randn_array(state: np.ndarray, n: int, ki: np.ndarray, wi: np.ndarray, fi: np.ndarray) -> np.ndarray:
    """``randn(n)``: shape (n,) standard normals as Julia 1.9's ``randn!`` draws them.

    Below 7 values, scalar ``randn`` calls. From 7 on, all n words are drawn first
    (:func:`_bulk_words`), then each word's top 52 bits go through the ziggurat, whose
    rejection steps draw from the main stream.
    """
    out = np.empty(n)
    if n < _BULK_MIN_LENGTH:
        for i in range(n):
            out[i] = randn(state, ki, wi, fi)
        return out
    words = np.empty(n, dtype=np.uint64)
    _bulk_words(state, words)
    for i in range(n):
        out[i] = _normal_from_bits(state, np.int64((words[i] >> _U(12)) & _MASK52), ki, wi, fi)
    return out
