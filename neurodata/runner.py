"""Parallel runs of independent tasks (sweeps, per-cell fits, trial batches) through dask.distributed.

The scheduler is the runtime option ``scheduler`` (env ``NEURODATA_SCHEDULER``, or the CLI's
``--scheduler``):

* ``"auto"`` (default): the first task runs in this process and is timed; if the rest would
  take less than :data:`AUTO_LOCAL_CLUSTER_S` seconds, they run here too, otherwise a
  ``LocalCluster`` starts for them. Small builds (the tiny profile) never pay for a cluster;
  large ones use every core. A sweep whose tasks release the GIL (``run_sweep(threads=True)``)
  runs its in-process tasks on one thread per core, the first round of them timed.
* ``"local"``: always a ``LocalCluster`` on this machine (one single-threaded worker process
  per core, at most 4; loopback only, no dashboard).
* ``"synchronous"``: everything in this process (tests, debugging).
* any other value: the address of a running scheduler (``tcp://host:8786``), so the same
  stage scales out to a cluster unchanged.

Results never depend on the scheduler: tasks are pure functions of their inputs, and sweeps
write each batch into its own Zarr chunk. :func:`write_batches` is the one place where tasks
write regions of a store.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import xarray as xr

from ._options import get_options
from .progress import progress
from .store import ArtifactWriter

__all__ = ["AUTO_LOCAL_CLUSTER_S", "batches", "dask_client", "run_sweep", "write_batches"]

AUTO_LOCAL_CLUSTER_S = 20.0
"""With scheduler "auto", work projected to take longer than this (seconds, in this process)
starts a LocalCluster; less runs in-process."""


@contextmanager
def dask_client(scheduler: str | None = None) -> Iterator[Any]:
    """A dask Client for *scheduler* (default: option ``scheduler``), or None for in-process.

    Parameters
    ----------
    scheduler : str, optional
        ``"synchronous"`` (yields None), ``"local"`` or ``"auto"`` (a LocalCluster), or the
        address of a running scheduler.

    ``"local"`` (and ``"auto"`` here) starts ``LocalCluster(n_workers=<cores, at most 4>,
    threads_per_worker=1)`` with worker processes on 127.0.0.1, so numba kernels run truly in
    parallel, and closes it afterwards. No dashboard is served (the scheduler's HTTP endpoint
    binds an ephemeral loopback port, never 8787).
    """
    scheduler = scheduler or get_options()["scheduler"]
    if scheduler == "synchronous":
        yield None
        return
    from distributed import Client, LocalCluster

    if scheduler in ("local", "auto"):
        n_workers = max(1, min(4, os.cpu_count() or 1))
        with (
            LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                         dashboard_address=None, scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"}) as cluster,
            Client(cluster) as client,
        ):
            yield client
        return
    with Client(scheduler) as client:
        yield client


def run_sweep(
    fn: Callable[[Any], Any], items: Sequence[Any], *, scheduler: str | None = None, desc: str | None = None,
    threads: bool = False,
) -> list[Any]:
    """``[fn(item) for item in items]``, one dask task per item; results in the order of *items*.

    Parameters
    ----------
    fn : callable
        A picklable function (module level, or a ``functools.partial`` of one).
    items : sequence
    scheduler : str, optional
        See the module docstring; default: option ``scheduler``.
    desc : str, optional
        Label of the progress bar.
    threads : bool, default False
        With ``"auto"``, items run in this process run on one thread per core (the first round
        of them is timed): for a thread-safe *fn* whose work releases the GIL (numba ``nogil``
        kernels). The results are the same; ``"synchronous"`` still runs one item at a time.

    Returns
    -------
    list
        ``fn(item)`` for every item, in order.
    """
    items = list(items)
    scheduler = scheduler or get_options()["scheduler"]
    width = max(1, min(os.cpu_count() or 1, len(items))) if threads and scheduler == "auto" else 1
    results: list[Any] = []
    if scheduler == "auto" and items:
        start = time.perf_counter()
        results.extend(_in_process(fn, items[:width], width))
        projected = (time.perf_counter() - start) * -(-(len(items) - width) // width)
        scheduler = "synchronous" if projected < AUTO_LOCAL_CLUSTER_S else "local"
        items = items[width:]
    with dask_client(scheduler) as client:
        if client is None:
            results.extend(_in_process(fn, items, width, desc))
            return results
        from distributed import as_completed

        futures = client.map(fn, items, pure=False)
        for _ in progress(as_completed(futures), total=len(futures), desc=desc):
            pass
        return results + client.gather(futures)


def _in_process(fn: Callable[[Any], Any], items: Sequence[Any], width: int, desc: str | None = None) -> list[Any]:
    """``[fn(item) for item in items]`` here, on *width* threads (in order; the first error raises)."""
    if width == 1:
        return [fn(item) for item in progress(items, total=len(items), desc=desc)]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(width) as pool:
        return list(progress(pool.map(fn, items), total=len(items), desc=desc))


def batches(n: int, size: int) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` covering ``range(n)`` in slices of *size* (the last may be shorter).

    Parameters
    ----------
    n : int
        Number of entries.
    size : int
        Entries per batch, >= 1.
    """
    if size < 1:
        msg = f"The batch size must be an int >= 1. Got {size!r} instead."
        raise ValueError(msg)
    return [(start, min(n, start + size)) for start in range(0, n, size)]


def _select(obj: xr.Dataset | Mapping[str, xr.Dataset], dim: str) -> dict[str, xr.Dataset]:
    """The variables along *dim* of each node of a task's result, without coords (the template has them)."""
    nodes = {"": obj} if isinstance(obj, xr.Dataset) else dict(obj)
    selected = {}
    for group, ds in nodes.items():
        if dim not in ds.dims:
            ds = ds.expand_dims(dim)
        keep = [name for name, var in ds.data_vars.items() if dim in var.dims]
        selected[group] = ds[keep].drop_vars(list(ds.coords))
    return selected


def _compute_and_write(bounds: tuple[int, int], *, task: Callable[[int, int], Any], path: str, dim: str) -> tuple[int, int]:
    start, stop = bounds
    for group, piece in _select(task(start, stop), dim).items():
        if piece.sizes[dim] != stop - start:
            msg = f"A batch task for {dim} [{start}, {stop}) returned {piece.sizes[dim]} entries along {dim!r}."
            raise ValueError(msg)
        piece.to_zarr(path, group=group or None, region={dim: slice(start, stop)}, mode="r+", consolidated=False)
    return bounds


def write_batches(
    writer: ArtifactWriter,
    template: xr.Dataset | xr.DataTree,
    dim: str,
    task: Callable[[int, int], xr.Dataset | Mapping[str, xr.Dataset]],
    *,
    batch_size: int = 1,
    encoding: Mapping[str, Mapping[str, Any]] | None = None,
    scheduler: str | None = None,
    desc: str | None = None,
    validate_in_batches: bool = False,
) -> Path:
    """Fill *writer*'s store batch by batch along *dim*, one task and one Zarr chunk per batch; commit it.

    Parameters
    ----------
    writer : ArtifactWriter
    template : xarray.Dataset or xarray.DataTree
        The whole artifact's coords, attrs and (lazy, e.g. ``dask.array.empty``) variables;
        for a DataTree, every node's variables along *dim* are filled.
    dim : str
        The dimension the batches split.
    task : callable
        ``task(start, stop)`` computes entries ``[start, stop)`` along *dim* and returns a
        Dataset (or, for a DataTree template, a mapping of node path to Dataset) with *dim*
        of length ``stop - start``. It reads its inputs itself (through
        :func:`neurodata.open_artifact`), so only bounds travel to the workers. Must be
        picklable (a module-level function or a ``functools.partial`` of one).
    batch_size : int, default 1
        Entries per task and per chunk along *dim* (a stage param where batches matter).
    encoding : mapping, optional
        Per-variable (``"<node>/<var>"`` for trees) encodings; the chunk along *dim* is
        forced to *batch_size*, so region writes never share a chunk.
    scheduler : str, optional
        See the module docstring; default: option ``scheduler``.
    desc : str, optional
        Label of the progress bar.
    validate_in_batches : bool, default False
        Validate the filled store one batch at a time (memory bounded by a batch).

    Returns
    -------
    Path of the committed store.
    """
    nodes = {"": template} if isinstance(template, xr.Dataset) else {
        node.path.strip("/"): node.to_dataset(inherit=False) for node in template.subtree}
    n = next((ds.sizes[dim] for ds in nodes.values() if dim in ds.dims), None)
    if n is None:
        msg = f"The template has no dimension {dim!r}."
        raise ValueError(msg)
    enc: dict[str, dict[str, Any]] = {k: dict(v) for k, v in (encoding or {}).items()}
    for group, ds in nodes.items():
        for name, var in ds.data_vars.items():
            if dim in var.dims:
                key = f"{group}/{name}" if group else str(name)
                chunks = list(enc.get(key, {}).get("chunks") or var.shape)
                chunks[var.dims.index(dim)] = min(batch_size, max(n, 1))
                enc.setdefault(key, {})["chunks"] = tuple(chunks)
    writer.write_template(template, enc)
    fn = functools.partial(_compute_and_write, task=task, path=str(writer.path), dim=dim)
    run_sweep(fn, batches(n, batch_size), scheduler=scheduler, desc=desc)
    return writer.commit(validate_slices=(dim, batch_size) if validate_in_batches else None)
