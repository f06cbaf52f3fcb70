"""Performance benchmarks: vidbench against a reference measured in the same run.

Each test measures vidbench and its reference itself, interleaved, with medians over several rounds,
asserts the target, records the figures (printed at the end of the session and stored in the
benchmark's `extra_info`), and hands one vidbench operation to the `benchmark` fixture so that
`--benchmark-autosave` / `--benchmark-compare` track it across commits.

Modes:
- `pytest` (the project's addopts: `--benchmark-disable -m 'not slow'`): every light benchmark runs with
  a few rounds and asserts what is robust on a shared machine; heavy ones (`@pytest.mark.heavy`) are
  marked `slow` and deselected.
- `pytest tests/benchmarks --benchmark-only`: benchmarks are enabled (this conftest turns
  `--benchmark-only` into `--benchmark-enable`, which the addopts' `--benchmark-disable` would otherwise
  refuse), heavy ones run, more rounds, and the tighter targets are asserted.
"""

from __future__ import annotations

import json
import os
import platform

import pytest
import torch

HEAVY_HELP = "heavy: a benchmark over ~20 s; `slow` (deselected) unless benchmarks are enabled"


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    config.addinivalue_line("markers", HEAVY_HELP)
    # The project's addopts carry --benchmark-disable, which pytest-benchmark refuses to combine with
    # --benchmark-only. Asking for --benchmark-only means asking for benchmarks: enable them. This runs
    # before pytest-benchmark's own pytest_configure when this file is an initial conftest, i.e. when
    # tests/benchmarks (or a file in it) is on the command line.
    if config.getoption("benchmark_only", False):
        config.option.benchmark_enable = True


def benchmarks_enabled(config) -> bool:
    session = getattr(config, "_benchmarksession", None)
    return session is not None and not session.disabled


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Heavy benchmarks are `slow` (deselected by the addopts' `-m 'not slow'`) unless benchmarks are
    enabled; runs before the mark plugin deselects."""
    if benchmarks_enabled(config):
        return
    for item in items:
        if item.get_closest_marker("heavy") is not None:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def bench_enabled(pytestconfig) -> bool:
    """True under --benchmark-only / --benchmark-enable: more rounds, tighter targets asserted."""
    return benchmarks_enabled(pytestconfig)


FIGURES_KEY = "vidbench_figures"


@pytest.fixture
def figures(request):
    """figures(benchmark=None, **values): record a test's figures (printed in the session summary, and
    stored in the benchmark's extra_info when a benchmark fixture is given). They travel as the test's
    user properties, so the summary has them when pytest-xdist ran the test in another process."""

    def record(benchmark=None, **values):
        values = {k: (round(float(v), 4) if isinstance(v, float) else v) for k, v in values.items()}
        # plain JSON values (numpy scalars made Python ones): pytest-xdist sends them between processes
        values = json.loads(json.dumps(values, default=lambda o: o.item() if hasattr(o, "item") else str(o)))
        request.node.user_properties.append((FIGURES_KEY, values))
        if benchmark is not None:
            benchmark.extra_info.update(values)

    return record


def recorded_figures(terminalreporter) -> list[tuple[str, dict]]:
    """Every test's recorded figures, from the reports of its call phase (whatever its outcome)."""
    out = []
    for reports in terminalreporter.stats.values():
        for report in reports:
            if getattr(report, "when", None) != "call":
                continue
            for key, values in getattr(report, "user_properties", ()):
                if key == FIGURES_KEY:
                    out.append((report.nodeid.split("::", 1)[-1], values))
    return sorted(out, key=lambda item: item[0])


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    figures = recorded_figures(terminalreporter)
    if not figures:
        return
    tr = terminalreporter
    tr.section("vidbench benchmark figures")
    tr.write_line(f"machine: {platform.machine()} {platform.processor() or ''} | cores available: "
                  f"{len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()} | "
                  f"torch {torch.__version__}, {torch.get_num_threads()} intra-op thread(s) | "
                  f"benchmarks {'enabled' if benchmarks_enabled(config) else 'disabled (one pass each)'}")
    for name, values in figures:
        tr.write_line(f"{name}: {json.dumps(values, default=str)}")
