"""The manifest of a store: every file it holds, with its size and CRC-32C.

``<store>/manifest.json`` is written last, when the store is complete, and lists every other
file (metadata and chunks). It is what tells a *missing* chunk (listed, absent: damage) from
an *empty* one (never written because it held only the fill value), and its digest is the
build's identity: two builds with the same manifest hold the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import google_crc32c  # zarr's own dependency (its crc32c codec)

from ._exceptions import ArtifactCorrupt

__all__ = ["MANIFEST", "Manifest", "crc32c", "file_sha256", "read_manifest", "verify_store", "write_manifest"]

MANIFEST = "manifest.json"
_FORMAT = "neurodata-manifest/1"


def crc32c(data: bytes | bytearray | memoryview) -> str:
    """CRC-32C of *data* as 8 hex digits."""
    return f"{google_crc32c.value(bytes(data)):08x}"


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file (hex), read in 4 MiB blocks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def _file_crc32c(path: Path) -> str:
    checksum = google_crc32c.Checksum()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            checksum.update(block)
    return checksum.digest().hex()


@dataclass(frozen=True)
class Manifest:
    """The files of one build of a store: key (``/``-separated) -> (size in bytes, CRC-32C)."""

    files: Mapping[str, tuple[int, str]]
    digest: str

    @classmethod
    def from_bytes(cls, raw: bytes, where: str) -> Manifest:
        try:
            doc = json.loads(raw)
            if doc.get("format") != _FORMAT:
                raise ValueError(doc.get("format"))
            files = {str(k): (int(v[0]), str(v[1])) for k, v in doc["files"].items()}
        except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
            msg = f"{where}: {MANIFEST} is not a neurodata manifest ({exc!r}); the store is damaged: rebuild it."
            raise ArtifactCorrupt(msg) from None
        return cls(files=files, digest=hashlib.sha256(raw).hexdigest())

    @property
    def build_id(self) -> str:
        """A short identity of this build (the first 16 hex digits of the manifest's SHA-256)."""
        return self.digest[:16]

    def expects(self, key: str) -> bool:
        return key in self.files


def _walk(root: Path) -> Iterator[tuple[str, Path]]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            key = path.relative_to(root).as_posix()
            if key != MANIFEST:
                yield key, path


def write_manifest(root: str | Path) -> Manifest:
    """Hash every file of the store at *root* and write ``manifest.json``; return it."""
    root = Path(root)
    files = {key: [path.stat().st_size, _file_crc32c(path)] for key, path in _walk(root)}
    raw = json.dumps({"format": _FORMAT, "files": files}, sort_keys=True, separators=(",", ":")).encode()
    (root / MANIFEST).write_bytes(raw)
    return Manifest.from_bytes(raw, str(root))


def read_manifest(root: str | Path, *, artifact: str) -> Manifest:
    """The manifest of the store at *root*.

    Raises
    ------
    neurodata.ArtifactCorrupt
        The store has no manifest (damaged, or not written by neurodata) or an unreadable one.
    """
    path = Path(root) / MANIFEST
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        msg = f"{artifact}: {path} is missing: the store is incomplete or damaged. Rebuild it or restore it (`dvc checkout`)."
        raise ArtifactCorrupt(msg) from None
    return Manifest.from_bytes(raw, artifact)


def variable_of(key: str) -> str:
    """The variable (or node/variable) a store key belongs to: ``a/b/c/0/1`` -> ``a/b``."""
    parts = key.split("/")
    if parts[-1] == "zarr.json":
        return "/".join(parts[:-1]) or "(root metadata)"
    if "c" in parts:
        return "/".join(parts[: len(parts) - 1 - parts[::-1].index("c")])
    return "/".join(parts[:-1]) or key


def problem(artifact: str, key: str, what: str) -> str:
    """One line naming the artifact, the variable, the check (``manifest``) and the chunk key,
    in the form of contract violations: ``<artifact>: <variable>: <check>: <detail>``."""
    return f"{artifact}: {variable_of(key)}: manifest: chunk {key!r} {what}"


def verify_store(root: str | Path, *, artifact: str, deep: bool = True) -> list[str]:
    """Compare the store at *root* with its manifest; return one line per problem.

    Checks every listed file exists with its size (and, when *deep*, its CRC-32C) and that no
    file is there that the manifest does not list. Metadata files are always checked in full.
    """
    root = Path(root)
    manifest = read_manifest(root, artifact=artifact)
    problems = []
    present = dict(_walk(root))
    for key, (size, crc) in manifest.files.items():
        path = present.pop(key, None)
        if path is None:
            problems.append(problem(artifact, key, "is missing (the manifest lists it)"))
            continue
        actual = path.stat().st_size
        if actual != size:
            problems.append(problem(artifact, key, f"has {actual} bytes, the manifest says {size}"))
        elif (deep or key.endswith("zarr.json")) and _file_crc32c(path) != crc:
            problems.append(problem(artifact, key, "is damaged (its CRC-32C differs from the manifest)"))
    problems.extend(problem(artifact, key, "is not in the manifest (added after the build)") for key in sorted(present))
    return problems
