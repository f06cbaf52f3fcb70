"""Device-synchronised timing of a callable: warm-up until stable, then time-based repeats with a floor.

Each timed call is bracketed by a device synchronisation, so the wall-clock interval covers the work
and not just its launch. On a GPU (CUDA, MPS) each call is also timed by a pair of device events recorded
around it: the device's own view of the same interval, kept beside the wall clock.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import torch

from vidbench.devices import device_ops

MAX_WARMUP_FACTOR = 20  # warm-up never runs more than this many times its minimum count…
MAX_WARMUP_S = 60.0  # …nor longer than this


MIN_BOUNDED_CALLS = 3  # a bounded loop still takes one warm-up call and at least this many timed calls


@dataclass
class Timing:
    samples: list[float]  # wall-clock seconds per call, synchronised
    device_samples: list[float] | None  # device-event seconds per call (GPUs only)
    warmup_calls: int
    warmup_s: float
    bounded: dict | None = None  # set when a slow call made the loop take fewer calls than asked (why, how many)


def _stable(recent: list[float], tolerance: float = 0.1) -> bool:
    """The last calls agree within `tolerance` of their median: caches, autotuning and compilation are done."""
    if len(recent) < 3:
        return False
    tail = sorted(recent[-3:])
    return (tail[-1] - tail[0]) <= tolerance * tail[1]


@dataclass
class _Plan:
    """How many calls the loop takes: the benchmark block's, or fewer where `budget_s` cannot hold them."""

    warmup: int
    repeats: int
    warmup_s: float
    min_time_s: float
    budget_s: float | None
    bounded: dict | None = None

    def bound(self, call_s: float) -> None:
        """After the first call (`call_s` long): if the asked calls would not fit in the budget, take one
        warm-up call and as many timed calls as fit (at least MIN_BOUNDED_CALLS), with no time floors."""
        asked = (max(self.warmup, 1) + self.repeats) * call_s + self.warmup_s + self.min_time_s
        if self.budget_s is None or asked <= self.budget_s:
            return
        repeats = min(self.repeats, max(MIN_BOUNDED_CALLS, int(self.budget_s / call_s) - 1))
        self.bounded = {"first_call_s": call_s, "budget_s": self.budget_s,
                        "asked": {"warmup": self.warmup, "repeats": self.repeats, "warmup_s": self.warmup_s,
                                  "min_time_s": self.min_time_s},
                        "took": {"warmup": 1, "repeats": repeats}}
        self.warmup, self.repeats, self.warmup_s, self.min_time_s = 1, repeats, 0.0, 0.0


def _warm_up(fn: Callable[[], object], synchronize: Callable[[], None], plan: _Plan) -> list[float]:
    """Warm-up calls until the plan's count and seconds are reached and the last calls agree."""
    warm: list[float] = []
    began = time.perf_counter()
    while True:
        done = len(warm) >= plan.warmup and time.perf_counter() - began >= plan.warmup_s
        if done and (plan.warmup == 0 or plan.bounded is not None or _stable(warm)):
            break
        if len(warm) >= max(plan.warmup, 1) * MAX_WARMUP_FACTOR or (done and time.perf_counter() - began > MAX_WARMUP_S):
            break
        start = time.perf_counter()
        fn()
        synchronize()
        warm.append(time.perf_counter() - start)
        if len(warm) == 1:
            plan.bound(warm[0])
    return warm


def measure_calls(fn: Callable[[], object], device: torch.device, warmup: int = 3, repeats: int = 20,
                  warmup_s: float = 0.0, min_time_s: float = 0.0,
                  sync: Callable[[], None] | None = None, budget_s: float | None = None) -> Timing:
    """Warm up for at least `warmup` calls and `warmup_s` seconds, and until the last calls agree; then
    time at least `repeats` calls, and keep going until `min_time_s` seconds of samples are collected.
    `sync` waits for the queued work (a run passes its backend's; the device's own by default). With
    `budget_s`, a loop whose first call shows it cannot fit takes fewer calls (`Timing.bounded` says so)."""
    ops = device_ops(device)
    synchronize = sync or ops.synchronize
    plan = _Plan(warmup, repeats, warmup_s, min_time_s, budget_s)
    began = time.perf_counter()
    warm = _warm_up(fn, synchronize, plan)
    warmup_elapsed = time.perf_counter() - began

    use_events = ops.has_event_timer
    samples: list[float] = []
    events = []
    while len(samples) < plan.repeats or sum(samples) < plan.min_time_s:
        pair = ops.event_pair() if use_events else None
        synchronize()
        start = time.perf_counter()
        if pair:
            pair[0].record()
        fn()
        if pair:
            pair[1].record()
        synchronize()
        samples.append(time.perf_counter() - start)
        if pair:
            events.append(pair)
        if not warm and len(samples) == 1:  # no warm-up asked: the first timed call shows what fits
            plan.bound(samples[0])
    device_samples = [b.elapsed_time(e) / 1e3 for b, e in events] if use_events else None
    return Timing(samples, device_samples, len(warm), warmup_elapsed, plan.bounded)
