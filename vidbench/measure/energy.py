"""Energy of a timed loop, read from the device's own counters around a window: joules per clip, average
power, clips per kJ. Never estimated (from a TDP or otherwise): where nothing can be read, the meter is
unavailable and says why.

On CUDA: NVML's total-energy counter, else (GPUs older than Volta) the board power sampled every 15 ms
and integrated; `pip install vidbench[energy]`. On CPU: the RAPL package counters of Linux powercap.
Both count the whole device, every process on it: measure on an otherwise idle machine.

The counters step every 20-100 ms (NVML), so a window shorter than about a second is mostly step: when
energy is asked, time at least MIN_WINDOW_S of samples (`measure_calls(..., min_time_s=max(min_time_s,
MIN_WINDOW_S))`). The window only reads counters: the device must be synchronised before it closes,
as `measure_calls` does after every call.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from vidbench.measure.energy_sources import Unavailable, nvml_source, rapl_source

MIN_WINDOW_S = 1.0  # the least a measured window should hold, for the counter's update step to be small
IDLE_S = 0.5  # how long idle power is sampled
SAMPLE_INTERVAL_S = 0.015  # power sampling period (the fallback, and idle power on a GPU)
MAX_PLAUSIBLE_W = 20_000.0  # above this a counter was reset (driver reload), not wrapped once
POWERCAP_ROOT = Path("/sys/class/powercap")


def energy_columns(joules: float, clips: int, seconds: float, prefix: str = "") -> dict[str, float]:
    """The stored figures of `clips` clips that took `joules` over `seconds`; prefix "train_" for the
    training loop (train_energy_j_per_clip, train_avg_power_w, train_clips_per_kj)."""
    if joules <= 0 or clips <= 0 or seconds <= 0:
        raise ValueError(f"energy figures need positive joules, clips and seconds, not {joules}, {clips}, {seconds}")
    return {f"{prefix}energy_j_per_clip": joules / clips, f"{prefix}avg_power_w": joules / seconds,
            f"{prefix}clips_per_kj": clips / joules * 1e3}


@dataclass
class Window:
    """What one `EnergyMeter.window()` measured. `joules` is None when nothing was, and `error` says why."""

    method: str
    seconds: float = 0.0
    joules: float | None = None
    error: str | None = None

    @property
    def avg_power_w(self) -> float | None:
        return self.joules / self.seconds if self.joules is not None and self.seconds > 0 else None

    def as_dict(self) -> dict[str, Any]:
        out = {"method": self.method, "seconds": self.seconds, "joules": self.joules, "avg_power_w": self.avg_power_w}
        return {**out, "error": self.error} if self.error else out


def _implausible(joules: float, seconds: float) -> str | None:
    if joules <= 0:
        return (f"the counter did not advance in {seconds:.3g} s: the window is shorter than its update "
                f"period (hold at least {MIN_WINDOW_S} s)")
    if seconds > 0 and joules / seconds > MAX_PLAUSIBLE_W:
        return f"{joules / seconds:.3g} W is not a device's power: the counter was reset (driver reloaded?)"
    return None


class EnergyMeter:
    """Energy windows on one device; `available` is False (and `reason` says why) where it has no reading."""

    def __init__(self, source: Any = None, reason: str | None = None, clock: Callable[[], float] = time.perf_counter,
                 sleep: Callable[[float], None] = time.sleep):
        self.source, self.reason, self.clock, self.sleep = source, reason, clock, sleep

    @property
    def available(self) -> bool:
        return self.source is not None

    @property
    def method(self) -> str:
        return self.source.method if self.source is not None else "none"

    def describe(self) -> dict[str, Any]:
        """For the run's detail: the method, and which device was read (or why none could be)."""
        return {"method": self.method, **(self.source.detail if self.source is not None else {"reason": self.reason})}

    @contextmanager
    def window(self) -> Iterator[Window]:
        """Measure the energy of the `with` block. A failed reading does not raise: the window's `joules`
        stays None and `error` says why; on an unavailable meter, the error is its reason."""
        w = Window(self.method)
        token, w.error = self._read(lambda: self.source.begin()) if self.source else (None, self.reason)
        start = self.clock()
        try:
            yield w
        finally:
            w.seconds = self.clock() - start
            if w.error is None:
                w.joules, w.error = self._read(lambda: self.source.end(token))
                w.error = w.error or _implausible(w.joules, w.seconds)
                w.joules = None if w.error else w.joules

    @staticmethod
    def _read(read: Callable[[], Any]) -> tuple[Any, str | None]:
        try:
            return read(), None
        except Exception as e:  # noqa: BLE001 - a lost reading loses the figure, not the run
            return None, f"{type(e).__name__}: {e}"

    def idle_power_w(self, seconds: float = IDLE_S) -> float | None:
        """The device's power before the run, averaged over `seconds` (None where unavailable). A device
        that has just worked takes a few seconds to lower its clocks: this is idle as found."""
        return None if self.source is None else self.source.idle_power_w(seconds, self.sleep)

    def close(self) -> None:
        if self.source is not None:
            self.source.close()
            self.source, self.reason = None, "closed"

    def __enter__(self) -> EnergyMeter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def energy_meter(device: Any, *, nvml: Any = None, device_properties: Callable[[int], Any] | None = None,
                 powercap_root: str | Path = POWERCAP_ROOT, sample_interval_s: float = SAMPLE_INTERVAL_S,
                 clock: Callable[[], float] = time.perf_counter,
                 sleep: Callable[[float], None] = time.sleep) -> EnergyMeter:
    """The energy meter of `device` ('cpu', 'cuda:1', a torch.device). `nvml` replaces the pynvml module
    and `device_properties` torch.cuda.get_device_properties (both for tests); `powercap_root` the
    sysfs tree of RAPL."""
    from vidbench.devices import device_ops  # torch only once a meter is made, not at import

    ops = device_ops(device)
    try:
        if ops.energy_counter == "nvml":
            source = nvml_source(ops.index, nvml, device_properties, sample_interval_s, clock)
        elif ops.energy_counter == "rapl":
            source = rapl_source(powercap_root, clock)
        else:
            raise Unavailable(f"no energy reading on {ops.kind}: vidbench reads NVML (cuda) and RAPL (cpu)")
    except Unavailable as e:
        return EnergyMeter(reason=str(e), clock=clock, sleep=sleep)
    return EnergyMeter(source, clock=clock, sleep=sleep)
