"""Where energy readings come from: NVML on an NVIDIA GPU (its total-energy counter, or, where the GPU has
none, its power sampled and integrated) and RAPL on a CPU (the package counters of Linux powercap).

Every source reads a whole device, all processes on it, not just this one. Each one has `begin()` →
token and `end(token)` → joules, `idle_power_w(seconds, sleep)` and `close()`. A constructor raises
`Unavailable` with the reason when it cannot read anything: a reason, never an estimate.
"""

from __future__ import annotations

import importlib
import threading
from pathlib import Path
from typing import Any, Callable

NVML_COUNTER_MODULUS = 2**64  # nvmlDeviceGetTotalEnergyConsumption: an unsigned 64-bit count of millijoules
INSTALL_HINT = "pip install vidbench[energy]"


class Unavailable(Exception):
    """This device gives no energy figure here; the message says why."""


def counter_delta(before: int, after: int, modulus: int) -> int:
    """What a counter that wraps to 0 at `modulus` counted from `before` to `after`. A window must be
    shorter than one wrap period (minutes for RAPL, never for NVML's 64 bits): more wraps are invisible."""
    return (after - before) % modulus


def integrate(samples: list[tuple[float, float]]) -> float:
    """Joules under (seconds, watts) samples, by the trapezoid rule."""
    return sum((t1 - t0) * (p0 + p1) / 2 for (t0, p0), (t1, p1) in zip(samples, samples[1:]))


class PowerSampler:
    """Reads power every `interval_s` in a background thread, and once more at start and at stop, so
    the samples span the whole window and not just the ticks inside it."""

    def __init__(self, read_w: Callable[[], float], interval_s: float, clock: Callable[[], float]):
        self.read_w, self.interval_s, self.clock = read_w, interval_s, clock
        self.samples: list[tuple[float, float]] = []
        self.error: Exception | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vidbench-power-sampler", daemon=True)

    def _take(self) -> None:
        self.samples.append((self.clock(), self.read_w()))

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval_s):
                self._take()
        except Exception as e:  # noqa: BLE001 - re-raised by stop(), in the measuring thread
            self.error = e

    def start(self) -> PowerSampler:
        self._take()
        self._thread.start()
        return self

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        if self.error is not None:
            raise self.error
        self._take()
        return integrate(self.samples)


# -- NVML ------------------------------------------------------------------------------------------------
def load_nvml() -> Any:
    """pynvml (package nvidia-ml-py), imported only when a GPU's energy is asked for."""
    try:
        return importlib.import_module("pynvml")
    except ImportError as e:
        raise Unavailable(f"no NVML bindings ({e}): {INSTALL_HINT}") from None


def pci_bus_id(props: Any) -> str | None:
    """The device's PCI address as NVML writes it ("00000000:3B:00.0"), where torch's device properties
    carry its parts (pci_domain_id, pci_bus_id, pci_device_id)."""
    parts = [getattr(props, f"pci_{part}_id", None) for part in ("domain", "bus", "device")]
    if any(not isinstance(p, int) for p in parts):
        return None
    return "{:08X}:{:02X}:{:02X}.0".format(*parts)


def nvml_handle(nvml: Any, index: int, properties: Callable[[int], Any]) -> tuple[Any, str]:
    """NVML's handle of torch's CUDA device `index`, and how it was matched. CUDA numbers devices fastest
    first and after CUDA_VISIBLE_DEVICES; NVML numbers them all in PCI order. So the match is by PCI
    address; only where torch does not give one, by index, which is right only when the two orders agree
    (CUDA_DEVICE_ORDER=PCI_BUS_ID and no CUDA_VISIBLE_DEVICES, or a single GPU)."""
    bus_id = pci_bus_id(properties(index))
    if bus_id is not None:
        return nvml.nvmlDeviceGetHandleByPciBusId(bus_id), f"pci_bus_id {bus_id}"
    return nvml.nvmlDeviceGetHandleByIndex(index), f"index {index} (no PCI address from torch)"


def _torch_properties(index: int) -> Any:
    import torch

    return torch.cuda.get_device_properties(index)


class NvmlSource:
    def __init__(self, nvml: Any, handle: Any, detail: dict[str, str], interval_s: float,
                 clock: Callable[[], float]):
        self.nvml, self.handle, self.detail, self.interval_s, self.clock = nvml, handle, detail, interval_s, clock

    def power_w(self) -> float:
        return self.nvml.nvmlDeviceGetPowerUsage(self.handle) / 1e3  # milliwatts

    def idle_power_w(self, seconds: float, sleep: Callable[[float], None]) -> float:
        """The mean of power readings over `seconds`: over half a second the counter's 20-100 ms update
        steps would be most of the figure."""
        readings, end = [self.power_w()], self.clock() + seconds
        while self.clock() < end:
            sleep(self.interval_s)
            readings.append(self.power_w())
        return sum(readings) / len(readings)

    def close(self) -> None:
        self.nvml.nvmlShutdown()


class NvmlCounter(NvmlSource):
    """The GPU's total-energy counter (Volta and newer), read at both ends of the window."""

    method = "nvml-counter"

    def begin(self) -> int:
        return self.nvml.nvmlDeviceGetTotalEnergyConsumption(self.handle)

    def end(self, before: int) -> float:
        return counter_delta(before, self.begin(), NVML_COUNTER_MODULUS) / 1e3  # millijoules


class NvmlSampling(NvmlSource):
    """Older GPUs without the counter: their power, sampled in a thread and integrated."""

    method = "nvml-power-sampling"

    def begin(self) -> PowerSampler:
        return PowerSampler(self.power_w, self.interval_s, self.clock).start()

    def end(self, sampler: PowerSampler) -> float:
        return sampler.stop()


def nvml_source(index: int, nvml: Any, properties: Callable[[int], Any] | None, interval_s: float,
                clock: Callable[[], float]) -> NvmlSource:
    nvml = nvml if nvml is not None else load_nvml()
    try:
        nvml.nvmlInit()
    except nvml.NVMLError as e:
        raise Unavailable(f"NVML did not start: {e}") from None
    detail: dict[str, str] = {}
    try:
        handle, detail["nvml_device"] = nvml_handle(nvml, index, properties or _torch_properties)
        try:
            nvml.nvmlDeviceGetTotalEnergyConsumption(handle)
            return NvmlCounter(nvml, handle, detail, interval_s, clock)
        except (AttributeError, nvml.NVMLError) as e:  # not supported before Volta; missing in old bindings
            detail["counter_missing"] = f"{type(e).__name__}: {e}"
        nvml.nvmlDeviceGetPowerUsage(handle)
        return NvmlSampling(nvml, handle, detail, interval_s, clock)
    except BaseException as e:
        nvml.nvmlShutdown()
        if not isinstance(e, (AttributeError, nvml.NVMLError)):
            raise
        missing = f" (energy counter: {detail['counter_missing']})" if "counter_missing" in detail else ""
        raise Unavailable(f"NVML reads no energy of cuda:{index}: {type(e).__name__}: {e}{missing}") from None


# -- RAPL ------------------------------------------------------------------------------------------------
def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except PermissionError:
        raise Unavailable(f"RAPL not readable: {path}: permission denied (root-only since Linux 5.10; "
                          "run as root or grant read access)") from None
    except OSError as e:
        raise Unavailable(f"RAPL not readable: {path}: {e.strerror or e}") from None


class RaplSource:
    """The CPU packages' energy counters (microjoules), summed over sockets. Packages only: their
    core/uncore/dram subdomains and psys would count twice or count the whole platform; DRAM is not in."""

    method = "rapl"

    def __init__(self, zones: list[Path], clock: Callable[[], float]):
        self.zones, self.clock = zones, clock
        self.ranges = [int(_read(z / "max_energy_range_uj")) for z in zones]
        self.detail = {"rapl_domains": [f"{z.name} ({_read(z / 'name')})" for z in zones]}
        self.begin()  # readable now, or Unavailable

    def begin(self) -> list[int]:
        return [int(_read(z / "energy_uj")) for z in self.zones]

    def end(self, before: list[int]) -> float:
        after = self.begin()
        return sum(counter_delta(b, a, m) for b, a, m in zip(before, after, self.ranges)) / 1e6

    def idle_power_w(self, seconds: float, sleep: Callable[[float], None]) -> float:
        before, start = self.begin(), self.clock()
        sleep(seconds)
        return self.end(before) / (self.clock() - start)

    def close(self) -> None:
        pass


def rapl_source(root: str | Path, clock: Callable[[], float]) -> RaplSource:
    """The package domains under the powercap `root` (intel-rapl:N named package-N; AMD's kernels name
    theirs the same; intel-rapl-mmio duplicates a package and is left out)."""
    root = Path(root)
    if not root.is_dir():
        raise Unavailable(f"RAPL not readable: no {root} (no powercap here: not Linux, or a VM or container "
                          "without it)")
    zones = [z for z in sorted(root.glob("intel-rapl:*")) if _read(z / "name").startswith("package")]
    if not zones:
        raise Unavailable(f"RAPL not readable: no package domain under {root}")
    return RaplSource(zones, clock)
