"""Target 1: profiling without running (issue 18's restatement of issue 8's target).

- `model_cost` (params + MACs on the meta device) at least 8x faster than one real CPU forward for x3d_l at
  16x312 (issue 8 found 20x unreachable: building its 800 modules on the meta device alone is 80% of what
  20x allows), and at least 20x for swin3d_b at 32x224; the reference is measured in the same test,
  interleaved. Below the floor (the target's half) a hard failure; between the floor and the target an
  xfail that reports the figure, since a shared machine moves the ratio.
- The whole registry (`python -m vidbench models --no-cache --format csv`: a cold count, never a cache
  hit) listed in under a minute.

Threads: both sides run at the session's intra-op thread count (1 unless OMP_NUM_THREADS says
otherwise, see tests/conftest.py). Counting on the meta device is single-threaded Python whatever the
setting; a real forward gets faster with more cores, so on a bigger machine the ratio is smaller.
"""

from __future__ import annotations

import csv
import io
import resource
import subprocess
import sys
import time

import pytest
import torch

from tests.benchmarks.helpers import interleave, median, stopwatch
from vidbench.measure.flops import model_cost
from vidbench.models import create_model, list_models

REGISTRY_TARGET_S = 60.0


@pytest.mark.parametrize("name, frames, side, target", [
    pytest.param("swin3d_b", 32, 224, 20.0, marks=pytest.mark.heavy, id="swin3d_b-32x224"),
    pytest.param("x3d_l", 16, 312, 8.0, id="x3d_l-16x312"),
])
def test_model_cost_is_much_faster_than_a_real_forward(benchmark, figures, bench_enabled, name, frames, side,
                                                        target):
    threads = torch.get_num_threads()
    with stopwatch() as build:
        model = create_model(name, num_classes=400).eval()
    clip = torch.randn(1, 3, frames, side, side)

    def real_forward() -> float:
        start = time.perf_counter()
        with torch.no_grad():
            model(clip)
        return time.perf_counter() - start

    def count() -> float:
        start = time.perf_counter()
        cost = model_cost(name, 400, {}, frames, side, side)
        assert cost.params == sum(p.numel() for p in model.parameters())
        return time.perf_counter() - start

    # The first real forward is "cold" (oneDNN primitive creation) and the later ones warm. With a few
    # rounds of seconds each on a shared machine, each side's fastest round is its least disturbed one:
    # the ratio is min over min (both sides' best case).
    rounds = 3 if bench_enabled else 2
    meta_s, real_s = interleave(rounds, count, real_forward)
    speedup = min(real_s) / min(meta_s)
    figures(benchmark, model=f"{name} 1x3x{frames}x{side}x{side}", threads=threads,
            model_cost_s_min=min(meta_s), real_forward_s_min=min(real_s),
            model_cost_s=[round(s, 3) for s in meta_s], real_forward_s=[round(s, 3) for s in real_s],
            build_cpu_model_s=build["wall"], speedup=speedup, target=f">= {target:g}x")

    benchmark.pedantic(model_cost, args=(name, 400, {}, frames, side, side), rounds=3 if bench_enabled else 1)
    message = (f"model_cost({name}) took {min(meta_s):.2f} s (best of {rounds}), one real forward "
               f"{min(real_s):.2f} s at {threads} thread(s): {speedup:.1f}x, target {target:g}x")
    assert speedup >= target / 2, message  # below half the target model_cost has regressed, whatever the noise
    if speedup < target:  # between the floor and the target: reported, with the figure
        pytest.xfail(f"borderline on this machine: {message}")


@pytest.mark.heavy
def test_models_registry_lists_in_under_a_minute(benchmark, figures):
    cmd = [sys.executable, "-m", "vidbench", "models", "--no-cache", "--format", "csv"]
    runs: list[dict] = []

    def list_registry() -> subprocess.CompletedProcess:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        runs.append({"wall": wall, "cpu": (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)})
        return proc

    proc = benchmark.pedantic(list_registry, rounds=1)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    registered = list_models()
    wall = median(r["wall"] for r in runs)
    figures(benchmark, models=len(rows), wall_s=wall, cpu_s=median(r["cpu"] for r in runs),
            per_model_s=wall / max(len(rows), 1), target=f"< {REGISTRY_TARGET_S:g} s wall")
    assert sorted(r["name"] for r in rows) == sorted(registered)
    assert all(float(r["gmacs"]) > 0 and int(r["params"]) > 0 for r in rows)
    assert wall < REGISTRY_TARGET_S, f"`vidbench models` took {wall:.1f} s for {len(rows)} models"
