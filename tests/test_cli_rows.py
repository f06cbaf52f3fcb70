"""Every row says what makes it different: runs that differ only in runtime, precision or seed are told
apart by a column in `vidbench results` (table, Markdown), `--aggregate` and the API, and reading a folder
prints no warning (issue 25)."""

from __future__ import annotations

import warnings

import pytest
from typer.testing import CliRunner

from tests.report.synthetic import write_timed
from vidbench.cli import app
from vidbench.report.aggregate import aggregate, aggregate_rows, export_aggregate
from vidbench.report.frame import load_run_folder, varying_axes

SAMPLES = [1e-3, 1.1e-3, 0.9e-3, 1.05e-3]


@pytest.fixture
def folder(tmp_path):
    runs = [({}, SAMPLES, {}), ({"runtime": "onnxruntime"}, SAMPLES, {}), ({"precision": "bf16"}, SAMPLES, {}),
            ({"seed": 1}, SAMPLES, {})]
    write_timed(tmp_path, runs)
    return tmp_path


def test_the_axes_that_vary_are_found(folder):
    frame = load_run_folder(folder).frame
    assert varying_axes(frame) == ["resolution", "clip_length", "batch_size", "device", "precision", "runtime",
                                   "seed"]


@pytest.mark.parametrize("flags", [[], ["--format", "md"], ["--aggregate"], ["--aggregate", "--format", "md"]])
def test_results_show_runtime_precision_and_seed(folder, flags):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pandas' PerformanceWarning among them
        result = CliRunner().invoke(app, ["results", str(folder), *flags])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    out = result.stdout
    assert "onnxruntime" in out and "bf16" in out and "runtime" in out and "precision" in out
    if "--aggregate" not in flags:
        assert "seed" in out


def test_aggregated_rows_are_told_apart_and_the_export_is_whole(folder):
    configs = aggregate(load_run_folder(folder).frame)
    rows = aggregate_rows(configs)
    assert "seed" not in rows.columns and {"runtime", "precision"} <= set(rows.columns)
    keys = rows[["model", "runtime", "precision"]].astype(str).agg("|".join, axis=1)
    assert keys.is_unique
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        export = export_aggregate(configs)
    assert list(export.columns[:3]) == ["model", "family", "arch"] and "seeds" in export.columns
    assert sorted(export["replicates"]) == [1, 1, 2]


def test_version():
    import vidbench

    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"vidbench {vidbench.__version__}"
