"""Issue 5 methodology: auto batch, channels_last, per-op FLOP breakdown, GPU peaks for MFU."""

from __future__ import annotations

import pytest
import torch

from tests.conftest import make_spec
from vidbench.measure.flops import model_cost, profile_model
from vidbench.peaks import blended_peak_tflops, peak_tflops
from vidbench.models import create_model, register_model
from vidbench.devices import device_ops
from vidbench.run.runner import Measurement, execute, to_channels_last
from vidbench.scenarios import RunContext


def test_profile_breaks_the_forward_down_by_module_and_lists_zero_counted_ops():
    p = profile_model("lrcn_tiny", 4, {}, 8, 32, 32)
    assert p.macs == model_cost("lrcn_tiny", 4, {}, 8, 32, 32).macs
    parts = dict(p.top_modules)
    # The model's direct children add up to the whole forward.
    assert sum(parts.values()) == pytest.approx(p.macs / 1e9)
    # LSTM: 4·H·(I+H) MACs per step, H = I = 128, 8 steps.
    assert parts["LRCN.rnn"] == pytest.approx(8 * 4 * 128 * (128 + 128) / 1e9)
    ops = dict(p.uncounted_ops)
    assert "aten.sigmoid_" in ops or "aten.sigmoid" in ops  # LSTM gates: real work, no FLOP formula
    assert "aten.mm" not in ops and "aten.addmm" not in ops  # counted ops are not listed as uncounted
    # Backward costs at most twice the forward: weight and input gradients, but none for the clip itself.
    assert 1.5 * p.macs < p.train_macs - p.macs <= 2 * p.macs


@pytest.mark.parametrize("name, precision, tf32, expected", [
    ("NVIDIA H200", "bf16", False, 989.4),
    ("NVIDIA H100 80GB HBM3", "fp32", True, 494.7),
    ("NVIDIA A100-SXM4-80GB", "fp32", False, 19.5),
    ("NVIDIA L4", "fp16", False, 121.0),
    ("Some Future GPU", "bf16", False, None),
    ("Tesla V100-SXM2-16GB", "bf16", False, None),  # no bf16 tensor cores: no guess
])
def test_peak_table(name, precision, tf32, expected):
    assert peak_tflops(name, precision, tf32) == expected


def test_fp32_peak_follows_where_the_flops_run():
    # PyTorch's defaults: cuDNN convolutions in TF32, cuBLAS matmuls in plain FP32. A 3D CNN measured on
    # the H200 in fp32 reached 135 TFLOP/s, twice the plain FP32 peak: its bound is the TF32 one.
    assert blended_peak_tflops("NVIDIA H200", "fp32", 1.0, True, False) == pytest.approx(494.7)
    assert blended_peak_tflops("NVIDIA H200", "fp32", 0.0, True, False) == pytest.approx(66.9)
    half = blended_peak_tflops("NVIDIA H200", "fp32", 0.5, True, False)
    assert half == pytest.approx(1 / (0.5 / 494.7 + 0.5 / 66.9))  # the least time of both halves
    assert 66.9 < half < 494.7
    assert blended_peak_tflops("NVIDIA H200", "bf16", 0.3, True, False) == pytest.approx(989.4)
    assert blended_peak_tflops("Some Future GPU", "fp32", 0.5, True, True) is None


def test_profile_splits_flops_between_convolutions_and_matmuls():
    assert profile_model("c3d_tiny", 4, {}, 8, 32, 32).conv_share > 0.99  # all convolutions but the head
    attention = profile_model("timesformer_tiny", 4, {}, 8, 32, 32)
    assert attention.conv_share < 0.1  # only the patch embedding is a convolution
    lrcn = profile_model("lrcn_tiny", 4, {}, 8, 32, 32)
    # Matmuls, per clip of 8 frames: the encoder's 1024→128 projection, the LSTM (the recurrent and input
    # weights, 4·128·(128+128) each step, computed as mm on meta) and the 128→4 head; the rest is convolutions.
    matmul_macs = 8 * 1024 * 128 + 8 * 4 * 128 * 256 + 128 * 4
    assert lrcn.conv_share == pytest.approx(1 - matmul_macs / lrcn.macs, rel=1e-6)
    assert 0 < lrcn.train_conv_share < 1


def test_channels_last_keeps_outputs_and_changes_layout():
    model = create_model("c3d_tiny", num_classes=3).eval()
    x = torch.randn(2, 3, 4, 16, 16)
    ref = model(x)
    to_channels_last(model)
    conv = model.features[0]
    assert conv.weight.is_contiguous(memory_format=torch.channels_last_3d)
    out = model(x.contiguous(memory_format=torch.channels_last_3d))
    torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-5)
    mixed = create_model("tsn_tiny", num_classes=3)  # 2D convs inside a video model
    to_channels_last(mixed)
    assert mixed.backbone[0][0][0].weight.is_contiguous(memory_format=torch.channels_last)


def test_channels_last_run_is_ok():
    result = execute(make_spec("c3d_tiny", channels_last=True, metrics=("latency",)))
    assert result.status == "ok", result.error


@pytest.fixture
def memory_bounded_model(isolated_registries):
    """A model that raises out-of-memory above 6 clips, like an allocator would."""

    class Bounded(torch.nn.Module):
        def __init__(self, n):
            super().__init__()
            self.fc = torch.nn.Linear(3, n)

        def forward(self, x):
            if x.shape[0] > 6:
                raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
            return self.fc(x.mean((2, 3, 4)))

    @register_model(family="cnn")
    def bounded_by_six(num_classes: int = 4):
        return Bounded(num_classes)

    return "bounded_by_six"


def test_auto_batch_finds_the_largest_batch_that_fits(memory_bounded_model):
    spec = make_spec(memory_bounded_model, batch_size="auto", metrics=("latency",),
                     benchmark={"warmup": 1, "repeats": 2, "auto_batch_max": 64})
    m = Measurement(spec)
    assert m.find_max_batch() == 6  # 1, 2, 4 fit; 8 does not; bisect 4..8 → 6 fits, 7 does not
    assert m.detail["auto_batch"] == {"fits": 6, "first_too_big": 7, "cap": 64, "training": False}
    result = execute(spec)
    assert result.status == "ok" and result.detail["batch_size_run"] == 6


def test_auto_batch_stops_at_the_cap(memory_bounded_model):
    spec = make_spec("tsn_tiny", batch_size="auto", metrics=("latency",),
                     benchmark={"warmup": 1, "repeats": 2, "auto_batch_max": 5})
    assert Measurement(spec).find_max_batch() == 4  # powers of two up to the cap


def test_mfu_of_forward_and_training_step_uses_each_ones_blended_peak(monkeypatch):
    """The runner's MFU arithmetic, without a GPU: achieved TFLOP/s from the counted MACs and the
    throughput, over the peak of where each pass's FLOPs run (PyTorch's defaults: TF32 convolutions)."""
    import types

    from vidbench.measure.flops import FlopProfile

    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device: "NVIDIA H200")
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", True)
    assert torch.backends.cuda.matmul.allow_tf32 is False  # PyTorch's default (a property monkeypatch can't undo)
    m = RunContext.__new__(RunContext)  # only what `achieved` reads
    m.profile = FlopProfile(params=1, macs=40 * 10**9, train_macs=120 * 10**9, conv_share=1.0, train_conv_share=0.5)
    m.device, m.spec, m.metrics, m.detail = torch.device("cuda"), types.SimpleNamespace(precision="fp32"), {}, {}
    m.ops = device_ops(m.device)
    m.achieved(1000.0, train=False)
    m.achieved(100.0, train=True)
    assert m.metrics["tflops_achieved"] == pytest.approx(80.0)  # 2 × 40 GMACs × 1000 clips/s
    assert m.metrics["mfu"] == pytest.approx(80.0 / 494.7)
    assert m.metrics["train_tflops_achieved"] == pytest.approx(24.0)
    assert m.metrics["train_mfu"] == pytest.approx(24.0 * (0.5 / 494.7 + 0.5 / 66.9))
    assert m.detail["train_mfu_peak_tflops"] == pytest.approx(blended_peak_tflops("NVIDIA H200", "fp32", 0.5, True, False))
