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


@dataclass
class Timing:
    samples: list[float]  # wall-clock seconds per call, synchronised
    device_samples: list[float] | None  # device-event seconds per call (GPUs only)
    warmup_calls: int
    warmup_s: float


def _stable(recent: list[float], tolerance: float = 0.1) -> bool:
    """The last calls agree within `tolerance` of their median: caches, autotuning and compilation are done."""
    if len(recent) < 3:
        return False
    tail = sorted(recent[-3:])
    return (tail[-1] - tail[0]) <= tolerance * tail[1]


def measure_calls(fn: Callable[[], object], device: torch.device, warmup: int = 3, repeats: int = 20,
                  warmup_s: float = 0.0, min_time_s: float = 0.0,
                  sync: Callable[[], None] | None = None) -> Timing:
    """Warm up for at least `warmup` calls and `warmup_s` seconds, and until the last calls agree; then
    time at least `repeats` calls, and keep going until `min_time_s` seconds of samples are collected.
    `sync` waits for the queued work (a run passes its backend's; the device's own by default)."""
    ops = device_ops(device)
    synchronize = sync or ops.synchronize
    warm: list[float] = []
    began = time.perf_counter()
    while True:
        done = len(warm) >= warmup and time.perf_counter() - began >= warmup_s
        if done and (warmup == 0 or _stable(warm)):
            break
        if len(warm) >= max(warmup, 1) * MAX_WARMUP_FACTOR or (done and time.perf_counter() - began > MAX_WARMUP_S):
            break
        start = time.perf_counter()
        fn()
        synchronize()
        warm.append(time.perf_counter() - start)
    warmup_elapsed = time.perf_counter() - began

    use_events = ops.has_event_timer
    samples: list[float] = []
    events = []
    while len(samples) < repeats or sum(samples) < min_time_s:
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
    device_samples = [b.elapsed_time(e) / 1e3 for b, e in events] if use_events else None
    return Timing(samples, device_samples, len(warm), warmup_elapsed)
