"""X3D (Feichtenhofer 2020), as PySlowFast / pytorchvideo build X3D-XS, S, M and L.

One builder: a tiny 2D-ResNet-like base (stem 12 → stages 12, 24, 48, 96 wide with 1, 2, 5, 3 blocks)
expanded by a width factor (2.0) and a depth factor (2.2; 5.0 for L); each bottleneck is 1×1×1 →
channel-wise 3×3×3 (2.25× wider) → 1×1×1, with squeeze-excitation on every other block and swish after
the channel-wise convolution. XS, S and M are the same network (3.8M parameters) at different inputs
(4×160², 13×160², 16×224²); L is deeper and runs at 16×312².
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn

from vidbench.models import stages
from vidbench.models.blocks import init_video_cnn, projection_shortcut3d
from vidbench.models.published import PUBLISHED
from vidbench.models.registry import InputLimits, register_model

X3D_PAPER = "Feichtenhofer, X3D: Expanding Architectures for Efficient Video Recognition, CVPR 2020"
X3D_MEAN = (0.45, 0.45, 0.45)
X3D_STD = (0.225, 0.225, 0.225)

_BASE_STEM = 12
_BASE_DEPTHS = (1, 2, 5, 3)


def round_width(width: float, multiplier: float, min_width: int = 8, divisor: int = 8) -> int:
    """PySlowFast's channel rounding: to the nearest multiple of `divisor`, never 10% below."""
    width *= multiplier
    rounded = max(min_width, int(width + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * width:
        rounded += divisor
    return int(rounded)


class SqueezeExcite(nn.Module):
    def __init__(self, dim: int, ratio: float):
        super().__init__()
        hidden = round_width(dim, ratio)
        self.gate = nn.Sequential(nn.AdaptiveAvgPool3d(1), nn.Conv3d(dim, hidden, 1), nn.ReLU(inplace=True),
                                  nn.Conv3d(hidden, dim, 1), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(x)


class X3DBlock(nn.Module):
    """1×1×1 → BN → ReLU → channel-wise 3×3×3 → BN → [SE] → swish → 1×1×1 → BN; + shortcut."""

    def __init__(self, dim_in: int, dim_inner: int, dim_out: int, stride: int, se_ratio: float):
        super().__init__()
        self.conv_a = nn.Conv3d(dim_in, dim_inner, 1, bias=False)
        self.bn_a = nn.BatchNorm3d(dim_inner)
        self.conv_b = nn.Conv3d(dim_inner, dim_inner, 3, stride=(1, stride, stride), padding=1, groups=dim_inner,
                                bias=False)
        self.bn_b = nn.BatchNorm3d(dim_inner)
        self.se = SqueezeExcite(dim_inner, se_ratio) if se_ratio > 0 else nn.Identity()
        self.swish = nn.SiLU()
        self.conv_c = nn.Conv3d(dim_inner, dim_out, 1, bias=False)
        self.bn_c = nn.BatchNorm3d(dim_out)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = projection_shortcut3d(dim_in, dim_out, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn_a(self.conv_a(x)))
        out = self.swish(self.se(self.bn_b(self.conv_b(out))))
        out = self.bn_c(self.conv_c(out))
        return self.relu(out + (x if self.shortcut is None else self.shortcut(x)))


class X3D(nn.Module):
    def __init__(self, num_classes: int, width_factor: float = 2.0, depth_factor: float = 2.2,
                 bottleneck_factor: float = 2.25, head_dim: int = 2048, se_ratio: float = 0.0625,
                 dropout: float = 0.5):
        super().__init__()
        if width_factor <= 0 or depth_factor <= 0 or bottleneck_factor <= 0:
            raise ValueError(f"width_factor, depth_factor and bottleneck_factor must be positive, not "
                             f"{width_factor!r}, {depth_factor!r}, {bottleneck_factor!r}")
        stem_dim = round_width(_BASE_STEM, width_factor)
        # Stem: 1×3×3 convolution (spatial stride 2), then a channel-wise 5×1×1 temporal one.
        self.stem = nn.Sequential(
            nn.Conv3d(3, stem_dim, (1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1), bias=False),
            nn.Conv3d(stem_dim, stem_dim, (5, 1, 1), padding=(2, 0, 0), groups=stem_dim, bias=False),
            nn.BatchNorm3d(stem_dim),
            nn.ReLU(inplace=True),
        )
        base_dims = [_BASE_STEM]
        for _ in range(3):
            base_dims.append(round_width(base_dims[-1], 2.0))
        stages, dim_in = [], stem_dim
        for base_dim, base_depth in zip(base_dims, _BASE_DEPTHS):
            dim_out = round_width(base_dim, width_factor)
            dim_inner = int(bottleneck_factor * dim_out)
            blocks = int(math.ceil(depth_factor * base_depth))
            stages.append(nn.Sequential(*[
                X3DBlock(dim_in if i == 0 else dim_out, dim_inner, dim_out, stride=2 if i == 0 else 1,
                         se_ratio=se_ratio if i % 2 == 0 else 0.0)
                for i in range(blocks)
            ]))
            dim_in = dim_out
        self.stages = nn.Sequential(*stages)
        # Head: 1×1×1 conv5 to the last bottleneck width, pool, 1×1×1 lin5 to head_dim, dropout, classifier.
        self.head = nn.Sequential(
            nn.Conv3d(dim_in, dim_inner, 1, bias=False),
            nn.BatchNorm3d(dim_inner),
            nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool3d(1),
            nn.Conv3d(dim_inner, head_dim, 1, bias=False),
            nn.ReLU(inplace=True),
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(head_dim, num_classes),
        )
        init_video_cnn(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.stages(self.stem(x)))


_X3D_LIMITS = InputLimits(min_size=32)  # spatial stride 32: the last map is at least 1×1


def _x3d(num_classes: int, width_factor: float, depth_factor: float, bottleneck_factor: float, head_dim: int,
         dropout: float) -> X3D:
    return X3D(num_classes, width_factor=width_factor, depth_factor=depth_factor,
               bottleneck_factor=bottleneck_factor, head_dim=head_dim, dropout=dropout)


@register_model(family="cnn", arch="x3d", default_input=(4, 160), paper=X3D_PAPER, mean=X3D_MEAN, std=X3D_STD,
                limits=_X3D_LIMITS, head="head.8", stages=stages.stem_and("stages"),
                published=PUBLISHED["x3d_xs"])
def x3d_xs(num_classes: int = 400, width_factor: float = 2.0, depth_factor: float = 2.2,
           bottleneck_factor: float = 2.25, head_dim: int = 2048, dropout: float = 0.5):
    """X3D-XS: the X3D-S/M network, run on 4 frames at 160²."""
    return _x3d(num_classes, width_factor, depth_factor, bottleneck_factor, head_dim, dropout)


@register_model(family="cnn", arch="x3d", default_input=(13, 160), paper=X3D_PAPER, mean=X3D_MEAN, std=X3D_STD,
                limits=_X3D_LIMITS, head="head.8", stages=stages.stem_and("stages"),
                published=PUBLISHED["x3d_s"])
def x3d_s(num_classes: int = 400, width_factor: float = 2.0, depth_factor: float = 2.2,
          bottleneck_factor: float = 2.25, head_dim: int = 2048, dropout: float = 0.5):
    """X3D-S: depth factor 2.2 (3, 5, 11, 7 blocks), run on 13 frames at 160²."""
    return _x3d(num_classes, width_factor, depth_factor, bottleneck_factor, head_dim, dropout)


@register_model(family="cnn", arch="x3d", default_input=(16, 224), paper=X3D_PAPER, mean=X3D_MEAN, std=X3D_STD,
                limits=_X3D_LIMITS, head="head.8", stages=stages.stem_and("stages"),
                published=PUBLISHED["x3d_m"])
def x3d_m(num_classes: int = 400, width_factor: float = 2.0, depth_factor: float = 2.2,
          bottleneck_factor: float = 2.25, head_dim: int = 2048, dropout: float = 0.5):
    """X3D-M: the X3D-S network, run on 16 frames at 224²."""
    return _x3d(num_classes, width_factor, depth_factor, bottleneck_factor, head_dim, dropout)


@register_model(family="cnn", arch="x3d", default_input=(16, 312), paper=X3D_PAPER, mean=X3D_MEAN, std=X3D_STD,
                limits=_X3D_LIMITS, head="head.8", stages=stages.stem_and("stages"),
                published=PUBLISHED["x3d_l"])
def x3d_l(num_classes: int = 400, width_factor: float = 2.0, depth_factor: float = 5.0,
          bottleneck_factor: float = 2.25, head_dim: int = 2048, dropout: float = 0.5):
    """X3D-L: depth factor 5.0 (5, 10, 25, 15 blocks), run on 16 frames at 312²."""
    return _x3d(num_classes, width_factor, depth_factor, bottleneck_factor, head_dim, dropout)
