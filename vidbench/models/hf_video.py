"""The Hugging Face model source: the large video transformers people shortlist, registered from the
published architectures' `transformers` config values (`register_table`; nothing is downloaded, no
weights are read unless `weights:` names a local file or `save_pretrained` folder).

Which implementation the registry measures:
- VideoMAE (V1 ViT-L/H, V2 ViT-g): vidbench's own `VideoMAEViT` (videomae.py), built from the keys of
  a `VideoMAEConfig`. It is the official release's network (MCG-NJU/VideoMAE and OpenGVLab/VideoMAEv2
  `modeling_finetune.py`: one fused qkv projection, q and v biases), the code their checkpoints run in and
  the one vidbench's ViT-S/B already measure, so sizes compare alike; transformers' `VideoMAEForVideo
  Classification` of the same config has exactly its parameters and, loaded from the same folder, its
  logits (tests/models/test_hf_video.py, tests/models/test_layouts_hf.py).
- V-JEPA 2 (ViT-L/H/g, g at 384 px): transformers' `VJEPA2ForVideoClassification` itself (vidbench has no
  implementation of its 3D-RoPE encoder), less the self-supervised predictor its classification forward
  skips: the classifier is the attentive probe (`pooler`, then the linear `classifier`) on the encoder.
  transformers is imported when such a model is built, never at registration.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from vidbench.models import stages
from vidbench.models.published import NO_PUBLISHED, PUBLISHED
from vidbench.models.registry import InputLimits, register_table
from vidbench.models.videomae import VIDEOMAE_PAPER, videomae_facts, videomae_from_hf_config
from vidbench.models.vit_layers import IMAGENET_MEAN, IMAGENET_STD

if TYPE_CHECKING:
    import torch.nn as nn

VIDEOMAEV2_PAPER = ("Wang et al., VideoMAE V2: Scaling Video Masked Autoencoders with Dual Masking, "
                    "CVPR 2023")
VJEPA2_PAPER = ("Assran et al., V-JEPA 2: Self-Supervised Video Models Enable Understanding, Prediction and "
                "Planning, arXiv 2506.09985 (2025)")

# VideoMAE ViT-L/16 and ViT-H/16: MCG-NJU/VideoMAE modeling_finetune.py vit_large_patch16_224 (1024 wide,
# 24 deep, 16 heads, mlp_ratio 4) and vit_huge_patch16_224 (1280, 32, 16, 4); the Hub's
# MCG-NJU/videomae-large-finetuned-kinetics config.json holds the same L values. VideoMAE V2 ViT-g/14:
# OpenGVLab/VideoMAEv2 models/modeling_finetune.py vit_giant_patch14_224 (1408 wide, 40 deep, 16 heads,
# mlp_ratio 48/11: 6144).
VIDEOMAE_TABLE = [
    {"name": "videomae_vit_l", "published": PUBLISHED["videomae_vit_l"],
     "config": dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096)},
    {"name": "videomae_vit_h", "published": PUBLISHED["videomae_vit_h"],
     "config": dict(hidden_size=1280, num_hidden_layers=32, num_attention_heads=16, intermediate_size=5120)},
    {"name": "videomaev2_vit_g", "published": PUBLISHED["videomaev2_vit_g"], **videomae_facts(14, VIDEOMAEV2_PAPER),
     "config": dict(hidden_size=1408, num_hidden_layers=40, num_attention_heads=16, intermediate_size=6144,
                    patch_size=14)},
]

# V-JEPA 2 encoders: facebookresearch/vjepa2 src/models/vision_transformer.py vit_large (1024, 24, 16 heads),
# vit_huge (1280, 32, 16), vit_giant_xformers (1408, 40, 22 heads, mlp_ratio 48/11); patch 16, tubelet 2;
# the Hub's facebook/vjepa2-vit{l,h,g}-fpc64-256 and -vitg-fpc64-384 config.json (crop_size, frames_per_clip).
# The probe: configs/eval/*/ssv2.yaml num_probe_blocks 4 = transformers' num_pooler_layers 3 self-attention
# layers + its cross-attention layer.
_G = dict(hidden_size=1408, num_hidden_layers=40, num_attention_heads=22, mlp_ratio=48 / 11)
VJEPA2_TABLE = [
    {"name": "vjepa2_vit_l", "published": PUBLISHED["vjepa2_vit_l"],
     "config": dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, mlp_ratio=4.0)},
    {"name": "vjepa2_vit_h", "no_published": NO_PUBLISHED["vjepa2_vit_h"],
     "config": dict(hidden_size=1280, num_hidden_layers=32, num_attention_heads=16, mlp_ratio=4.0)},
    {"name": "vjepa2_vit_g", "no_published": NO_PUBLISHED["vjepa2_vit_g"], "config": dict(_G)},
    {"name": "vjepa2_vit_g_384", "published": PUBLISHED["vjepa2_vit_g_384"], "default_input": (64, 384),
     "limits": lambda args: vjepa2_limits({"crop_size": 384, **args}), "config": dict(_G, crop_size=384)},
]


def vjepa2_limits(args: dict[str, Any]) -> InputLimits:
    """V-JEPA 2's RoPE reads token positions on the `crop_size` grid it was built for (transformers'
    VJEPA2RopeAttention.grid_size), so a clip must be that size; frames come in tubelets."""
    crop, tubelet = int(args.get("crop_size", 256)), int(args.get("tubelet_size", 2))
    return InputLimits(fixed_size=(crop, crop), frame_multiple=tubelet, min_frames=tubelet)


@functools.lru_cache(maxsize=None)
def _vjepa2_class() -> type:
    """transformers' V-JEPA 2 classifier taking vidbench's (B, C, T, H, W) clips and returning logits."""
    from transformers import VJEPA2ForVideoClassification

    class VJEPA2Classifier(VJEPA2ForVideoClassification):
        """The encoder and its attentive probe; the predictor (pre-training only) is left out."""

        def __init__(self, config):
            super().__init__(config)
            self.vjepa2.predictor = None  # skipped by the classification forward (skip_predictor=True)

        def forward(self, clips):
            return super().forward(pixel_values_videos=clips.transpose(1, 2)).logits

    return VJEPA2Classifier


def vjepa2(num_classes: int = 400, *, hidden_size: int, num_hidden_layers: int, num_attention_heads: int,
           mlp_ratio: float, crop_size: int = 256, frames_per_clip: int = 64, patch_size: int = 16,
           tubelet_size: int = 2, num_pooler_layers: int = 3) -> nn.Module:
    """A V-JEPA 2 encoder with its attentive-probe classifier, from `VJEPA2Config` keys."""
    from transformers import VJEPA2Config

    config = VJEPA2Config(hidden_size=hidden_size, num_hidden_layers=num_hidden_layers,
                          num_attention_heads=num_attention_heads, mlp_ratio=mlp_ratio, crop_size=crop_size,
                          frames_per_clip=frames_per_clip, patch_size=patch_size, tubelet_size=tubelet_size,
                          num_pooler_layers=num_pooler_layers, num_labels=num_classes)
    return _vjepa2_class()(config)


VJEPA2_STAGES = stages.vit("vjepa2.encoder.layer", ("vjepa2.encoder.embeddings",))

VIDEOMAE_NAMES = register_table(VIDEOMAE_TABLE, builder=videomae_from_hf_config, default_input=(16, 224),
                                **videomae_facts(16, VIDEOMAE_PAPER))
VJEPA2_NAMES = register_table(VJEPA2_TABLE, builder=vjepa2, family="transformer", arch="vjepa2",
                              default_input=(16, 256), mean=IMAGENET_MEAN, std=IMAGENET_STD, limits=vjepa2_limits,
                              paper=VJEPA2_PAPER, head="classifier", stages=VJEPA2_STAGES)
