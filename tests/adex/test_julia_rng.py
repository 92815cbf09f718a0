"""Julia 1.9's random stream: seeding, Xoshiro256++, the ziggurats and the bulk randn, each
checked against a plain-Python reference of its definition, the tables against the geometry
of a ziggurat, and the draws against their distributions."""

import hashlib
import math

import numpy as np
import pytest
from scipy import stats

from neurodata.adex._julia_rng import (
    next_uint64,
    rand,
    randexp,
    randn,
    randn_array,
    seed_state,
    ziggurat_tables,
)

T = ziggurat_tables()
MASK64 = 2**64 - 1
NOR_R, EXP_R = 3.6541528853610088, 7.69711747013104972
FORK = (0x02011CE34BCE797F, 0x5A94851FB48A6E05, 0x3688CF5D48899FA7, 0x867B4BB4C42E5661)


def xoshiro_reference(s: list[int]) -> int:
    """One Xoshiro256++ output on Python ints (the published algorithm), updating *s* in place."""
    rotl = lambda x, k: ((x << k) | (x >> (64 - k))) & MASK64  # noqa: E731
    result = (rotl((s[0] + s[3]) & MASK64, 23) + s[0]) & MASK64
    t = (s[1] << 17) & MASK64
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = rotl(s[3], 45)
    return result


def normal_fast_path(bits52: int) -> float | None:
    """The ziggurat's accept-at-once branch, or None when it would need more randomness."""
    rabs = bits52 >> 1
    idx = rabs & 0xFF
    x = (-rabs if bits52 & 1 else rabs) * T.wi[idx]
    return float(x) if rabs < T.ki[idx] else None


@pytest.mark.parametrize(
    ("seed", "message"),
    [(0, b"\0\0\0\0"), (1, b"\1\0\0\0"), (2**32, b"\0\0\0\0\1\0\0\0"), (2**32 + 7, b"\7\0\0\0\1\0\0\0")],
)
def test_seeding_hashes_the_little_endian_32_bit_words(seed, message):
    digest = hashlib.sha256(message).digest()
    expected = [int.from_bytes(digest[8 * i : 8 * i + 8], "little") for i in range(4)]
    assert seed_state(seed).tolist() == expected


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True, None])
def test_a_bad_seed_is_a_clear_error(bad):
    with pytest.raises(ValueError, match=rf"seed must be a non-negative int\. Got {bad!r} instead"):
        seed_state(bad)


@pytest.mark.parametrize("seed", [0, 3, 2**40 + 5])
def test_outputs_and_uniforms_follow_xoshiro256pp(seed):
    state, reference = seed_state(seed), seed_state(seed).tolist()
    for _ in range(500):
        assert int(next_uint64(state)) == xoshiro_reference(reference)
    assert state.tolist() == reference
    for _ in range(500):
        assert rand(state) == (xoshiro_reference(reference) >> 11) * 2.0**-53


def test_the_tables_are_a_ziggurat_of_the_normal_and_the_exponential():
    # Layer edges x_i = w_i * 2**51 (2**52 for the exponential, whose draws have no sign bit),
    # f_i = density at x_i; every layer, and the base with its tail, has the same area V.
    for w, f, k, bits, R, density, tail in [
        (T.wi, T.fi, T.ki, 51, NOR_R, lambda x: np.exp(-0.5 * x * x), math.sqrt(2 * math.pi) * stats.norm.sf(NOR_R)),
        (T.we, T.fe, T.ke, 52, EXP_R, lambda x: np.exp(-x), math.exp(-EXP_R)),
    ]:
        x = w * 2.0**bits
        assert x[255] == R
        np.testing.assert_array_equal(f[1:], density(x[1:]))
        areas = x[1:] * (f[:-1] - f[1:])
        base = R * density(R) + tail
        np.testing.assert_allclose(areas, base, rtol=1e-12)
        assert x[0] == pytest.approx(base / density(R), rel=1e-14)
        # accept at once when the point lies under the next layer's edge
        np.testing.assert_array_equal(k[2:], np.floor(2.0**bits * x[1:-1] / x[2:]))
        # the base's threshold: its rectangle's share of the layer (Julia's constant for the
        # exponential is one unit above the float64 quotient, computed at higher precision)
        assert abs(int(k[0]) - math.floor(2.0**bits * R / x[0])) <= 1 and k[1] == 0


def test_scalar_randn_takes_the_fast_path_as_the_ziggurat_says():
    state, reference = seed_state(11), seed_state(11).tolist()
    checked = 0
    for _ in range(2000):
        value = normal_fast_path(xoshiro_reference(reference) >> 12)
        if value is None:  # slow branches consume more outputs: start again from the real state
            randn(state, T.ki, T.wi, T.fi)
            reference = state.tolist()
            continue
        assert randn(state, T.ki, T.wi, T.fi) == value
        checked += 1
    assert checked > 1950


def test_scalar_randexp_takes_the_fast_path_as_the_ziggurat_says():
    state, reference = seed_state(12), seed_state(12).tolist()
    checked = 0
    for _ in range(2000):
        r = xoshiro_reference(reference) >> 12
        idx = r & 0xFF
        if r >= T.ke[idx]:
            randexp(state, T.ke, T.we, T.fe)
            reference = state.tolist()
            continue
        assert randexp(state, T.ke, T.we, T.fe) == r * T.we[idx]
        checked += 1
    assert checked > 1950


def test_normal_and_exponential_draws_have_their_distributions():
    state = seed_state(5)
    normals = np.array([randn(state, T.ki, T.wi, T.fi) for _ in range(200_000)])
    exps = np.array([randexp(state, T.ke, T.we, T.fe) for _ in range(200_000)])
    assert stats.kstest(normals, "norm").pvalue > 0.01
    assert stats.kstest(exps, "expon").pvalue > 0.01
    # the tails come from their own branches: their frequencies must be right too
    n_tail = np.count_nonzero(np.abs(normals) > NOR_R)
    assert n_tail == pytest.approx(200_000 * 2 * stats.norm.sf(NOR_R), rel=0.25)
    assert np.count_nonzero(exps > EXP_R) == pytest.approx(200_000 * math.exp(-EXP_R), rel=0.25)


@pytest.mark.parametrize("n", [1, 6])
def test_short_randn_arrays_are_scalar_draws(n):
    a, b = seed_state(9), seed_state(9)
    np.testing.assert_array_equal(randn_array(a, n, T.ki, T.wi, T.fi), [randn(b, T.ki, T.wi, T.fi) for _ in range(n)])
    assert a.tolist() == b.tolist()


def test_seven_values_are_drawn_as_seven_words_first():
    state, reference = seed_state(4), seed_state(4).tolist()
    words = [xoshiro_reference(reference) >> 12 for _ in range(7)]
    values = randn_array(state, 7, T.ki, T.wi, T.fi)
    expected = [normal_fast_path(w) for w in words]
    assert None not in expected  # seed 4's first seven words all take the fast path
    np.testing.assert_array_equal(values, expected)
    assert state.tolist() == reference


@pytest.mark.parametrize("n", [8, 21, 6500])
def test_bulk_randn_forks_eight_lanes_then_uses_the_main_stream(n):
    state, main = seed_state(0), seed_state(0).tolist()
    forked = [[(FORK[j] * xoshiro_reference(main)) & MASK64 for _ in range(8)] for j in range(4)]
    lanes = [[forked[j][k] for j in range(4)] for k in range(8)]
    words = [xoshiro_reference(lanes[k]) for _ in range(n // 8) for k in range(8)]
    words += [xoshiro_reference(main) for _ in range(n % 8)]
    values = randn_array(state, n, T.ki, T.wi, T.fi)
    fast = [normal_fast_path(w >> 12) for w in words]
    accepted = [i for i, v in enumerate(fast) if v is not None]
    assert len(accepted) >= 0.98 * n
    np.testing.assert_array_equal(values[accepted], [fast[i] for i in accepted])
    if len(accepted) == n:  # no rejection branch drew from the main stream
        assert state.tolist() == main
