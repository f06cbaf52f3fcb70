"""Target 4: what a sweep adds per run, beyond the run's own work.

A run of `metrics: [params, flops]` on a tiny model through a warm worker (`LocalExecutor.run`: spec
pickled over the pipe, executed in the worker, result sent back) against the same spec executed in
this process (`vidbench.run.runner.execute`, the function the worker calls). Interleaved, each spec
distinct (a new seed, so a new run id); the worker is started and warmed by one run first, since the
target is per *extra* run. Overhead = median(worker) - median(in-process); target < 0.5 s.
The 0.5 s target is asserted with benchmarks enabled. The default run asserts no absolute time but a bound
a loaded or slower machine still meets: a run through the warm worker takes under 3x the same run in
process (it reads 0.8-1.1x here: the overhead is milliseconds on a ~50 ms run, and a slower machine slows
both sides), so a worker that re-imported torch or restarted per run (seconds) still fails it.
"""

from __future__ import annotations

import itertools

from tests.benchmarks.helpers import interleave, median, timed
from tests.conftest import make_spec
from vidbench.run.executors import LocalExecutor
from vidbench.run.runner import execute

TARGET_S = 0.5
DEFAULT_BOUND = 3.0  # worker / in-process, default run (see the module docstring)


def test_warm_worker_adds_under_half_a_second_per_run(benchmark, figures, bench_enabled, tmp_path):
    seeds = itertools.count(1)

    def new_spec():
        return make_spec("c3d_tiny", seed=next(seeds), metrics=("params", "flops"))

    with LocalExecutor([], timeout_s=300, log_dir=tmp_path) as executor:
        startup_s, first = timed(lambda: executor.run(new_spec()))
        assert first.status == "ok", first.error
        execute(new_spec())  # the in-process side's first run (imports, decomposition tables) too

        def in_worker():
            spec = new_spec()
            seconds, result = timed(lambda: executor.run(spec))
            assert result.status == "ok", result.error
            return seconds

        def in_process():
            spec = new_spec()
            seconds, result = timed(lambda: execute(spec))
            assert result.status == "ok", result.error
            return seconds

        rounds = 15 if bench_enabled else 6
        worker_s, process_s = interleave(rounds, in_worker, in_process)
        overhead = median(worker_s) - median(process_s)
        paired = median(w - p for w, p in zip(worker_s, process_s))
        figures(benchmark, model="c3d_tiny [params, flops]", rounds=rounds, worker_run_s=median(worker_s),
                in_process_run_s=median(process_s), overhead_s=overhead, overhead_paired_s=paired,
                worker_startup_and_first_run_s=startup_s, target=f"< {TARGET_S:g} s per run")
        benchmark.pedantic(in_worker, rounds=5 if bench_enabled else 1)
    if bench_enabled:
        assert overhead < TARGET_S, f"a warm worker adds {overhead:.3f} s per run"
    else:
        assert median(worker_s) < DEFAULT_BOUND * median(process_s), (
            f"a run through the warm worker took {median(worker_s):.3f} s, in process {median(process_s):.3f} s")
