"""TSN, TSM, LRCN and ConvLSTM: every figure checked against its source.

Sources: torchvision's ImageNet weights metadata (params, "_ops" = GMACs per 224² image, no download
needed), the TSM paper (Lin et al., ICCV 2019, Table: TSM-ResNet50, 8 frames, 33G FLOPs, 24.3M
params on Kinetics-400), and analytic counts of the recurrent parts. Costs are counted on the meta
device (nothing allocated), so the full-size models are checked at their real 224² inputs.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
from torchvision import models as tv

from vidbench.measure.flops import count_params, forward_flops, model_cost
from vidbench.models import create_model, model_info
from vidbench.models.cnn2d import IMAGENET_MEAN, IMAGENET_STD, TemporalShift, _create_tsn, temporal_shift
from vidbench.models.cnn_rnn import ConvLSTMCell

NUM = 400  # Kinetics-400, the classes the papers report
TV_2D = {  # backbone → (torchvision weights with its metadata, builder, classifier (in, out) linears)
    "resnet18": (tv.ResNet18_Weights.IMAGENET1K_V1, tv.resnet18, [(512, 1000)]),
    "resnet50": (tv.ResNet50_Weights.IMAGENET1K_V2, tv.resnet50, [(2048, 1000)]),
    "mobilenet_v3_large": (tv.MobileNet_V3_Large_Weights.IMAGENET1K_V2, tv.mobilenet_v3_large,
                           [(960, 1280), (1280, 1000)]),
}
NEW_MODELS = ["tsn_resnet18", "tsn_resnet50", "tsm_tiny", "tsm_resnet18", "tsm_resnet50", "lrcn_resnet18_lstm",
              "lrcn_resnet18_gru", "lrcn_resnet50_lstm", "lrcn_mobilenet_v3_gru", "convlstm"]


def _linear_macs(layers):
    return sum(i * o for i, o in layers)


def _linear_params(layers):
    return sum(i * o + o for i, o in layers)


def _feature_dim(backbone: str) -> int:
    return TV_2D[backbone][2][0][0]


# --- TSN / TSM over torchvision ResNets ---------------------------------------------------------

@pytest.mark.parametrize("num_classes", [1000, NUM])
@pytest.mark.parametrize("arch", ["tsn", "tsm"])
@pytest.mark.parametrize("backbone", ["resnet18", "resnet50"])
def test_tsn_tsm_cost_per_frame_is_torchvisions_resnet(backbone, arch, num_classes):
    weights, _, head = TV_2D[backbone]
    feat = _feature_dim(backbone)
    cost = model_cost(f"{arch}_{backbone}", num_classes, {}, 8, 224, 224)
    # The ImageNet network with its 1000-class fc swapped for a num_classes one.
    assert cost.params == weights.meta["num_params"] - _linear_params(head) + _linear_params([(feat, num_classes)])
    per_frame = weights.meta["_ops"] - (_linear_macs(head) - feat * num_classes) / 1e9
    assert cost.gmacs == pytest.approx(8 * per_frame, rel=0.005)
    if num_classes == 1000:
        assert cost.gmacs == pytest.approx(8 * weights.meta["_ops"], rel=0.005)


@pytest.mark.parametrize("frames", [1, 3, 8])
@pytest.mark.parametrize("backbone", ["resnet18", "resnet50"])
def test_the_temporal_shift_is_free(backbone, frames):
    tsn = model_cost(f"tsn_{backbone}", NUM, {}, frames, 224, 224)
    tsm = model_cost(f"tsm_{backbone}", NUM, {}, frames, 224, 224)
    assert tsm == tsn  # same params, same MACs: the shift is data movement only


def test_the_temporal_shift_is_free_in_the_tiny_preset():
    with torch.device("meta"):
        clip = torch.empty(1, 3, 8, 32, 32)
        tsm = create_model("tsm_tiny", num_classes=NUM).eval()
        tsn = _create_tsn("tiny", NUM, shift=False, dropout=0.0, consensus="avg").eval()
    assert count_params(tsm) == count_params(tsn)
    assert forward_flops(tsm, clip) == forward_flops(tsn, clip) > 0


def test_tsm_resnet50_matches_the_tsm_paper():
    # Lin et al. 2019, TSM-ResNet50 at 8 frames (Kinetics-400): 33G "FLOPs" (multiply-accumulates), 24.3M params.
    cost = model_cost("tsm_resnet50", NUM, {}, 8, 224, 224)
    assert cost.gmacs == pytest.approx(33.0, rel=0.05)
    assert cost.params / 1e6 == pytest.approx(24.3, rel=0.05)


def test_temporal_shift_moves_one_eighth_of_the_channels_each_way():
    b, t, c = 2, 3, 16
    x = torch.arange(b * t * c, dtype=torch.float32).view(b * t, c, 1, 1)
    y = temporal_shift(x, t, 8).view(b, t, c)
    x = x.view(b, t, c)
    assert torch.equal(y[:, :-1, :2], x[:, 1:, :2]) and not y[:, -1, :2].any()  # from the next frame
    assert torch.equal(y[:, 1:, 2:4], x[:, :-1, 2:4]) and not y[:, 0, 2:4].any()  # from the previous frame
    assert torch.equal(y[:, :, 4:], x[:, :, 4:])


@pytest.mark.parametrize(("backbone", "blocks"), [("resnet18", 8), ("resnet50", 16)])
def test_tsm_shifts_the_residual_branch_of_every_block(backbone, blocks):
    with torch.device("meta"):
        model = create_model(f"tsm_{backbone}", num_classes=NUM)
    block_types = (tv.resnet.BasicBlock, tv.resnet.Bottleneck)
    res_blocks = [m for m in model.modules() if isinstance(m, block_types)]
    shifts = [m for m in model.modules() if isinstance(m, TemporalShift)]
    assert len(res_blocks) == len(shifts) == blocks
    for block in res_blocks:  # at the start of the residual branch; the identity/downsample path is not shifted
        assert isinstance(block.conv1, TemporalShift) and isinstance(block.conv1.net, nn.Conv2d)
        assert block.downsample is None or not any(isinstance(m, TemporalShift) for m in block.downsample.modules())
    assert isinstance(model.backbone.conv1, nn.Conv2d)  # the stem is not shifted


def test_tsm_takes_any_clip_length_and_shifts_within_each_clip_only():
    torch.manual_seed(0)
    model = create_model("tsm_tiny", num_classes=5).eval()
    with torch.no_grad():
        for t in (1, 3, 7, 16):
            clips = torch.randn(2, 3, t, 16, 16)
            out = model(clips)
            assert out.shape == (2, 5)
            assert all(s.segments == t for s in model.modules() if isinstance(s, TemporalShift))
            other = clips.clone()
            other[1] = torch.randn_like(other[1])  # change the second clip only
            assert torch.allclose(model(other)[0], out[0], atol=1e-6)


def _order_changes_output(name: str, **args) -> bool:
    torch.manual_seed(0)
    model = create_model(name, num_classes=5, **args).eval()
    clips = torch.randn(2, 3, 8, 32, 32)
    with torch.no_grad():
        return not torch.allclose(model(clips), model(clips.flip(2)), atol=1e-5, rtol=1e-4)


def test_tsm_sees_frame_order_where_tsn_cannot():
    assert _order_changes_output("tsm_tiny")
    torch.manual_seed(0)
    tsn = _create_tsn("tiny", 5, shift=False, dropout=0.0, consensus="avg").eval()  # the same net, unshifted
    clips = torch.randn(2, 3, 8, 32, 32)
    with torch.no_grad():
        assert torch.allclose(tsn(clips), tsn(clips.flip(2)), atol=1e-5)


# --- LRCN over torchvision backbones ------------------------------------------------------------

def _rnn_macs_and_params(kind: str, features: int, hidden: int, layers: int, bidirectional: bool, steps: int):
    gates = {"lstm": 4, "gru": 3}[kind]
    dirs = 2 if bidirectional else 1
    macs = params = 0
    for layer in range(layers):
        inp = features if layer == 0 else hidden * dirs
        macs += dirs * steps * gates * hidden * (inp + hidden)  # [x, h] times the gate matrices
        params += dirs * (gates * hidden * (inp + hidden) + 2 * gates * hidden)  # two bias vectors
    return macs, params


LRCN_CASES = [
    ("lrcn_resnet18_lstm", "resnet18", "lstm", {}),
    ("lrcn_resnet18_lstm", "resnet18", "lstm", {"bidirectional": True, "layers": 2, "hidden": 128, "pooling": "mean"}),
    ("lrcn_resnet18_gru", "resnet18", "gru", {}),
    ("lrcn_resnet18_gru", "resnet18", "gru", {"bidirectional": True, "hidden": 64}),
    ("lrcn_resnet50_lstm", "resnet50", "lstm", {"layers": 2}),
    ("lrcn_mobilenet_v3_gru", "mobilenet_v3_large", "gru", {}),
    ("lrcn_mobilenet_v3_gru", "mobilenet_v3_large", "gru", {"bidirectional": True, "layers": 3}),
]


@pytest.mark.parametrize(("name", "backbone", "kind", "args"), LRCN_CASES)
def test_lrcn_cost_is_backbone_plus_analytic_rnn_plus_fc(name, backbone, kind, args):
    weights, tv_builder, head = TV_2D[backbone]
    info = model_info(name)
    t, size = info.default_frames, info.default_size
    hidden, layers, bidir = args.get("hidden", 256), args.get("layers", 1), args.get("bidirectional", False)

    # Per frame: torchvision's ImageNet network without its classifier ...
    with torch.device("meta"):
        net = tv_builder(weights=None).eval()
        image = torch.empty(1, 3, size, size)
    per_frame = forward_flops(net, image) // 2 - _linear_macs(head)
    # ... which is the figure torchvision publishes, less the classifier.
    assert per_frame / 1e9 == pytest.approx(weights.meta["_ops"] - _linear_macs(head) / 1e9, rel=0.005)

    rnn_macs, rnn_params = _rnn_macs_and_params(kind, _feature_dim(backbone), hidden, layers, bidir, t)
    fc = [(hidden * (2 if bidir else 1), NUM)]
    cost = model_cost(name, NUM, args, t, size, size)
    assert cost.macs == t * per_frame + rnn_macs + _linear_macs(fc)  # exactly: the RNN is counted
    assert cost.params == weights.meta["num_params"] - _linear_params(head) + rnn_params + _linear_params(fc)


def test_lrcn_bidirectional_last_pooling_reads_each_direction_at_its_end():
    torch.manual_seed(0)
    model = create_model("lrcn_tiny", num_classes=5, rnn="gru", bidirectional=True, pooling="last").eval()
    clips = torch.randn(2, 3, 6, 32, 32)
    with torch.no_grad():
        feats = model.encoder(clips.transpose(1, 2).reshape(12, 3, 32, 32)).view(2, 6, -1)
        out, _ = model.rnn(feats)
        h = model.rnn.hidden_size
        expected = model.fc(torch.cat([out[:, -1, :h], out[:, 0, h:]], dim=1))  # forward at T-1, backward at 0
        assert torch.allclose(model(clips), expected, atol=1e-6)


# --- ConvLSTM -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "frames", "height", "width"), [
    ({}, 8, 32, 32),
    ({"width": 8, "hidden": 16, "layers": 2, "kernel_size": 5, "pooling": "mean"}, 5, 36, 52),
])
def test_convlstm_cost_is_its_convolutions_counted_analytically(args, frames, height, width):
    w, hid = args.get("width", 16), args.get("hidden", 32)
    layers, k = args.get("layers", 1), args.get("kernel_size", 3)
    h1, w1 = -(-height // 2), -(-width // 2)  # 3×3 stride-2 convs, padding 1
    h2, w2 = -(-h1 // 2), -(-w1 // 2)
    encoder = h1 * w1 * w * 3 * 9 + h2 * w2 * (2 * w) * w * 9
    gates = sum(h2 * w2 * 4 * hid * ((2 * w if i == 0 else hid) + hid) * k * k for i in range(layers))
    cost = model_cost("convlstm", NUM, args, frames, height, width)
    assert cost.macs == frames * (encoder + gates) + hid * NUM
    encoder_params = (3 * w * 9 + 2 * w) + (w * 2 * w * 9 + 2 * 2 * w)  # convs without bias, BN affine
    gate_params = sum(4 * hid * ((2 * w if i == 0 else hid) + hid) * k * k + 4 * hid for i in range(layers))
    assert cost.params == encoder_params + gate_params + hid * NUM + NUM


def test_convlstm_cell_is_an_lstm_whose_gates_are_convolutions():
    # With a 1×1 kernel on a 1×1 map the cell must be exactly torch's LSTM (same i, f, g, o gate order).
    torch.manual_seed(0)
    cell = ConvLSTMCell(5, 7, kernel_size=1)
    lstm = nn.LSTM(5, 7, batch_first=True)
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(cell.gates.weight[:, :5, 0, 0])
        lstm.weight_hh_l0.copy_(cell.gates.weight[:, 5:, 0, 0])
        lstm.bias_ih_l0.copy_(cell.gates.bias)
        lstm.bias_hh_l0.zero_()
        x = torch.randn(3, 6, 5)
        expected, _ = lstm(x)
        state = (torch.zeros(3, 7, 1, 1),) * 2
        for t in range(6):
            state = cell(x[:, t, :, None, None], state)
            assert torch.allclose(state[0][:, :, 0, 0], expected[:, t], atol=1e-6)


def test_convlstm_sees_frame_order():
    assert _order_changes_output("convlstm")
    assert _order_changes_output("convlstm", pooling="mean", layers=2)


# --- metadata, limits, knobs, training ----------------------------------------------------------

@pytest.mark.parametrize("name", NEW_MODELS)
def test_metadata_and_honest_limits(name):
    info = model_info(name)
    torchvision_backed = name not in ("tsm_tiny", "convlstm")
    if torchvision_backed:
        assert (info.mean, info.std) == (IMAGENET_MEAN, IMAGENET_STD)
        assert info.default_size == 224
    limits = info.input_limits()
    smallest = limits.min_size
    assert limits.violation(1, smallest, smallest) is None
    assert limits.violation(1, smallest - 1, smallest - 1) is not None
    with torch.device("meta"):
        model = create_model(name, num_classes=3).eval()
        for t in (1, 5):  # any clip length, down to the smallest frame
            assert model(torch.empty(2, 3, t, smallest, smallest)).shape == (2, 3)


@pytest.mark.parametrize(("name", "args"), [
    ("tsm_resnet18", {"consensus": "median"}), ("tsm_resnet18", {"shift_div": 1}),
    ("tsn_resnet50", {"consensus": "sum"}), ("lrcn_resnet18_gru", {"pooling": "max"}),
    ("convlstm", {"pooling": "max"}), ("convlstm", {"kernel_size": 4}), ("convlstm", {"layers": 0}),
])
def test_bad_knob_values_are_rejected_at_build_time(name, args):
    with torch.device("meta"), pytest.raises(ValueError, match=repr(next(iter(args.values())))):
        create_model(name, num_classes=4, **args)


def _train_step(name: str, clip: tuple[int, int, int], **args) -> None:
    torch.manual_seed(0)
    model = create_model(name, num_classes=4, **args).train()
    logits = model(torch.randn(2, 3, *clip))
    assert logits.shape == (2, 4) and torch.isfinite(logits).all()
    nn.functional.cross_entropy(logits, torch.tensor([0, 3])).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


@pytest.mark.parametrize(("name", "args"), [("tsm_tiny", {}), ("tsm_tiny", {"width": 8, "shift_div": 4}),
                                             ("convlstm", {}), ("convlstm", {"layers": 2, "pooling": "mean"})])
def test_the_tiny_presets_train_on_a_cpu(name, args):
    _train_step(name, (5, 32, 32), **args)


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in NEW_MODELS if n not in ("tsm_tiny", "convlstm")])
def test_the_full_size_models_train_at_a_small_input(name):
    _train_step(name, (3, 32, 32))
