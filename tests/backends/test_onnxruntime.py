"""What is ONNX Runtime's own: the session uses the run's thread count, and the CUDA execution provider
is asked for only where the installed onnxruntime has it (runs skipped otherwise, with the package to
install). Everything shared by the runtimes is in test_runtimes.py."""

from __future__ import annotations

import pytest
import torch

from tests.conftest import make_spec
from vidbench.backends import backend_for
from vidbench.models import create_model

ort = pytest.importorskip("onnxruntime")


def test_the_session_uses_the_runs_thread_count():
    spec = make_spec("tsn_tiny", runtime="onnxruntime", metrics=("latency",), batch_size=2)
    converted = backend_for(spec).prepare(create_model("tsn_tiny", num_classes=4), spec).model
    assert converted.handle.get_session_options().intra_op_num_threads == torch.get_num_threads()
    assert converted.handle.get_providers() == ["CPUExecutionProvider"]


def test_cuda_runs_need_the_cuda_execution_provider(monkeypatch):
    spec = make_spec("tsn_tiny", runtime="onnxruntime", device="cuda", metrics=("latency",), batch_size=2)
    monkeypatch.setattr(ort, "get_available_providers", lambda: ["CPUExecutionProvider"])
    assert backend_for(spec).unavailable(spec) == \
        "the installed onnxruntime has no CUDA execution provider: install onnxruntime-gpu"
    monkeypatch.setattr(ort, "get_available_providers", lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"])
    assert backend_for(spec).unavailable(spec) is None
    cpu = make_spec("tsn_tiny", runtime="onnxruntime", metrics=("latency",), batch_size=2)
    assert backend_for(cpu).unavailable(cpu) is None
