"""Honest bf16/fp16 on CPUs (issue 30, item 5): a run on a CPU without native support for its precision is
marked `emulated`, and a timing loop whose single call is slow takes fewer samples, flagged, so the run ends
inside its timeout with its figures (issue 30's r2plus1d_18 in bf16 on an AVX2-only EPYC timed out at 900 s)."""

from __future__ import annotations

import time

import pandas as pd
import pytest
import torch

import vidbench.devices as devices
from tests.conftest import make_spec
from vidbench.backends.eager import EagerBackend
from vidbench.measure.timing import MIN_BOUNDED_CALLS, measure_calls
from vidbench.report.tables import BOUNDED_MARK, EMULATED_MARK, UNSTABLE_MARK, flag_notes, unstable_marks
from vidbench.run.runner import execute

CPU = torch.device("cpu")


def sleeper(seconds: float):
    calls = []

    def fn():
        calls.append(1)
        time.sleep(seconds)

    return fn, calls


def test_a_loop_whose_calls_do_not_fit_its_budget_takes_fewer_and_says_so():
    fn, calls = sleeper(0.05)
    timing = measure_calls(fn, CPU, warmup=3, repeats=20, warmup_s=0.0, min_time_s=1.0, budget_s=0.3)
    # 23 calls and a 1 s floor (~2.2 s) asked; 0.3 s of budget holds 5-6 calls of just over 0.05 s: one warm-up,
    # the rest timed
    fits = int(0.3 / timing.bounded["first_call_s"])
    assert fits in (5, 6) and timing.warmup_calls == 1 and len(timing.samples) == fits - 1 and len(calls) == fits
    assert timing.bounded["asked"] == {"warmup": 3, "repeats": 20, "warmup_s": 0.0, "min_time_s": 1.0}
    assert timing.bounded["took"] == {"warmup": 1, "repeats": fits - 1}
    assert timing.bounded["first_call_s"] >= 0.05 and timing.bounded["budget_s"] == 0.3


def test_a_bounded_loop_keeps_a_floor_of_calls_and_an_unbounded_one_is_untouched():
    fn, _ = sleeper(0.05)
    tiny = measure_calls(fn, CPU, warmup=3, repeats=20, budget_s=0.01)
    assert len(tiny.samples) == MIN_BOUNDED_CALLS and tiny.bounded["took"]["repeats"] == MIN_BOUNDED_CALLS
    fast, _ = sleeper(0.0)
    for budget in (None, 60.0):
        timing = measure_calls(fast, CPU, warmup=3, repeats=20, budget_s=budget)
        assert timing.bounded is None and len(timing.samples) == 20 and timing.warmup_calls >= 3


def test_no_warm_up_asked_is_bounded_from_the_first_timed_call():
    fn, _ = sleeper(0.05)
    timing = measure_calls(fn, CPU, warmup=0, repeats=20, budget_s=0.2)
    assert timing.warmup_calls == 0 and timing.bounded is not None and len(timing.samples) == MIN_BOUNDED_CALLS


def test_an_emulated_bf16_run_with_a_slow_kernel_finishes_inside_its_timeout_marked(monkeypatch):
    monkeypatch.setattr(devices, "cpu_precision_features", lambda: ())  # AVX2 only: none of the flags
    forward = EagerBackend.forward

    def slow(self, model, clips, spec):  # an emulated kernel: 0.3 s a call
        call = forward(self, model, clips, spec)
        return lambda: (time.sleep(0.3), call())[1]

    monkeypatch.setattr(EagerBackend, "forward", slow)
    spec = make_spec("c3d_tiny", precision="bf16", metrics=("latency", "throughput"), batch_size=1,
                     benchmark={"warmup": 3, "repeats": 20, "warmup_s": 0.0, "min_time_s": 0.0})
    started = time.perf_counter()
    result = execute(spec, timeout_s=6.0)  # 23 calls of 0.3 s (6.9 s) would not fit
    assert time.perf_counter() - started < 6.0
    assert result.status == "ok", result.error
    assert result.metrics["emulated"] is True and result.metrics["bounded"] is True
    assert result.metrics["latency_ms_p50"] >= 300 and result.metrics["throughput_clips_s"] > 0
    assert result.detail["precision_support"]["support"] == "emulated"
    assert result.detail["precision_support"]["native_needs"] == ["avx512_bf16", "amx_bf16"]
    took = result.detail["inference_s"]["bounded"]["took"]
    assert took["warmup"] == 1 and MIN_BOUNDED_CALLS <= took["repeats"] < 20
    assert len(result.detail["inference_s"]["samples"]) == took["repeats"]


def test_a_native_precision_is_not_marked(monkeypatch):
    monkeypatch.setattr(devices, "cpu_precision_features", lambda: ("avx512_bf16", "amx_bf16"))
    result = execute(make_spec("c3d_tiny", precision="bf16", metrics=("latency",), batch_size=1))
    assert result.status == "ok" and "emulated" not in result.metrics and "bounded" not in result.metrics
    assert result.detail["precision_support"]["support"] == "native"
    fp32 = execute(make_spec("c3d_tiny", metrics=("latency",), batch_size=1))
    assert "precision_support" not in fp32.detail  # fp32 is native everywhere: nothing to say


def test_the_marks_follow_every_timed_figure_and_their_notes_are_given():
    frame = pd.DataFrame({"latency_ms_p50": [170.2, 48.0, 12.0], "params": [1, 2, 3],
                          "unstable": [True, False, False], "emulated": [True, False, None],
                          "bounded": [False, True, None]})
    assert unstable_marks(frame, "latency_ms_p50") == [UNSTABLE_MARK + EMULATED_MARK, BOUNDED_MARK, ""]
    assert unstable_marks(frame, "params") == ["", "", ""]  # a count is not a timing
    notes = flag_notes(frame)
    assert len(notes) == 3 and notes[1].startswith("(emulated)") and notes[2].startswith("(few samples)")
    assert flag_notes(frame.assign(emulated=False, bounded=False)) == [notes[0]]


def test_every_cpu_runs_environment_records_its_precision_features_and_kernel_isa(monkeypatch):
    from vidbench.run.env import environment

    monkeypatch.setattr(devices, "cpu_precision_features", lambda: ("avx_vnni", "amx_int8"))
    env = environment("cpu")
    assert env["cpu_precision_features"] == ["avx_vnni", "amx_int8"]
    assert env["cpu_capability"] == torch.backends.cpu.get_cpu_capability()  # e.g. AVX2, AVX512
