"""The onnxruntime runtime: exported once with a dynamic batch, timed like eager, parity with eager on the
same clips, the run's thread count applied, a model it cannot take stored as `unsupported`, parity below
the floor as `mismatch`, and the refusals and the missing package before any run."""

from __future__ import annotations

import pytest
import torch

import vidbench.backends.onnxruntime as ort_backend
from tests.conftest import make_spec
from vidbench.backends import BACKENDS, backend_for
from vidbench.errors import SuiteError
from vidbench.models import create_model, register_model
from vidbench.run.runner import execute
from vidbench.run.sweep import plan_runs
from vidbench.suite import expand_suite, parse_suite

pytest.importorskip("onnxruntime")
SPEED = ("params", "flops", "latency", "throughput")


def test_a_run_through_onnxruntime_keeps_eagers_answers():
    spec = make_spec("c3d_tiny", runtime="onnxruntime", metrics=SPEED, batch_size=2,
                     dataset_args={"num_classes": 4, "test_clips": 3})
    result = execute(spec)
    m = result.metrics
    assert result.status == "ok", result.error
    assert m["export_s"] > 0 and m["artifact_mb"] > 0.1  # c3d_tiny's 182k fp32 weights are in the file
    assert m["parity_top1_agree"] == 100.0 and m["parity_max_abs"] < 1e-4
    assert m["latency_ms_p50"] > 0 and m["videos_s"] > 0 and m["views"] == 3  # a batch of 3 views: dynamic batch
    assert len(result.detail["inference_s"]["samples"]) >= 3


def test_the_session_uses_the_runs_thread_count_and_is_the_exported_model():
    spec = make_spec("tsn_tiny", runtime="onnxruntime", metrics=SPEED, batch_size=2)
    model = create_model("tsn_tiny", num_classes=4).eval()
    prepared = backend_for(spec).prepare(model, spec)
    assert prepared.session.get_session_options().intra_op_num_threads == torch.get_num_threads()
    clips = torch.randn(5, 3, 4, 16, 16)
    with torch.no_grad():
        assert torch.allclose(prepared(clips), model(clips), atol=1e-5)


def test_a_model_the_exporter_cannot_take_is_unsupported_not_failed(isolated_registries):
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

    result = execute(make_spec("data_dependent", family="cnn", arch="data_dependent", runtime="onnxruntime",
                               metrics=("latency",), batch_size=2))
    assert result.status == "unsupported" and result.error and "\n" not in result.error
    assert result.metrics == {} and result.detail["unsupported"] == result.error


def test_parity_below_the_floor_is_a_mismatch(monkeypatch):
    monkeypatch.setattr(ort_backend, "parity", lambda ref, cand: {"parity_max_abs": 3.0, "parity_top1_agree": 50.0})
    spec = make_spec("c3d_tiny", runtime="onnxruntime", metrics=("latency",), batch_size=2,
                     benchmark={"warmup": 1, "repeats": 3, "parity_floor": 99.0})
    result = execute(spec)
    assert result.status == "mismatch" and "50.0%" in result.error and result.metrics["latency_ms_p50"] > 0
    low = make_spec("c3d_tiny", runtime="onnxruntime", metrics=("latency",), batch_size=2,
                    benchmark={"warmup": 1, "repeats": 3, "parity_floor": 40.0})
    assert execute(low).status == "ok"


def test_parity_counts_agreeing_clips():
    import numpy as np

    ref = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    cand = np.array([[0.9, 0.1], [0.2, 0.8], [0.1, 0.9], [0.0, 1.0]])
    got = ort_backend.parity(ref, cand)
    assert got == {"parity_max_abs": pytest.approx(0.9), "parity_top1_agree": 75.0}


@pytest.mark.parametrize(("change", "message"), [
    ({"precisions": ["bf16"]}, "not bf16"),
    ({"metrics": ["accuracy"]}, "not yet accuracy"),
    ({"batch_sizes": ["auto"]}, "give the onnxruntime runtime a batch size"),
    ({"compile": [True]}, "applies to eager PyTorch"),
])
def test_what_onnxruntime_does_not_serve_is_refused_before_any_run(change, message):
    suite = {"name": "t", "models": ["c3d_tiny"], "runtimes": ["onnxruntime"], "metrics": ["latency"], **change}
    with pytest.raises(SuiteError, match=message):
        expand_suite(parse_suite(suite))


def test_compile_is_the_inductor_runtime_and_keeps_its_run_ids():
    base = {"name": "t", "models": ["c3d_tiny"], "metrics": ["latency"]}
    (compiled,) = expand_suite(parse_suite({**base, "compile": [True]}))
    (inductor,) = expand_suite(parse_suite({**base, "runtimes": ["inductor"]}))
    (eager,) = expand_suite(parse_suite(base))
    assert compiled.run_id == inductor.run_id and (compiled.runtime, compiled.compile) == ("inductor", True)
    assert "runtime" not in compiled.identity() and "runtime" not in eager.identity()
    (ort,) = expand_suite(parse_suite({**base, "runtimes": ["onnxruntime"]}))
    assert ort.identity()["runtime"] == "onnxruntime" and ort.run_id != eager.run_id


def test_a_runtime_whose_package_is_missing_is_skipped_with_the_install_hint(monkeypatch):
    monkeypatch.setattr(type(BACKENDS["onnxruntime"]), "unavailable",
                        lambda self: "ONNX Runtime is not installed (onnxruntime): install vidbench[deploy]")
    spec = make_spec("c3d_tiny", runtime="onnxruntime", metrics=("latency",), batch_size=2)
    (planned,) = plan_runs([spec], {})
    assert planned.action == "run" and "install vidbench[deploy]" in planned.reason
