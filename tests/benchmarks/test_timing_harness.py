"""Target 2: vidbench's measured inference throughput agrees with torch.utils.benchmark.

Issue 5 asks for agreement within 10%, issue 8 within 5% (no hidden overhead inside the timed
region). Two tests:

- against `torch.utils.benchmark.Timer(...).blocked_autorange()`: the same model object and input, the
  same thread count, interleaved in short rounds (alternating which goes first); each round is one
  `Measurement.inference()` (the runner's own code path) and one `blocked_autorange`. The samples of
  all rounds are pooled and the two medians compared. On a shared machine the pooled medians of this
  design agree within ~3%; the enabled run (40 rounds, a quiet machine) asserts 5%. The default run
  records the ratio of 10 rounds and asserts a bound a loaded or 3x slower machine still meets, 30% (ten times the
  agreement seen; a harness that timed a second forward or missed the call would still fail it).
- the overhead itself, paired per call: the model records the time of its own forward inside each
  call that vidbench times, so `vidbench sample - inner time` is what the timed region holds besides
  the forward; the same is measured for a bare perf_counter loop, and vidbench's excess over it
  (context managers, synchronisation) must stay under 2% of a call, asserted with benchmarks enabled.
  The default run asserts 10%: under load the excess was seen up to ~160 us of a 20 ms call (0.8%), and on
  a slower machine both scale alike, so the bound keeps a twelvefold margin.

c3d_tiny at 8x64 and batch 1 takes ~15-25 ms a forward, long enough for `blocked_autorange` to time
one call per block (its block size is 1 above ~10 ms), so both sides take the median of single calls.
"""

from __future__ import annotations

import time

import torch
from torch.utils.benchmark import Timer

from tests.benchmarks.helpers import interleave, median
from tests.conftest import make_spec
from vidbench.backends import Prepared
from vidbench.run.runner import Measurement

SPEC = dict(model="c3d_tiny", resolution=(64, 64), clip_length=8, batch_size=1, metrics=("throughput",),
            benchmark={"warmup": 3, "repeats": 5})


class SharedModelMeasurement(Measurement):
    """Measurement whose model and input are given, so vidbench and the reference time the same objects.
    Only `prepared()` (the given model, served as the run's backend serves a model) and `random_batch()` are
    replaced; `inference()` and its timing path are vidbench's."""

    def __init__(self, spec, model, clips):
        super().__init__(spec)
        self._given_model, self._given_clips = model, clips

    def prepared(self, model=None):
        return Prepared(self.backend, self.spec, self._given_model if model is None else model, self.shapes())

    def random_batch(self, batch_size=None):
        return self._given_clips, None


def fresh_model_and_clips(spec):
    base = Measurement(spec)
    return base.prepared().model, base.random_batch()[0]


def test_inference_throughput_matches_torch_benchmark_timer(benchmark, figures, bench_enabled):
    spec = make_spec(**SPEC)
    threads = torch.get_num_threads()
    rounds = 40 if bench_enabled else 10
    tolerance = 0.05 if bench_enabled else 0.30
    vid_samples: list[float] = []
    ref_samples: list[float] = []
    vid_round_clips_s: list[float] = []
    block_sizes: set[int] = set()
    state = {}

    def new_round():
        # A fresh model and input per round, shared by both sides: buffer alignment then varies across
        # rounds for both alike instead of favouring one side for the whole test.
        model, clips = fresh_model_and_clips(spec)
        state["model"], state["clips"] = model, clips
        state["timer"] = Timer("with torch.no_grad():\n    model(clips)",
                               globals={"torch": torch, "model": model, "clips": clips}, num_threads=threads)

    def vidbench_side():
        m = SharedModelMeasurement(spec, state["model"], state["clips"])
        m.inference()
        vid_samples.extend(m.detail["inference_s"]["samples"])
        vid_round_clips_s.append(m.metrics["throughput_clips_s"])

    def reference_side():
        measurement = state["timer"].blocked_autorange(min_run_time=0.1)
        ref_samples.extend(measurement.times)  # seconds per call, one entry per block
        block_sizes.add(measurement.number_per_run)

    def one_round():
        new_round()
        first, second = (vidbench_side, reference_side) if len(vid_round_clips_s) % 2 == 0 else \
            (reference_side, vidbench_side)
        first()
        second()

    for _ in range(rounds):
        one_round()

    vid = spec.batch_size / median(vid_samples)
    ref = spec.batch_size / median(ref_samples)
    ratio = vid / ref
    figures(benchmark, model="c3d_tiny 1x3x8x64x64 fp32", threads=threads, rounds=rounds,
            vidbench_clips_s=vid, timer_clips_s=ref, ratio=ratio,
            vidbench_round_median_clips_s=median(vid_round_clips_s), samples=[len(vid_samples), len(ref_samples)],
            timer_calls_per_block=sorted(block_sizes),
            tolerance=tolerance)

    model, clips = fresh_model_and_clips(spec)

    def forward():
        with torch.no_grad():
            return model(clips)

    benchmark(forward)  # pytest-benchmark's own view of the same forward, for --benchmark-compare
    assert abs(ratio - 1) <= tolerance, (
        f"vidbench {vid:.2f} clips/s vs torch.utils.benchmark {ref:.2f} clips/s: {ratio:.3f}, "
        f"tolerance {tolerance:.0%} ({rounds} interleaved rounds, {threads} thread(s))")


class InnerClock(torch.nn.Module):
    """Times its wrapped model's forward from inside the call being timed."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.durations: list[float] = []

    def forward(self, x):
        start = time.perf_counter()
        out = self.inner(x)
        self.durations.append(time.perf_counter() - start)
        return out


def test_no_hidden_overhead_inside_the_timed_region(benchmark, figures, bench_enabled):
    """What vidbench's timed region holds besides the forward, per call, against the same figure of the
    barest timing loop (`perf_counter(); with no_grad(): model(x); perf_counter()`). Even that loop sees
    ~40-50 us around a 15-30 ms forward: the interpreter runs cache-cold after the kernels. vidbench's
    region (`with no_grad(), autocast(): return model(x)` in a closure, then synchronize) adds ~30 us to
    that on a quiet machine and up to ~160 us under load, the same as that closure in a bare loop; the
    target is an excess under 2% of a call (well inside issue 8's 5%)."""
    repeats = 30 if bench_enabled else 10  # the default run's bound is wide: fewer calls tell it
    rounds = 8 if bench_enabled else 3
    spec = make_spec(**{**SPEC, "benchmark": {"warmup": 3, "repeats": repeats}})
    model, clips = fresh_model_and_clips(spec)
    clocked = InnerClock(model)
    vid_overhead: list[float] = []
    bare_overhead: list[float] = []
    calls: list[float] = []

    def vidbench_side():
        clocked.durations.clear()
        m = SharedModelMeasurement(spec, clocked, clips)
        m.inference()
        samples = m.detail["inference_s"]["samples"]
        inner = clocked.durations[-len(samples):]  # the timed calls are the last ones
        vid_overhead.extend(s - i for s, i in zip(samples, inner))
        calls.extend(samples)

    def bare_side():
        clocked.durations.clear()
        outer = []
        for _ in range(repeats):
            start = time.perf_counter()
            with torch.no_grad():
                clocked(clips)
            outer.append(time.perf_counter() - start)
        bare_overhead.extend(o - i for o, i in zip(outer, clocked.durations))

    interleave(rounds, vidbench_side, bare_side)
    excess = median(vid_overhead) - median(bare_overhead)
    relative = excess / median(calls)
    figures(benchmark, calls=len(calls), call_ms_median=median(calls) * 1e3,
            vidbench_region_overhead_us=median(vid_overhead) * 1e6,
            bare_loop_overhead_us=median(bare_overhead) * 1e6, excess_us=excess * 1e6,
            excess_relative=relative, target="excess < 2% of a call")

    benchmark.pedantic(lambda: SharedModelMeasurement(spec, model, clips).inference(), rounds=1)
    assert min(vid_overhead) >= 0
    bound = 0.02 if bench_enabled else 0.10
    assert relative < bound, (f"vidbench's timed region holds {excess * 1e6:.0f} us more than a bare loop's around "
                             f"a {median(calls) * 1e3:.1f} ms call")
