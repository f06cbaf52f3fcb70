"""Every deployment runtime alike (export, onnxruntime, openvino): converted once with a dynamic batch,
timed like eager, parity with eager on the same clips, accuracy evaluated through the runtime, resident
memory measured as for eager, a model the converter cannot take stored as `unsupported`, parity below the
floor as `mismatch`, and the refusals and the missing package before any run."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import vidbench.backends.exported as exported
import vidbench.backends.parity as parity
from tests.conftest import make_spec
from vidbench.backends import BACKENDS, backend_for
from vidbench.admission import admit_suite
from vidbench.errors import SuiteError
from vidbench.models import create_model, register_model
from vidbench.run.runner import execute
from vidbench.run.sweep import plan_runs
from vidbench.suite import expand_suite, parse_suite

PACKAGE = {"export": "torch", "onnxruntime": "onnxruntime", "openvino": "openvino"}
RUNTIMES = [pytest.param(rt, marks=pytest.mark.skipif(importlib.util.find_spec(pkg) is None, reason=f"no {pkg}"))
            for rt, pkg in PACKAGE.items()]
SPEED = ("params", "flops", "latency", "throughput", "memory")


# A whole run through AOTInductor compiles C++ for ~30 s: export's full run is `slow`. The default run keeps its
# conversion of a small model (test_the_converted_model_is_the_model_at_any_batch[export]) and the whole run of
# the exported runtimes' shared path (ExportedBackend) through onnxruntime and openvino.
FULL_RUN_RUNTIMES = [pytest.param(*p.values, marks=[*p.marks, *([pytest.mark.slow] if p.values[0] == "export" else [])])
                     for p in RUNTIMES]


@pytest.mark.parametrize("runtime", FULL_RUN_RUNTIMES)
def test_a_run_through_the_runtime_keeps_eagers_answers(runtime):
    spec = make_spec("c3d_tiny", runtime=runtime, metrics=SPEED, batch_size=1,
                     dataset_args={"num_classes": 4, "test_clips": 3})
    result = execute(spec)
    m = result.metrics
    assert result.status == "ok", result.error
    assert m["export_s"] > 0 and m["artifact_mb"] > 0.6  # c3d_tiny's 182k fp32 weights (0.69 MiB) are in it
    assert m["parity_top1_agree"] == 100.0 and m["parity_max_abs"] < 1e-4
    assert m["latency_ms_p50"] > 0 and m["views"] == 3 and m["videos_s"] > 0  # 3 views in one call: dynamic batch
    assert 0.5 < m["infer_rss_mb"] < 500  # what the run adds: 0.7 MiB of weights, the runtime's buffers
    assert "peak_mem_mb" not in m  # the runtime's buffers are invisible to PyTorch: no tensor count, no guess


def small_video_model() -> torch.nn.Module:
    """A 3D convolution, pooling and a linear head: what a video classifier's conversion must carry, in as
    few kernels as can show it (AOTInductor compiles every kernel cold, in C++: tsn_tiny took 30 s)."""
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv3d(3, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool3d(1),
                               torch.nn.Flatten(), torch.nn.Linear(8, 4)).eval()


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_the_converted_model_is_the_model_at_any_batch(runtime):
    spec = make_spec("tsn_tiny", runtime=runtime, metrics=("latency",), batch_size=1)
    model = small_video_model()
    converted = backend_for(spec).prepare(model, spec).model
    for batch in (1, 5):
        clips = torch.randn(batch, 3, 4, 16, 16)
        with torch.no_grad():
            assert torch.allclose(converted(clips), model(clips), atol=1e-5)


ACCURACY_RUNS = """
import json, sys
from tests.conftest import make_spec
from vidbench.run.runner import execute
data = {"num_classes": 4, "train_size": 8, "val_size": 6}
out = {"eager_top1": execute(make_spec("c3d_tiny", metrics=("accuracy",), dataset_args=data)).metrics["top1"]}
for runtime in sys.argv[1:]:
    run = execute(make_spec("c3d_tiny", runtime=runtime, metrics=("accuracy",), dataset_args=data))
    out[runtime] = {"status": run.status, "error": run.error, "metrics": run.metrics,
                    "parity_clips": run.detail.get("parity_clips")}
print(json.dumps(out))
"""
CONVERTED = [rt for rt, pkg in PACKAGE.items() if rt != "export" and importlib.util.find_spec(pkg) is not None]


@pytest.mark.skipif(not CONVERTED, reason="neither onnxruntime nor openvino")
def test_accuracy_is_evaluated_through_the_runtime_with_parity_on_the_validation_clips():
    # trained in a process of its own, as a sweep's worker does (autograd's threads in the test process
    # would forbid the forks other tests make); one process, one eager reference, for every runtime
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", ACCURACY_RUNS, *CONVERTED], capture_output=True, text=True,
                          cwd=root, env={**os.environ, "PYTHONPATH": str(root)}, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    answers = json.loads(done.stdout.strip().splitlines()[-1])
    for runtime in CONVERTED:
        result = answers[runtime]
        assert result["status"] == "ok", (runtime, result["error"])
        assert result["parity_clips"] == "6 validation clips"
        assert result["metrics"]["parity_top1_agree"] == 100.0
        # the same seed trains the same model in eager; the runtime, agreeing on every clip, scores the same
        assert result["metrics"]["top1"] == answers["eager_top1"], runtime
        assert result["metrics"]["export_s"] > 0


def test_parity_check_compares_every_clip_it_answers_for():
    eager = lambda clips: clips.sum(dim=(2, 3, 4))  # noqa: E731
    shifted = exported.Converted(lambda x: x.sum(dim=(2, 3, 4)) + torch.tensor([0.0, 5.0]), lambda c: c,
                                 lambda out: out)
    check = parity.ParityCheck(eager, shifted)
    clips = torch.zeros(3, 2, 1, 1, 1)
    clips[:, 0] = 1.0  # eager says class 0 for every clip; the shifted runtime says class 1
    assert torch.equal(check(clips), shifted(clips))
    check(clips[:1])
    assert check.figures() == {"parity_max_abs": 5.0, "parity_top1_agree": 0.0}


def test_parity_counts_agreeing_clips():
    import numpy as np

    ref = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    cand = np.array([[0.9, 0.1], [0.2, 0.8], [0.1, 0.9], [0.0, 1.0]])
    got = parity.parity(ref, cand)
    assert got == {"parity_max_abs": pytest.approx(0.9), "parity_top1_agree": 75.0}


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_model_the_converter_cannot_take_is_unsupported_not_failed(isolated_registries, runtime):
    class DataDependent(torch.nn.Module):
        def __init__(self, num_classes):
            super().__init__()
            self.fc = torch.nn.Linear(3, num_classes)

        def forward(self, x):
            pooled = x.mean(dim=(2, 3, 4))
            if pooled.sum() > 0:  # control flow on data: torch.export refuses it
                return self.fc(pooled)
            return -self.fc(pooled)

    @register_model(family="cnn", arch="data_dependent", default_input=(4, 16))
    def data_dependent(num_classes: int = 4):
        return DataDependent(num_classes)

    result = execute(make_spec("data_dependent", family="cnn", arch="data_dependent", runtime=runtime,
                               metrics=("latency",), batch_size=2))
    assert result.status == "unsupported" and result.error and "\n" not in result.error
    assert result.metrics == {} and result.detail["unsupported"] == result.error


def test_parity_below_the_floor_is_a_mismatch(monkeypatch):
    monkeypatch.setattr(parity, "parity", lambda ref, cand: {"parity_max_abs": 3.0, "parity_top1_agree": 50.0})
    spec = make_spec("c3d_tiny", runtime="onnxruntime", metrics=("latency",), batch_size=2,
                     benchmark={"warmup": 1, "repeats": 3, "parity_floor": 99.0})
    result = execute(spec)
    assert result.status == "mismatch" and "50.0%" in result.error and result.metrics["latency_ms_p50"] > 0
    low = make_spec("c3d_tiny", runtime="onnxruntime", metrics=("latency",), batch_size=2,
                    benchmark={"warmup": 1, "repeats": 3, "parity_floor": 40.0})
    assert execute(low).status == "ok"


@pytest.mark.parametrize(("change", "message"), [
    ({"runtimes": ["openvino"], "precisions": ["fp16"]}, "runs fp32, bf16, int8 here, not fp16"),
    ({"runtimes": ["onnxruntime"], "precisions": ["bf16"]}, "runs fp32, int8 here, not bf16"),
    ({"runtimes": ["export"], "metrics": ["train_throughput"]}, "train_throughput is eager PyTorch's"),
    ({"runtimes": ["onnxruntime"], "batch_sizes": ["auto"]}, "give the onnxruntime runtime a batch size"),
    ({"runtimes": ["openvino"], "compile": [True]}, "applies to eager PyTorch"),
    ({"runtimes": ["export"], "channels_last": [True]}, "channels_last is eager PyTorch's"),
    ({"runtimes": ["openvino"], "devices": ["cuda"]}, "runs on cpu, not on cuda"),
    ({"runtimes": ["tensorrt"]}, "runs on cuda, not on cpu"),
    ({"runtimes": ["onnxruntime"], "devices": ["mps"]}, "runs on cpu or cuda, not on mps"),
])
def test_what_a_runtime_does_not_serve_is_refused_before_any_run(change, message):
    suite = {"name": "t", "models": ["c3d_tiny"], "metrics": ["latency"], **change}
    with pytest.raises(SuiteError, match=message):
        admit_suite(parse_suite(suite))


def test_an_unknown_runtime_is_a_suite_error():
    with pytest.raises(SuiteError, match="runtimes"):
        parse_suite({"name": "t", "models": ["c3d_tiny"], "runtimes": ["tflite"]})


def test_compile_is_the_inductor_runtime_and_keeps_its_run_ids():
    base = {"name": "t", "models": ["c3d_tiny"], "metrics": ["latency"]}
    (compiled,) = expand_suite(parse_suite({**base, "compile": [True]}))
    (inductor,) = expand_suite(parse_suite({**base, "runtimes": ["inductor"]}))
    (eager,) = expand_suite(parse_suite(base))
    assert compiled.run_id == inductor.run_id and (compiled.runtime, compiled.compile) == ("inductor", True)
    assert "runtime" not in compiled.identity() and "runtime" not in eager.identity()
    ids = {rt: expand_suite(parse_suite({**base, "runtimes": [rt]}))[0].run_id for rt in PACKAGE}
    assert len({*ids.values(), eager.run_id}) == 4


def test_a_runtime_whose_package_is_missing_is_skipped_with_the_install_hint(monkeypatch):
    monkeypatch.setattr(exported.importlib.util, "find_spec",
                        lambda name: None if name == "openvino" else object())
    spec = make_spec("c3d_tiny", runtime="openvino", metrics=("latency",), batch_size=2)
    (planned,) = plan_runs([spec], {})
    assert planned.action == "run" and planned.reason == \
        "the openvino runtime needs openvino, which is not installed: install vidbench[deploy]"
    monkeypatch.setattr(exported.importlib.util, "find_spec", lambda name: None)
    assert BACKENDS["tensorrt"].unavailable() == \
        "the tensorrt runtime needs torch_tensorrt, which is not installed: pip install torch-tensorrt (GPU only)"


def test_an_inductor_compile_error_is_the_compilers_refusal_not_a_failure(monkeypatch):
    from torch._inductor.exc import InductorError

    from vidbench.backends.eager import EagerBackend

    def refuse(self, prepared, clips, spec):
        def call():
            raise InductorError(TypeError("cannot determine truth value of Relational"), "")
        return call

    monkeypatch.setattr(EagerBackend, "forward", refuse)
    result = execute(make_spec("c3d_tiny", runtime="inductor", compile=True, metrics=("latency",), batch_size=1))
    assert result.status == "unsupported" and result.error.startswith("InductorError")
    assert result.detail == {"unsupported": result.error}
    eager = execute(make_spec("c3d_tiny", metrics=("latency",), batch_size=1))
    assert eager.status == "failed"  # the same error without a compiler is the run's failure


def test_the_stored_samples_stand_for_the_whole_loop():
    from vidbench.run.runner import stored_samples

    loop = list(range(10_000))
    kept = stored_samples(loop, 1000)
    assert len(kept) == 1000 and kept[0] == 0 and kept[-1] >= 9_990 and kept == sorted(kept)
    assert stored_samples([1.0, 2.0], 1000) == [1.0, 2.0]


@pytest.mark.skipif(importlib.util.find_spec("openvino") is None, reason="no openvino")
def test_openvino_runs_bf16_only_where_the_cpu_has_it_and_checks_it_against_eager_in_bf16(monkeypatch):
    import openvino as ov

    spec = make_spec("c3d_tiny", runtime="openvino", precision="bf16", metrics=("latency",), batch_size=2)
    backend = backend_for(spec)
    if "BF16" in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"):
        assert backend.unavailable(spec) is None
        converted = backend.prepare(create_model("c3d_tiny", num_classes=4), spec)
        assert str(converted.model.handle.get_property("INFERENCE_PRECISION_HINT")) == "<Type: 'bfloat16'>"
        assert converted.figures["parity_max_abs"] < 0.05  # bf16 against eager under bf16 autocast
    fp32 = make_spec("c3d_tiny", runtime="openvino", metrics=("latency",), batch_size=2)
    assert str(backend.prepare(create_model("c3d_tiny", num_classes=4), fp32).model.handle.get_property(
        "INFERENCE_PRECISION_HINT")) == "<Type: 'float32'>"  # explicit: OpenVINO's CPU default may be bf16
    monkeypatch.setattr(ov.Core, "get_property", lambda self, device, key: ["FP32", "INT8"])
    assert backend.unavailable(spec) == "this CPU has no bf16 for OpenVINO (OPTIMIZATION_CAPABILITIES lacks BF16)"


def test_the_inductor_runtime_checks_parity_and_measures_resident_memory(monkeypatch):
    # one compile of c3d_tiny serves both (a cold Inductor compile is the cost of this test)
    result = execute(make_spec("c3d_tiny", runtime="inductor", compile=True, metrics=("latency", "memory"),
                               batch_size=3))
    m = result.metrics
    assert result.status == "ok", result.error
    assert m["parity_top1_agree"] == 100.0 and m["parity_max_abs"] < 1e-4 and m["compile_s"] > 0
    # Inductor's kernels allocate past the dispatcher: a tensor count would be eager's, under another name
    assert "peak_mem_mb" not in m and m["infer_rss_mb"] > 0
    monkeypatch.setattr(parity, "parity", lambda ref, cand: {"parity_max_abs": 3.0, "parity_top1_agree": 50.0})
    off = execute(make_spec("c3d_tiny", runtime="inductor", compile=True, metrics=("latency",), batch_size=3))
    assert off.status == "mismatch"
