"""Small measurement helpers shared by the benchmarks: timers, medians, interleaving."""

from __future__ import annotations

import contextlib
import statistics
import time
from typing import Callable, Iterator

import torch


def median(values) -> float:
    return statistics.median(list(values))


@contextlib.contextmanager
def stopwatch() -> Iterator[dict]:
    """Wall-clock and process CPU seconds of the block: `with stopwatch() as t: ...; t["wall"], t["cpu"]`."""
    out: dict = {}
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield out
    finally:
        out["wall"] = time.perf_counter() - wall
        out["cpu"] = time.process_time() - cpu


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def interleave(rounds: int, *steps: Callable[[], object]) -> list[list[object]]:
    """Run `steps` once per round, rotating which goes first so that no side always follows the other
    (a slow period of the machine then falls on both); returns each step's results in round order."""
    results: list[list[object]] = [[] for _ in steps]
    for r in range(rounds):
        order = list(range(len(steps)))
        order = order[r % len(order):] + order[:r % len(order)]
        for i in order:
            results[i].append(steps[i]())
    return results


@contextlib.contextmanager
def num_threads(n: int) -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
