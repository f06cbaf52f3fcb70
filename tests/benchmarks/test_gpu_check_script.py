"""scripts/gpu_check.py cannot run here (no GPU): it imports cleanly, exits 2 with a clear message when
there is no CUDA device, and its checks flag what they should (tested on recorded-style figures)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "gpu_check.py"


@pytest.fixture(scope="module")
def gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_check"] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)  # import-clean: nothing runs, nothing touches CUDA
        yield module
    finally:
        sys.modules.pop("gpu_check", None)


def test_without_a_gpu_it_exits_2_with_a_clear_message(tmp_path):
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path / "out")], capture_output=True,
                          text=True, env=env, timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert "gpu_check: no CUDA device" in proc.stderr and "needs a GPU" in proc.stderr
    assert not (tmp_path / "out").exists()  # nothing written


def test_main_returns_2_when_cuda_is_unavailable(gpu_check, monkeypatch, tmp_path, capsys):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert gpu_check.main(["--out", str(tmp_path)]) == 2
    assert "no CUDA device" in capsys.readouterr().err


def test_arguments(gpu_check, tmp_path):
    args = gpu_check.parse_args(["--out", str(tmp_path), "--models", "r3d_18, timesformer_b",
                                 "--batch-sizes", "8,auto", "--precisions", "bf16"])
    assert args.models == ["r3d_18", "timesformer_b"] and args.batch_sizes == [8, "auto"]
    with pytest.raises(SystemExit) as e:
        gpu_check.parse_args(["--out", str(tmp_path), "--batch-sizes", "eight"])
    assert e.value.code == 2


def test_the_checks_flag_disagreement(gpu_check):
    detail = {"inference_s": {"median": 0.0102, "cuda_event": {"median": 0.0100}}}
    assert gpu_check.timing_check("r", detail, 0.05).ok
    detail["inference_s"]["median"] = 0.0110
    assert gpu_check.timing_check("r", detail, 0.05).ok is False
    assert gpu_check.timing_check("r", {"inference_s": {"median": 0.01}}, 0.05).ok is False

    assert gpu_check.memory_check("r", 1000.0, 1000 * gpu_check.MIB, 0.01).ok
    assert gpu_check.memory_check("r", 1030.0, 1000 * gpu_check.MIB, 0.01).ok is False
    assert gpu_check.memory_check("r", 10.5, 10 * gpu_check.MIB, 0.01).ok  # within the 1 MiB floor
    assert gpu_check.memory_check("r", None, 10, 0.01).ok is False

    assert gpu_check.mfu_check("r", "r3d_18", "bf16", 0.25, 0.01).ok
    assert gpu_check.mfu_check("r", "r3d_18", "bf16", 0.001, 0.01).ok is False  # implausibly low
    assert gpu_check.mfu_check("r", "x3d_m", "fp32", 0.001, 0.01).ok  # only r3d_18 bf16 has a floor
    assert gpu_check.mfu_check("r", "x3d_m", "fp32", 1.2, 0.01).ok is False  # over 100%
    assert gpu_check.mfu_check("r", "r3d_18", "bf16", None, 0.01).ok is None  # unknown GPU: not applicable


def test_the_table_shows_failures(gpu_check):
    rows = [{"run": "r3d_18 bf16 bs=8", "input": "16x112x112", "batch_size_run": 8, "status": "ok",
             "metrics": {"throughput_clips_s": 900.0, "peak_mem_mb": 500.0, "mfu": 0.3},
             "inference_s": 0.0089, "cuda_event_s": 0.0088, "independent_peak_mib": 500.0}]
    checks = [gpu_check.Check("r3d_18 bf16 bs=8", "timing", True, ""),
              gpu_check.Check("r3d_18 bf16 bs=8", "memory", False, "off by 30 MiB"),
              gpu_check.Check("r3d_18 bf16 bs=8", "mfu", True, "")]
    text = gpu_check.table(rows, checks)
    assert "FAIL" in text and "off by 30 MiB" in text and "30.0%" in text


def test_the_energy_checks_flag_what_they_should(gpu_check):
    agree = gpu_check.energy_agreement_check("r3d_18 energy", 103.0, 100.0, 0.10)
    assert agree.ok and "+3.0%" in agree.detail
    assert not gpu_check.energy_agreement_check("r", 125.0, 100.0, 0.10).ok
    assert gpu_check.energy_agreement_check("r", None, 100.0, 0.10).ok is False
    assert gpu_check.energy_scaling_check("r", 0.9, 0.2).ok
    assert not gpu_check.energy_scaling_check("r", 0.2, 0.3).ok
    assert gpu_check.energy_scaling_check("r", None, 0.3).ok is False
    args = gpu_check.parse_args(["--out", "x", "--energy-models", ""])
    assert args.energy_models == [] and args.energy_tolerance == 0.10


def test_the_runtime_verdicts(gpu_check):
    ok = gpu_check.runtime_verdict("r3d_18 export fp32", "ok", None, 100.0)
    assert ok.ok is True and "100.0%" in ok.detail
    absent = gpu_check.runtime_verdict("r3d_18 tensorrt fp32", "skipped", "pip install torch-tensorrt", None)
    assert absent.ok is None and "torch-tensorrt" in absent.detail  # reported, not failed
    assert gpu_check.runtime_verdict("x", "unsupported", "UserError: ...", None).ok is None
    assert gpu_check.runtime_verdict("x", "mismatch", "top-1 agrees on 50.0%", 50.0).ok is False
    assert gpu_check.runtime_verdict("x", "failed", "RuntimeError: bad binding", None).ok is False


def test_the_runtime_table_shows_the_speedup_over_eager(gpu_check):
    rows = [{"run": "r3d_18 eager fp32", "status": "ok", "error": None, "metrics": {"throughput_clips_s": 100.0}},
            {"run": "r3d_18 export fp32", "status": "ok", "error": None,
             "metrics": {"throughput_clips_s": 250.0, "parity_top1_agree": 100.0, "export_s": 42.0}},
            {"run": "r3d_18 tensorrt fp32", "status": "skipped", "error": "pip install torch-tensorrt", "metrics": {}}]
    text = gpu_check.runtime_table(rows)
    assert "2.50x" in text and "42.0" in text and "pip install torch-tensorrt" in text
    args = gpu_check.parse_args(["--out", "x", "--runtimes", "export, tensorrt", "--runtime-models", "x3d_xs"])
    assert args.runtimes == ["export", "tensorrt"] and args.runtime_models == ["x3d_xs"]
