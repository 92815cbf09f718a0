"""Compiling the numba kernels ahead, on the idle core, while ``dvc repro`` runs the first stages.

On a fresh checkout numba's cache is empty, and each stage compiles its kernels the first time
it calls them: about 40 s in all on the tiny profile, more than the stages' own work, and one
stage after another. The fork server (:mod:`neurodata.cli._forkserver`) therefore starts a
*warmer* as soon as numba is imported: a process that compiles every kernel signature the
stages use, family by family, into numba's on-disk cache, while the build goes on.

Stage and warmer meet at one lock per family. A stage's process takes its family's lock before
it starts and compiles (or loads from the cache) the family's kernels under it, so a stage
whose kernels the warmer is compiling waits for them instead of compiling them a second time,
and the warmer, finding a family's lock held, moves on to the next family and comes back later.

:data:`SIGNATURES` lists the argument types of each kernel as the stages call it, one token per
argument: ``f8`` (float64), ``i8``, ``u8``, ``i4``, ``i2``, ``i1``, ``u1``, ``f4``, ``b1``
(bool), ``f8[2]`` a C-contiguous 2-d float64 array, ``ro:f8[1]`` a read-only one, ``rng`` a
``numpy.random.Generator``. A signature missing here costs time, never correctness (the stage
compiles it itself); ``tests/test_forkserver.py`` builds the tiny profile through the server
and fails on any kernel call the list does not cover, naming it in this notation.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib
import re
import sys
import time
import traceback
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["SIGNATURES", "compile_family", "family_lock", "kernel_signatures", "signature_text", "warm"]

SIGNATURES: dict[str, dict[str, list[str]]] = {
    # family -> "module:kernel" -> argument types per signature; families in the order the
    # warmer compiles them (ISF first: the largest kernel, needed by the third stage)
    "isf": {
        "neurodata.isf._kernels:simulate_cell": [
            "i8[1] f8[1] f8[1] f8[1] f8 f8[2] f8[3] f8[1] f8 f8 f8 f8 f8 f8[1] f8[1] f8 f8[2] f8 i8[1] i8[1] i8[1] "
            "b1[1] f8[1] f8 f8 f8 f8 f8 f8 f8[1] f8[1] f8[1] i8[1] f8[2] i8 f8 f8 i8 i8[1] f4[2] f4[3]",
        ],
        "neurodata.isf._kernels:threshold_crossings": ["f8[2] f8"],
        "neurodata.isf._kernels:accumulate_activations": ["f4[4] i8[1] i8[1] i8[1] f8[1] f8[2] f8[1]"],
    },
    "braingrid": {
        "neurodata.braingrid._kernels:update_growth_synapses": [
            "f8[1] i8 b1[1] f8 i8 i4[1] i4[1] f8[1] f8[1] f8[1] i8[1] i8 i4[1] i4[2] f8 f8",
        ],
        "neurodata.braingrid._kernels:run_lif_network": [
            "rng i8 i8 i8 f8[1] i4[1] f8[1] f8[1] i4[2] i4[1] i8[2] i8 i8 f8[1] f8[1] f8[1] f8[1] f8[1] f8[1] i4[1] "
            "b1[1] f8 f8 i8[1] i8[2] i8[1] i4[1] f8[1] f8[1] f8[1] i8[1] i1[1] f8[1] f8[1] f8[1] f8 i8[1] i4[1]",
        ],
        "neurodata.braingrid._bursts:_avalanche_scan": ["i8[1] i8[1] f8 f8 b1 i8[2]"],
        "neurodata.braingrid._bursts:_peaks": ["i8[1] i8[1] i8[1] i8[1] i8 i8[1] i8[1]"],
        "neurodata.braingrid._spike_kernels:scan_block": ["u8[2] i8 i8[1] i8[1] u8[1] u8 u8 u8[1] u8 i8[1] i8[1] u8[1]"],
        "neurodata.braingrid._spike_kernels:sort_buckets": ["i8[1] u8[1] i8[1] i8[1] i8 u8 i2[1] i2[1] i4[1] i2[1] i2[1] u1[1]"],
    },
    "gfr": {
        "neurodata.gfr._kernels:adex_sweeps": [
            "i8[1] f8[1] i8[1] i8[1] i8[1] i8[1] i8[1] f8[1] f8[1] f8[1] f8[1] f8[1] f8[1] f8[1] f8[1] f8[1] f8[1] "
            "i8[1] f8[1] f8[1] f8[2] f4[2] f8 f8[2]",
        ],
        "neurodata.gfr._kernels:gfr_loss_grad": [
            "f8[1] f8[1] i8[2] i8[2] i8[2] i8[1] i8[1] f8[2] f8[2] f8[1] f8[1] f8[1] f8[2] f8[1] f8 f8 b1[1] b1",
        ],
        "neurodata.gfr._kernels:gfr_predict": ["f8[2] f8[2] f8[2] f8[1] f8[1] f8[1] f8[2] f8[1]"],
    },
    "adex": {
        "neurodata.adex._julia_rng:randn_array": ["u8[1] i8 ro:i8[1] ro:f8[1] ro:f8[1]"],
        "neurodata.adex._julia_inputs:step_start_times": ["i8 f8"],
        "neurodata.adex._julia_inputs:arrival_counts": ["u8[1] f8[1] i8 f8 f8[1] f8 ro:i8[1] ro:f8[1] ro:f8[1]"],
        "neurodata.adex._kernels:integrate_adex_counts": ["i4[1] i4[1] f8 f8 f8[1] f8[1]" + " f8" * 14],
        "neurodata.adex._kernels:poisson_cdf": ["f8"],
        "neurodata.adex._kernels:integrate_adex": ["f8[1] f8[1] f8[1] f8[1] f8 f8 f8[1] f8[1]" + " f8" * 14],
    },
}

_CODES = {"b1": "boolean", "i1": "int8", "i2": "int16", "i4": "int32", "i8": "int64", "u1": "uint8",
          "u2": "uint16", "u4": "uint32", "u8": "uint64", "f4": "float32", "f8": "float64"}
_TOKEN = re.compile(r"(ro:)?([a-z]\d)(?:\[(\d)\])?")


def _argument_type(token: str) -> Any:
    from numba import types

    if token == "rng":
        return types.NumPyRandomGeneratorType("NumPyRandomGeneratorType")  # numba's type of numpy.random.Generator
    match = _TOKEN.fullmatch(token)
    if match is None or match.group(2) not in _CODES:
        msg = f"Unknown argument type {token!r} in a kernel signature."
        raise ValueError(msg)
    readonly, code, ndim = match.groups()
    dtype = getattr(types, _CODES[code])
    return types.Array(dtype, int(ndim), "C", readonly=bool(readonly)) if ndim else dtype


def _token(ty: Any) -> str:
    from numba import types

    if isinstance(ty, types.NumPyRandomGeneratorType):
        return "rng"
    codes = {getattr(types, name): code for code, name in _CODES.items()}
    if isinstance(ty, types.Array) and ty.layout == "C" and ty.aligned and ty.dtype in codes:
        return f"{'' if ty.mutable else 'ro:'}{codes[ty.dtype]}[{ty.ndim}]"
    if ty in codes:
        return codes[ty]
    return repr(ty)  # outside the notation: the test's message shows it as numba writes it


def signature_text(args: tuple[Any, ...]) -> str:
    """A kernel signature (tuple of numba types) in the notation of :data:`SIGNATURES`."""
    return " ".join(_token(ty) for ty in args)


def _dispatcher(kernel: str) -> Any:
    module, _, name = kernel.partition(":")
    return getattr(importlib.import_module(module), name)


def compile_family(family: str) -> None:
    """Compile (or load from numba's cache) every signature of *family* in :data:`SIGNATURES`."""
    for kernel, signatures in SIGNATURES.get(family, {}).items():
        dispatcher = _dispatcher(kernel)
        for text in signatures:
            dispatcher.compile(tuple(_argument_type(token) for token in text.split()))


@contextlib.contextmanager
def family_lock(prefix: str | Path, family: str, *, blocking: bool = True) -> Iterator[bool]:
    """Hold the lock file ``<prefix>.<family>.lock``; yields False (held by another) if not *blocking*."""
    with open(f"{prefix}.{family}.lock", "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True


def warm(prefix: str | Path, families: list[str] | None = None) -> None:
    """The warmer: compile every family's kernels, each under its lock, skipping a held one until later."""
    queue = deque(families if families is not None else SIGNATURES)
    skipped = 0  # families found held since the last one compiled
    while queue:
        family = queue.popleft()
        with family_lock(prefix, family, blocking=not queue) as held:
            if not held:
                queue.append(family)
                skipped += 1
                if skipped >= len(queue):  # every family left is held by a stage: do not spin
                    time.sleep(0.1)
                    skipped = 0
                continue
            skipped = 0
            try:
                compile_family(family)
            except Exception:  # noqa: BLE001 - logged; the stages compile that family themselves
                traceback.print_exc()


def kernel_signatures() -> dict[str, set[str]]:
    """Every loaded ``neurodata`` numba kernel -> the signatures it holds compiled, in our notation."""
    from numba.core.registry import CPUDispatcher

    found: dict[str, set[str]] = {}
    for name, module in list(sys.modules.items()):
        if not name.startswith("neurodata.") or module is None:
            continue
        for attr, value in list(vars(module).items()):
            if isinstance(value, CPUDispatcher) and value.py_func.__module__ == name:
                found[f"{name}:{attr}"] = {signature_text(sig) for sig in value.signatures}
    return found
