"""Issue 16, target 4: vidbench's timing harness around a runtime agrees with the runtime's own loop
within 5%: ONNX Runtime's `InferenceSession.run` and OpenVINO's `CompiledModel` call, each timed bare on
the same converted model and input, interleaved over rounds.

The 5% target is asserted only with benchmarks enabled (`--benchmark-only`, a quiet machine). The default
run records the ratio and asserts a bound a loaded or slower machine still meets: between 0.4 and 2.5. On
a quiet machine the ratio reads 0.996-1.004; on loaded 2-core machines 0.67-1.25 were seen (issue 32: the
runtime's own threads compete with the other tenants differently in each loop), so the bound keeps a
margin of about 1.7x below and 2x above, and still fails a harness that timed each call three times or
missed most of it.
"""

from __future__ import annotations

import importlib.util
import time

import pytest
import torch

from tests.benchmarks.helpers import interleave, median
from tests.conftest import make_spec
from vidbench.backends import backend_for
from vidbench.measure.timing import measure_calls
from vidbench.models import create_model

DEFAULT_BOUNDS = (0.4, 2.5)  # the ratio in the default run: see the module docstring


def own_call(runtime: str, converted, array):
    """The runtime's own API, called as its documentation does."""
    if runtime == "onnxruntime":
        feed = {converted.handle.get_inputs()[0].name: array}
        return lambda: converted.handle.run(None, feed)
    return lambda: converted.handle(array)  # openvino.CompiledModel.__call__


@pytest.mark.parametrize("runtime", [
    pytest.param(rt, marks=pytest.mark.skipif(importlib.util.find_spec(rt) is None, reason=f"no {rt}"))
    for rt in ("onnxruntime", "openvino")])
def test_the_harness_times_a_runtime_as_its_own_loop_does(benchmark, figures, bench_enabled, runtime):
    spec = make_spec("c3d_tiny", runtime=runtime, resolution=(64, 64), clip_length=8, batch_size=1,
                     metrics=("latency",))
    backend = backend_for(spec)
    prepared = backend.prepare(create_model("c3d_tiny", num_classes=4), spec)
    converted = prepared.model
    clips = torch.randn(1, 3, 8, 64, 64)
    forward = prepared.forward(clips)
    bare = own_call(runtime, converted, clips.numpy())
    calls = 60 if bench_enabled else 30

    def harness() -> float:
        return median(measure_calls(forward, torch.device("cpu"), warmup=3, repeats=calls).samples)

    def own_loop() -> float:
        for _ in range(3):
            bare()
        samples = []
        for _ in range(calls):
            start = time.perf_counter()
            bare()
            samples.append(time.perf_counter() - start)
        return median(samples)

    rounds = 5 if bench_enabled else 3
    ours, theirs = interleave(rounds, harness, own_loop)
    ratio = median(ours) / median(theirs)
    low, high = (0.95, 1.05) if bench_enabled else DEFAULT_BOUNDS
    figures(benchmark, harness_ms=median(ours) * 1e3, own_loop_ms=median(theirs) * 1e3, ratio=ratio,
            bounds=[low, high])
    benchmark.pedantic(harness, rounds=1)
    assert low <= ratio <= high, \
        f"{runtime}: harness {median(ours) * 1e3:.3f} ms vs its own loop {median(theirs) * 1e3:.3f} ms"
