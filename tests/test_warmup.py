"""The warm-up list of the fork server's warmer (neurodata.cli._warmup): its notation, and the
check that finds a kernel call the list does not cover."""

from __future__ import annotations

import numpy as np
import pytest
from numba import typeof, types

from neurodata.cli._warmup import SIGNATURES, _argument_type, compile_family, kernel_signatures, signature_text


def test_every_listed_signature_parses_and_reads_back_the_same():
    for kernels in SIGNATURES.values():
        for kernel, signatures in kernels.items():
            module, _, name = kernel.partition(":")
            assert module.startswith("neurodata.") and name
            for text in signatures:
                assert signature_text(tuple(_argument_type(t) for t in text.split())) == text


def test_the_notation_on_hand_checked_types():
    ro = np.zeros((2, 3), np.int16)
    ro.flags.writeable = False
    args = (typeof(1.0), typeof(np.zeros(3, np.float32)), typeof(ro), typeof(True), typeof(np.random.default_rng(0)),
            typeof(np.zeros((4, 4))[:, 0]))
    assert signature_text(args) == "f8 f4[1] ro:i2[2] b1 rng Array(float64, 1, 'A', False, aligned=True)"
    assert _argument_type("ro:u8[3]") == types.Array(types.uint64, 3, "C", readonly=True)
    for bad in ("f16", "x8[1]", "f8[]", "int64"):
        with pytest.raises(ValueError, match="Unknown argument type"):
            _argument_type(bad)


def test_a_kernel_call_outside_the_list_shows_up_in_the_notation():
    from neurodata.adex._kernels import poisson_cdf

    compile_family("adex")
    before = kernel_signatures()
    assert before["neurodata.adex._kernels:poisson_cdf"] >= {"f8"}
    poisson_cdf(np.float32(0.5))  # a float32 mean: a second specialisation, missing from the list
    after = kernel_signatures()
    assert after["neurodata.adex._kernels:poisson_cdf"] - before["neurodata.adex._kernels:poisson_cdf"] == {"f4"}
