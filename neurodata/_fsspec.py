"""``neurodata://<artifact>``: an fsspec filesystem that serves one build of an artifact, verified.

It lets intake's own ``XArrayDatasetReader`` (and plain ``xarray.open_dataset(url,
engine="zarr", storage_options=...)``) read a neurodata artifact with the store's guarantees:
every read is checked against the build's manifest (a missing or damaged chunk is
:class:`neurodata.ArtifactCorrupt`), and an opened artifact keeps reading its own build or
raises :class:`neurodata.StaleArtifact` — the same :class:`~neurodata._verified_store.VerifiedStore`
that :func:`neurodata.open_artifact` reads through. The protocol is registered as an fsspec
entry point, so intake and xarray find it without importing neurodata first.

Storage options: ``data_dir`` (the working tree's data folder), or ``catalog_dir`` (a catalog's
folder: its checkout's ``data/``); ``registry`` and ``rev`` read another registry or revision
through DVC. Instances are not cached: each open pins the build current then; a pickled
instance (a dask task) records the builds it pinned and refuses to mix in another.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fsspec import AbstractFileSystem
from fsspec.spec import make_instance

from ._exceptions import StaleArtifact

__all__ = ["ArtifactFileSystem"]


class ArtifactFileSystem(AbstractFileSystem):
    """fsspec filesystem of neurodata artifacts: paths ``<artifact>/<key>`` (see the module docstring)."""

    protocol = "neurodata"
    cachable = False
    root_marker = ""

    def __init__(self, data_dir: str | None = None, catalog_dir: str = "", registry: str = "", rev: str = "",
                 builds: dict[str, str] | None = None, artifact: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_dir, self.catalog_dir, self.registry, self.rev = data_dir, catalog_dir, registry, rev
        self._builds = dict(builds or {})  # artifact -> manifest digest a pickled copy must read
        self._stores: dict[str, Any] = {}
        if artifact:  # opened from a URL: pin its build now, so "not built" is an error, not "no group"
            self._store(artifact)

    @staticmethod
    def _get_kwargs_from_urls(path: str) -> dict[str, Any]:
        artifact = path[len("neurodata://"):].strip("/").split("/", 1)[0] if path.startswith("neurodata://") else ""
        return {"artifact": artifact} if artifact else {}

    @classmethod
    def _strip_protocol(cls, path: str) -> str:
        path = path[len("neurodata://"):] if path.startswith("neurodata://") else path
        return path.strip("/")

    def __reduce__(self) -> Any:
        builds = {**self._builds, **{name: store.manifest.digest for name, store in self._stores.items()}}
        kwargs = {"data_dir": self.data_dir, "catalog_dir": self.catalog_dir, "registry": self.registry,
                  "rev": self.rev, "builds": builds}
        return make_instance, (type(self), (), kwargs)

    # -- the artifact behind a path --------------------------------------------------------

    def _store(self, artifact: str) -> Any:
        if artifact not in self._stores:
            from ._options import data_dir
            from ._paths import catalog_root
            from ._verified_store import open_local, open_remote
            from .store import _dvc_mapper, artifact_path, check_artifact_name

            if self.registry or self.rev:
                mapper = _dvc_mapper(artifact, rev=self.rev or None, repo=self.registry or None,
                                     catalog_dir=self.catalog_dir or None)
                store = open_remote(mapper, artifact=artifact)
            else:
                check_artifact_name(artifact)
                folder = Path(self.data_dir) if self.data_dir else data_dir(catalog_root(self.catalog_dir or None))
                store = open_local(artifact_path(artifact, folder), artifact=artifact)
            expected = self._builds.get(artifact)
            if expected is not None and store.manifest.digest != expected:
                msg = f"{artifact} was rebuilt after it was opened (build {expected[:16]}); open it again."
                raise StaleArtifact(msg)
            self._stores[artifact] = store
        return self._stores[artifact]

    def _split(self, path: str) -> tuple[str, str]:
        artifact, _, key = self._strip_protocol(path).partition("/")
        return artifact, key

    # -- fsspec, read side -----------------------------------------------------------------

    def cat_file(self, path: str, start: int | None = None, end: int | None = None, **kwargs: Any) -> bytes:
        from zarr.abc.store import OffsetByteRequest, RangeByteRequest, SuffixByteRequest
        from zarr.core.buffer import default_buffer_prototype
        from zarr.core.sync import sync

        artifact, key = self._split(path)
        if start is None and end is None:
            byte_range = None
        elif start is not None and start < 0 and end is None:
            byte_range = SuffixByteRequest(-start)
        elif end is None:
            byte_range = OffsetByteRequest(start or 0)
        else:
            byte_range = RangeByteRequest(start or 0, end)
        buf = sync(self._store(artifact).get(key, default_buffer_prototype(), byte_range))
        if buf is None:
            raise FileNotFoundError(path)
        return buf.to_bytes()

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        artifact, key = self._split(path)
        files = self._store(artifact).manifest.files
        name = f"{artifact}/{key}" if key else artifact
        if key in files:
            return {"name": name, "size": files[key][0], "type": "file"}
        if not key or any(k.startswith(key.rstrip("/") + "/") for k in files):
            return {"name": name, "size": 0, "type": "directory"}
        raise FileNotFoundError(path)

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        artifact, key = self._split(path)
        prefix = f"{key.rstrip('/')}/" if key else ""
        children = sorted({k[len(prefix):].split("/", 1)[0] for k in self._store(artifact).manifest.files if k.startswith(prefix)})
        entries = [self.info(f"{artifact}/{prefix}{child}") for child in children]
        return entries if detail else [e["name"] for e in entries]

    def _open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:
        import io

        if mode != "rb":
            msg = f"neurodata:// is read-only; write artifacts with neurodata.write_artifact (mode {mode!r})."
            raise PermissionError(msg)
        return io.BytesIO(self.cat_file(path))
