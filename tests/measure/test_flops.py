"""FLOPs and params on the meta device, checked against torchvision's own metadata and analytic counts."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode
from torchvision.models import video as tv_video

from vidbench.measure.flops import count_params, forward_flops, model_cost, profile_model
from vidbench.models import create_model, list_models


@pytest.mark.parametrize(("name", "weights"), [
    ("r3d_18", tv_video.R3D_18_Weights.KINETICS400_V1),
    ("mc3_18", tv_video.MC3_18_Weights.KINETICS400_V1),
    ("r2plus1d_18", tv_video.R2Plus1D_18_Weights.KINETICS400_V1),
])
def test_torchvision_video_resnets_match_torchvision_metadata(name, weights):
    # torchvision's weights metadata (no download needed) is the independent source: params and
    # "_ops" (GFLOPs in torchvision's sense, i.e. GMACs) of one 16x112x112 clip, 400 classes.
    cost = model_cost(name, 400, {}, 16, 112, 112)
    assert cost.params == weights.meta["num_params"]
    assert cost.gmacs == pytest.approx(weights.meta["_ops"], rel=0.005)
    assert cost.gflops == pytest.approx(2 * cost.gmacs)


@pytest.mark.parametrize("name", list_models("*_tiny"))
def test_meta_params_equal_a_real_models_params(name):
    cost = model_cost(name, 7, {}, 4, 32, 32)
    real = create_model(name, num_classes=7)
    assert cost.params == sum(p.numel() for p in real.parameters()) == count_params(real)
    assert cost.macs > 0


def test_conv3d_macs_are_counted_exactly():
    conv = nn.Conv3d(3, 8, kernel_size=3, padding=1, bias=False)
    t, h, w = 4, 10, 12
    expected_macs = 8 * t * h * w * (3 * 3 * 3 * 3)  # outputs x (in_channels x kernel volume)
    assert forward_flops(conv, torch.randn(1, 3, t, h, w)) == 2 * expected_macs


def test_macs_scale_with_clip_length_for_a_3d_cnn():
    c8 = model_cost("c3d_tiny", 4, {}, 8, 32, 32).macs
    c16 = model_cost("c3d_tiny", 4, {}, 16, 32, 32).macs
    assert c16 == pytest.approx(2 * c8, rel=0.02)


@pytest.mark.parametrize(("layers", "input_size", "hidden"), [(1, 8, 16), (2, 12, 6)])
def test_lstm_is_counted_on_the_meta_device_but_not_on_the_cpu(layers, input_size, hidden):
    batch, steps = 2, 5
    # Per step and layer an LSTM multiplies [x, h] (I + H) by four gate matrices of H rows.
    expected_macs = batch * steps * sum(4 * hidden * ((input_size if i == 0 else hidden) + hidden)
                                        for i in range(layers))
    with torch.device("meta"):
        lstm = nn.LSTM(input_size, hidden, num_layers=layers, batch_first=True)
        x = torch.empty(batch, steps, input_size)
    assert forward_flops(lstm, x) == 2 * expected_macs

    cpu_lstm = nn.LSTM(input_size, hidden, num_layers=layers, batch_first=True)
    with FlopCounterMode(display=False) as counter:
        cpu_lstm(torch.randn(batch, steps, input_size))
    assert counter.get_total_flops() == 0  # why vidbench counts on the meta device


def test_attention_is_counted_on_the_meta_device_but_not_on_the_cpu():
    b, heads, n, d = 2, 3, 10, 8
    expected_macs = 2 * b * heads * n * n * d  # Q·Kᵀ and softmax(·)·V

    def flops(device):
        q, k, v = (torch.randn(b, heads, n, d, device=device) for _ in range(3))
        with FlopCounterMode(display=False) as counter:
            F.scaled_dot_product_attention(q, k, v)
        return counter.get_total_flops()

    assert flops("meta") == 2 * expected_macs
    assert flops("cpu") == 0


@pytest.mark.parametrize("attention", ["divided", "joint", "space_only"])
def test_timesformer_counts_include_its_attention(attention):
    t, side, patch, dim, depth = 8, 32, 8, 64, 2  # timesformer_tiny's defaults
    n = (side // patch) ** 2
    attention_macs = {
        "joint": depth * 2 * (1 + t * n) ** 2 * dim,  # one sequence of all patches + class token
        "space_only": depth * 2 * t * (1 + n) ** 2 * dim,  # each frame on its own
        "divided": depth * (2 * n * t * t * dim + 2 * t * (1 + n) ** 2 * dim),  # over time, then over space
    }[attention]
    meta = model_cost("timesformer_tiny", 10, {"attention": attention}, t, side, side).macs
    model = create_model("timesformer_tiny", num_classes=10, attention=attention).eval()
    cpu = forward_flops(model, torch.randn(1, 3, t, side, side)) // 2  # sees the linear layers only
    assert meta - cpu == attention_macs


def test_lrcn_counts_its_lstm():
    t, side, k = 8, 32, 10
    cost = model_cost("lrcn_tiny", k, {}, t, side, side)
    with torch.device("meta"):
        model = create_model("lrcn_tiny", num_classes=k)
        cnn_macs = forward_flops(model.encoder, torch.empty(t, 3, side, side)) // 2
    hidden = model.rnn.hidden_size
    feature = model.rnn.input_size
    lstm_macs = t * 4 * hidden * (feature + hidden)
    assert cost.macs > cnn_macs
    assert cost.macs == cnn_macs + lstm_macs + hidden * k  # + the classifier on the last step


def test_model_cost_passes_constructor_args():
    narrow = model_cost("tsn_tiny", 4, {"width": 8}, 4, 32, 32)
    wide = model_cost("tsn_tiny", 4, {"width": 16}, 4, 32, 32)
    assert wide.params > narrow.params and wide.macs > narrow.macs


def test_model_cost_allocates_nothing_for_a_large_input():
    # 64 frames of 224 px through R(2+1)D would need GBs of activations on a real device.
    cost = model_cost("r2plus1d_18", 400, {}, 64, 224, 224)
    small = model_cost("r2plus1d_18", 400, {}, 16, 112, 112)
    assert cost.macs == pytest.approx(16 * small.macs, rel=0.01)


def _layouts():
    x5 = torch.empty(2, 4, 3, 5, 6, device="meta")
    return [x5, x5.to(memory_format=torch.channels_last_3d), torch.empty(2, 4, 5, 6, device="meta"),
            torch.empty(2, 4, 5, 6, device="meta").to(memory_format=torch.channels_last),
            torch.empty(8, 4, device="meta"), torch.empty(8, 4, 7, device="meta")]


def _described(outputs):
    return [None if t is None else (tuple(t.shape), t.stride(), t.dtype, t.device.type) for t in outputs]


@pytest.mark.parametrize("layout", range(6))
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_shape_rules_give_what_the_meta_kernels_give(layout, dtype, training, affine):
    """The shape-only outputs FlopCount makes for batch norm (forward and backward) have the shapes,
    strides, dtypes and device of the real meta kernels' outputs."""
    from vidbench.measure.flops import SHAPE_ONLY
    aten = torch.ops.aten
    x = _layouts()[layout].to(dtype)
    c = x.shape[1]
    w, b = (torch.empty(c, device="meta"), torch.empty(c, device="meta")) if affine else (None, None)
    stats = (torch.empty(c, device="meta"), torch.empty(c, device="meta"))
    forward, backward = aten.native_batch_norm.default, aten.native_batch_norm_backward.default
    args = (x, w, b, *stats, training, 0.1, 1e-5)
    real = forward(*args)
    assert _described(SHAPE_ONLY[forward][1](*args)) == _described(real)
    for mask in ([True, affine, affine], [True, False, False], [False, affine, affine], [True, True, True]):
        bargs = (real[0], x, w, *stats, real[1], real[2], training, 1e-5, mask)
        assert _described(SHAPE_ONLY[backward][1](*bargs)) == _described(backward(*bargs))


def test_batch_norm_shape_rules_leave_other_layouts_to_the_meta_kernel():
    from vidbench.measure.flops import shape_only
    aten = torch.ops.aten
    stats = (torch.empty(4, device="meta"), torch.empty(4, device="meta"))
    dense = torch.empty(2, 4, 6, 6, device="meta")
    strided = dense[:, :, ::2]
    assert shape_only(aten.native_batch_norm.default, (dense, None, None, *stats, False, 0.1, 1e-5), None) is not None
    assert shape_only(aten.native_batch_norm.default, (strided, None, None, *stats, False, 0.1, 1e-5), None) is None
    assert shape_only(aten.native_batch_norm.default, (torch.empty(2, 4, 6, 6), None, None, *stats, False, 0.1, 1e-5),
                      None) is None
    # backward: a gradient laid out unlike the input (the kernel's grad_input follows the gradient)
    permuted = torch.empty(2, 6, 6, 4, device="meta").permute(0, 3, 1, 2)
    backward = (dense, dense, None, *stats, *stats, True, 1e-5, [True, False, False])
    assert shape_only(aten.native_batch_norm_backward.default, backward, None) is not None
    assert shape_only(aten.native_batch_norm_backward.default, (permuted, *backward[1:]), None) is None


@pytest.mark.parametrize(("name", "frames", "side"), [("x3d_s", 13, 160), ("lrcn_tiny", 8, 32)])
def test_counts_and_profiles_are_unchanged_by_the_batch_norm_shape_rules(monkeypatch, name, frames, side):
    from vidbench.measure import flops
    fast = model_cost(name, 400, {}, frames, side, side), profile_model(name, 400, {}, frames, side, side)
    monkeypatch.setattr(flops, "SHAPE_ONLY", {})
    assert (model_cost(name, 400, {}, frames, side, side), profile_model(name, 400, {}, frames, side, side)) == fast


def test_every_batch_norm_of_a_meta_count_takes_the_shape_rule(monkeypatch):
    from vidbench.measure import flops
    forward = torch.ops.aten.native_batch_norm.default
    positions, rule = flops.SHAPE_ONLY[forward]
    calls = []
    monkeypatch.setitem(flops.SHAPE_ONLY, forward, (positions, lambda *args: calls.append(1) or rule(*args)))
    model_cost("x3d_xs", 400, {}, 4, 160, 160)
    model = create_model("x3d_xs", num_classes=400)
    assert len(calls) == sum(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules()) > 50
