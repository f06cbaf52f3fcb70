"""The `vidbench` command, end to end, through typer's CliRunner (and once as a real subprocess)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from torchvision.models import video as tv_video
from typer.testing import CliRunner

from vidbench.cli import app
from vidbench.models import FAMILIES, create_model, list_models

runner = CliRunner()

TINY_SUITE = textwrap.dedent("""\
    name: tiny
    seed: 0
    models: [tsn_tiny, c3d_tiny]
    datasets:
      - name: synthetic-motion
        args: {num_classes: 6, train_size: 16, val_size: 8}
    resolutions: [32]
    clip_lengths: [4]
    batch_sizes: [2]
    devices: [cpu, cuda]
    metrics: [params, flops, memory, latency, throughput, train_throughput, accuracy]
    train: {epochs: 1, batch_size: 4}
    benchmark: {warmup: 1, repeats: 3}
    limits: {timeout_s: 300}
    """)
METRIC_COLUMNS = ["params", "gmacs", "gflops", "peak_mem_mb", "latency_ms_p50", "latency_ms_p90",
                  "throughput_clips_s", "train_throughput_clips_s", "train_peak_mem_mb", "top1", "top5"]
CUDA_STATUS = "ok" if torch.cuda.is_available() else "skipped"


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def assert_usage_error(result, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """One real `vidbench run` of a tiny suite, shared by the tests that read its folder."""
    root = tmp_path_factory.mktemp("cli")
    (root / "tiny.yaml").write_text(TINY_SUITE)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        result = invoke("run", "tiny.yaml")
        folder = root / "reports" / "tiny"
        csv_text = invoke("results", folder, "--format", "csv").stdout
    return root, folder, result, csv_text


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


# -- vidbench run -----------------------------------------------------------------------------------
def test_run_end_to_end_writes_store_and_reports(tiny_run):
    root, folder, result, _ = tiny_run
    assert result.exit_code == 0, result.output
    assert "4 runs, 0 already finished, 4 to run" in result.output
    # the first finished run (after the cuda skips) has nothing left to estimate beside it but the second
    lines = [line for line in result.output.splitlines() if line.startswith("[")]
    assert "ETA" in lines[0] and "ETA" not in lines[-1], lines
    for name in ("results.sqlite", "report.html", "report.md"):
        assert (folder / name).is_file(), name
    assert list((folder / "plots").glob("*.png"))
    assert "Traceback" not in result.output


def test_every_ok_run_has_every_requested_metric(tiny_run):
    _, _, _, csv_text = tiny_run
    rows = csv_rows(csv_text)
    assert len(rows) == 4
    assert {(r["model"], r["device"]) for r in rows} == {(m, d) for m in ("tsn_tiny", "c3d_tiny")
                                                         for d in ("cpu", "cuda")}
    cpu = [r for r in rows if r["device"] == "cpu"]
    assert all(r["status"] == "ok" for r in cpu), cpu
    for r in cpu:
        missing = [c for c in METRIC_COLUMNS if r[c] == ""]
        assert not missing, f"{r['model']}: empty {missing}"
        assert int(r["params"]) == sum(p.numel() for p in create_model(r["model"], num_classes=6).parameters())
        assert float(r["gflops"]) == pytest.approx(2 * float(r["gmacs"]))
        assert float(r["latency_ms_p50"]) <= float(r["latency_ms_p90"])
        # README: throughput is the batch size over the median time of the latency samples.
        assert float(r["throughput_clips_s"]) == pytest.approx(2 * 1000 / float(r["latency_ms_p50"]), rel=1e-6)
        assert float(r["peak_mem_mb"]) > 0 and float(r["train_peak_mem_mb"]) > float(r["peak_mem_mb"])
        assert 0 <= float(r["top1"]) <= float(r["top5"]) <= 100
        assert (r["resolution"], r["clip_length"], r["batch_size"]) == ("32", "4", "2")
        assert r["family"] == "cnn" and r["arch"] in ("tsn", "c3d")
    for r in rows:
        if r["device"] == "cuda":
            assert r["status"] == CUDA_STATUS
            if CUDA_STATUS == "skipped":
                assert "CUDA" in r["error"]
                assert all(r[c] == "" for c in METRIC_COLUMNS), "a metric not measured is empty, never 0"


def test_running_again_starts_nothing_and_keeps_the_figures(tiny_run, monkeypatch):
    root, folder, _, csv_before = tiny_run
    monkeypatch.chdir(root)
    again = invoke("run", "tiny.yaml", "--json")
    assert again.exit_code == 0, again.output
    outcome = json.loads(again.stdout)
    assert outcome["executed"] == 0
    assert sorted(outcome["runs"].values()) == sorted(["ok", "ok", CUDA_STATUS, CUDA_STATUS])
    assert Path(outcome["output"]).resolve() == folder.resolve()
    assert invoke("results", folder, "--format", "csv").stdout == csv_before

    plain = invoke("run", "tiny.yaml")
    assert plain.exit_code == 0
    assert "4 already finished, 0 to run" in plain.output


def test_a_run_with_nothing_to_do_renders_nothing_until_the_suite_changes(tiny_run, monkeypatch):
    root, folder, _, _ = tiny_run
    monkeypatch.chdir(root)
    assert invoke("run", "tiny.yaml").exit_code == 0  # whatever ran before in this folder, now rendered
    stamps = {p.name: p.stat().st_mtime_ns for p in (folder / "report.md", folder / "report.html")}
    assert invoke("run", "tiny.yaml").exit_code == 0
    assert {p.name: p.stat().st_mtime_ns for p in (folder / "report.md", folder / "report.html")} == stamps
    suite = root / "tiny.yaml"
    suite.write_text(suite.read_text() + "# a comment: the suite file changed, so its Suite section does\n")
    assert invoke("run", "tiny.yaml").exit_code == 0
    assert (folder / "report.md").stat().st_mtime_ns != stamps["report.md"]
    assert "# a comment: the suite file changed" in (folder / "report.md").read_text()
    (folder / "report.html").unlink()
    assert invoke("run", "tiny.yaml").exit_code == 0 and (folder / "report.html").is_file()


def test_dry_run_lists_states_and_writes_nothing(tiny_run, monkeypatch):
    root, folder, _, _ = tiny_run
    monkeypatch.chdir(root)
    done = invoke("run", "tiny.yaml", "--dry-run", "--json")
    assert done.exit_code == 0, done.output
    states = {(r["model"], r["device"]): r["state"] for r in json.loads(done.stdout)}
    assert states[("tsn_tiny", "cpu")] == "ok" and states[("c3d_tiny", "cpu")] == "ok"
    assert states[("tsn_tiny", "cuda")] == CUDA_STATUS

    fresh = root / "fresh-output"
    pending = invoke("run", "tiny.yaml", "--dry-run", "--output", fresh)
    assert pending.exit_code == 0, pending.output
    assert pending.output.count("pending") == (2 if CUDA_STATUS == "skipped" else 4)
    assert "tsn_tiny" in pending.output and "c3d_tiny" in pending.output
    assert not fresh.exists()


def test_dry_run_on_a_fresh_suite_creates_no_folder(in_tmp):
    (in_tmp / "s.yaml").write_text(TINY_SUITE)
    result = invoke("run", "s.yaml", "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert len(plan) == 4 and {p["state"] for p in plan if p["device"] == "cpu"} == {"pending"}
    if CUDA_STATUS == "skipped":
        assert all(p["state"].startswith("skip (") and "CUDA" in p["state"] for p in plan if p["device"] == "cuda")
    assert not (in_tmp / "reports").exists()


def test_a_typo_in_the_suite_exits_2_with_one_line(in_tmp):
    (in_tmp / "typo.yaml").write_text(TINY_SUITE.replace("resolutions:", "resolutons:"))
    result = invoke("run", "typo.yaml")
    assert_usage_error(result, "resolutons", "did you mean 'resolutions'", "typo.yaml")
    assert not (in_tmp / "reports").exists()


def test_an_unknown_model_exits_2(in_tmp):
    (in_tmp / "unknown.yaml").write_text(TINY_SUITE.replace("c3d_tiny", "c3d_tinny"))
    result = invoke("run", "unknown.yaml")
    assert_usage_error(result, "'c3d_tinny'", "did you mean 'c3d_tiny'")
    assert not (in_tmp / "reports").exists()


def test_an_impossible_combination_exits_2(in_tmp):
    (in_tmp / "bad.yaml").write_text(TINY_SUITE.replace("[tsn_tiny, c3d_tiny]", "[timesformer_tiny]")
                                     .replace("resolutions: [32]", "resolutions: [36]"))
    assert_usage_error(invoke("run", "bad.yaml"), "'timesformer_tiny'", "36")
    assert not (in_tmp / "reports").exists()


def test_error_messages_are_printed_verbatim(in_tmp):
    (in_tmp / "glob.yaml").write_text(TINY_SUITE.replace("[tsn_tiny, c3d_tiny]", '["[xy]*_tiny"]'))
    result = invoke("run", "glob.yaml")
    assert result.exit_code == 2
    assert "'[xy]*_tiny'" in result.stderr


def test_an_output_that_is_a_file_exits_2(in_tmp):
    (in_tmp / "s.yaml").write_text(TINY_SUITE)
    (in_tmp / "taken").write_text("not a folder")
    assert_usage_error(invoke("run", "s.yaml", "--output", "taken"), "taken")
    assert (in_tmp / "taken").read_text() == "not a folder"


def test_bad_executor_and_address_flags_exit_2(in_tmp):
    (in_tmp / "s.yaml").write_text(TINY_SUITE)
    assert_usage_error(invoke("run", "s.yaml", "--executor", "slurm"), "slurm")
    assert_usage_error(invoke("run", "s.yaml", "--address", "ray://x:1"), "--address")
    assert not (in_tmp / "reports").exists()


def test_failed_runs_exit_1_and_plugins_are_read_next_to_the_suite(in_tmp, isolated_registries):
    (in_tmp / "suites").mkdir()
    (in_tmp / "suites" / "broken_model.py").write_text(textwrap.dedent("""\
        import torch.nn as nn
        from vidbench import register_model

        class Broken(nn.Module):
            def forward(self, x):
                raise RuntimeError("this model is broken on purpose")

        @register_model(family="cnn")
        def cli_broken_tiny(num_classes: int = 4):
            return Broken()
        """))
    (in_tmp / "suites" / "fails.yaml").write_text(textwrap.dedent("""\
        name: fails
        plugins: [broken_model.py]
        models: [cli_broken_tiny]
        datasets: [random]
        resolutions: [16]
        clip_lengths: [2]
        metrics: [latency]
        benchmark: {warmup: 1, repeats: 2}
        """))
    result = invoke("run", "suites/fails.yaml", "--output", "out")
    assert result.exit_code == 1, result.output
    (row,) = csv_rows(invoke("results", "out", "--format", "csv").stdout)
    assert row["status"] == "failed"
    assert row["error"] == "RuntimeError: this model is broken on purpose"
    assert (in_tmp / "out" / "report.html").is_file()


# -- vidbench results / report ----------------------------------------------------------------------
def test_results_formats(tiny_run):
    _, folder, _, csv_text = tiny_run
    ids = {r["run_id"] for r in csv_rows(csv_text)}

    as_json = invoke("results", folder, "--format", "json")
    assert as_json.exit_code == 0
    records = json.loads(as_json.stdout)
    assert {r["run_id"] for r in records} == ids
    ok = [r for r in records if r["status"] == "ok"]
    assert all(isinstance(r["params"], int) and isinstance(r["gmacs"], float) for r in ok)
    assert all(r["top1"] is None for r in records if r["status"] == "skipped")

    md = invoke("results", folder, "--format", "md")
    assert md.exit_code == 0
    lines = [line for line in md.stdout.splitlines() if line.startswith("|")]
    assert len(lines) == 2 + len(ids)
    assert all(any(i in line for line in lines) for i in ids)

    table = invoke("results", folder)
    assert table.exit_code == 0
    assert "tsn_tiny" in table.stdout and "c3d_tiny" in table.stdout and "skipped" in table.stdout


def test_results_of_a_folder_without_a_store_exits_2(in_tmp):
    assert_usage_error(invoke("results", in_tmp), "results.sqlite")


def test_report_re_renders_from_the_store(tiny_run):
    _, folder, _, _ = tiny_run
    (folder / "report.html").unlink()
    result = invoke("report", folder, "--format", "html")
    assert result.exit_code == 0, result.output
    assert (folder / "report.html").is_file()
    assert "<svg" in (folder / "report.html").read_text()
    assert_usage_error(invoke("report", folder, "--format", "pdf"), "pdf")


# -- registries and environment -----------------------------------------------------------------------
def test_models_csv_lists_the_registry_with_torchvision_gmacs(models_cache):
    result = invoke("models", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in csv_rows(result.stdout)}
    assert sorted(rows) == list_models()
    r3d = rows["r3d_18"]
    meta = tv_video.R3D_18_Weights.KINETICS400_V1.meta
    assert float(r3d["gmacs"]) == pytest.approx(meta["_ops"], abs=0.001)  # 40.697 in torchvision's metadata
    assert int(r3d["params"]) == meta["num_params"]
    assert (r3d["family"], r3d["arch"], r3d["input"]) == ("cnn", "r3d", "16x112x112")


def test_models_filters_and_formats(models_cache):
    result = invoke("models", "*_tiny", "--family", "cnn", "--format", "json")
    assert result.exit_code == 0
    names = [r["name"] for r in json.loads(result.stdout)]
    assert names == list_models("*_tiny", family="cnn")
    table = invoke("models", "lrcn_*")
    assert table.exit_code == 0 and "lrcn_tiny" in table.stdout
    assert_usage_error(invoke("models", "--family", "rnn"), "rnn", *FAMILIES)
    assert_usage_error(invoke("models", "zzz*"), "zzz*")


def test_datasets_lists_the_registry():
    result = invoke("datasets", "--format", "json")
    assert result.exit_code == 0
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert {"synthetic-motion", "synthetic-appearance", "random"} <= set(rows)
    # each dataset's args with their defaults, as a suite's `datasets: [{name, args}]` sets them
    assert "num_classes=4" in rows["synthetic-motion"]["args"] and "speed=1.0" in rows["synthetic-motion"]["args"]
    assert "root=required" in rows["video-folder"]["args"] and "clip_length" not in rows["video-folder"]["args"]
    assert "num_classes=4" in invoke("datasets").stdout


def test_env_json_has_the_torch_version_the_devices_and_the_runtimes():
    from importlib import metadata
    from importlib.util import find_spec

    result = invoke("env", "--json")
    assert result.exit_code == 0
    env = json.loads(result.stdout)
    assert env["torch"] == torch.__version__
    assert env["cpu_count"] >= 1 and "decoders" in env
    assert env["devices"]["cpu"].startswith("available; ")
    if not torch.cuda.is_available():
        assert env["devices"]["cuda"] == ("not available: CUDA is not available on this machine "
                                          "(torch.cuda.is_available() is False)")
    runtimes = env["runtimes"]
    assert runtimes["eager"] == runtimes["inductor"] == f"torch {metadata.version('torch')}"
    for runtime, package in (("onnxruntime", "onnxruntime"), ("openvino", "openvino")):
        if find_spec(package) is not None:
            assert runtimes[runtime].startswith(f"{package} {metadata.version(package)}"), runtimes[runtime]
    if find_spec("torch_tensorrt") is None:
        assert runtimes["tensorrt"] == "not installed (torch_tensorrt): pip install torch-tensorrt (GPU only)"
    plain = invoke("env")
    assert plain.exit_code == 0 and torch.__version__ in plain.stdout and "onnxruntime:" in plain.stdout


def test_python_m_vidbench_help():
    result = subprocess.run([sys.executable, "-m", "vidbench", "--help"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    for command in ("run", "models", "datasets", "results", "report", "env"):
        assert command in result.stdout


def test_env_says_whether_the_cpu_runs_bf16_and_fp16_natively():
    from vidbench.devices import cpu_precision_features, cpu_precision_support

    epyc = "processor\t: 0\nflags\t\t: fpu sse avx avx2 fma\n"  # issue 30's AVX2-only AMD EPYC
    sapphire = "flags\t\t: avx2 avx512f avx512_vnni avx512_bf16 amx_bf16 amx_tile amx_int8 avx512_fp16\n"
    assert cpu_precision_features(epyc) == ()
    assert cpu_precision_support(()) == {"bf16": "emulated", "fp16": "emulated"}
    features = cpu_precision_features(sapphire)
    assert features == ("avx512_bf16", "amx_bf16", "amx_tile", "amx_int8", "avx512_vnni", "avx512_fp16")
    assert cpu_precision_support(features) == {"bf16": "native", "fp16": "native"}
    assert cpu_precision_support(None) == {"bf16": "unknown", "fp16": "unknown"}
    cpu = json.loads(invoke("env", "--json").stdout)["devices"]["cpu"]
    assert cpu.startswith("available; bf16 ") and "fp16 " in cpu, cpu
