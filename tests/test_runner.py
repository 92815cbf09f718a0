"""runner.run_sweep in this process: results in order, and ``threads=True`` (GIL-free tasks such as
BrainGrid's cultures) running a round of tasks at once under "auto" only."""

from __future__ import annotations

import os
import threading

import pytest

from neurodata.runner import run_sweep

needs_two_cores = pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one thread per core: needs two cores")


def square(x: int) -> int:
    return x * x


@needs_two_cores
def test_auto_with_threads_runs_a_round_of_tasks_at_once_and_keeps_their_order():
    meet = threading.Barrier(2, timeout=60)  # broken (an error) unless two tasks run at the same time

    def task(x: int) -> tuple[int, int]:
        if x < 2:
            meet.wait()
        return x * x, threading.get_ident()

    results = run_sweep(task, [0, 1, 2, 3], scheduler="auto", threads=True)
    assert [value for value, _ in results] == [0, 1, 4, 9]
    assert results[0][1] != results[1][1]  # two threads
    assert threading.get_ident() not in {ident for _, ident in results}


@pytest.mark.parametrize(("scheduler", "threads"), [("auto", False), ("synchronous", True), ("synchronous", False)])
def test_without_threads_or_auto_every_task_runs_here_one_after_another(scheduler, threads):
    order = []

    def task(x: int) -> int:
        order.append((x, threading.get_ident()))
        return x * x

    assert run_sweep(task, range(5), scheduler=scheduler, threads=threads) == [0, 1, 4, 9, 16]
    assert order == [(x, threading.get_ident()) for x in range(5)]


@needs_two_cores
def test_the_first_failing_task_of_a_threaded_round_raises():
    def task(x: int) -> int:
        if x == 1:
            msg = f"task {x} failed"
            raise ValueError(msg)
        return x

    with pytest.raises(ValueError, match="task 1 failed"):
        run_sweep(task, [0, 1, 2], scheduler="auto", threads=True)


def test_an_empty_sweep_is_empty():
    assert run_sweep(square, [], scheduler="auto", threads=True) == []
