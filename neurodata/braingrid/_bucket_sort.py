"""The second thread of the spike table: sorts complete time buckets while the scan goes on."""

from __future__ import annotations

import ctypes
import mmap
import queue
import threading
from typing import Any

import numpy as np

from ._spike_kernels import sort_buckets

__all__ = ["BucketSorter"]


_MADV_POPULATE_WRITE = 23  # Linux >= 5.14


def _populate(arr: np.ndarray) -> None:
    """Map the pages of a fresh array in one call (``madvise(MADV_POPULATE_WRITE)``; contents
    unchanged, safe while other threads write to it). A no-op where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        page = mmap.PAGESIZE
        start = -(-arr.ctypes.data // page) * page
        end = (arr.ctypes.data + arr.nbytes) // page * page
        if end > start:
            libc.madvise(ctypes.c_void_p(start), ctypes.c_size_t(end - start), ctypes.c_int(_MADV_POPULATE_WRITE))
    except (OSError, AttributeError):  # no C library to load, or no madvise
        pass



class BucketSorter:
    """Sorts time buckets on a second thread while the scan goes on.

    A bucket is final once the scan has appended all the spikes ``spikesHistory`` gives it.
    Row-major scanning fills the buckets roughly in time order (a column's later rows hold its
    later spikes), so most are handed over (:meth:`dispatch`) while the matrix is still being
    read; :meth:`finish` sorts the rest on both threads. The kernels release the GIL.
    """

    def __init__(
        self, keys: np.ndarray, bucket_starts: np.ndarray, bin_starts: np.ndarray, shift: int, id_bits: int, layout: Any
    ) -> None:
        n = keys.size
        self.neuron = np.empty(n, dtype=np.int32)
        self.x = np.empty(n, dtype=np.int16)
        self.y = np.empty(n, dtype=np.int16)
        self.bad = np.zeros(bucket_starts.size - 1, dtype=np.uint8)
        self._args = (keys, bucket_starts, bin_starts, shift, np.uint64(id_bits), layout.xloc, layout.yloc,
                      self.neuron, self.x, self.y, self.bad)  # fmt: skip
        self._ends = bucket_starts[1:]
        self._handed = np.zeros(bucket_starts.size - 1, dtype=bool)
        self._todo: queue.SimpleQueue = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="braingrid-bucket-sorter", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        # While no bucket is waiting, map the pages of the keys and outputs ahead of their
        # first writes, in 16-MiB pieces: faulting fresh pages one by one on the scan's
        # thread costs more, and much more on a VM whose host hands out the memory lazily.
        pieces = [(arr, i, i + (16 * 2**20) // arr.itemsize)
                  for arr in (self.neuron, self.x, self.y, self._args[0]) for i in range(0, arr.size, (16 * 2**20) // arr.itemsize)]  # fmt: skip
        pieces.reverse()
        while True:
            try:
                todo = self._todo.get_nowait() if pieces else self._todo.get()
            except queue.Empty:
                arr, i, j = pieces.pop()
                _populate(arr[i:j])
                continue
            if todo is None:
                return
            try:
                sort_buckets(todo, *self._args)
            except BaseException as exc:  # re-raised by finish  # noqa: BLE001
                self._error = exc

    def dispatch(self, cursor: np.ndarray) -> None:
        """Hand over the buckets that *cursor* shows full."""
        ready = np.flatnonzero((cursor == self._ends) & ~self._handed)
        if ready.size:
            self._handed[ready] = True
            self._todo.put(ready)

    def finish(self) -> bool:
        """Sort the remaining buckets on both threads; True if every bucket matched ``spikesHistory``."""
        rest = np.flatnonzero(~self._handed)
        for part in np.array_split(rest, min(rest.size, 32)) if rest.size else ():
            self._todo.put(part)
        while True:  # the calling thread helps until the queue is empty
            try:
                todo = self._todo.get_nowait()
            except queue.Empty:
                break
            sort_buckets(todo, *self._args)
        self.close()
        if self._error is not None:
            raise self._error
        return not self.bad.any()

    def close(self) -> None:
        """Stop the thread (after the work already handed over)."""
        if self._thread.is_alive():
            self._todo.put(None)
            self._thread.join()

