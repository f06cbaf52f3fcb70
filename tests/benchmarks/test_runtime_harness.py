"""Issue 16, target 4 (first runtime): vidbench's timing harness around ONNX Runtime agrees with
ONNX Runtime's own loop (`InferenceSession.run` timed bare) within 5%, on the same session and input,
interleaved over rounds (10% in the default run, where the machine is shared)."""

from __future__ import annotations

import time

import pytest
import torch

from tests.benchmarks.helpers import interleave, median
from tests.conftest import make_spec
from vidbench.backends import backend_for
from vidbench.measure.timing import measure_calls
from vidbench.models import create_model

pytest.importorskip("onnxruntime")


def test_the_harness_times_onnxruntime_as_its_own_loop_does(benchmark, figures, bench_enabled):
    spec = make_spec("c3d_tiny", runtime="onnxruntime", resolution=(64, 64), clip_length=8, batch_size=1,
                     metrics=("latency",))
    backend = backend_for(spec)
    prepared = backend.prepare(create_model("c3d_tiny", num_classes=4), spec)
    clips = torch.randn(1, 3, 8, 64, 64)
    forward = backend.forward(prepared, clips, spec)
    feed = {prepared.input_name: clips.numpy()}
    calls = 60 if bench_enabled else 30

    def harness() -> float:
        return median(measure_calls(forward, torch.device("cpu"), warmup=3, repeats=calls).samples)

    def own_loop() -> float:
        for _ in range(3):
            prepared.session.run(None, feed)
        samples = []
        for _ in range(calls):
            start = time.perf_counter()
            prepared.session.run(None, feed)
            samples.append(time.perf_counter() - start)
        return median(samples)

    rounds = 5 if bench_enabled else 3
    ours, theirs = interleave(rounds, harness, own_loop)
    ratio = median(ours) / median(theirs)
    tolerance = 0.05 if bench_enabled else 0.10
    figures(benchmark, harness_ms=median(ours) * 1e3, ort_loop_ms=median(theirs) * 1e3, ratio=ratio,
            tolerance=tolerance)
    benchmark.pedantic(harness, rounds=1)
    assert abs(ratio - 1) <= tolerance, f"harness {median(ours) * 1e3:.3f} ms vs ORT's loop {median(theirs) * 1e3:.3f} ms"
