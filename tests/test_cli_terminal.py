"""What `vidbench run` prints: runs skipped for one reason said once, and the finished runs' key figures
(the metrics the suite asked for) in a table at the end, beside the report's path."""

from __future__ import annotations

import textwrap

import pytest
import torch
from typer.testing import CliRunner

from vidbench.cli import app

SUITE = textwrap.dedent("""\
    name: terminal
    models: [tsn_tiny, c3d_tiny]
    datasets: [{name: random, args: {num_classes: 4}}]
    resolutions: [32]
    clip_lengths: [4, 8]
    devices: [cpu, cuda:7]
    metrics: [params, flops, latency]
    benchmark: {warmup: 1, repeats: 3, warmup_s: 0, min_time_s: 0}
    """)


@pytest.mark.skipif(torch.cuda.device_count() > 7, reason="needs a machine without a cuda:7")
def test_skips_are_grouped_and_the_finished_runs_are_tabled(tmp_path):
    suite = tmp_path / "suite.yaml"
    suite.write_text(SUITE)
    result = CliRunner().invoke(app, ["run", str(suite), "--output", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    grouped = [line for line in lines if "skipped:" in line]
    assert len(grouped) == 1 and grouped[0].startswith("4 runs on cuda:7 skipped: ")
    assert not any(": skipped" in line for line in lines)  # no line per skipped run
    start = next(i for i, line in enumerate(lines) if "4 finished runs" in line)
    table = "\n".join(lines[start:])
    for header in ("model", "input", "params", "GMACs", "p50 ms"):
        assert header in table
    assert "clips/s" not in table and "top-1" not in table  # not asked for: not shown
    assert table.count("tsn_tiny") == 2 and "32px × 8" in table
    assert lines[-1].startswith("report: ") and lines.index(lines[-1]) > start
