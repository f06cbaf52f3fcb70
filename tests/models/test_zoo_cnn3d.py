"""The 3D CNN zoo (C3D, S3D, I3D R50, X3D-XS/S/M/L, SlowFast R50, the "Closer Look" R2D/MCx/rMCx):
each published figure matches its source, and each builder does what its source does.

Figures are counted on the meta device by `model_cost` (GMACs = FlopCounterMode FLOPs / 2; what the
sources call "GFLOPs" are multiply-accumulates too). Each reference below names its source and the input
it was measured at; a reference with an exact integer parameter count is compared exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch
import torch.nn as nn
from torchvision.models import video as tv_video

from vidbench.measure.flops import forward_flops, model_cost
from vidbench.models import create_model, list_models, model_info
from vidbench.models.cnn3d import _closer_look_resnet

TOLERANCE = 0.05  # own implementations: params and GMACs within 5% of the source


@dataclass(frozen=True)
class Reference:
    model: str
    args: dict
    num_classes: int
    frames: int
    size: int
    params: float  # exact count when `params_exact`, else the source's rounded figure
    gmacs: float
    source: str
    params_exact: bool = False


REFERENCES = [
    # mmaction2 configs/recognition/c3d/metafile.yml, c3d_sports1m-pretrained_8xb30-16x1x1-45e_ucf101-rgb:
    # "FLOPs: 38615475200, Parameters: 78409573" — 101 UCF101 classes, one 16×112×112 clip.
    Reference("c3d", {}, 101, 16, 112, 78_409_573, 38.615, "mmaction2 C3D metafile (UCF101 head)", params_exact=True),
    # I3D R50 8×8 (PySlowFast configs/Kinetics/I3D_8x8_R50.yaml: 8 frames, TEST_CROP_SIZE 256).
    # Params: mmaction2 configs/recognition/i3d/metafile.yml, i3d_r50_32x2x1: "Parameters: 28043472" (same
    # network: the same inflation pattern; pytorchvideo's model zoo lists 28.04M). GMACs: pytorchvideo
    # docs/model_zoo.md, "I3D R50 8x8 … Flops (G) 37.53", which PySlowFast counts at the test crop, 8×256².
    # (At the 224² training crop ours is 28.4; mmaction2's 43.56G is for its 32-frame, time-strided stem.)
    Reference("i3d_r50", {}, 400, 8, 256, 28_043_472, 37.53, "mmaction2 I3D metafile / pytorchvideo model zoo",
              params_exact=True),
    # SlowFast R50 8×8 (PySlowFast configs/Kinetics/SLOWFAST_8x8_R50.yaml: NUM_FRAMES 32, ALPHA 4,
    # BETA_INV 8, FUSION_KERNEL_SZ 7, TEST_CROP_SIZE 256). pytorchvideo docs/model_zoo.md: "SlowFast R50 8x8
    # … 65.71 | 34.57": one 32-frame clip (8 slow frames) at 256², the test crop.
    Reference("slowfast_r50", {}, 400, 32, 256, 34.57e6, 65.71, "pytorchvideo model zoo, SlowFast R50 8x8"),
    # SlowFast R50 4×16 (SLOWFAST_4x16_R50.yaml: ALPHA 8, FUSION_KERNEL_SZ 5, 32 frames): "36.69 | 34.48".
    Reference("slowfast_r50", {"alpha": 8, "fusion_kernel": 5}, 400, 32, 256, 34.48e6, 36.69,
              "pytorchvideo model zoo, SlowFast R50 4x16"),
    # X3D: PySlowFast MODEL_ZOO.md "X3D models": params (M) / FLOPs (G) XS 3.8/0.60, S 3.8/1.96,
    # M 3.8/4.73, L 6.2/18.37 — the X3D paper's figures, at the training input. The inputs are
    # pytorchvideo's create_x3d / hub x3d.py: XS 4×160², S 13×160², M 16×224², L 16×312².
    Reference("x3d_xs", {}, 400, 4, 160, 3.8e6, 0.60, "PySlowFast MODEL_ZOO, X3D-XS"),
    Reference("x3d_s", {}, 400, 13, 160, 3.8e6, 1.96, "PySlowFast MODEL_ZOO, X3D-S"),
    Reference("x3d_m", {}, 400, 16, 224, 3.8e6, 4.73, "PySlowFast MODEL_ZOO, X3D-M"),
    Reference("x3d_l", {}, 400, 16, 312, 6.2e6, 18.37, "PySlowFast MODEL_ZOO, X3D-L"),
]


def _rel(ours: float, ref: float) -> float:
    return abs(ours - ref) / ref


@pytest.mark.parametrize("ref", REFERENCES, ids=lambda r: f"{r.model}{''.join(f'-{k}{v}' for k, v in r.args.items())}")
def test_figures_match_their_source(ref: Reference):
    cost = model_cost(ref.model, ref.num_classes, ref.args, ref.frames, ref.size, ref.size)
    if ref.params_exact:
        assert cost.params == ref.params, ref.source
    else:
        assert _rel(cost.params, ref.params) <= TOLERANCE, (cost.params, ref.params, ref.source)
    assert _rel(cost.gmacs, ref.gmacs) <= TOLERANCE, (cost.gmacs, ref.gmacs, ref.source)


def test_pytorchvideo_x3d_parameter_count():
    # pytorchvideo docs/model_zoo.md lists X3D XS/S/M (the same network) at 3.79M parameters.
    assert round(model_cost("x3d_m", 400, {}, 16, 224, 224).params / 1e6, 2) == 3.79


# --- torchvision's S3D ---------------------------------------------------------------------------------

def test_s3d_is_torchvisions_with_its_figures():
    meta = tv_video.S3D_Weights.KINETICS400_V1.meta
    for args in ({}, {"adaptive_pool": False}):
        cost = model_cost("s3d", 400, args, 16, 224, 224)
        assert cost.params == meta["num_params"]
        assert _rel(cost.gmacs, meta["_ops"]) <= 0.005
    assert isinstance(create_model("s3d", num_classes=4, adaptive_pool=False), type(tv_video.s3d(weights=None)))


def test_s3d_adaptive_pool_is_torchvisions_pool_at_16x224():
    # At 16×224² torchvision's last feature map is 2×7×7, so its AvgPool3d((2, 7, 7), stride 1) is a global
    # average: the same as AdaptiveAvgPool3d(1). (A real forward of both is in the slow test below.)
    with torch.device("meta"):
        model = create_model("s3d", num_classes=4, adaptive_pool=False)
        assert model.features(torch.empty(1, 3, 16, 224, 224)).shape[2:] == (2, 7, 7)
    assert model.avgpool.kernel_size == (2, 7, 7) and model.avgpool.stride in (1, (1, 1, 1))
    x = torch.randn(2, 8, 2, 7, 7)
    torch.testing.assert_close(nn.AvgPool3d((2, 7, 7), stride=1)(x), nn.AdaptiveAvgPool3d(1)(x))


@pytest.mark.slow
def test_s3d_adaptive_pool_gives_torchvisions_outputs():
    torch.manual_seed(0)
    ours = create_model("s3d", num_classes=5).eval()
    theirs = tv_video.s3d(weights=None, num_classes=5).eval()
    theirs.load_state_dict(ours.state_dict())
    x = torch.randn(1, 3, 16, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(x))


def test_s3d_limits_follow_the_pool():
    info = model_info("s3d")
    assert info.input_limits().violation(8, 64, 64) is None
    assert info.input_limits({"adaptive_pool": False}).violation(8, 224, 224) is not None
    assert info.input_limits({"adaptive_pool": False}).violation(14, 224, 224) is None


# --- C3D -----------------------------------------------------------------------------------------------

def test_c3d_is_the_paper_network():
    model = create_model("c3d", num_classes=487)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv3d)]
    assert [c.out_channels for c in convs] == [64, 128, 256, 256, 512, 512, 512, 512]
    assert all(c.kernel_size == (3, 3, 3) for c in convs)
    assert sum(isinstance(m, nn.MaxPool3d) for m in model.modules()) == 5
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert [(fc.in_features, fc.out_features) for fc in linears] == [(8192, 4096), (4096, 4096), (4096, 487)]
    # At the paper's 16×112² clip pool5 leaves exactly 512×1×4×4: the adaptive pool after it does nothing.
    with torch.device("meta"):
        assert create_model("c3d").features(torch.empty(1, 3, 16, 112, 112)).shape == (1, 512, 1, 4, 4)


def test_c3d_takes_other_clip_sizes():
    model = create_model("c3d", num_classes=3, width=4, hidden=16).eval()
    with torch.no_grad():
        for t, h, w in [(16, 112, 112), (4, 32, 48), (1, 16, 16)]:
            assert model(torch.randn(1, 3, t, h, w)).shape == (1, 3)


# --- I3D -----------------------------------------------------------------------------------------------

def test_i3d_inflation_pattern():
    with torch.device("meta"):
        model = create_model("i3d_r50", num_classes=4)
    assert model.stem[0].kernel_size == (5, 7, 7)
    stages = [s for s in model.stages if isinstance(s, nn.Sequential)]
    kernels = [[block.conv_a.kernel_size[0] for block in stage] for stage in stages]
    assert kernels == [[3, 3, 3], [3, 1, 3, 1], [3, 1, 3, 1, 3, 1], [1, 3, 1]]
    assert all(block.conv_b.kernel_size == (1, 3, 3) for stage in stages for block in stage)
    with torch.device("meta"):  # time is halved once, after res2
        assert model.eval().stages(model.stem(torch.empty(1, 3, 8, 64, 64))).shape[2] == 4


# --- SlowFast ------------------------------------------------------------------------------------------

def test_slowfast_pathways_see_the_clip_at_alpha_and_at_full_rate():
    seen = {}
    with torch.device("meta"):
        model = create_model("slowfast_r50", num_classes=4).eval()
        model.slow_stem.register_forward_hook(lambda m, i, o: seen.update(slow=i[0].shape[2]))
        model.fast_stem.register_forward_hook(lambda m, i, o: seen.update(fast=i[0].shape[2]))
        assert model(torch.empty(1, 3, 32, 64, 64)).shape == (1, 4)
    assert seen == {"slow": 8, "fast": 32}
    assert [f.conv.kernel_size for f in model.fusions] == [(7, 1, 1)] * 4
    assert [f.conv.stride[0] for f in model.fusions] == [4] * 4
    assert [(f.conv.in_channels, f.conv.out_channels) for f in model.fusions] == [(8, 16), (32, 64), (64, 128),
                                                                                   (128, 256)]
    assert model.fc.in_features == 2048 + 256


def test_slowfast_clip_length_must_be_a_multiple_of_alpha():
    info = model_info("slowfast_r50")
    assert info.input_limits().violation(32, 224, 224) is None
    assert "multiple of 4" in info.input_limits().violation(30, 224, 224)
    assert "multiple of 8" in info.input_limits({"alpha": 8}).violation(36, 224, 224)
    with pytest.raises(ValueError, match="6"):
        create_model("slowfast_r50", num_classes=4, fusion_kernel=6)


# --- X3D -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "blocks"), [("x3d_xs", [3, 5, 11, 7]), ("x3d_s", [3, 5, 11, 7]),
                                              ("x3d_m", [3, 5, 11, 7]), ("x3d_l", [5, 10, 25, 15])])
def test_x3d_expansion(name, blocks):
    with torch.device("meta"):
        model = create_model(name, num_classes=400)
    assert [len(stage) for stage in model.stages] == blocks
    assert [stage[0].conv_c.out_channels for stage in model.stages] == [24, 48, 96, 192]
    assert [stage[0].conv_b.out_channels for stage in model.stages] == [54, 108, 216, 432]  # 2.25× bottleneck
    for stage in model.stages:
        for i, block in enumerate(stage):
            assert block.conv_b.groups == block.conv_b.in_channels  # channel-wise 3×3×3
            assert block.conv_b.kernel_size == (3, 3, 3)
            assert isinstance(block.se, nn.Identity) == (i % 2 == 1)  # SE on every other block
            assert isinstance(block.swish, nn.SiLU)


def test_x3d_variants_share_one_builder():
    # XS, S and M are one network at three inputs; L is the same builder, deeper.
    xs, s, m = (model_cost(n, 400, {}, 4, 160, 160).params for n in ("x3d_xs", "x3d_s", "x3d_m"))
    assert xs == s == m
    assert model_cost("x3d_l", 400, {"depth_factor": 2.2}, 4, 160, 160).params == xs


# --- "A Closer Look": R2D, MCx, rMCx -------------------------------------------------------------------

def _group_kernels(model: nn.Module) -> list[int]:
    """Temporal kernel size of the stem and of every 3×3 convolution in layer1 … layer4."""
    kernels = [model.stem[0].kernel_size[0]]
    for layer in (model.layer1, model.layer2, model.layer3, model.layer4):
        ks = {block.conv1[0].kernel_size[0] for block in layer} | {block.conv2[0].kernel_size[0] for block in layer}
        assert len(ks) == 1
        kernels.append(ks.pop())
    return kernels


def test_the_shared_builder_rebuilds_torchvisions_mc3_18_and_r3d_18():
    # MC3 = groups 1-2 3D (torchvision's mc3_18); no 2D group at all = torchvision's r3d_18.
    for first_2d, weights in [(3, tv_video.MC3_18_Weights.KINETICS400_V1),
                              (None, tv_video.R3D_18_Weights.KINETICS400_V1)]:
        with torch.device("meta"):
            model = _closer_look_resnet(400, first_2d=first_2d).eval()
            macs = forward_flops(model, torch.empty(1, 3, 16, 112, 112)) / 2
        assert sum(p.numel() for p in model.parameters()) == weights.meta["num_params"]
        assert _rel(macs / 1e9, weights.meta["_ops"]) <= 0.005


@pytest.mark.parametrize(("name", "kernels"), [
    ("r2d_18", [1, 1, 1, 1, 1]),
    ("mc2_18", [3, 1, 1, 1, 1]), ("mc3_18", [3, 3, 1, 1, 1]), ("mc4_18", [3, 3, 3, 1, 1]), ("mc5_18", [3, 3, 3, 3, 1]),
    ("rmc2_18", [1, 3, 3, 3, 3]), ("rmc3_18", [1, 1, 3, 3, 3]),
    ("rmc4_18", [1, 1, 1, 3, 3]), ("rmc5_18", [1, 1, 1, 1, 3]),
])
def test_convolution_type_per_group(name, kernels):
    with torch.device("meta"):
        model = create_model(name, num_classes=400)
    assert _group_kernels(model) == kernels


def test_r2d_has_no_temporal_stride_and_its_stem_can_fuse_the_clip():
    with torch.device("meta"):
        f_r2d = create_model("r2d_18", num_classes=4).eval()
        feats = f_r2d.layer4(f_r2d.layer3(f_r2d.layer2(f_r2d.layer1(f_r2d.stem(torch.empty(1, 3, 8, 112, 112))))))
        assert feats.shape[2] == 8  # frame-wise: time is only pooled at the end
        r2d = create_model("r2d_18", num_classes=4, stem_frames=8).eval()
        assert r2d.stem(torch.empty(1, 3, 8, 112, 112)).shape[2] == 1  # the paper's R2D: 3·8 input channels
    assert model_info("r2d_18").input_limits({"stem_frames": 8}).violation(4, 112, 112) is not None


def test_closer_look_parameter_counts_grow_with_3d_groups():
    params = {n: model_cost(n, 400, {}, 8, 112, 112).params for n in list_models(["mc*_18", "rmc*_18", "r2d_18"])}
    assert params["r2d_18"] < params["mc2_18"] < params["mc3_18"] < params["mc4_18"] < params["mc5_18"]
    assert params["rmc5_18"] < params["rmc4_18"] < params["rmc3_18"] < params["rmc2_18"]


# --- every new model: knobs that make it CPU-sized, and a training step -------------------------------

SMALL = [
    ("c3d", {"width": 8, "hidden": 64}, (16, 112)),
    ("s3d", {}, (8, 32)),
    ("i3d_r50", {"width": 8, "depth": 26}, (4, 32)),
    ("slowfast_r50", {"width": 16, "depth": 26}, (8, 32)),
    ("x3d_xs", {"width_factor": 1.0, "depth_factor": 1.0, "head_dim": 64}, (4, 32)),
    ("x3d_l", {"width_factor": 1.0, "depth_factor": 1.0, "head_dim": 64}, (4, 32)),
    ("r2d_18", {"depth": 10}, (4, 32)),
    ("rmc3_18", {"depth": 10}, (4, 32)),
    ("mc5_18", {"depth": 10}, (4, 32)),
]


@pytest.mark.parametrize(("name", "args", "clip"), SMALL, ids=[s[0] for s in SMALL])
def test_size_knobs_give_a_cpu_trainable_model(name, args, clip):
    frames, size = clip
    assert model_info(name).input_limits(args).violation(frames, size, size) is None
    if args:
        assert model_cost(name, 4, args, frames, size, size).params < model_cost(name, 4, {}, frames, size, size).params
    torch.manual_seed(0)
    model = create_model(name, num_classes=4, **args).train()
    logits = model(torch.randn(2, 3, frames, size, size))
    assert logits.shape == (2, 4)
    nn.functional.cross_entropy(logits, torch.tensor([0, 3])).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


@pytest.mark.parametrize("name", ["c3d", "i3d_r50", "slowfast_r50", "x3d_m", "r2d_18", "rmc2_18", "mc4_18"])
def test_new_models_see_frame_order(name):
    args = {"c3d": {"width": 4, "hidden": 16}, "i3d_r50": {"width": 8, "depth": 26},
            "slowfast_r50": {"width": 16, "depth": 26}, "x3d_m": {"width_factor": 1.0, "depth_factor": 1.0}}
    args = args.get(name, {"depth": 10})
    if name == "r2d_18":
        args["stem_frames"] = 8  # frame-wise f-R2D pools time away; the paper's R2D fuses the clip at the stem
    torch.manual_seed(0)
    model = create_model(name, num_classes=4, **args).eval()
    clips = torch.randn(2, 3, 8, 32, 32)
    with torch.no_grad():
        assert not torch.allclose(model(clips), model(clips.flip(2)), atol=1e-5, rtol=1e-4)
