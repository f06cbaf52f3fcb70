"""The committed reference report of suites/ablation.yaml (issue 7) is whole: every run of the suite is
stored once and ok with every metric it asked for, and the CSV beside it is `vidbench results` of that store."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from typer.testing import CliRunner

from vidbench.cli import app
from vidbench.suite import expand_suite, load_suite

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "reports" / "ablation-cpu"
METRIC_COLUMNS = {"params": ["params"], "flops": ["gmacs", "gflops"], "memory": ["peak_mem_mb", "train_peak_mem_mb"],
                  "latency": ["latency_ms_p50", "latency_ms_p90"], "throughput": ["throughput_clips_s"],
                  "train_throughput": ["train_throughput_clips_s"], "accuracy": ["top1"]}


def test_reference_report_holds_every_run_of_the_suite_with_every_metric():
    specs = expand_suite(load_suite(ROOT / "suites" / "ablation.yaml"))
    rows = list(csv.DictReader((REPORT / "results.csv").open()))
    assert sorted(r["run_id"] for r in rows) == sorted(s.run_id for s in specs)
    for row in rows:
        assert row["status"] == "ok", row
        spec = next(s for s in specs if s.run_id == row["run_id"])
        for metric in spec.metrics:
            for column in METRIC_COLUMNS[metric]:
                assert row[column] not in ("", None), (row["run_id"], column)
    for name in ("report.md", "report.html"):
        assert (REPORT / name).stat().st_size > 0
    assert len(list((REPORT / "plots").glob("*.png"))) >= 3


def test_reference_csv_is_what_vidbench_results_prints_from_the_store():
    result = CliRunner().invoke(app, ["results", str(REPORT), "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert list(csv.DictReader(io.StringIO(result.output))) == list(csv.DictReader((REPORT / "results.csv").open()))
