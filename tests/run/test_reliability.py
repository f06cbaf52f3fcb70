"""Sweeps that survive kill -9, refuse a second sweep on the same folder, and scale out on Ray."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

PLUGIN = textwrap.dedent("""\
    import os
    import time

    import torch.nn as nn
    from vidbench import register_model


    class Slow(nn.Module):
        def __init__(self, num_classes, how, sleep=0.3, gate=""):
            super().__init__()
            self.fc = nn.Linear(3, num_classes)
            self.how, self.sleep, self.gate = how, sleep, gate

        def forward(self, x):
            if self.how == "abort":
                os.abort()
            deadline = time.time() + 120  # a gated call waits for the test to open its gate (a file)
            while self.gate and not os.path.exists(self.gate) and time.time() < deadline:
                time.sleep(0.05)
            time.sleep(self.sleep)
            return self.fc(x.mean((2, 3, 4)))


    @register_model(family="cnn")
    def slow_model(num_classes: int = 4, k: int = 0, sleep: float = 0.3, gate: str = ""):
        return Slow(num_classes, "sleep", sleep, gate if k > 0 else "")  # the first run is never gated


    @register_model(family="cnn")
    def aborting_model(num_classes: int = 4):
        return Slow(num_classes, "abort")
    """)

SUITE = textwrap.dedent("""\
    name: reliability
    plugins: [plugin.py]
    models:
      - name: slow_model
        args: {{sleep: {sleep}, gate: "{gate}"}}
        grid: {{k: {ks}}}
    {extra_models}
    datasets: [{{name: random, args: {{num_classes: 4}}}}]
    resolutions: [16]
    clip_lengths: [2]
    batch_sizes: [1]
    metrics: [latency]
    benchmark: {{warmup: 0, repeats: 2, warmup_s: 0, min_time_s: 0}}
    """)


def write_suite(tmp_path, runs: int, extra_models: str = "", sleep: float = 0.3, gate: str = "") -> None:
    """`gate`: a file path; every run but the first then waits in its forward until the file exists."""
    (tmp_path / "plugin.py").write_text(PLUGIN)
    (tmp_path / "suite.yaml").write_text(SUITE.format(ks=list(range(runs)), extra_models=extra_models, sleep=sleep,
                                                      gate=gate))


def vidbench(*args, **kw):
    return subprocess.Popen([sys.executable, "-m", "vidbench", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True, **kw)


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (Linux /proc), children first found first."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        children = [p for p, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def stored(folder) -> list[tuple]:
    if not (folder / "results.sqlite").exists():
        return []
    with sqlite3.connect(folder / "results.sqlite") as conn:
        try:
            return conn.execute("SELECT run_id, status, finished_at, latency_ms_p50 FROM runs").fetchall()
        except sqlite3.OperationalError:  # the sweep has created the file but not yet its table
            return []


def wait_for_rows(folder, n: int, timeout: float = 120) -> list[tuple]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        rows = stored(folder)
        if len(rows) >= n:
            return rows
        time.sleep(0.2)
    raise AssertionError(f"fewer than {n} runs stored after {timeout} s")


def _refused_while_it_runs(tmp_path, out) -> None:
    """A second sweep on a folder in use exits 2 with one line; reading its results meanwhile works."""
    second = subprocess.run([sys.executable, "-m", "vidbench", "run", "suite.yaml", "--output", str(out)],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert second.returncode == 2
    assert "in use by another vidbench run" in second.stderr and "Traceback" not in second.stderr
    reading = subprocess.run([sys.executable, "-m", "vidbench", "results", str(out), "--format", "csv"],
                             capture_output=True, text=True, timeout=120)
    assert reading.returncode == 0 and "slow_model" in reading.stdout


def test_a_second_sweep_is_refused_and_after_kill_9_the_same_command_finishes_the_rest(tmp_path):
    gate = tmp_path / "gate"  # every run but the first waits in its forward until the test opens the gate:
    write_suite(tmp_path, runs=3, sleep=0.0, gate=str(gate))  # the sweep is mid-way however slow the machine
    out = tmp_path / "out"
    sweep = vidbench("run", "suite.yaml", "--output", str(out), cwd=tmp_path)
    try:
        wait_for_rows(out, 1)
        _refused_while_it_runs(tmp_path, out)
    finally:
        workers = descendants(sweep.pid)
        os.killpg(sweep.pid, signal.SIGKILL)  # the driver; its worker leads its own group
        sweep.wait()
        for pid in workers:  # this sweep's workers only: never another sweep's on the same machine
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    before = stored(out)
    assert len(before) == 1  # the second run was held at its gate when the sweep died
    gate.touch()
    again = subprocess.run([sys.executable, "-m", "vidbench", "run", "suite.yaml", "--output", str(out), "--json"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    outcome = json.loads(again.stdout)
    after = stored(out)
    assert len(after) == 3 == len({r[0] for r in after})  # every run once, no duplicate
    assert outcome["executed"] == 3 - len(before)  # nothing finished was run again…
    assert set(before) <= set(after)  # …or changed


@pytest.mark.slow  # the two-node cluster test (test_ray_cluster.py) covers a crashing run in the default suite
def test_ray_executor_on_a_real_local_cluster_with_a_crashing_run(tmp_path):
    pytest.importorskip("ray")
    write_suite(tmp_path, runs=1, extra_models="  - aborting_model")
    result = subprocess.run(
        [sys.executable, "-m", "vidbench", "run", "suite.yaml", "--output", "out", "--executor", "ray", "--json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 1, result.stderr[-2000:]  # a crashed run: exit 1
    statuses = sorted(json.loads(result.stdout)["runs"].values())
    assert statuses == ["crashed", "ok"]
    rows = {r[1] for r in stored(tmp_path / "out")}
    assert rows == {"crashed", "ok"}


FAILING_PLUGIN = textwrap.dedent("""\
    import torch
    import torch.nn as nn
    from vidbench import register_model


    class OutOfMemoryAbove2(nn.Module):
        def __init__(self, num_classes):
            super().__init__()
            self.fc = nn.Linear(3, num_classes)

        def forward(self, x):
            if x.shape[0] > 2:
                raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB (simulated)")
            return self.fc(x.mean((2, 3, 4)))


    @register_model(family="cnn")
    def oom_above_2(num_classes: int = 4):
        return OutOfMemoryAbove2(num_classes)


    @register_model(family="cnn")
    def always_raises(num_classes: int = 4, k: int = 0):
        raise RuntimeError("this model cannot be built")
    """)


def run_suite(tmp_path, body: str) -> subprocess.CompletedProcess:
    (tmp_path / "failing.py").write_text(FAILING_PLUGIN)
    (tmp_path / "s.yaml").write_text("name: f\nplugins: [failing.py]\n" + body)
    return subprocess.run([sys.executable, "-m", "vidbench", "run", "s.yaml", "--output", "out", "--json"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)


COMMON = textwrap.dedent("""\
    datasets: [{name: random, args: {num_classes: 4}}]
    resolutions: [16]
    clip_lengths: [2]
    metrics: [throughput]
    benchmark: {warmup: 0, repeats: 2, warmup_s: 0, min_time_s: 0}
    """)


def test_out_of_memory_is_retried_in_a_fresh_worker_with_half_the_batch(tmp_path):
    result = run_suite(tmp_path, "models: [oom_above_2]\nbatch_sizes: [8]\nlimits: {oom_retries: 2}\n" + COMMON)
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(tmp_path / "out" / "results.sqlite") as conn:
        status, batch, detail = conn.execute("SELECT status, batch_size, detail_json FROM runs").fetchone()
    assert (status, batch) == ("ok", 2)  # 8 and 4 ran out of memory; the figures are those of batch 2
    assert json.loads(detail)["oom_batch_sizes"] == [8, 4]
    # Too few retries (`oom`, exit 1) is tests/run/test_policy.py's, without processes.


def test_a_device_that_keeps_failing_is_stopped(tmp_path):
    result = run_suite(tmp_path, "models: [{name: always_raises, grid: {k: [1, 2, 3, 4, 5]}}]\nbatch_sizes: [1]\n"
                       "limits: {max_consecutive_failures: 2}\n" + COMMON)
    assert result.returncode == 1
    outcome = json.loads(result.stdout)
    assert outcome["stopped_devices"] == ["cpu"]
    assert sorted(outcome["runs"].values(), key=str) == [None, None, None, "failed", "failed"]
