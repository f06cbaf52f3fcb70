"""Target 5: the results store and the reports at scale.

- Writing and reading 10,000 result rows in under 1 s: `ResultStore.write_many` (one transaction) and
  `rows()` reading every column back, detail and environment parsed. Measured beside them: the same
  rows written one `write` each (one transaction per row, as a sweep writes them the moment each run
  ends), `rows(parse=("spec",))` (what `vidbench results` and `compare` read), and the SQLite floor
  (the same row tuples inserted with one `executemany`, and a plain `fetchall` of the table).
- Rendering the reports (HTML + Markdown + plots) of 1,000 runs in under 30 s, with 100 runs rendered
  first as the reference for how rendering scales.

The rows carry the detail and environment of a real run (timing samples, FLOP profile, env), so their
JSON is the size a sweep writes. Targets are asserted on process CPU time, which the other tenants
of a shared machine do not inflate (both operations are single-threaded); wall time is recorded too.
"""

from __future__ import annotations

import contextlib
import itertools
import sqlite3

import pytest

from tests.benchmarks.helpers import median, stopwatch
from tests.conftest import make_spec
from vidbench.report.render import render_reports
from vidbench.run.runner import execute
from vidbench.store import STORE_NAME, ResultStore, RunResult

ROWS = 10_000
STORE_TARGET_S = 1.0
RENDER_RUNS = 1_000
RENDER_TARGET_S = 30.0
# The default run's bound: write + read within this many times SQLite's own floor (executemany + fetchall of
# the same rows, same run). Seen: 2.4x on a 2.5x slower AVX2 machine (2.76 s vs 1.17 s, issue 32), 1.6-1.8x
# here (0.72-0.81 s vs 0.46 s): the bound keeps a margin of over 2x, and still fails a store that went back
# to a transaction per row (2.9-3.2 s here, 6-7x the floor).
FLOOR_BOUND = 5.0

METRICS = ("params", "flops", "memory", "latency", "throughput")


@pytest.fixture(scope="module")
def real_run() -> RunResult:
    """One real run's result: its detail and env are what every synthetic row carries."""
    result = execute(make_spec("c3d_tiny", metrics=METRICS, benchmark={"warmup": 1, "repeats": 20}))
    assert result.status == "ok", result.error
    return result


def synthetic_results(template: RunResult, n: int, **spec_args):
    """n distinct (spec, result) pairs with plausible metrics and the template's detail and env."""
    out = []
    for i in range(n):
        spec = make_spec("c3d_tiny", seed=i, metrics=METRICS, **spec_args)
        metrics = {**template.metrics, "params": 200_000 + i, "throughput_clips_s": 100.0 + i % 97}
        out.append((spec, RunResult(spec.run_id, "ok", metrics=metrics, detail=template.detail, env=template.env,
                                    duration_s=1.0 + i % 7)))
    return out


def write_per_row(path, rows) -> dict:
    with ResultStore(path) as store, stopwatch() as t:
        for spec, result in rows:
            store.write(spec, result, "bench")
    return t


def write_many(path, rows) -> dict:
    with ResultStore(path) as store, stopwatch() as t:
        store.write_many(rows, "bench")
    return t


def read_rows(path, **kwargs) -> tuple[dict, int]:
    with ResultStore(path) as store, stopwatch() as t:
        n = len(store.rows(**kwargs))
    return t, n


def sqlite_floor(source, target) -> tuple[dict, dict]:
    """(fetchall of the stored table, executemany of those tuples into the same schema in one transaction)."""
    with contextlib.closing(sqlite3.connect(source)) as src:
        schema = src.execute("SELECT sql FROM sqlite_master WHERE name = 'runs'").fetchone()[0]
        with stopwatch() as fetch:
            tuples = src.execute("SELECT * FROM runs").fetchall()
    with contextlib.closing(sqlite3.connect(target, isolation_level=None)) as dst:
        dst.execute("PRAGMA journal_mode=WAL")
        dst.execute("PRAGMA synchronous=NORMAL")
        dst.execute(schema)
        with stopwatch() as insert:
            dst.execute("BEGIN IMMEDIATE")
            dst.executemany(f"INSERT INTO runs VALUES ({', '.join('?' * len(tuples[0]))})", tuples)
            dst.execute("COMMIT")
    return fetch, insert


def test_store_writes_and_reads_10k_rows_in_under_a_second(benchmark, figures, bench_enabled, tmp_path,
                                                           real_run):
    rows = synthetic_results(real_run, ROWS)
    counter = itertools.count()

    def fresh() -> str:
        return str(tmp_path / f"store-{next(counter)}.sqlite")

    per_row, many, reads, light_reads, fetches, inserts, written = [], [], [], [], [], [], []

    def setup_round():
        # Interleaving: each round first writes the rows one `write` each, as a sweep does (timed here,
        # not by pytest-benchmark), then the benchmarked target writes them with `write_many`.
        per_row.append(write_per_row(fresh(), rows))
        path = fresh()
        written.append(path)
        return (path, rows), {}

    def target(path, rows):
        many.append(write_many(path, rows))

    rounds = 3 if bench_enabled else 1
    benchmark.pedantic(target, setup=setup_round, rounds=rounds)
    for path in written:
        t, n = read_rows(path)
        assert n == ROWS
        reads.append(t)
        light_reads.append(read_rows(path, parse=("spec",))[0])
        fetch, insert = sqlite_floor(path, fresh())
        fetches.append(fetch)
        inserts.append(insert)

    def fig(ts, key="wall"):
        return median(t[key] for t in ts)

    total_cpu = fig(many, "cpu") + fig(reads, "cpu")
    figures(benchmark, rows=ROWS, rounds=rounds,
            write_many_s=fig(many), write_many_cpu_s=fig(many, "cpu"),
            write_per_row_s=fig(per_row), write_per_row_cpu_s=fig(per_row, "cpu"),
            read_rows_s=fig(reads), read_rows_cpu_s=fig(reads, "cpu"),
            read_rows_spec_only_s=fig(light_reads), read_rows_spec_only_cpu_s=fig(light_reads, "cpu"),
            sqlite_floor_insert_s=fig(inserts), sqlite_floor_fetch_s=fig(fetches),
            write_and_read_cpu_s=total_cpu, target=f"< {STORE_TARGET_S:g} s write + read")

    message = (f"{ROWS} rows: write_many {fig(many, 'cpu'):.2f} s + rows() {fig(reads, 'cpu'):.2f} s CPU "
               f"(one write per row: {fig(per_row, 'cpu'):.2f} s; rows(parse=('spec',)): "
               f"{fig(light_reads, 'cpu'):.2f} s; SQLite floor {fig(inserts):.2f} s + {fig(fetches):.2f} s)")
    if bench_enabled:  # --benchmark-only (3 rounds, a quiet machine) asserts the target itself
        assert total_cpu < STORE_TARGET_S, message
        return
    # The default run measures one round on whatever else the machine is doing and on whatever CPU it has:
    # no absolute time, but vidbench against SQLite's own floor measured in the same run on the same rows.
    floor = fig(inserts) + fig(fetches)
    assert total_cpu < FLOOR_BOUND * floor, f"{message}: over {FLOOR_BOUND:g}x SQLite's floor"


# -- reports -----------------------------------------------------------------------------------------
# (model, family, arch, GMACs per frame per pixel^2 x 1e6, top-1 at the smallest setting)
ZOO = [("tsn_tiny", "cnn", "tsn", 1.0, 30.0), ("c3d_tiny", "cnn", "c3d", 4.0, 70.0),
       ("lrcn_tiny", "cnn_rnn", "lrcn", 1.5, 60.0), ("timesformer_tiny", "transformer", "timesformer", 2.0, 80.0),
       ("r3d_18", "cnn", "r3d", 8.0, 75.0), ("mc3_18", "cnn", "mc3", 7.0, 74.0),
       ("r2plus1d_18", "cnn", "r2plus1d", 9.0, 77.0), ("x3d_s", "cnn", "x3d", 0.5, 72.0),
       ("swin3d_t", "transformer", "swin3d", 6.0, 82.0), ("convlstm", "cnn_rnn", "convlstm", 1.2, 55.0)]
AXES = dict(dataset=["synthetic-motion", "synthetic-appearance"], side=[32, 48, 64, 96, 112],
            clip_length=[4, 8, 16, 24, 32], device=["cpu", "cuda"])


def write_report_store(folder, n: int, template: RunResult) -> int:
    """n runs over ZOO x AXES whose figures follow known laws (cost ∝ T·side², throughput ∝ 1/cost), with
    every 50th run failed (with a traceback), as a sweep leaves them."""
    folder.mkdir(parents=True, exist_ok=True)
    combos = itertools.product(ZOO, *AXES.values())
    written = 0
    with ResultStore(folder / STORE_NAME) as store:
        store.set_meta("suite_name", "bench-report")
        store.set_meta("suite_yaml", "name: bench-report\ndescription: synthetic runs for the render benchmark\n")
        for i, ((model, family, arch, k, top), dataset, side, t, device) in enumerate(itertools.islice(combos, n)):
            spec = make_spec(model, family=family, arch=arch, dataset=dataset, resolution=(side, side),
                             clip_length=t, batch_size=8, device=device,
                             metrics=("params", "flops", "memory", "latency", "throughput", "accuracy"))
            if i % 50 == 49:
                result = RunResult(spec.run_id, "failed", "RuntimeError: synthetic failure",
                                   detail={"error_class": "RuntimeError", "traceback": ["Traceback", "RuntimeError"]},
                                   env=template.env)
            else:
                gmacs = k * 1e-6 * t * side * side
                throughput = (20.0 if device == "cuda" else 1.0) * 50.0 / gmacs
                result = RunResult(spec.run_id, "ok", env=template.env, detail=template.detail, duration_s=1.0 + i % 7,
                                   metrics={"params": int(1e4 * k), "gmacs": gmacs, "gflops": 2 * gmacs,
                                            "peak_mem_mb": 2 + 0.001 * t * side * side,
                                            "latency_ms_p50": 8000 / throughput, "latency_ms_p90": 8800 / throughput,
                                            "throughput_clips_s": throughput,
                                            "train_throughput_clips_s": throughput / 3,
                                            "train_peak_mem_mb": 6 + 0.003 * t * side * side,
                                            "top1": min(100.0, top + side / 16 + t / 8)})
            store.write(spec, result, "bench-report")
            written += 1
    return written


@pytest.mark.heavy
def test_reports_of_1000_runs_render_in_under_30_s(benchmark, figures, tmp_path, real_run):
    small, large = tmp_path / "runs-100", tmp_path / "runs-1000"
    assert write_report_store(small, RENDER_RUNS // 10, real_run) == RENDER_RUNS // 10
    assert write_report_store(large, RENDER_RUNS, real_run) == RENDER_RUNS
    with stopwatch() as reference:
        render_reports(small)
    timings = []

    def render_large():
        with stopwatch() as t:
            written = render_reports(large)
        timings.append(t)
        return written

    written = benchmark.pedantic(render_large, rounds=1)
    assert {p.name for p in written} == {"report.md", "report.html"}
    html = (large / "report.html").read_text()
    assert html.count("<svg") >= 1 and "synthetic failure" in html
    t = timings[-1]
    figures(benchmark, runs=RENDER_RUNS, render_s=t["wall"], render_cpu_s=t["cpu"],
            render_100_runs_s=reference["wall"], render_100_runs_cpu_s=reference["cpu"],
            scaling_10x_runs=t["cpu"] / reference["cpu"], html_mb=len(html) / 2**20,
            target=f"< {RENDER_TARGET_S:g} s")
    assert t["cpu"] < RENDER_TARGET_S, (f"rendering {RENDER_RUNS} runs took {t['cpu']:.1f} s CPU "
                                        f"({t['wall']:.1f} s wall)")
