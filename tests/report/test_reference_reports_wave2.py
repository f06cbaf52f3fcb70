"""The committed reference reports of suites/ablation-seeds.yaml and suites/transfer*.yaml hold every run
of their suites, ok, and their CSVs are `vidbench results` of their stores."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vidbench.cli import app
from vidbench.suite import expand_suite, load_suite

ROOT = Path(__file__).resolve().parents[2]
REPORTS = [("ablation-seeds.yaml", "reports/ablation-seeds-cpu"), ("transfer-pretrain.yaml",
           "reports/transfer-cpu/pretrain"), ("transfer.yaml", "reports/transfer-cpu")]


@pytest.mark.parametrize(("suite", "folder"), REPORTS)
def test_the_report_holds_every_run_of_its_suite(suite, folder):
    path = ROOT / "suites" / suite
    specs = expand_suite(load_suite(path), path.parent)
    rows = list(csv.DictReader((ROOT / folder / "results.csv").open()))
    assert sorted(r["run_id"] for r in rows) == sorted(s.run_id for s in specs)
    assert all(r["status"] == "ok" and r["top1"] for r in rows)
    result = CliRunner().invoke(app, ["results", str(ROOT / folder), "--format", "csv"])
    assert list(csv.DictReader(io.StringIO(result.output))) == rows
    assert (ROOT / folder / "report.html").stat().st_size > 0


def test_the_transfer_report_shows_what_pretraining_buys():
    from vidbench.report.frame import load_run_folder

    frame = load_run_folder(ROOT / "reports/transfer-cpu", details=False).frame
    c3d = frame[frame["model"] == "c3d_tiny"]
    protocol = c3d["spec"].map(lambda spec: spec["train"]["protocol"])
    pretrained = c3d["model_args"].str.contains("weights")
    assert (c3d[pretrained]["top1"] >= 85).all()  # every protocol on the pretrained backbone
    assert (c3d[~pretrained & (protocol == "linear_probe")]["top1"] <= 50).all()  # a random one cannot be probed
    report = (ROOT / "reports/transfer-cpu/report.md").read_text()
    assert "## Accuracy while training" in report and "plots/curves-synthetic-motion-cpu.png" in report


def test_the_choose_report_holds_every_run_and_opens_with_the_published_chart():
    path = ROOT / "suites" / "choose.yaml"
    specs = expand_suite(load_suite(path), path.parent)
    rows = list(csv.DictReader((ROOT / "reports/choose-cpu/results.csv").open()))
    assert sorted(r["run_id"] for r in rows) == sorted(s.run_id for s in specs)
    cpu = [r for r in rows if r["device"] == "cpu"]
    assert {r["status"] for r in rows if r["device"] == "cuda"} <= {"skipped", "ok"}
    ok = [r for r in cpu if r["status"] == "ok"]
    # every run at its whole published protocol fits 24 GB, tsn_resnet50's 250 single frames included (issue 24)
    assert len(ok) == len(cpu) and all(r["videos_s"] and r["gmacs_per_video"] for r in ok)
    report = (ROOT / "reports/choose-cpu/report.md").read_text()
    sections = [line for line in report.splitlines() if line.startswith("## ")]
    assert sections[0] == "## Published accuracy × measured cost"
    assert "## Recommendations" not in sections  # a speed-only suite measured no top-1 to recommend by
    published_rows = [line for line in report.splitlines() if line.startswith("| cpu |") and "@" in line]
    assert len(published_rows) == 32 and all("| yes: " in r for r in published_rows)


def test_the_deploy_report_holds_every_run_and_names_a_runtime_per_model():
    path = ROOT / "suites" / "deploy.yaml"
    specs = expand_suite(load_suite(path), path.parent)
    rows = list(csv.DictReader((ROOT / "reports/deploy-cpu/results.csv").open()))
    assert sorted(r["run_id"] for r in rows) == sorted(s.run_id for s in specs)
    result = CliRunner().invoke(app, ["results", str(ROOT / "reports/deploy-cpu"), "--format", "csv"])
    assert list(csv.DictReader(io.StringIO(result.output))) == rows
    cpu = [r for r in rows if r["device"] == "cpu"]
    assert {r["runtime"] for r in cpu} == {"eager", "inductor", "export", "onnxruntime", "openvino"}
    assert {r["status"] for r in rows if r["device"] == "cuda"} <= {"skipped", "ok"}
    assert {r["status"] for r in cpu} <= {"ok", "unsupported", "mismatch"}  # a converter's refusal is a finding
    converted = [r for r in cpu if r["runtime"] in ("export", "onnxruntime", "openvino") and r["status"] == "ok"]
    assert converted and all(float(r["parity_top1_agree"]) >= 99 and float(r["export_s"]) > 0 for r in converted)
    report = (ROOT / "reports/deploy-cpu/report.md").read_text()
    assert "## Runtimes" in report and "The fastest runtime that keeps eager's answers, per model" in report
