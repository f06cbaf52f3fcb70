"""Issue 18's targets for a responsive tool, each beside a reference measured in the same run (interleaved,
medians of subprocess wall times):

- `vidbench --help` at most 0.15 s above a bare `python -c pass`;
- `vidbench run suites/ablation.yaml --dry-run` at most 1.5x `python -c "import torch"`;
- a whole `vidbench run` of a one-run suite (tsn_tiny, params and flops, report included) at most 2.5x
  `python -c "import torch"`;
- `vidbench models` at most 1 s with its figures cached.

Asserted with benchmarks enabled (a quiet machine: the one-run target counts on the worker's imports running
on the second core beside the driver's). The default run times one round of the help against its references
(the dry run, the one-run sweep and the cached listing, ~20 s with the cold listing the cache needs first,
are benchmarks only; tests/test_lazy_imports.py covers what they import) and asserts only what a loaded or
slower machine still meets: `--help` takes less than `import torch` alone (it reads 0.08 s above
a bare python against ~1.2 s for torch here: a tenfold margin, and a help that imported torch fails it).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.benchmarks.helpers import interleave, median

ROOT = Path(__file__).resolve().parents[2]
ONE_RUN = textwrap.dedent("""\
    name: one
    models: [tsn_tiny]
    datasets: [{name: random, args: {num_classes: 4}}]
    resolutions: [32]
    clip_lengths: [4]
    metrics: [params, flops]
    """)


def _wall(*args: str, cwd: Path = ROOT, env: dict | None = None):
    def run() -> float:
        start = time.perf_counter()
        out = subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=300, env=env)
        assert out.returncode == 0, out.stderr[-2000:]
        return time.perf_counter() - start
    return run


def test_cli_targets(benchmark, figures, bench_enabled, tmp_path):
    import os

    env = {**os.environ, "VIDBENCH_CACHE_DIR": str(tmp_path / "cache")}
    suite = tmp_path / "one.yaml"
    suite.write_text(ONE_RUN)
    if bench_enabled:  # fills the cache: the target is a cached listing
        subprocess.run([sys.executable, "-m", "vidbench", "models", "--format", "csv"], env=env, check=True,
                       capture_output=True, timeout=600)
    steps = {
        "python": _wall("-c", "pass"),
        "import_torch": _wall("-c", "import torch"),
        "help": _wall("-m", "vidbench", "--help"),
    }
    if bench_enabled:
        steps["dry_run"] = _wall("-m", "vidbench", "run", "suites/ablation.yaml", "--dry-run")
        steps["one_run"] = _wall("-m", "vidbench", "run", str(suite), "--output", str(tmp_path / "out"), "--force")
        steps["models_cached"] = _wall("-m", "vidbench", "models", env=env)
    rounds = 3 if bench_enabled else 1
    samples = dict(zip(steps, interleave(rounds, *steps.values())))
    s = {k: median(v) for k, v in samples.items()}
    ratios = {"help_above_python_s": s["help"] - s["python"]}
    figures(benchmark, **{f"{k}_s": v for k, v in s.items()}, **ratios)
    benchmark.pedantic(steps["help"], rounds=1)
    if not bench_enabled:
        assert s["help"] < s["import_torch"], s  # the default run's bound: see the module docstring
        pytest.skip(f"recorded {ratios}; the targets are asserted only with benchmarks enabled (a quiet machine)")
    ratios |= {"dry_run_x_torch": s["dry_run"] / s["import_torch"], "one_run_x_torch": s["one_run"] / s["import_torch"],
               "models_cached_s": s["models_cached"]}
    assert ratios["help_above_python_s"] <= 0.15, ratios
    assert ratios["models_cached_s"] <= 1.0, ratios
    assert ratios["dry_run_x_torch"] <= 1.5, ratios
    assert ratios["one_run_x_torch"] <= 2.5, ratios
