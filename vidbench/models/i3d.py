"""I3D R50: ResNet-50 inflated to 3D, as PySlowFast, pytorchvideo and mmaction2 build "I3D R50".

Also the 3D bottleneck ResNet pieces that SlowFast (slowfast.py) shares.
"""

from __future__ import annotations

import itertools

import torch
import torch.nn as nn

from vidbench.models import stages
from vidbench.models.blocks import init_video_cnn, projection_shortcut3d
from vidbench.models.published import PUBLISHED
from vidbench.models.registry import InputLimits, register_model

I3D_PAPER = ("Carreira & Zisserman, Quo Vadis, Action Recognition? A New Model and the Kinetics Dataset, CVPR 2017; "
             "ResNet-50 inflation as in Wang et al., Non-local Neural Networks, CVPR 2018 (PySlowFast I3D_8x8_R50)")
PYSLOWFAST_MEAN = (0.45, 0.45, 0.45)
PYSLOWFAST_STD = (0.225, 0.225, 0.225)

# Bottleneck blocks per stage (res2 … res5). 26 is the small (2, 2, 2, 2) variant, for CPU runs.
RESNET_DEPTHS = {26: (2, 2, 2, 2), 50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}


def stage_depths(depth: int) -> tuple[int, int, int, int]:
    if depth not in RESNET_DEPTHS:
        raise ValueError(f"depth must be one of {sorted(RESNET_DEPTHS)}, not {depth!r}")
    return RESNET_DEPTHS[depth]


def init_resnet3d(model: nn.Module) -> None:
    """PySlowFast's init: MSRA fill for convolutions, BN γ=1 (γ=0 on each block's last BN), small fc."""
    init_video_cnn(model)
    for m in model.modules():
        if isinstance(m, Bottleneck3d):
            nn.init.zeros_(m.bn_c.weight)


class Bottleneck3d(nn.Module):
    """ResNet bottleneck with an inflated first convolution: kt×1×1 → 1×3×3 (spatial stride) → 1×1×1."""

    def __init__(self, dim_in: int, dim_inner: int, dim_out: int, temporal_kernel: int = 1, spatial_stride: int = 1):
        super().__init__()
        kt, s = temporal_kernel, spatial_stride
        self.conv_a = nn.Conv3d(dim_in, dim_inner, (kt, 1, 1), padding=(kt // 2, 0, 0), bias=False)
        self.bn_a = nn.BatchNorm3d(dim_inner)
        self.conv_b = nn.Conv3d(dim_inner, dim_inner, (1, 3, 3), stride=(1, s, s), padding=(0, 1, 1), bias=False)
        self.bn_b = nn.BatchNorm3d(dim_inner)
        self.conv_c = nn.Conv3d(dim_inner, dim_out, 1, bias=False)
        self.bn_c = nn.BatchNorm3d(dim_out)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = projection_shortcut3d(dim_in, dim_out, s)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn_a(self.conv_a(x)))
        out = self.relu(self.bn_b(self.conv_b(out)))
        out = self.bn_c(self.conv_c(out))
        return self.relu(out + (x if self.shortcut is None else self.shortcut(x)))


def res_stage(dim_in: int, dim_inner: int, dim_out: int, blocks: int, temporal_kernels: tuple[int, ...],
              spatial_stride: int) -> nn.Sequential:
    """`blocks` bottlenecks; block i's first convolution is temporal_kernels[i % len] wide in time."""
    kernels = itertools.cycle(temporal_kernels)
    return nn.Sequential(*[
        Bottleneck3d(dim_in if i == 0 else dim_out, dim_inner, dim_out, next(kernels), spatial_stride if i == 0 else 1)
        for i in range(blocks)
    ])


def resnet3d_stem(dim_out: int, temporal_kernel: int) -> nn.Sequential:
    """kt×7×7 convolution (spatial stride 2), BN, ReLU, 1×3×3 max-pool (spatial stride 2)."""
    kt = temporal_kernel
    return nn.Sequential(
        nn.Conv3d(3, dim_out, (kt, 7, 7), stride=(1, 2, 2), padding=(kt // 2, 3, 3), bias=False),
        nn.BatchNorm3d(dim_out),
        nn.ReLU(inplace=True),
        nn.MaxPool3d((1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1)),
    )


# PySlowFast's _TEMPORAL_KERNEL_BASIS["i3d"]: the stem 5, then per stage the pattern cycled over its
# blocks (res2 all 3; res3, res4 3,1,3,1,…; res5 1,3,1). mmaction2's inflate ((1,1,1), (1,0,1,0),
# (1,0,1,0,1,0), (0,1,0)) is the same pattern.
I3D_STEM_KERNEL = 5
I3D_STAGE_KERNELS = ((3,), (3, 1), (3, 1), (1, 3))


class I3DResNet(nn.Module):
    """Stem, res2, a 2× temporal max-pool, res3 … res5, global average pool, dropout, linear classifier."""

    def __init__(self, num_classes: int, depth: int = 50, width: int = 64, dropout: float = 0.5,
                 temporal_pool: bool = True):
        super().__init__()
        self.stem = resnet3d_stem(width, I3D_STEM_KERNEL)
        stages, dim_in = [], width
        for i, (blocks, kernels) in enumerate(zip(stage_depths(depth), I3D_STAGE_KERNELS)):
            dim_inner = width * 2 ** i
            stages.append(res_stage(dim_in, dim_inner, 4 * dim_inner, blocks, kernels, 1 if i == 0 else 2))
            dim_in = 4 * dim_inner
            if i == 0:  # PySlowFast's _POOL1["i3d"] = [2, 1, 1]: halve time after res2
                stages.append(nn.MaxPool3d((2, 1, 1), stride=(2, 1, 1)) if temporal_pool else nn.Identity())
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool3d(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(dim_in, num_classes)
        init_resnet3d(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.stages(self.stem(x))).flatten(1)
        return self.fc(self.dropout(x))


@register_model(family="cnn", arch="i3d", default_input=(8, 224), paper=I3D_PAPER, mean=PYSLOWFAST_MEAN,
                std=PYSLOWFAST_STD,
                limits=lambda args: InputLimits(min_size=32, min_frames=2 if args.get("temporal_pool", True) else 1),
                head="fc", stages=stages.stem_and("stages"), published=PUBLISHED["i3d_r50"])
def i3d_r50(num_classes: int = 400, depth: int = 50, width: int = 64, dropout: float = 0.5,
            temporal_pool: bool = True):
    """I3D R50 (8×8): ResNet-50 whose stem is 5×7×7 and whose bottlenecks alternate 3×1×1 / 1×1×1 first
    convolutions; time is halved once, after res2. `depth` (26, 50, 101, 152) and `width` (64: the
    stem's channels) size it; width=8, depth=26 trains on a CPU."""
    return I3DResNet(num_classes, depth=depth, width=width, dropout=dropout, temporal_pool=temporal_pool)
