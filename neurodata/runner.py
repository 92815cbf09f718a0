"""Parallel runs of independent tasks (sweeps, per-cell fits) through dask.distributed.

The scheduler is the runtime option ``scheduler`` (env ``NEURODATA_SCHEDULER``, or the CLI's
``--scheduler``): ``"local"`` starts a LocalCluster on this machine, ``"synchronous"`` runs
everything in this process (tiny runs, tests, debugging), and any other value is the
address of a running scheduler (``tcp://host:8786``), so the same stage scales out to a
cluster unchanged.

Sweeps write straight into the artifact's temporary store: each task computes one slice
along the swept dimension and writes it as its own Zarr chunk (region writes that share a
chunk silently lose data, so the template is chunked 1 along that dimension).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import xarray as xr

from ._options import get_options
from .progress import progress
from .store import ArtifactWriter

__all__ = ["dask_client", "run_sweep", "write_sweep"]


@contextmanager
def dask_client(scheduler: str | None = None) -> Iterator[Any]:
    """A dask Client for *scheduler* (default: option ``scheduler``), or None for in-process.

    ``"local"`` starts ``LocalCluster(n_workers=<cores, at most 4>, threads_per_worker=1)``
    with worker processes, so numba kernels run truly in parallel, and closes it afterwards.
    """
    scheduler = scheduler or get_options()["scheduler"]
    if scheduler == "synchronous":
        yield None
        return
    from distributed import Client, LocalCluster

    if scheduler == "local":
        n_workers = max(1, min(4, os.cpu_count() or 1))
        with (
            LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
            Client(cluster) as client,
        ):
            yield client
        return
    with Client(scheduler) as client:
        yield client


def run_sweep(
    fn: Callable[[Any], Any], items: Sequence[Any], *, scheduler: str | None = None, desc: str | None = None
) -> list[Any]:
    """``[fn(item) for item in items]``, one dask task per item; results in the order of *items*."""
    items = list(items)
    with dask_client(scheduler) as client:
        if client is None:
            return [fn(item) for item in progress(items, total=len(items), desc=desc)]
        from distributed import as_completed

        futures = client.map(fn, items, pure=False)
        for _ in progress(as_completed(futures), total=len(futures), desc=desc):
            pass
        return client.gather(futures)


def _compute_and_write(indexed: tuple[int, Any], *, task: Callable[[Any], xr.Dataset], path: str, dim: str) -> int:
    index, item = indexed
    piece = task(item)
    if dim not in piece.dims:
        piece = piece.expand_dims(dim)
    keep = [name for name, var in piece.data_vars.items() if dim in var.dims]
    piece = piece[keep].drop_vars(list(piece.coords))
    piece.to_zarr(path, region={dim: slice(index, index + 1)}, mode="r+", consolidated=False)
    return index


def write_sweep(
    writer: ArtifactWriter,
    template: xr.Dataset,
    dim: str,
    task: Callable[[Any], xr.Dataset],
    items: Sequence[Any],
    *,
    encoding: Mapping[str, Mapping[str, Any]] | None = None,
    scheduler: str | None = None,
    desc: str | None = None,
) -> Path:
    """Fill *writer*'s store with one task per item along *dim*, then commit it.

    Parameters
    ----------
    writer : ArtifactWriter
    template : xarray.Dataset
        The full artifact's coords, attrs and (lazy, e.g. ``dask.array.empty``) variables.
    dim : str
        The swept dimension; ``template.sizes[dim] == len(items)``.
    task : callable
        ``task(item) -> Dataset`` for one slice (with *dim* of length 1, or without it).
        Must be importable (a module-level function or a ``functools.partial`` of one).
    items : sequence
    encoding : mapping, optional
        Per-variable encodings; chunks along *dim* are forced to 1.
    """
    if template.sizes.get(dim) != len(items):
        msg = f"Template has {template.sizes.get(dim)} entries along {dim!r} but {len(items)} items were given."
        raise ValueError(msg)
    enc: dict[str, dict[str, Any]] = {k: dict(v) for k, v in (encoding or {}).items()}
    for name, var in template.data_vars.items():
        if dim in var.dims:
            chunks = list(enc.get(str(name), {}).get("chunks") or var.shape)
            chunks[var.dims.index(dim)] = 1
            enc.setdefault(str(name), {})["chunks"] = tuple(chunks)
    writer.write_template(template, enc)
    fn = functools.partial(_compute_and_write, task=task, path=str(writer.path), dim=dim)
    run_sweep(fn, list(enumerate(items)), scheduler=scheduler, desc=desc)
    return writer.commit()
