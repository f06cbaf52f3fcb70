"""One MLPerf LoadGen test of a system under test: its TestSettings from the run's `serving` block (performance
mode; the minimum duration and a small minimum query count, so a CPU run ends; a maximum duration bounds a
slow model), LoadGen's logs written under a folder the run keeps, and the figures read back from LoadGen's own
detail log (`:::MLLOG` JSON lines), not recomputed beside it."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

MIN_QUERIES = 64  # LoadGen's own floor for an early-stopping estimate
EARLY_STOPPING_MARGIN = 1.0  # queries beyond the fewest with which LoadGen's early stopping can accept a percentile
MAX_DURATION_FACTOR = 6  # a test stops at this many times the time its queries need, whatever it has issued
SINGLE_STREAM_MARGIN = 0.5  # SingleStream's expected latency, as a share of the measured one (enough queries)
MULTI_STREAM_SAMPLES = 8  # samples per MultiStream query: LoadGen's default (eight camera streams)
SCENARIO_NAMES = {"single_stream": "SingleStream", "multi_stream": "MultiStream", "server": "Server",
                  "offline": "Offline"}


def test_settings(scenario: str, config: dict[str, Any], expected_s: float, target_qps: float | None = None):
    """LoadGen's TestSettings for `scenario` under the serving block `config`; `expected_s` is one sample's
    expected time (LoadGen's early estimates start from it); `target_qps`, Server's arrival rate, or the
    Offline rate its single query is sized for."""
    import mlperf_loadgen as lg

    settings = lg.TestSettings()
    settings.scenario = getattr(lg.TestScenario, SCENARIO_NAMES[scenario])
    settings.mode = lg.TestMode.PerformanceOnly
    expected_ns = max(int(expected_s * 1e9), 1000)
    queries, query_s = MIN_QUERIES, expected_s  # how many queries the verdict needs, and one query's time
    if scenario == "single_stream":  # LoadGen pre-generates min_duration / expected queries: an underestimate
        settings.single_stream_expected_latency_ns = max(int(expected_ns * SINGLE_STREAM_MARGIN), 1000)
        queries = min_queries(90.0)
    elif scenario == "multi_stream":
        settings.multi_stream_samples_per_query = MULTI_STREAM_SAMPLES
        settings.multi_stream_expected_latency_ns = expected_ns * MULTI_STREAM_SAMPLES
        queries, query_s = min_queries(99.0), expected_s * MULTI_STREAM_SAMPLES
    elif scenario == "server":
        settings.server_target_qps = float(target_qps)
        settings.server_target_latency_ns = int(config["slo_ms"] * 1e6)
        settings.server_target_latency_percentile = config["percentile"] / 100
        queries, query_s = min_queries(config["percentile"]), 1.0 / float(target_qps)
    else:
        settings.offline_expected_qps = max(float(target_qps or 1.0 / max(expected_s, 1e-6)), 1.0)
        queries = 1  # Offline is one query holding every sample
    settings.min_query_count = queries
    settings.min_duration_ms = int(config["min_duration_s"] * 1000)
    settings.max_duration_ms = int(MAX_DURATION_FACTOR * max(config["min_duration_s"], queries * query_s) * 1000)
    return settings


def min_queries(percentile: float, confidence: float = 0.99) -> int:
    """The fewest queries with which LoadGen's early stopping can accept a latency percentile (none over the
    bound: n with percentile^n <= 1 - confidence): 459 at p99, LoadGen's floor of 64 at p90. A rate near the
    bound is judged by the latency itself (`serving_search`), which these queries estimate."""
    fewest = math.log(1 - confidence) / math.log(percentile / 100)
    return max(MIN_QUERIES, math.ceil(EARLY_STOPPING_MARGIN * fewest))


def run_test(sut, count: int, settings, folder: Path) -> dict[str, Any]:
    """Run one LoadGen test of `sut` (a BatchingSUT) over a library of `count` samples, logs under `folder`;
    LoadGen's results (the detail log's `result_*` entries)."""
    import mlperf_loadgen as lg

    folder.mkdir(parents=True, exist_ok=True)
    log = lg.LogSettings()
    log.log_output.outdir = str(folder)
    log.log_output.copy_summary_to_stdout = False
    log.enable_trace = False
    handle = lg.ConstructSUT(sut.issue, sut.flush)
    library = lg.ConstructQSL(count, count, lambda samples: None, lambda samples: None)
    try:
        lg.StartTestWithLogSettings(handle, library, settings, log)
    finally:
        lg.DestroyQSL(library)
        lg.DestroySUT(handle)
    return read_results(folder / "mlperf_log_detail.txt")


def read_results(path: Path) -> dict[str, Any]:
    """The `result_*` entries (and the effective settings) of a LoadGen detail log, by key."""
    results: dict[str, Any] = {}
    for line in path.read_text().splitlines():
        marker = line.find(":::MLLOG")
        if marker < 0:
            continue
        entry = json.loads(line[marker + len(":::MLLOG"):])
        key = entry.get("key", "")
        if key.startswith(("result_", "effective_", "early_stopping")):
            results[key] = entry.get("value")
    return results


def percentile_key(percentile: float, per_query: bool = False) -> str:
    """LoadGen's detail-log key of a latency percentile ('result_99.00_percentile_latency_ns')."""
    return f"result_{percentile:.2f}_percentile_{'per_query_' if per_query else ''}latency_ns"
