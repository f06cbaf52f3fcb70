"""`vidbench results DIR --to mlflow` logs each run as an MLflow run (axes as params, figures as metrics) under
a parent run holding the reports, into a local `file:` store (no server); again, only new runs; without
mlflow installed, one line naming the extra and exit 2."""

from __future__ import annotations

import builtins

import pytest
from typer.testing import CliRunner

from tests.report.synthetic import write_timed
from vidbench.cli import app

SAMPLES = [1e-3, 1.1e-3, 0.9e-3]


@pytest.fixture
def folder(tmp_path):
    write_timed(tmp_path / "runs", [({}, SAMPLES, {"top1": 50.0}), ({"runtime": "onnxruntime"}, SAMPLES, {})])
    (tmp_path / "runs" / "report.md").write_text("# report\n")
    return tmp_path / "runs"


def test_each_run_is_logged_with_its_axes_figures_and_the_report(folder, tmp_path, monkeypatch):
    mlflow = pytest.importorskip("mlflow")
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 asks for it before writing a file: store
    uri = (tmp_path / "mlruns").as_uri()
    result = CliRunner().invoke(app, ["results", str(folder), "--to", "mlflow", "--tracking-uri", uri])
    assert result.exit_code == 0, result.output
    assert "2 runs logged to MLflow experiment" in result.stderr
    client = mlflow.tracking.MlflowClient(tracking_uri=uri)
    (experiment,) = [e for e in client.search_experiments() if e.name != "Default"]
    runs = client.search_runs([experiment.experiment_id])
    children = [r for r in runs if "vidbench.run_id" in r.data.tags]
    parent = next(r for r in runs if "vidbench.run_id" not in r.data.tags)
    assert sorted(r.data.params["runtime"] for r in children) == ["eager", "onnxruntime"]
    eager = next(r for r in children if r.data.params["runtime"] == "eager")
    assert eager.data.metrics["top1"] == 50.0 and eager.data.metrics["latency_ms_p50"] == pytest.approx(1.0)
    assert eager.data.params["model"] == "tsn_tiny" and eager.data.tags["vidbench.status"] == "ok"
    assert all(r.data.tags["mlflow.parentRunId"] == parent.info.run_id for r in children)
    assert [a.path for a in client.list_artifacts(parent.info.run_id)] == ["report.md"]
    again = CliRunner().invoke(app, ["results", str(folder), "--to", "mlflow", "--tracking-uri", uri])
    assert "0 runs logged" in again.stderr and "(2 logged before)" in again.stderr


def test_without_mlflow_one_line_names_the_extra(folder, monkeypatch):
    real = builtins.__import__

    def no_mlflow(name, *args, **kwargs):
        if name.startswith("mlflow"):
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_mlflow)
    result = CliRunner().invoke(app, ["results", str(folder), "--to", "mlflow"])
    assert result.exit_code == 2 and result.stderr.strip().count("\n") == 0
    assert "pip install vidbench[mlflow]" in result.stderr


def test_mlflows_own_refusal_is_one_line(folder, tmp_path, monkeypatch):
    pytest.importorskip("mlflow")
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "false")
    result = CliRunner().invoke(app, ["results", str(folder), "--to", "mlflow", "--tracking-uri",
                                      (tmp_path / "mlruns").as_uri()])
    if result.exit_code == 0:  # an MLflow that still writes file: stores without asking
        return
    assert result.exit_code == 2 and result.stderr.startswith("error: mlflow: ") and "Traceback" not in result.output


def test_an_unknown_tracker_is_a_usage_error(folder):
    result = CliRunner().invoke(app, ["results", str(folder), "--to", "wandb"])
    assert result.exit_code == 2 and "--to takes mlflow" in result.stderr
