"""The transformer family: figures that must match their sources, input limits, embeddings, presets.

Every reference figure below comes from outside vidbench (torchvision's weights metadata, or the
paper), with its source and input beside it; none is vidbench's own output. Papers' "GFLOPs" are
multiply-accumulates, so they are compared with our GMACs (FlopCounterMode FLOPs / 2, meta device).
All at batch 1, one view (one clip, one crop), 400 classes (Kinetics-400) as in the sources.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torchvision.models import video as tv_video

# Registration: importing these modules registers their models (also done by vidbench.models).
import vidbench.models.torchvision_transformers  # noqa: F401
import vidbench.models.videomae  # noqa: F401
import vidbench.models.vivit  # noqa: F401
from vidbench.measure.flops import count_params, forward_flops, model_cost
from vidbench.models import create_model, list_models, model_info
from vidbench.models.vit_layers import sinusoid_table

K400 = 400


# --- torchvision's models: its weights metadata is the source --------------------------------------

@pytest.mark.parametrize(("name", "weights"), [
    ("swin3d_t", tv_video.Swin3D_T_Weights.KINETICS400_V1),
    ("swin3d_s", tv_video.Swin3D_S_Weights.KINETICS400_V1),
    ("swin3d_b", tv_video.Swin3D_B_Weights.KINETICS400_V1),
    ("mvit_v1_b", tv_video.MViT_V1_B_Weights.KINETICS400_V1),
    ("mvit_v2_s", tv_video.MViT_V2_S_Weights.KINETICS400_V1),
])
def test_torchvision_transformers_match_torchvision_metadata(name, weights):
    # Source: torchvision's weights meta (no download): "num_params" and "_ops" (GFLOPs in
    # torchvision's sense, i.e. GMACs) of one 16x224x224 clip, 400 classes.
    meta = weights.meta
    cost = model_cost(name, len(meta["categories"]), {}, 16, 224, 224)
    assert cost.params == meta["num_params"]
    assert cost.gmacs == pytest.approx(meta["_ops"], rel=0.005)
    info = model_info(name)
    assert (info.default_frames, info.default_size) == (16, 224)
    transforms = weights.transforms()
    assert info.mean == pytest.approx(tuple(transforms.mean)) and info.std == pytest.approx(tuple(transforms.std))


def test_mvit_takes_exactly_the_clip_its_position_embeddings_were_built_for():
    # The declared limits are the truth: any other clip fails inside torchvision's MViT.
    for name in ("mvit_v1_b", "mvit_v2_s"):
        limits = model_info(name).input_limits()
        assert limits.violation(16, 224, 224) is None
        assert "clip_length 8" in limits.violation(8, 224, 224)
        assert "resolution 112x112" in limits.violation(16, 112, 112)
        with torch.device("meta"):
            model = create_model(name, num_classes=3).eval()
            assert model(torch.empty(1, 3, 16, 224, 224)).shape == (1, 3)
            for shape in [(8, 224, 224), (16, 112, 112)]:
                with pytest.raises(RuntimeError):
                    model(torch.empty(1, 3, *shape))


@pytest.mark.parametrize("shape", [(1, 1, 1), (3, 33, 17), (16, 224, 224), (5, 64, 96)])
def test_swin3d_pads_so_it_takes_any_clip(shape):
    # torchvision pads to whole 2x4x4 patches and 8x7x7 windows (and odd sizes before merging),
    # which is why swin3d declares no input limits.
    assert model_info("swin3d_t").input_limits().violation(*shape) is None
    with torch.device("meta"):
        model = create_model("swin3d_t", num_classes=3).eval()
        assert model(torch.empty(1, 3, *shape)).shape == (1, 3)


# --- own implementations: the papers are the source --------------------------------------------------

# TimeSformer (Bertasius et al., ICML 2021), ViT-B/16, 8 frames of 224x224:
# - params: Table 1 ("Params" column): divided space-time 121.4M; joint space-time 85.9M; space 85.9M.
# - GFLOPs: Tables 2 and 5 give 0.59 TFLOPs for TimeSformer at inference with 3 views (1 clip x 3
#   spatial crops), i.e. 196.7 GFLOPs per view; the MViT and VideoMAE papers list it as "196 x 3".
# Table 1 gives no FLOPs for joint or space-only attention (the paper only plots joint vs divided
# TFLOPs in Fig. 3, without numbers), so for those only the parameters are compared.
@pytest.mark.parametrize(("attention", "ref_params", "ref_gmacs"), [
    ("divided", 121.4e6, 0.59e3 / 3),
    ("joint", 85.9e6, None),
    ("space_only", 85.9e6, None),
])
def test_timesformer_b_matches_the_paper(attention, ref_params, ref_gmacs):
    cost = model_cost("timesformer_b", K400, {"attention": attention}, 8, 224, 224)
    assert cost.params == pytest.approx(ref_params, rel=0.05)
    if ref_gmacs is not None:
        assert cost.gmacs == pytest.approx(ref_gmacs, rel=0.05)


def test_vivit_b_factorised_encoder_matches_the_paper():
    # ViViT (Arnab et al., ICCV 2021), Table 2 "Comparison of model architectures using ViViT-B as
    # the backbone, and tubelet size of 16x2", row "Factorised encoder" (Model 2): 284.4 x10^9 FLOPs,
    # 115.1M params, on Kinetics-400 (400 classes). Input: 32 frames of 224x224 (the ablations' and
    # the official Scenic config's 32 frames at stride 2; 2-frame tubelets give 16 temporal tokens),
    # 12 spatial + 4 temporal layers (Scenic kinetics400/vivit_base_factorised_encoder.py).
    cost = model_cost("vivit_b", K400, {}, 32, 224, 224)
    assert cost.params == pytest.approx(115.1e6, rel=0.05)
    assert cost.gmacs == pytest.approx(284.4, rel=0.05)


@pytest.mark.parametrize(("name", "ref_params", "ref_gmacs"), [
    ("videomae_vit_s", 22e6, 57.0),
    ("videomae_vit_b", 87e6, 180.0),
])
def test_videomae_matches_the_paper(name, ref_params, ref_gmacs):
    # VideoMAE (Tong et al., NeurIPS 2022), Kinetics-400 comparison table: ViT-S 22M params,
    # "57 x 3 x 5" GFLOPs; ViT-B 87M params, "180 x 3 x 5" GFLOPs (per view x 3 crops x 5 clips).
    # Input: 16 frames of 224x224, 400 classes.
    cost = model_cost(name, K400, {}, 16, 224, 224)
    assert cost.params == pytest.approx(ref_params, rel=0.05)
    assert cost.gmacs == pytest.approx(ref_gmacs, rel=0.05)


# --- own implementations: structure ------------------------------------------------------------------

def test_the_sinusoid_table_is_videomaes():
    # VideoMAE's get_sinusoid_encoding_table (modeling_finetune.py), written out here in numpy.
    def official(n_position, d_hid):
        table = np.array([[pos / np.power(10000, 2 * (j // 2) / d_hid) for j in range(d_hid)]
                          for pos in range(n_position)])
        table[:, 0::2] = np.sin(table[:, 0::2])
        table[:, 1::2] = np.cos(table[:, 1::2])
        return torch.tensor(table, dtype=torch.float).unsqueeze(0)

    for n, d in [(1568, 384), (37, 64)]:
        torch.testing.assert_close(sinusoid_table(n, d, like=torch.empty(0)), official(n, d))


def test_videomae_has_no_key_bias():
    block = create_model("videomae_tiny", num_classes=3).blocks[0]
    names = {n for n, _ in block.attn.named_parameters()}
    assert names == {"qkv.weight", "q_bias", "v_bias", "proj.weight", "proj.bias"}


@pytest.mark.parametrize(("name", "args", "tokens"), [
    # (frames, size) → attention per layer and sequence, from the architecture's definition
    ("videomae_tiny", {}, lambda t, s, p: [(1, (t // 2) * (s // p) ** 2)] * 2),  # joint, no class token
    ("vivit_tiny", {}, lambda t, s, p: [(t // 2, 1 + (s // p) ** 2)] * 2 + [(1, 1 + t // 2)]),
])
def test_attention_is_counted(name, args, tokens):
    t, s, patch, dim = 8, 32, 8, 64
    expected = sum(2 * batch * n * n * dim for batch, n in tokens(t, s, patch))  # QK^T and AV
    meta = model_cost(name, 10, args, t, s, s).macs
    model = create_model(name, num_classes=10, **args).eval()
    cpu = forward_flops(model, torch.randn(1, 3, t, s, s)) // 2  # CPU: linear layers only
    assert meta - cpu == expected


@pytest.mark.parametrize("name", ["vivit_tiny", "videomae_tiny"])
def test_other_clips_than_the_build_size_work(name):
    # ViViT resizes its learned embeddings; VideoMAE generates its sine-cosine table for the clip.
    model = create_model(name, num_classes=4).eval()
    with torch.no_grad():
        for t, h, w in [(8, 32, 32), (2, 48, 48), (16, 32, 64), (2, 8, 8)]:
            assert model(torch.randn(1, 3, t, h, w)).shape == (1, 4)


@pytest.mark.parametrize(("name", "frames"), [("vivit_b", 32), ("videomae_vit_b", 16), ("timesformer_b", 8)])
def test_resolution_and_clip_length_sweeps_work_at_full_size(name, frames):
    base = model_cost(name, K400, {}, frames, 224, 224)
    longer = model_cost(name, K400, {}, 2 * frames, 224, 224)
    smaller = model_cost(name, K400, {}, frames, 112, 160)
    assert base.params == longer.params == smaller.params
    assert longer.macs > base.macs > smaller.macs


@pytest.mark.parametrize("name", ["vivit_tiny", "videomae_tiny"])
def test_frame_order_matters(name):
    torch.manual_seed(0)
    model = create_model(name, num_classes=5).eval()
    clips = torch.randn(2, 3, 8, 32, 32)
    with torch.no_grad():
        assert not torch.allclose(model(clips), model(clips.flip(2)), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("name", ["vivit_tiny", "vivit_b", "videomae_tiny", "videomae_vit_s", "videomae_vit_b"])
def test_tubelet_limits_follow_the_args(name):
    info = model_info(name)
    patch = info.input_limits().size_multiple
    assert info.input_limits().frame_multiple == info.input_limits().min_frames == 2
    assert info.input_limits().violation(3, patch, patch) is not None
    assert info.input_limits({"tubelet_size": 4}).violation(6, patch, patch) is not None
    assert info.input_limits({"tubelet_size": 4}).violation(8, patch, patch) is None
    assert info.input_limits({"patch_size": 4}).violation(2, 12, 12) is None
    assert info.input_limits({"patch_size": 8}).violation(2, 12, 12) is not None
    assert info.input_limits({"patch_size": 4}).min_size == 4


@pytest.mark.parametrize("name", ["vivit_tiny", "videomae_tiny"])
def test_a_clip_the_tubelets_do_not_divide_is_refused(name):
    model = create_model(name, num_classes=3).eval()
    with pytest.raises(ValueError, match="3x32x32"):
        model(torch.randn(1, 3, 3, 32, 32))
    with pytest.raises(ValueError, match="4x36x36"):
        model(torch.randn(1, 3, 4, 36, 36))
    model = create_model(name, num_classes=3, tubelet_size=1, patch_size=4).eval()
    assert model(torch.randn(1, 3, 3, 36, 36)).shape == (1, 3)


@pytest.mark.parametrize(("large", "tiny", "knobs"), [
    ("timesformer_b", "timesformer_tiny", dict(img_size=32, patch_size=8, dim=64, depth=2, heads=4)),
    ("vivit_b", "vivit_tiny", dict(img_size=32, num_frames=8, patch_size=8, dim=64, depth=2, temporal_depth=1,
                                   heads=4)),
    ("videomae_vit_b", "videomae_tiny", dict(patch_size=8, dim=64, depth=2, heads=4)),
    ("videomae_vit_s", "videomae_tiny", dict(patch_size=8, dim=64, depth=2, heads=4)),
])
def test_variants_share_one_builder(large, tiny, knobs):
    # Entrypoints only set hyperparameters, so a CPU-trainable size is one call away.
    small = create_model(large, num_classes=5, **knobs)
    preset = create_model(tiny, num_classes=5)
    assert type(small) is type(preset)
    assert count_params(small) == count_params(preset)
    assert [n for n, _ in small.named_parameters()] == [n for n, _ in preset.named_parameters()]


@pytest.mark.parametrize("attention", ["divided", "joint", "space_only"])
def test_timesformer_b_takes_the_attention_arg(attention):
    with torch.device("meta"):
        model = create_model("timesformer_b", num_classes=3, attention=attention).eval()
        assert model(torch.empty(1, 3, 8, 224, 224)).shape == (1, 3)
    with pytest.raises(ValueError, match="'axial'"):
        create_model("timesformer_b", num_classes=3, attention="axial")


def test_the_family_is_registered_with_metadata():
    expected = {"timesformer_tiny": "timesformer", "timesformer_b": "timesformer", "vivit_b": "vivit",
                "vivit_tiny": "vivit", "videomae_vit_s": "videomae", "videomae_vit_b": "videomae",
                "videomae_tiny": "videomae", "swin3d_t": "swin3d", "swin3d_s": "swin3d", "swin3d_b": "swin3d",
                "mvit_v1_b": "mvit", "mvit_v2_s": "mvit"}
    assert set(expected) <= set(list_models(family="transformer"))
    for name, arch in expected.items():
        info = model_info(name)
        assert info.arch == arch and info.paper
        assert info.input_limits().violation(info.default_frames, info.default_size, info.default_size) is None
    for name in ("vivit_tiny", "videomae_tiny", "timesformer_tiny"):
        assert (model_info(name).default_frames, model_info(name).default_size) == (8, 32)



def test_timesformer_hr_and_l_are_vit_b_with_their_embeddings_grown():
    """TimeSformer's vit.py: pos_embed has num_patches + 1 rows and time_embed num_frames rows, the rest is the
    ViT-B/16 of timesformer_b. HR (16 x 448²): (28² + 1 − 197) + (16 − 8) more rows of 768; L (96 x 224²): 88."""
    from vidbench.measure.flops import count_params
    from vidbench.models import create_model

    with torch.device("meta"):
        base, hr, large = (count_params(create_model(n, num_classes=400))
                           for n in ("timesformer_b", "timesformer_hr", "timesformer_l"))
    assert hr - base == ((28 * 28 + 1 - 197) + (16 - 8)) * 768 and hr == 122_024_080
    assert large - base == (96 - 8) * 768 and large == 121_633_936
