"""Stand-ins for what energy measurement reads: pynvml over a few GPUs, a clock, and a powercap tree."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator


class NVMLError(Exception):
    pass


class NVMLError_NotSupported(NVMLError):  # noqa: N801 - pynvml's names
    pass


class NVMLError_NotFound(NVMLError):  # noqa: N801
    pass


@dataclass
class FakeGpu:
    bus_id: str  # as NVML writes it, "00000000:3B:00.0"
    energy_mj: list[int] = field(default_factory=list)  # successive counter readings
    power_w: Callable[[], float] = lambda: 100.0

    def __post_init__(self):
        self._energy: Iterator[int] = iter(self.energy_mj)


class FakeNvml:
    """pynvml's calls vidbench makes, over `gpus` in NVML's (PCI) order. `counter`: "ok", "not_supported"
    (GPUs before Volta) or "missing" (bindings without the function)."""

    NVMLError = NVMLError
    NVMLError_NotSupported = NVMLError_NotSupported
    NVMLError_NotFound = NVMLError_NotFound

    def __init__(self, *gpus: FakeGpu, counter: str = "ok", init_error: str | None = None,
                 power: bool = True):
        self.gpus, self.counter, self.init_error, self.power = gpus, counter, init_error, power
        self.running = 0  # nvmlInit() minus nvmlShutdown()
        if counter != "missing":
            self.nvmlDeviceGetTotalEnergyConsumption = self._energy

    def nvmlInit(self) -> None:
        if self.init_error:
            raise NVMLError(self.init_error)
        self.running += 1

    def nvmlShutdown(self) -> None:
        self.running -= 1

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        if index >= len(self.gpus):
            raise NVMLError("Invalid Argument")
        return index

    def nvmlDeviceGetHandleByPciBusId(self, bus_id: str) -> int:
        for index, gpu in enumerate(self.gpus):
            if gpu.bus_id.upper() == bus_id.upper():
                return index
        raise NVMLError_NotFound("Not Found")

    def _energy(self, handle: int) -> int:
        if self.counter == "not_supported":
            raise NVMLError_NotSupported("Not Supported")
        return next(self.gpus[handle]._energy)

    def nvmlDeviceGetPowerUsage(self, handle: int) -> int:
        if not self.power:
            raise NVMLError_NotSupported("Not Supported")
        return round(self.gpus[handle].power_w() * 1e3)


class FakeClock:
    """A clock that moves only when slept on; `on_sleep` lets a test change the world meanwhile."""

    def __init__(self, on_sleep: Callable[[float], None] = lambda dt: None):
        self.now, self.sleeps, self.on_sleep = 0.0, 0, on_sleep

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.sleeps += 1
        self.on_sleep(seconds)


def powercap_zone(root: Path, zone: str, name: str, energy_uj: int, max_uj: int = 262143328850) -> Path:
    """One powercap zone directory, as Linux lays it out."""
    path = root / zone
    path.mkdir(parents=True)
    (path / "name").write_text(f"{name}\n")
    (path / "energy_uj").write_text(f"{energy_uj}\n")
    (path / "max_energy_range_uj").write_text(f"{max_uj}\n")
    return path
