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


def test_the_warmer_skips_a_family_a_stage_holds_and_comes_back_to_it(tmp_path, monkeypatch):
    """Lock order with real lock files: a held family is tried again after the free ones, and the
    warmer waits (without spinning) while every family left is held."""
    import threading
    import time

    from neurodata.cli import _warmup

    done: list[str] = []
    monkeypatch.setattr(_warmup, "compile_family", done.append)
    prefix = tmp_path / "key"
    release = threading.Event()

    def stage_holding(family: str) -> None:
        with _warmup.family_lock(prefix, family):
            release.wait(10)

    # a lock held by another process is what the warmer meets; flock locks of another open file
    # description in this process behave the same
    holders = [threading.Thread(target=stage_holding, args=(f,)) for f in ("isf", "gfr")]
    for t in holders:
        t.start()
    time.sleep(0.2)
    warmer = threading.Thread(target=_warmup.warm, args=(prefix, ["isf", "braingrid", "gfr", "adex"]))
    warmer.start()
    time.sleep(0.5)
    assert done == ["braingrid", "adex"]  # the free ones first; isf and gfr are held
    release.set()
    warmer.join(10)
    assert not warmer.is_alive() and sorted(done[2:]) == ["gfr", "isf"]
