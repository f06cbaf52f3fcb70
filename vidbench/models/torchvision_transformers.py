"""torchvision's video transformers under their own names: Video Swin (swin3d_t/s/b) and MViT
(mvit_v1_b, mvit_v2_s). Built with `weights=None` (nothing is downloaded) and `num_classes`.

Input limits, from torchvision's code:
- Swin3D pads the clip to whole 2×4×4 patches (`PatchEmbed3d`), pads every block's input to whole
  8×7×7 windows (shrinking a window that is larger than the input) and pads odd sizes before patch
  merging, so it takes any clip (torchvision's metadata: `min_size` (1, 1), `min_temporal_size` 1).
  A clip that is not a multiple of those sizes is computed, and counted, padded.
- MViT adds position information for exactly the clip it was built for: v1's absolute space and time
  embeddings have 8×56×56 entries, and both v1 and v2 read the token grid (T/2, H/4, W/4) from the
  positional-encoding module rather than from the input. torchvision's builders fix that clip at
  16×224×224 and do not let it be changed, so these models take exactly 16 frames of 224×224.
"""

from __future__ import annotations

import torch.nn as nn

from vidbench.models import stages
from vidbench.models.blocks import torchvision_model
from vidbench.models.published import PUBLISHED
from vidbench.models.registry import InputLimits, register_model
from vidbench.models.vit_layers import IMAGENET_MEAN, IMAGENET_STD

VIDEO_SWIN_PAPER = "Liu et al., Video Swin Transformer, CVPR 2022"
MVIT_V1_PAPER = "Fan et al., Multiscale Vision Transformers, ICCV 2021"
MVIT_V2_PAPER = "Li et al., MViTv2: Improved Multiscale Vision Transformers for Classification and Detection, CVPR 2022"
MVIT_MEAN = (0.45, 0.45, 0.45)  # torchvision's MViT weights transforms
MVIT_STD = (0.225, 0.225, 0.225)
MVIT_LIMITS = InputLimits(fixed_frames=16, fixed_size=(224, 224))
_MVIT_STAGES = stages.vit("blocks", ("conv_proj", "pos_encoding"))


def _torchvision_video(name: str, num_classes: int) -> nn.Module:
    return torchvision_model("torchvision.models.video", name, num_classes=num_classes)


def _swin(fn):
    enum = f"Swin3D_{fn.__name__[-1].upper()}_Weights"
    return register_model(fn, family="transformer", arch="swin3d", default_input=(16, 224), mean=IMAGENET_MEAN,
                          std=IMAGENET_STD, limits=InputLimits(), paper=VIDEO_SWIN_PAPER, head="head",
                          torchvision_weights=enum, stages=stages.swin3d, published=PUBLISHED[fn.__name__])


@_swin
def swin3d_t(num_classes: int = 400):
    """torchvision's Swin3D-T: embed 96, depths (2, 2, 6, 2), 2×4×4 patches, 8×7×7 windows."""
    return _torchvision_video("swin3d_t", num_classes)


@_swin
def swin3d_s(num_classes: int = 400):
    """torchvision's Swin3D-S: embed 96, depths (2, 2, 18, 2)."""
    return _torchvision_video("swin3d_s", num_classes)


@_swin
def swin3d_b(num_classes: int = 400):
    """torchvision's Swin3D-B: embed 128, depths (2, 2, 18, 2)."""
    return _torchvision_video("swin3d_b", num_classes)


@register_model(family="transformer", arch="mvit", default_input=(16, 224), mean=MVIT_MEAN, std=MVIT_STD,
                limits=MVIT_LIMITS, paper=MVIT_V1_PAPER, head="head.1",
                torchvision_weights="MViT_V1_B_Weights", stages=_MVIT_STAGES, published=PUBLISHED["mvit_v1_b"])
def mvit_v1_b(num_classes: int = 400):
    """torchvision's MViT-v1-B (16×4): absolute space-time position embeddings; exactly 16×224×224."""
    return _torchvision_video("mvit_v1_b", num_classes)


@register_model(family="transformer", arch="mvit", default_input=(16, 224), mean=MVIT_MEAN, std=MVIT_STD,
                limits=MVIT_LIMITS, paper=MVIT_V2_PAPER, head="head.1",
                torchvision_weights="MViT_V2_S_Weights", stages=_MVIT_STAGES, published=PUBLISHED["mvit_v2_s"])
def mvit_v2_s(num_classes: int = 400):
    """torchvision's MViT-v2-S: relative position embeddings, residual pooling; exactly 16×224×224."""
    return _torchvision_video("mvit_v2_s", num_classes)
