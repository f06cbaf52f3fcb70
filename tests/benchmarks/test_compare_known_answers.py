"""`vidbench compare`'s statistics on real measurements (issue: numbers with their uncertainty).

- A plugin model whose forward busy-waits a fixed fraction of its own compute time: a 20% slowdown is
  flagged with p < 0.01; a 2% one under `--threshold 5` is not.
- A/A: the same speed measurement twice, compared: nothing flagged.
Both need a quiet machine: with benchmarks enabled (`pytest tests/benchmarks --benchmark-only`) every
answer is asserted, the 20% read within 10-30%. The default run shares its cores with other tests, whose
load can land on A's measurement and not on B's: there a 20% slowdown read 32.1%, 60.2% and, once, too
little to be flagged (issue 32). So the default run injects 100% instead, records every figure, and asserts
only that it is flagged (p < 0.01) and reads between 25% and 400% (margins: a quarter of the injected
change below, four times it above), which a load that doubles one side's time still meets.
"""

from __future__ import annotations

import time

import pytest

from tests.conftest import make_spec
from vidbench.models import register_model
from vidbench.report.compare import compare_folders
from vidbench.run.runner import execute
from vidbench.store import STORE_NAME, ResultStore

SLOWDOWN = {"factor": 0.0}


@pytest.fixture
def slowed_model(isolated_registries):
    """c3d_tiny whose forward then busy-waits `factor` × the time it took: a slowdown proportional to the
    forward, as a regression in a model's code would be."""
    from vidbench.models.cnn3d import c3d_tiny

    @register_model(family="cnn", arch="c3d", default_input=(8, 32))
    def slowed_c3d_tiny(num_classes: int = 4):
        model = c3d_tiny(num_classes=num_classes)
        forward = model.forward

        def slowed(x):
            start = time.perf_counter()
            out = forward(x)
            spent = time.perf_counter() - start
            while time.perf_counter() - start < spent * (1 + SLOWDOWN["factor"]):
                pass
            return out

        model.forward = slowed
        return model

    return "slowed_c3d_tiny"


def _measure(name: str, folder, factor: float) -> float:
    SLOWDOWN["factor"] = factor
    spec = make_spec(name, family="cnn", arch="c3d", resolution=(64, 64), clip_length=8, batch_size=1,
                     metrics=("latency", "throughput"), benchmark={"warmup": 3, "repeats": 30, "min_time_s": 0.5})
    started = time.perf_counter()
    result = execute(spec)
    assert result.status == "ok", result.error
    folder.mkdir()
    with ResultStore(folder / STORE_NAME) as store:
        store.write(spec, result)
    return time.perf_counter() - started


def _latency(folder_a, folder_b):
    return compare_folders(folder_a, folder_b, threshold_pct=5.0).rows.set_index("metric").loc["latency_ms_p50"]


def test_injected_slowdowns_and_an_aa_rerun(benchmark, figures, bench_enabled, slowed_model, tmp_path):
    _measure(slowed_model, tmp_path / "warm", 0.0)  # the process's first run pays one-off set-up: not A's
    _measure(slowed_model, tmp_path / "a", 0.0)
    _measure(slowed_model, tmp_path / "a2", 0.0)  # A/A: the same measurement again
    _measure(slowed_model, tmp_path / "c", 0.02)
    _measure(slowed_model, tmp_path / "b", 0.20 if bench_enabled else 1.0)
    slow, small, again = (_latency(tmp_path / "a", tmp_path / x) for x in ("b", "c", "a2"))
    figures(benchmark, slow_change_pct=slow["change_pct"], slow_p=slow["p_value"],
            small_change_pct=small["change_pct"], small_p=small["p_value"], aa_change_pct=again["change_pct"],
            aa_p=again["p_value"])
    benchmark.pedantic(compare_folders, args=(tmp_path / "a", tmp_path / "b"), rounds=3 if bench_enabled else 1)
    low, high = (10, 30) if bench_enabled else (25, 400)
    assert slow["regression"] and slow["p_value"] < 0.01 and low < slow["change_pct"] < high, slow.to_dict()
    if not bench_enabled:
        pytest.skip(f"2% slowdown {small['change_pct']:+.1f}% (p={small['p_value']:.2g}) and A/A "
                    f"{again['change_pct']:+.1f}% recorded; asserted only with benchmarks enabled (a quiet machine)")
    assert not small["regression"] and not again["regression"]
