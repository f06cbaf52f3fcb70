"""The energy metric through the runner: windows around the timed inference loop and training steps,
lengthened to a second of samples, figures per clip; and no figure (with the reason) where the device has
no counter, never an estimate."""

from __future__ import annotations

import time

import pytest

import vidbench.run.runner as runner_module
from tests.conftest import make_spec
from vidbench.measure.energy import MIN_WINDOW_S, EnergyMeter
from vidbench.run.runner import execute

WATTS = 40.0


class ConstantPower:
    """A counter-like source drawing WATTS on the real clock: joules = WATTS × the window's seconds."""

    method = "test-constant"
    detail = {"device": "test"}

    def begin(self):
        return time.perf_counter()

    def end(self, started):
        return WATTS * (time.perf_counter() - started)

    def idle_power_w(self, seconds, sleep):
        return 5.0

    def close(self):
        pass


def test_energy_per_clip_of_the_timed_loops(monkeypatch):
    monkeypatch.setattr(runner_module, "energy_meter", lambda device: EnergyMeter(ConstantPower()))
    spec = make_spec("c3d_tiny", batch_size=2, metrics=("throughput", "train_throughput", "energy"),
                     benchmark={"warmup": 1, "repeats": 3, "min_time_s": 0.0})
    result = execute(spec)
    assert result.status == "ok", result.error
    m, d = result.metrics, result.detail
    assert d["energy"]["idle_power_w"] == 5.0 and "device-wide" in d["energy"]["scope"]
    for name, prefix in (("inference_s", ""), ("train_step_s", "train_")):
        window = d[name]["energy"]
        assert window["seconds"] >= MIN_WINDOW_S  # lengthened to a second of samples
        clips = window["calls"] * 2
        assert window["calls"] == d[name]["warmup_calls"] + d[name]["n"]
        assert m[f"{prefix}energy_j_per_clip"] == pytest.approx(window["joules"] / clips)
        assert m[f"{prefix}avg_power_w"] == pytest.approx(WATTS, rel=0.02)
        assert m[f"{prefix}clips_per_kj"] == pytest.approx(1e3 / m[f"{prefix}energy_j_per_clip"])


def test_no_counter_no_figure_and_the_reason(monkeypatch):
    monkeypatch.setattr(runner_module, "energy_meter",
                        lambda device: EnergyMeter(reason="RAPL not readable: permission denied"))
    result = execute(make_spec("tsn_tiny", metrics=("latency", "energy"), benchmark={"warmup": 1, "repeats": 3}))
    assert result.status == "ok"
    assert not any("energy" in k or "power" in k or "per_kj" in k for k in result.metrics)
    assert result.detail["energy"]["reason"] == "RAPL not readable: permission denied"
    assert result.detail["inference_s"]["energy"]["error"] == "RAPL not readable: permission denied"


def test_without_energy_the_loop_is_not_lengthened():
    result = execute(make_spec("tsn_tiny", metrics=("latency",), benchmark={"warmup": 1, "repeats": 3,
                                                                          "min_time_s": 0.0}))
    assert "energy" not in result.detail and "energy" not in result.detail["inference_s"]
    assert sum(result.detail["inference_s"]["samples"]) < MIN_WINDOW_S
