"""A read-only Zarr store that serves exactly one build of an artifact, checked against its manifest.

Every read goes through the manifest the store was opened with:

* a key the manifest lists but the store lacks is damage (:class:`neurodata.ArtifactCorrupt`
  naming the artifact, the variable and the chunk key), never the fill value; a key it does
  not list reads as missing (an all-fill chunk that was never written);
* a whole-file read must have the listed size and CRC-32C (inner chunks of shards carry
  Zstd's own checksum, the shard index a CRC-32C);
* a local store is pinned to the folder it was opened on (an open directory descriptor), so
  a rebuild that swaps a new folder into place does not change what an open handle reads;
  once the old folder is deleted, reads raise :class:`neurodata.StaleArtifact` instead of
  mixing builds. A rebuild with byte-identical content is followed transparently.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from pathlib import Path
from typing import Any

from zarr.abc.store import ByteRequest, Store
from zarr.core.buffer import Buffer, BufferPrototype
from zarr.storage import LocalStore, WrapperStore

from ._exceptions import ArtifactCorrupt, StaleArtifact
from ._manifest import MANIFEST, Manifest, crc32c, problem, read_manifest

__all__ = ["VerifiedStore", "open_local", "open_remote"]


def _pinned_local_store(path: Path) -> tuple[LocalStore, int]:
    """A read-only LocalStore on the folder *path* names now, and its inode."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    proc = Path(f"/proc/self/fd/{fd}")
    root = proc if proc.is_dir() else path  # /proc pins the folder itself (Linux); else by name
    store = LocalStore(root, read_only=True)
    weakref.finalize(store, os.close, fd)
    return store, os.fstat(fd).st_ino


class VerifiedStore(WrapperStore[Store]):
    """Read-only access to one build of an artifact; see the module docstring."""

    def __init__(self, store: Store, *, artifact: str, manifest: Manifest, path: Path | None = None,
                 inode: int | None = None) -> None:
        super().__init__(store)
        self.artifact = artifact
        self.manifest = manifest
        self.path = path  # the artifact's name on disk (local stores), to tell "rebuilt" from "damaged"
        self._inode = inode
        self._stale: str | None = None
        self._sized: set[str] = set()

    def _with_store(self, store: Store) -> VerifiedStore:
        return type(self)(store, artifact=self.artifact, manifest=self.manifest, path=self.path, inode=self._inode)

    def with_read_only(self, read_only: bool = False) -> VerifiedStore:
        if not read_only:
            msg = f"{self.artifact} is opened read-only; write a new build with neurodata.write_artifact."
            raise ValueError(msg)
        return self

    def __getstate__(self) -> dict[str, Any]:
        if self.path is None:
            return self.__dict__
        return {"artifact": self.artifact, "path": str(self.path), "digest": self.manifest.digest}

    def __setstate__(self, state: dict[str, Any]) -> None:
        if "digest" not in state:
            self.__dict__.update(state)
            return
        fresh = open_local(Path(state["path"]), artifact=state["artifact"])
        self.__dict__.update(fresh.__dict__)
        if fresh.manifest.digest != state["digest"]:
            self._stale = "it was rebuilt before this copy of the handle was unpickled"

    def __repr__(self) -> str:
        return f"VerifiedStore({self.artifact!r}, build {self.manifest.build_id})"

    # -- checks ---------------------------------------------------------------------------

    def _anomaly(self, key: str, what: str) -> Exception:
        """StaleArtifact if the artifact was rebuilt since it was opened, else ArtifactCorrupt."""
        if self.path is not None:
            try:
                current = read_manifest(self.path, artifact=self.artifact)
            except (ArtifactCorrupt, OSError):
                current = None
            if current is None or current.digest != self.manifest.digest:
                msg = (f"{self.artifact} was rebuilt (or removed) after it was opened (build {self.manifest.build_id}): "
                       f"reading {key!r} now would mix two builds. Open it again.")
                return StaleArtifact(msg)
        msg = f"{problem(self.artifact, key, what)}. Rebuild it or restore it (`dvc checkout`)."
        return ArtifactCorrupt(msg)

    def _repin(self) -> bool:
        """Follow a rebuild with identical bytes (same manifest) to its new folder."""
        if self.path is None:
            return False
        try:
            fresh = open_local(self.path, artifact=self.artifact)
        except (ArtifactCorrupt, OSError):
            return False
        if fresh.manifest.digest != self.manifest.digest:
            return False
        if fresh._inode != self._inode:  # (a concurrent read may have followed it already)
            self._store, self._inode = fresh._store, fresh._inode
        return True

    async def _checked(self, key: str, prototype: BufferPrototype, byte_range: ByteRequest | None, retry: bool = True) -> Buffer | None:
        if self._stale:
            msg = f"{self.artifact}: {self._stale}; open it again."
            raise StaleArtifact(msg)
        expected = self.manifest.files.get(key)
        buf = await self._store.get(key, prototype, byte_range)
        if expected is None:
            if buf is None:
                return None  # never written: all fill value
            raise self._anomaly(key, "is present but not in the manifest")
        size, crc = expected
        if buf is None:
            if retry and self._repin():
                return await self._checked(key, prototype, byte_range, retry=False)
            raise self._anomaly(key, "is missing (the manifest lists it)")
        if byte_range is None:
            raw = buf.to_bytes()
            if len(raw) != size or crc32c(raw) != crc:
                raise self._anomaly(key, f"is damaged ({len(raw)} bytes, CRC-32C {crc32c(raw)}; the manifest says {size} bytes, {crc})")
        elif key not in self._sized and isinstance(self._store, LocalStore):
            actual = (self._store.root / key).stat().st_size
            if actual != size:
                raise self._anomaly(key, f"has {actual} bytes, the manifest says {size}")
            self._sized.add(key)
        return buf

    # -- the Store interface (read side) -----------------------------------------------------

    async def get(self, key: str, prototype: BufferPrototype, byte_range: ByteRequest | None = None) -> Buffer | None:
        return await self._checked(key, prototype, byte_range)

    async def get_partial_values(
        self, prototype: BufferPrototype, key_ranges: Iterable[tuple[str, ByteRequest | None]]
    ) -> list[Buffer | None]:
        return [await self._checked(key, prototype, byte_range) for key, byte_range in key_ranges]

    async def _get_many(
        self, requests: Iterable[tuple[str, BufferPrototype, ByteRequest | None]]
    ) -> AsyncGenerator[tuple[str, Buffer | None], None]:
        for key, prototype, byte_range in requests:
            yield key, await self._checked(key, prototype, byte_range)

    async def exists(self, key: str) -> bool:
        return key in self.manifest.files

    @property
    def read_only(self) -> bool:
        return True

    @property
    def supports_writes(self) -> bool:
        return False

    @property
    def supports_deletes(self) -> bool:
        return False

    async def list(self) -> AsyncIterator[str]:
        for key in self.manifest.files:
            yield key

    async def list_prefix(self, prefix: str) -> AsyncIterator[str]:
        for key in self.manifest.files:
            if key.startswith(prefix):
                yield key

    async def list_dir(self, prefix: str) -> AsyncIterator[str]:
        prefix = prefix.rstrip("/")
        start = f"{prefix}/" if prefix else ""
        seen = set()
        for key in self.manifest.files:
            if key.startswith(start):
                child = key[len(start) :].split("/", 1)[0]
                if child not in seen:
                    seen.add(child)
                    yield child


def open_local(path: Path, *, artifact: str) -> VerifiedStore:
    """The verified store of the build at *path* now (pinned to its folder)."""
    store, inode = _pinned_local_store(path)
    manifest = read_manifest(store.root, artifact=artifact)
    return VerifiedStore(store, artifact=artifact, manifest=manifest, path=Path(path), inode=inode)


def open_remote(mapper: Any, *, artifact: str) -> VerifiedStore:
    """The verified store of an fsspec mapper (e.g. DVC's filesystem at a revision)."""
    from zarr.storage import FsspecStore

    try:
        raw = mapper[MANIFEST]
    except KeyError:
        msg = f"{artifact}: the store has no {MANIFEST} (damaged, or built before neurodata recorded manifests)."
        raise ArtifactCorrupt(msg) from None
    manifest = Manifest.from_bytes(raw, artifact)
    return VerifiedStore(FsspecStore.from_mapper(mapper, read_only=True), artifact=artifact, manifest=manifest)
