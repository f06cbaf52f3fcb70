"""The tensorrt runtime without a GPU: against a fake torch_tensorrt module that records what it is asked
and compiles to the model itself, the backend asks for a batch range from 1 up to what the run uses (its
batch as the optimum), the precisions the run's precision enables, saves the artifact, and checks parity
with eager in the run's precision. The real thing is exercised by scripts/gpu_check.py on a CUDA machine."""

from __future__ import annotations

import sys
import types

import pytest
import torch

from tests.conftest import make_spec
from vidbench.backends import BACKENDS
from vidbench.backends.tensorrt import MAX_BATCH
from vidbench.models import create_model


@pytest.fixture
def fake_trt(monkeypatch):
    calls: dict = {}
    module = types.ModuleType("torch_tensorrt")

    class Input:
        def __init__(self, **kwargs):
            self.kwargs = kwargs

    def compile(model, ir, inputs, enabled_precisions):
        calls.update(ir=ir, inputs=[i.kwargs for i in inputs], precisions=enabled_precisions)
        return model

    def save(compiled, path, inputs):
        calls["saved"] = path
        with open(path, "wb") as f:
            f.write(b"\0" * 4096)

    module.Input, module.compile, module.save = Input, compile, save
    monkeypatch.setitem(sys.modules, "torch_tensorrt", module)
    return calls


@pytest.mark.parametrize(("precision", "enabled"), [("fp32", {torch.float32}),
                                                    ("fp16", {torch.float32, torch.float16}),
                                                    ("bf16", {torch.float32, torch.bfloat16})])
def test_the_engine_is_built_for_the_runs_batches_and_precision(fake_trt, precision, enabled):
    # on the CPU only because the fake compiles to the model itself; expansion refuses tensorrt off CUDA
    spec = make_spec("c3d_tiny", runtime="tensorrt", precision=precision, batch_size=4, metrics=("latency",),
                     resolution=(32, 32), clip_length=8)
    converted = BACKENDS["tensorrt"].prepare(create_model("c3d_tiny", num_classes=4), spec)
    (shape,) = fake_trt["inputs"]
    assert fake_trt["ir"] == "dynamo" and fake_trt["precisions"] == enabled
    assert shape["min_shape"] == (1, 3, 8, 32, 32) and shape["opt_shape"] == (4, 3, 8, 32, 32)
    assert shape["max_shape"] == (MAX_BATCH, 3, 8, 32, 32) and shape["dtype"] is torch.float32
    assert fake_trt["saved"].endswith("model.ep") and converted.figures["artifact_mb"] == pytest.approx(4096 / 2**20)
    assert converted.figures["parity_top1_agree"] == 100.0  # the fake is the model: eager's answers


def test_tensorrt_is_refused_off_cuda_and_names_its_package():
    spec = make_spec("c3d_tiny", runtime="tensorrt", metrics=("latency",))
    assert BACKENDS["tensorrt"].unsupported(spec) == "the tensorrt runtime runs on cuda, not on cpu"
    cuda = make_spec("c3d_tiny", runtime="tensorrt", device="cuda", precision="bf16", metrics=("latency",))
    assert BACKENDS["tensorrt"].unsupported(cuda) is None
    if "torch_tensorrt" not in sys.modules:
        assert BACKENDS["tensorrt"].unavailable(cuda) == \
            "the tensorrt runtime needs torch_tensorrt, which is not installed: pip install torch-tensorrt (GPU only)"
