"""Serving under load through MLPerf LoadGen (issue 29): known answers of a system with a fixed service time
(Offline's rate, Server's highest rate within the bound against an M/D/1 queue simulated here, batching that
pays), a model that raises inside the system under test, the search, and the whole scenario of a run."""

from __future__ import annotations

import importlib.util
import math
import time
from pathlib import Path

import numpy as np
import pytest

from vidbench.axes import SERVING_DEFAULT
from vidbench.measure.loadgen_test import min_queries
from vidbench.measure.serving_search import ServerTest, max_qps

LOADGEN = importlib.util.find_spec("mlperf_loadgen") is not None
needs_loadgen = pytest.mark.skipif(not LOADGEN, reason="mlcommons-loadgen is not installed")
SERVICE_S = 0.010


def sleeper(service: float = SERVICE_S, growth: float = 0.0):
    """A system whose batch of b samples takes `service + growth * (b - 1)` seconds (sleeping, like a model
    whose kernels release the GIL)."""
    def run_batch(indices):
        time.sleep(service + growth * (len(indices) - 1))
    return run_batch


def md1_rate_at(percentile: float, bound_s: float, service_s: float = SERVICE_S, arrivals: int = 50_000) -> float:
    """The Poisson arrival rate at which an M/D/1 queue's sojourn time at `percentile` equals `bound_s`:
    Lindley's recursion simulated, the rate bisected."""
    rng = np.random.default_rng(0)
    gaps = rng.exponential(1.0, arrivals)

    def sojourn(rate: float) -> float:
        wait, out = 0.0, np.empty(arrivals)
        for i, gap in enumerate((gaps / rate).tolist()):
            wait = max(0.0, wait + service_s - gap) if i else 0.0  # the wait before service starts
            out[i] = wait + service_s
        return float(np.percentile(out, percentile))

    low, high = 0.01 / service_s, 0.999 / service_s
    for _ in range(30):
        mid = (low + high) / 2
        low, high = (mid, high) if sojourn(mid) <= bound_s else (low, mid)
    return low


def serve_with(run_batch, tmp_path: Path, **config):
    from vidbench.measure.loadgen_sut import BatchingSUT
    from vidbench.measure.serving import Timers, serve

    config = {**SERVING_DEFAULT, "min_duration_s": 1.0, **config}
    with BatchingSUT(run_batch) as sut:
        return serve(sut, 16, config, tmp_path, SERVICE_S, Timers())


def test_the_search_brackets_and_bisects_to_the_boundary():
    boundary = 37.0
    search = max_qps(lambda q: ServerTest(q, q <= boundary, 10.0, q), start_qps=5.0, tolerance=0.02)
    assert search.best.target_qps <= boundary < search.first_invalid.target_qps
    assert search.first_invalid.target_qps <= search.best.target_qps * 1.02
    rates = [t.target_qps for t in search.tests]
    assert rates[:4] == [5.0, 10.0, 20.0, 40.0]  # doubling until the first INVALID
    down = max_qps(lambda q: ServerTest(q, q <= boundary, 10.0, q), start_qps=400.0, tolerance=0.02)
    assert down.best.target_qps <= boundary < down.first_invalid.target_qps  # halving from above
    never = max_qps(lambda q: ServerTest(q, False, None, None), start_qps=1.0)
    assert never.best is None and len(never.tests) == 9  # one start, eight halvings, then given up


def test_the_queries_a_verdict_needs_follow_loadgens_early_stopping():
    assert min_queries(99.0) == math.ceil(math.log(0.01) / math.log(0.99)) == 459
    assert min_queries(90.0) == 64 and min_queries(50.0) == 64  # LoadGen's own floor


@needs_loadgen
def test_offline_reaches_the_service_rate(tmp_path):
    served = serve_with(sleeper(), tmp_path, scenarios=["offline"], max_batch=1)
    assert served.figures["offline_samples_s"] >= 0.95 * (1 / SERVICE_S)  # 100 samples/s at 10 ms each
    assert served.detail["offline"]["validity"] == "VALID" and served.figures["serving_valid"] is True
    assert "Samples per second" in served.detail["offline"]["summary"]  # LoadGen's own summary, kept
    assert (tmp_path / "offline" / "mlperf_log_detail.txt").exists()


@needs_loadgen
def test_server_max_qps_agrees_with_an_md1_queue_at_p90(tmp_path):
    bound_ms = 30.0
    expected = md1_rate_at(90.0, bound_ms / 1000)
    served = serve_with(sleeper(), tmp_path, scenarios=["server"], max_batch=1, slo_ms=bound_ms, percentile=90.0)
    measured = served.figures["server_max_qps"]
    assert abs(measured - expected) <= 0.15 * expected, (measured, expected)
    server = served.detail["server"]
    assert server["highest_within_qps"] < server["lowest_over_qps"] <= 1.06 * server["highest_within_qps"]
    assert {p["validity"] for p in server["search"]} <= {"VALID", "INVALID"}  # LoadGen's verdict of every test
    assert served.figures["server_latency_ms_p99"] <= bound_ms  # at the bound's percentile, within it


@pytest.mark.slow
@needs_loadgen
def test_server_max_qps_agrees_with_an_md1_queue_at_p99(tmp_path):
    bound_ms = 50.0
    expected = md1_rate_at(99.0, bound_ms / 1000)
    served = serve_with(sleeper(), tmp_path, scenarios=["server"], max_batch=1, slo_ms=bound_ms, percentile=99.0,
                        min_duration_s=20.0)  # ~1,300 queries a test: p99 from ~13 of them
    assert abs(served.figures["server_max_qps"] - expected) <= 0.15 * expected, (served.figures, expected)


@needs_loadgen
def test_dynamic_batching_raises_the_rate_served_within_the_bound(tmp_path):
    common = {"scenarios": ["server"], "slo_ms": 40.0, "percentile": 90.0, "max_wait_ms": 2.0}
    one = serve_with(sleeper(growth=0.002), tmp_path / "one", max_batch=1, **common)
    eight = serve_with(sleeper(growth=0.002), tmp_path / "eight", max_batch=8, **common)
    assert eight.figures["server_max_qps"] > 1.5 * one.figures["server_max_qps"]
    assert eight.detail["server"]["batches"]["mean"] > 1.0  # batches formed under load


@needs_loadgen
def test_a_model_that_raises_inside_the_system_under_test_fails_the_run_without_a_hang(tmp_path):
    calls = []

    def failing(indices):
        calls.append(1)
        if len(calls) > 5:
            raise ValueError("shape mismatch in the fifth batch")
        time.sleep(0.001)

    started = time.perf_counter()
    with pytest.raises(RuntimeError, match="the model raised inside the system under test: ValueError: shape"):
        serve_with(failing, tmp_path, scenarios=["single_stream", "offline"])
    assert time.perf_counter() - started < 60  # LoadGen ended its test: every later sample was completed


@needs_loadgen
def test_a_serving_run_reads_its_figures_from_loadgen_and_keeps_its_logs(tmp_path, isolated_registries):
    import torch

    from tests.conftest import make_spec
    from vidbench.models import register_model
    from vidbench.run.runner import execute

    @register_model(family="cnn", arch="sleepy", default_input=(2, 8), no_published="a test model")
    def serving_sleeper(num_classes: int = 4):
        class Sleepy(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.head = torch.nn.Linear(3, num_classes)

            def forward(self, clips):
                time.sleep(0.002)
                return self.head(clips.mean(dim=(2, 3, 4)))

        return Sleepy()

    serving = {**SERVING_DEFAULT, "scenarios": ["single_stream", "multi_stream", "offline", "server"],
               "min_duration_s": 0.5, "slo_ms": 20.0, "percentile": 90.0}
    spec = make_spec("serving_sleeper", metrics=("serving",), serving=serving, resolution=(8, 8), clip_length=2,
                     batch_size=1)
    result = execute(spec, tmp_path)
    assert result.status == "ok", (result.error, result.detail.get("traceback"))
    m, detail = result.metrics, result.detail["serving"]
    assert 2.0 <= m["ss_latency_ms_p90"] < 20.0 and m["ms_latency_ms_p99"] >= m["ss_latency_ms_p90"]
    assert m["offline_samples_s"] > 100 and m["server_max_qps"] > 20
    for scenario in ("single_stream", "multi_stream", "offline", "server"):  # LoadGen's figures, as it logged them
        results = detail[scenario]["results"]
        assert results["result_validity"] in ("VALID", "INVALID")
        assert Path(detail[scenario]["log"]).is_relative_to(tmp_path / "serving" / spec.run_id)
    assert m["ss_latency_ms_p90"] == detail["single_stream"]["results"]["result_90.00_percentile_latency_ns"] / 1e6
    assert m["offline_samples_s"] == detail["offline"]["results"]["result_samples_per_second"]
    assert m["serving_valid"] == all(detail[s]["valid"] for s in ("single_stream", "multi_stream", "offline", "server"))
    assert detail["pipeline"] == "model" and detail["library_samples"] == 4  # the validation split's 4 clips
