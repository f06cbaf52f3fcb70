"""Energy per clip: the arithmetic, counter wrap-around, the power-sampling fallback, the CUDA device → NVML
handle match, idle power, RAPL over a fake powercap tree, and every way of being unavailable with a reason.
No GPU and no real counter is needed: pynvml, the clock and sysfs are all fakes."""

from __future__ import annotations

import pathlib
import subprocess
import sys
import threading
import time
from types import SimpleNamespace

import pytest

from tests.measure.fake_energy import FakeClock, FakeGpu, FakeNvml, powercap_zone
from vidbench.measure.energy import energy_columns, energy_meter
from vidbench.measure.energy_sources import NVML_COUNTER_MODULUS, PowerSampler, counter_delta, integrate, pci_bus_id

BUS_A, BUS_B = "00000000:1A:00.0", "00000000:3B:00.0"


def pci(bus: int, domain: int = 0, device: int = 0) -> SimpleNamespace:
    """torch.cuda.get_device_properties(i), as far as the match reads it."""
    return SimpleNamespace(pci_domain_id=domain, pci_bus_id=bus, pci_device_id=device)


def gpu_meter(nvml: FakeNvml, clock: FakeClock, props=lambda i: pci(0x3B), device="cuda:0", **kw):
    return energy_meter(device, nvml=nvml, device_properties=props, clock=clock, sleep=clock.sleep, **kw)


def run_window(meter, clock: FakeClock, seconds: float = 1.0):
    """A window over `seconds` of fake time."""
    with meter.window() as w:
        clock.sleep(seconds)
    return w


# -- arithmetic ------------------------------------------------------------------------------------------
def test_energy_columns():
    assert energy_columns(600.0, 30, 2.0) == pytest.approx(
        {"energy_j_per_clip": 20.0, "avg_power_w": 300.0, "clips_per_kj": 50.0})
    train = energy_columns(50.0, 4, 0.25, prefix="train_")
    assert train == pytest.approx({"train_energy_j_per_clip": 12.5, "train_avg_power_w": 200.0,
                                   "train_clips_per_kj": 80.0})
    with pytest.raises(ValueError, match="positive"):
        energy_columns(0.0, 4, 1.0)


def test_counter_delta_wraps_once():
    assert counter_delta(100, 350, NVML_COUNTER_MODULUS) == 250
    assert counter_delta(NVML_COUNTER_MODULUS - 1000, 500, NVML_COUNTER_MODULUS) == 1500
    assert counter_delta(262143328850 - 50, 25, 262143328850) == 75  # RAPL: wraps at max_energy_range_uj


def test_trapezoid_integral():
    assert integrate([(0.0, 300.0), (0.4, 300.0), (1.0, 300.0)]) == pytest.approx(300.0)
    ramp = [(t / 10, 100 + 200 * t / 10) for t in range(11)]  # 100 → 300 W over 1 s
    assert integrate(ramp) == pytest.approx(200.0)
    assert integrate([(0.0, 50.0)]) == 0.0


# -- NVML counter ----------------------------------------------------------------------------------------
def test_nvml_counter_window_across_the_64_bit_wrap():
    top = NVML_COUNTER_MODULUS - 200_000
    nvml = FakeNvml(FakeGpu(BUS_B, energy_mj=[top - 5, top, 100_000]))  # the probe, then the window
    clock = FakeClock()
    with gpu_meter(nvml, clock) as meter:
        assert meter.available and meter.method == "nvml-counter" and meter.reason is None
        with meter.window() as w:
            clock.sleep(1.0)
        assert nvml.running == 1
    assert (w.joules, w.seconds, w.avg_power_w, w.error) == (pytest.approx(300.0), 1.0, pytest.approx(300.0), None)
    assert w.as_dict()["method"] == "nvml-counter"
    assert nvml.running == 0  # closing the meter shuts NVML down


@pytest.mark.parametrize(("readings", "error"), [
    ([0, 5_000_000, 1_000], "reset"),  # went backwards: a driver reload, not a 64-bit wrap
    ([0, 7_000, 7_000], "did not advance"),  # a window inside one update period
])
def test_nvml_counter_implausible_windows_give_no_figure(readings, error):
    clock = FakeClock()
    meter = gpu_meter(FakeNvml(FakeGpu(BUS_B, energy_mj=readings)), clock)
    w = run_window(meter, clock, 0.1)
    assert w.joules is None and w.avg_power_w is None and error in w.error


def test_a_reading_lost_mid_run_loses_the_figure_not_the_run():
    clock = FakeClock()
    meter = gpu_meter(FakeNvml(FakeGpu(BUS_B, energy_mj=[0, 10])), clock)  # no third reading
    w = run_window(meter, clock)
    assert w.joules is None and w.error.startswith("StopIteration")


# -- the CUDA device → NVML handle -----------------------------------------------------------------------
def test_the_cuda_device_is_matched_to_nvml_by_pci_bus_id():
    """CUDA_VISIBLE_DEVICES=1 (or fastest-first order): torch's cuda:0 is NVML's second GPU."""
    nvml = FakeNvml(FakeGpu(BUS_A, energy_mj=[0, 0, 900_000]), FakeGpu(BUS_B, energy_mj=[0, 0, 250_000]))
    clock = FakeClock()
    meter = gpu_meter(nvml, clock, props=lambda i: {0: pci(0x3B), 1: pci(0x1A)}[i])
    w = run_window(meter, clock)
    assert w.joules == pytest.approx(250.0)
    assert meter.describe() == {"method": "nvml-counter", "nvml_device": f"pci_bus_id {BUS_B}"}


def test_without_a_pci_address_the_match_is_by_index_and_says_so():
    nvml = FakeNvml(FakeGpu(BUS_A, energy_mj=[0, 0, 900_000]), FakeGpu(BUS_B, energy_mj=[0, 0, 250_000]))
    clock = FakeClock()
    meter = gpu_meter(nvml, clock, props=lambda i: SimpleNamespace(name="old torch"), device="cuda:1")
    w = run_window(meter, clock)
    assert w.joules == pytest.approx(250.0)
    assert meter.describe()["nvml_device"].startswith("index 1")


def test_pci_bus_id_is_written_as_nvml_writes_it():
    assert pci_bus_id(pci(0x3B)) == BUS_B
    assert pci_bus_id(pci(0xC1, domain=1, device=2)) == "00000001:C1:02.0"
    assert pci_bus_id(SimpleNamespace(pci_bus_id=0x3B)) is None


def test_a_device_nvml_does_not_list_is_unavailable_and_nvml_shut_down():
    nvml = FakeNvml(FakeGpu(BUS_A, energy_mj=[0]))
    meter = gpu_meter(nvml, FakeClock(), props=lambda i: pci(0x3B))
    assert not meter.available and "NVMLError_NotFound" in meter.reason
    assert nvml.running == 0


# -- the power-sampling fallback -------------------------------------------------------------------------
@pytest.mark.parametrize("counter", ["not_supported", "missing"])
@pytest.mark.parametrize(("power", "joules"), [
    (lambda t: 300.0, 300.0),  # constant 300 W for 1 s
    (lambda t: 100.0 + 200.0 * t, 200.0),  # a ramp 100 → 300 W
])
def test_without_the_counter_power_is_sampled_and_integrated(counter, power, joules):
    clock = FakeClock()
    nvml = FakeNvml(FakeGpu(BUS_B, power_w=lambda: power(clock.now)), counter=counter)
    # a sampling period longer than the test: only the window's own first and last samples, no race
    meter = gpu_meter(nvml, clock, sample_interval_s=60.0)
    assert meter.method == "nvml-power-sampling"
    assert meter.describe()["counter_missing"].startswith(("NVMLError_NotSupported", "AttributeError"))
    w = run_window(meter, clock)
    assert w.joules == pytest.approx(joules, rel=1e-3) and w.avg_power_w == pytest.approx(joules, rel=1e-3)


def test_the_sampling_thread_integrates_a_step_within_one_period():
    """Real time: 0.3 s at 10 ms, 100 W then 300 W from half-way. The trapezoid misses at most half the
    step times the period that straddles it."""
    began = time.perf_counter()

    def power() -> float:
        return 100.0 if time.perf_counter() - began < 0.15 else 300.0

    sampler = PowerSampler(power, 0.01, time.perf_counter).start()
    time.sleep(0.3)
    joules = sampler.stop()
    (t0, _), (t1, _) = sampler.samples[0], sampler.samples[-1]
    exact = 100.0 * (began + 0.15 - t0) + 300.0 * (t1 - began - 0.15)
    widest = max(b[0] - a[0] for a, b in zip(sampler.samples, sampler.samples[1:]))
    assert len(sampler.samples) >= 5
    assert abs(joules - exact) <= 200.0 * widest / 2 + 1e-6
    assert not any(t.name == "vidbench-power-sampler" for t in threading.enumerate())


def test_a_sampling_thread_error_is_raised_by_stop():
    reads = iter([50.0, 50.0])
    sampler = PowerSampler(lambda: next(reads), 0.001, time.perf_counter).start()
    sampler._thread.join(timeout=1.0)  # the thread ends on its second read
    with pytest.raises(StopIteration):
        sampler.stop()


def test_an_exception_in_the_window_stops_the_sampler():
    clock = FakeClock()
    meter = gpu_meter(FakeNvml(FakeGpu(BUS_B, power_w=lambda: 200.0), counter="not_supported"), clock)
    with pytest.raises(RuntimeError, match="model failed"), meter.window():
        raise RuntimeError("model failed")
    assert not any(t.name == "vidbench-power-sampler" for t in threading.enumerate())


def test_no_counter_and_no_power_reading_is_unavailable():
    nvml = FakeNvml(FakeGpu(BUS_B), counter="not_supported", power=False)
    meter = gpu_meter(nvml, FakeClock())
    assert not meter.available and meter.method == "none"
    assert "NotSupported" in meter.reason and "energy counter" in meter.reason
    assert nvml.running == 0


# -- idle power ------------------------------------------------------------------------------------------
def test_idle_power_is_the_mean_power_reading_over_half_a_second():
    clock = FakeClock()
    reads = iter([40.0, 60.0] * 100)
    nvml = FakeNvml(FakeGpu(BUS_B, energy_mj=[0], power_w=lambda: next(reads)))
    meter = gpu_meter(nvml, clock, sample_interval_s=0.01)
    assert meter.idle_power_w() == pytest.approx(50.0, abs=0.5)
    assert clock.now == pytest.approx(0.5, abs=0.011) and clock.sleeps >= 49


# -- NVML missing or not starting ------------------------------------------------------------------------
def test_without_pynvml_the_gpu_meter_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)  # `import pynvml` raises ImportError
    meter = energy_meter("cuda:0")
    assert not meter.available and "pip install vidbench[energy]" in meter.reason
    with meter.window() as w:
        pass
    assert w.joules is None and w.error == meter.reason
    assert meter.idle_power_w() is None and meter.describe() == {"method": "none", "reason": meter.reason}


def test_pynvml_is_imported_when_a_gpu_meter_is_made(monkeypatch):
    nvml = FakeNvml(FakeGpu(BUS_B, energy_mj=[0]))
    monkeypatch.setitem(sys.modules, "pynvml", nvml)
    meter = energy_meter("cuda", device_properties=lambda i: pci(0x3B))
    assert meter.method == "nvml-counter" and nvml.running == 1


def test_importing_the_energy_module_imports_neither_pynvml_nor_torch():
    code = "import sys, vidbench.measure.energy; print('pynvml' in sys.modules, 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_nvml_that_does_not_start_is_unavailable():
    meter = gpu_meter(FakeNvml(FakeGpu(BUS_B), init_error="Driver Not Loaded"), FakeClock())
    assert not meter.available and meter.reason == "NVML did not start: Driver Not Loaded"


def test_other_devices_have_no_reading():
    meter = energy_meter("mps")
    assert not meter.available and "mps" in meter.reason


# -- RAPL ------------------------------------------------------------------------------------------------
def rapl_tree(root: pathlib.Path) -> dict[str, pathlib.Path]:
    """Two packages, the second 50 J short of its wrap; subdomains, psys and an mmio duplicate to ignore."""
    zones = {"pkg0": powercap_zone(root, "intel-rapl:0", "package-0", 1_000_000),
             "pkg1": powercap_zone(root, "intel-rapl:1", "package-1", 65_532_610_987 - 50_000_000, 65_532_610_987),
             "core": powercap_zone(root, "intel-rapl:0:0", "core", 0),
             "psys": powercap_zone(root, "intel-rapl:2", "psys", 0),
             "mmio": powercap_zone(root, "intel-rapl-mmio:0", "package-0", 0)}
    return zones


def bump(zone: pathlib.Path, to: int) -> None:
    (zone / "energy_uj").write_text(f"{to}\n")


def test_rapl_sums_the_packages_across_a_wrap(tmp_path):
    zones = rapl_tree(tmp_path)
    clock = FakeClock()
    meter = energy_meter("cpu", powercap_root=tmp_path, clock=clock, sleep=clock.sleep)
    assert meter.method == "rapl"
    assert meter.describe()["rapl_domains"] == ["intel-rapl:0 (package-0)", "intel-rapl:1 (package-1)"]
    with meter.window() as w:
        bump(zones["pkg0"], 101_000_000)  # +100 J
        bump(zones["pkg1"], 70_000_000)  # 50 J to the wrap, then 70 J
        for other in ("core", "psys", "mmio"):
            bump(zones[other], 999_000_000)
        clock.sleep(2.0)
    assert w.joules == pytest.approx(220.0) and w.avg_power_w == pytest.approx(110.0)


def test_rapl_idle_power(tmp_path):
    zones = rapl_tree(tmp_path)
    clock = FakeClock(on_sleep=lambda dt: bump(zones["pkg0"], 1_000_000 + round(12e6 * dt)))  # 12 W
    meter = energy_meter("cpu", powercap_root=tmp_path, clock=clock, sleep=clock.sleep)
    assert meter.idle_power_w() == pytest.approx(12.0) and clock.now == 0.5


def test_unreadable_rapl_is_unavailable_with_the_reason(tmp_path, monkeypatch):
    assert "RAPL not readable: no" in energy_meter("cpu", powercap_root=tmp_path / "absent").reason
    assert "no package domain" in energy_meter("cpu", powercap_root=tmp_path).reason
    rapl_tree(tmp_path)
    read_text = pathlib.Path.read_text

    def root_only(path, *a, **kw):  # tests may run as root, which chmod cannot lock out
        if path.name == "energy_uj":
            raise PermissionError(13, "Permission denied")
        return read_text(path, *a, **kw)

    monkeypatch.setattr(pathlib.Path, "read_text", root_only)
    meter = energy_meter("cpu", powercap_root=tmp_path)
    assert not meter.available and meter.method == "none"
    assert meter.reason.startswith("RAPL not readable: ") and "energy_uj: permission denied" in meter.reason

