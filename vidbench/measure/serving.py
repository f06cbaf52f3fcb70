"""Serving under load: LoadGen's SingleStream, MultiStream and Offline tests, then Server's highest rate within
the latency bound (`serving_search`), each through the same batching system under test. Every figure is read
from LoadGen's results; the verdicts, the batches formed, the share of each query spent decoding (end to end)
and LoadGen's summary of each reported test go into the run's detail."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from vidbench.measure.loadgen_test import (MULTI_STREAM_SAMPLES, percentile_key, run_test, test_settings)
from vidbench.measure.serving_search import ServerTest, max_qps

ORDER = ("single_stream", "multi_stream", "offline", "server")  # Offline's rate starts Server's search
START_SHARE = 0.5  # Server's search starts at this share of the Offline rate (or of one sample's rate)
OFFLINE_MARGIN = 3.0  # Offline's query holds this many times the samples the expected rate fills its duration with


@dataclass
class Timers:
    """Seconds spent decoding and transforming queries' videos and running the model, since the last reset."""

    decode_s: float = 0.0
    model_s: float = 0.0

    def share(self) -> float | None:
        total = self.decode_s + self.model_s
        return self.decode_s / total if total else None

    def reset(self) -> None:
        self.decode_s = self.model_s = 0.0


@dataclass
class Served:
    figures: dict[str, Any] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)


def batching(scenario: str, config: dict[str, Any]) -> tuple[int, float]:
    """(largest batch, seconds a partial batch waits): SingleStream one sample, MultiStream its query's
    samples together, Offline and Server the configured dynamic batching (Offline never waits: its samples
    arrive at once)."""
    if scenario == "single_stream":
        return 1, 0.0
    if scenario == "multi_stream":
        return MULTI_STREAM_SAMPLES, 0.0
    wait = config["max_wait_ms"] / 1000 if scenario == "server" else 0.0
    return int(config["max_batch"]), wait


def _one_test(sut, count: int, settings, folder: Path, timers: Timers) -> dict[str, Any]:
    timers.reset()
    results = run_test(sut, count, settings, folder)
    if sut.error is not None:
        raise RuntimeError(f"the model raised inside the system under test: {type(sut.error).__name__}: "
                           f"{str(sut.error).strip().splitlines()[0] if str(sut.error).strip() else ''}")
    summary = folder / "mlperf_log_summary.txt"
    return {"valid": results.get("result_validity") == "VALID", "validity": results.get("result_validity"),
            "batches": _batch_sizes(sut.batches), "decode_share": timers.share(), "log": str(folder),
            "summary": summary.read_text() if summary.exists() else "", "results": results}


def _batch_sizes(batches: list[int]) -> dict[str, float]:
    return {"count": len(batches), "mean": sum(batches) / len(batches)} if batches else {"count": 0}


FIGURES: dict[str, Callable[[dict, dict], dict[str, float]]] = {
    "single_stream": lambda r, c: {"ss_latency_ms_p90": r[percentile_key(90.0)] / 1e6},
    "multi_stream": lambda r, c: {"ms_latency_ms_p99": r[percentile_key(99.0, per_query=True)] / 1e6},
    "offline": lambda r, c: {"offline_samples_s": float(r["result_samples_per_second"])},
}


def serve(sut, count: int, config: dict[str, Any], folder: Path, expected_s: float, timers: Timers,
          batched_qps: float | None = None) -> Served:
    """Every scenario the block asks for, in ORDER, through `sut` over a library of `count` samples; one sample
    takes about `expected_s`, and batches of max_batch serve about `batched_qps` samples/s (Offline's query is
    sized from it: too small a query ends before LoadGen's minimum duration)."""
    served = Served()
    offline_qps = OFFLINE_MARGIN * (batched_qps or config["max_batch"] / max(expected_s, 1e-6))
    for scenario in (s for s in ORDER if s in config["scenarios"] and s != "server"):
        sut.configure(*batching(scenario, config))
        settings = test_settings(scenario, config, expected_s, target_qps=offline_qps if scenario == "offline" else None)
        test = _one_test(sut, count, settings, folder / scenario, timers)
        served.detail[scenario] = test
        served.figures.update(FIGURES[scenario](test["results"], config))
    if "server" in config["scenarios"]:
        _server(sut, count, config, folder / "server", expected_s, timers, served)
    served.figures["serving_valid"] = all(test["valid"] for test in served.detail.values())
    return served


def _server(sut, count: int, config: dict, folder: Path, expected_s: float, timers: Timers, served: Served) -> None:
    """Server's search: its tests kept, the best one within the bound reported (LoadGen's figures and verdict)
    with the bracket around it."""
    tests: dict[float, dict] = {}
    key = percentile_key(config["percentile"])

    def run(qps: float) -> ServerTest:
        sut.configure(*batching("server", config))
        settings = test_settings("server", config, expected_s, target_qps=qps)
        test = _one_test(sut, count, settings, folder / f"qps-{qps:.3f}", timers)
        tests[qps] = test
        results = test["results"]
        latency = results.get(key) / 1e6 if results.get(key) is not None else None
        within = (latency is not None and latency <= config["slo_ms"] and bool(results.get("result_min_duration_met"))
                  and bool(results.get("result_min_queries_met")))
        return ServerTest(qps, within, latency, results.get("result_scheduled_samples_per_sec"), test["validity"])

    start = served.figures.get("offline_samples_s") or 1.0 / max(expected_s, 1e-6)
    search = max_qps(run, START_SHARE * start)
    best, above = search.best, search.first_invalid
    points = [{"target_qps": t.target_qps, "within": t.valid, "validity": t.validity, "latency_ms": t.latency_ms,
               "scheduled_qps": t.achieved_qps} for t in search.tests]
    chosen = tests[best.target_qps] if best else tests[search.tests[-1].target_qps]
    served.detail["server"] = {**chosen, "search": points, "slo_ms": config["slo_ms"],
                               "percentile": config["percentile"],
                               "highest_within_qps": best.target_qps if best else None,
                               "lowest_over_qps": above.target_qps if above else None, **_verdict_bracket(search)}
    if best is not None:
        served.figures["server_max_qps"] = float(best.achieved_qps or best.target_qps)
        if best.latency_ms is not None:
            served.figures["server_latency_ms_p99"] = best.latency_ms


def _verdict_bracket(search) -> dict[str, float | None]:
    """The highest rate LoadGen judged VALID and the lowest INVALID rate above it (its verdicts need early
    stopping too, so they can sit below the bracket of the latency alone)."""
    valid = [t.target_qps for t in search.tests if t.validity == "VALID"]
    last = max(valid) if valid else None
    above = [t.target_qps for t in search.tests if t.validity != "VALID" and t.target_qps > (last or 0.0)]
    return {"last_valid_qps": last, "first_invalid_qps": min(above) if above else None}
