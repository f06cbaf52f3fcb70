"""`vidbench compare`, `vidbench results --format parquet` and `vidbench report`, on synthetic stores."""

from __future__ import annotations

import io
import re
import sqlite3

import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.report.synthetic import write_store
from vidbench.cli import app
from vidbench.report.compare import HIGHER_IS_BETTER, LOWER_IS_BETTER, compare_folders, relative_change
from vidbench.store import METRIC_COLUMNS, STORE_NAME

runner = CliRunner()
VARIANTS = ("tsn_tiny", "c3d_tiny")


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def pair(tmp_path):
    """Two folders holding the same 8 runs with the same figures."""
    a, b = tmp_path / "a", tmp_path / "b"
    for folder in (a, b):
        write_store(folder, variants=VARIANTS, problems=False)
    return a, b


def scale(folder, column: str, factor: float, where: str = "rowid = 1") -> None:
    with sqlite3.connect(folder / STORE_NAME) as conn:
        conn.execute(f"UPDATE runs SET {column} = {column} * ? WHERE {where}", (factor,))


def test_every_metric_has_a_direction():
    assert set(METRIC_COLUMNS) <= HIGHER_IS_BETTER | LOWER_IS_BETTER
    assert not HIGHER_IS_BETTER & LOWER_IS_BETTER
    assert {"throughput_clips_s", "top1", "top5", "train_throughput_clips_s"} <= HIGHER_IS_BETTER
    assert {"latency_ms_p50", "latency_ms_p90", "peak_mem_mb", "train_peak_mem_mb", "gmacs"} <= LOWER_IS_BETTER


def test_identical_folders_have_no_regression(pair):
    result = compare_folders(*pair)
    assert result.matched == 8 and result.only_a == result.only_b == 0
    assert result.regression_count == 0
    assert (result.rows["change_pct"] == 0).all()
    assert invoke("compare", *pair).exit_code == 0


@pytest.mark.parametrize(("column", "factor", "regressed"), [
    ("throughput_clips_s", 0.8, True),  # slower: worse
    ("throughput_clips_s", 1.2, False),  # faster: better
    ("top1", 0.9, True),
    ("top1", 1.1, False),
    ("latency_ms_p50", 1.2, True),  # slower: worse
    ("latency_ms_p50", 0.8, False),
    ("peak_mem_mb", 1.2, True),
    ("peak_mem_mb", 0.5, False),
    ("latency_ms_p90", 1.04, False),  # within the 5% threshold
])
def test_the_direction_of_each_metric(pair, column, factor, regressed):
    """The threshold rule alone (--no-stats): these synthetic stores hold no samples and one seed."""
    a, b = pair
    scale(b, column, factor)
    result = compare_folders(a, b, threshold_pct=5.0, stats=False)
    row = result.rows[(result.rows["metric"] == column) & (result.rows["change_pct"] != 0)].iloc[0]
    assert row["change_pct"] == pytest.approx((factor - 1) * 100)
    assert bool(row["regression"]) is regressed
    assert result.regression_count == int(regressed)
    outcome = invoke("compare", a, b, "--threshold", "5", "--no-stats")
    assert outcome.exit_code == (1 if regressed else 0), outcome.output
    assert ("REGRESSION" in outcome.stdout) is regressed


def test_threshold_decides(pair):
    a, b = pair
    scale(b, "throughput_clips_s", 0.9)
    assert invoke("compare", a, b, "--threshold", "5", "--no-stats").exit_code == 1
    assert invoke("compare", a, b, "--threshold", "15", "--no-stats").exit_code == 0


def test_a_run_that_failed_in_b_is_a_regression(pair):
    a, b = pair
    with sqlite3.connect(b / STORE_NAME) as conn:
        conn.execute("UPDATE runs SET status = 'failed', error = 'RuntimeError: boom' WHERE rowid = 2")
    result = compare_folders(a, b)
    assert result.matched == 7 and len(result.status_changes) == 1 and result.regression_count == 1
    outcome = invoke("compare", a, b, "--format", "md")
    assert outcome.exit_code == 1
    assert "RuntimeError: boom" in outcome.stdout


def test_runs_in_one_folder_only_are_counted_not_compared(pair, tmp_path):
    a, _ = pair
    c = tmp_path / "c"
    write_store(c, variants=("tsn_tiny", "lrcn_tiny"), problems=False)
    result = compare_folders(a, c)
    assert result.matched == 4 and result.only_a == 4 and result.only_b == 4
    assert "4 runs matched, 4 only in A, 4 only in B" in invoke("compare", a, c).stderr


def test_relative_change():
    assert relative_change(100, 90) == pytest.approx(-10)
    assert relative_change(0, 0) == 0
    assert relative_change(0, 1) == float("inf")


def test_compare_formats(pair):
    a, b = pair
    scale(b, "peak_mem_mb", 2.0)  # a counted figure: a regression with or without statistics
    md = invoke("compare", a, b, "--format", "md")
    assert md.exit_code == 1
    lines = [line for line in md.stdout.splitlines() if line.startswith("| ")]
    assert lines[0].startswith("| model | args | dataset")
    assert sum("REGRESSION" in line for line in lines) == 1
    csv = invoke("compare", a, b, "--format", "csv")
    assert csv.exit_code == 1 and csv.stdout.splitlines()[0].startswith("run_id,model,model_args")
    html = invoke("compare", a, b, "--format", "html")
    assert html.exit_code == 1
    page = html.stdout
    assert page.startswith("<!doctype html>") and page.count('class="regression"') == 1
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page)
    assert "+100.0%" in page


def test_compare_html_to_a_file(pair, tmp_path):
    out = tmp_path / "cmp.html"
    result = invoke("compare", *pair, "--format", "html", "--output", out)
    assert result.exit_code == 0 and out.read_text().startswith("<!doctype html>")


@pytest.mark.parametrize("args", [("--format", "pdf"), ("--threshold", "-1"), ("--output", "x.txt")])
def test_compare_usage_errors_exit_2(pair, args):
    result = invoke("compare", *pair, *args)
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_results_parquet_round_trip(pair, tmp_path):
    pytest.importorskip("pyarrow", reason="pyarrow is optional: --format parquet needs it")
    a, _ = pair
    out = tmp_path / "runs.parquet"
    result = invoke("results", a, "--format", "parquet", "--output", out)
    assert result.exit_code == 0, result.output
    back = pd.read_parquet(out)
    csv_rows = pd.read_csv(io.StringIO(invoke("results", a, "--format", "csv").stdout))
    assert list(back.columns) == list(csv_rows.columns)
    assert sorted(back["run_id"]) == sorted(csv_rows["run_id"])
    assert back["throughput_clips_s"].sum() == pytest.approx(csv_rows["throughput_clips_s"].sum())


def test_results_parquet_without_pyarrow_is_one_clear_line(pair, tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pyarrow(name, *args, **kwargs):
        if name == "pyarrow" or name.startswith("pyarrow."):
            raise ImportError("No module named 'pyarrow'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    result = invoke("results", pair[0], "--format", "parquet", "--output", tmp_path / "x.parquet")
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "pyarrow" in lines[0] and "pip install pyarrow" in lines[0]
    assert not (tmp_path / "x.parquet").exists()


def test_results_parquet_needs_an_output(pair):
    result = invoke("results", pair[0], "--format", "parquet")
    assert result.exit_code == 2 and "--output" in result.stderr


def test_results_csv_to_a_file(pair, tmp_path):
    out = tmp_path / "runs.csv"
    assert invoke("results", pair[0], "--format", "csv", "-o", out).exit_code == 0
    assert out.read_text() == invoke("results", pair[0], "--format", "csv").stdout
