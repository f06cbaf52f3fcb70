"""SlowFast R50 (Feichtenhofer et al. 2019), as PySlowFast / pytorchvideo build SLOWFAST_8x8_R50."""

from __future__ import annotations

import torch
import torch.nn as nn

from vidbench.models import stages
from vidbench.models.i3d import PYSLOWFAST_MEAN, PYSLOWFAST_STD, init_resnet3d, res_stage, resnet3d_stem, stage_depths
from vidbench.models.published import PUBLISHED
from vidbench.models.registry import InputLimits, register_model

SLOWFAST_PAPER = "Feichtenhofer et al., SlowFast Networks for Video Recognition, ICCV 2019"

# PySlowFast's _TEMPORAL_KERNEL_BASIS["slowfast"]: stems (slow 1, fast 5), then res2 … res5.
SLOW_STEM_KERNEL, FAST_STEM_KERNEL = 1, 5
SLOW_STAGE_KERNELS = ((1,), (1,), (3,), (3,))
FAST_STAGE_KERNELS = ((3,), (3,), (3,), (3,))


class FuseFastToSlow(nn.Module):
    """Lateral connection: a time-strided kt×1×1 convolution of the fast features, concatenated to the slow."""

    def __init__(self, fast_dim: int, channel_ratio: int, kernel: int, alpha: int):
        super().__init__()
        self.conv = nn.Conv3d(fast_dim, fast_dim * channel_ratio, (kernel, 1, 1), stride=(alpha, 1, 1),
                              padding=(kernel // 2, 0, 0), bias=False)
        self.bn = nn.BatchNorm3d(fast_dim * channel_ratio)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, slow: torch.Tensor, fast: torch.Tensor) -> torch.Tensor:
        return torch.cat([slow, self.relu(self.bn(self.conv(fast)))], dim=1)


class SlowFast(nn.Module):
    """Two ResNet pathways over one clip of T frames: the fast one sees all T frames with β× the
    channels, the slow one every α-th frame; after the stem and res2 … res4 the fast features are fused
    into the slow pathway. Both are pooled globally, concatenated, and classified."""

    def __init__(self, num_classes: int, alpha: int = 4, beta_inv: int = 8, fusion_channel_ratio: int = 2,
                 fusion_kernel: int = 7, depth: int = 50, width: int = 64, dropout: float = 0.5):
        super().__init__()
        if alpha < 1:
            raise ValueError(f"alpha must be at least 1, not {alpha!r}")
        if fusion_kernel < 1 or fusion_kernel % 2 == 0:
            raise ValueError(f"fusion_kernel must be odd, not {fusion_kernel!r}")
        if beta_inv < 1 or width % beta_inv:
            raise ValueError(f"beta_inv must divide width ({width}), not {beta_inv!r}")
        self.alpha = alpha
        fast_width = width // beta_inv

        def fuse(fast_dim: int) -> FuseFastToSlow:
            return FuseFastToSlow(fast_dim, fusion_channel_ratio, fusion_kernel, alpha)

        self.slow_stem = resnet3d_stem(width, SLOW_STEM_KERNEL)
        self.fast_stem = resnet3d_stem(fast_width, FAST_STEM_KERNEL)
        self.fusions = nn.ModuleList([fuse(fast_width)])
        self.slow_stages, self.fast_stages = nn.ModuleList(), nn.ModuleList()
        slow_in, fast_in = width, fast_width
        blocks = stage_depths(depth)
        for i, n in enumerate(blocks):
            dim_inner, stride = width * 2 ** i, 1 if i == 0 else 2
            slow_in += fast_in * fusion_channel_ratio
            self.slow_stages.append(res_stage(slow_in, dim_inner, 4 * dim_inner, n, SLOW_STAGE_KERNELS[i], stride))
            self.fast_stages.append(res_stage(fast_in, dim_inner // beta_inv, 4 * dim_inner // beta_inv, n,
                                              FAST_STAGE_KERNELS[i], stride))
            slow_in, fast_in = 4 * dim_inner, 4 * dim_inner // beta_inv
            if i < len(blocks) - 1:
                self.fusions.append(fuse(fast_in))
        self.pool = nn.AdaptiveAvgPool3d(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(slow_in + fast_in, num_classes)
        init_resnet3d(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        slow, fast = self.slow_stem(x[:, :, :: self.alpha]), self.fast_stem(x)
        slow = self.fusions[0](slow, fast)
        for i, (slow_stage, fast_stage) in enumerate(zip(self.slow_stages, self.fast_stages)):
            slow, fast = slow_stage(slow), fast_stage(fast)
            if i + 1 < len(self.fusions):
                slow = self.fusions[i + 1](slow, fast)
        features = torch.cat([self.pool(slow).flatten(1), self.pool(fast).flatten(1)], dim=1)
        return self.fc(self.dropout(features))


@register_model(family="cnn", arch="slowfast", default_input=(32, 224), paper=SLOWFAST_PAPER, mean=PYSLOWFAST_MEAN,
                std=PYSLOWFAST_STD,
                limits=lambda args: InputLimits(frame_multiple=args.get("alpha", 4), min_size=32), head="fc",
                stages=stages.slowfast, published=PUBLISHED["slowfast_r50"])
def slowfast_r50(num_classes: int = 400, alpha: int = 4, beta_inv: int = 8, fusion_channel_ratio: int = 2,
                 fusion_kernel: int = 7, depth: int = 50, width: int = 64, dropout: float = 0.5):
    """SlowFast R50 8×8 as released (PySlowFast configs/Kinetics/SLOWFAST_8x8_R50.yaml): a 32-frame clip
    feeds the fast pathway, every α=4-th frame (8) the slow one; β=1/8, fusion 7×1×1 with 2βC channels.
    The clip length must be a multiple of α. alpha=8, fusion_kernel=5 on 32 frames is the 4×16 model.
    `depth` (26, 50, 101, 152) and `width` (slow stem channels; must stay divisible by beta_inv) size it."""
    return SlowFast(num_classes, alpha=alpha, beta_inv=beta_inv, fusion_channel_ratio=fusion_channel_ratio,
                    fusion_kernel=fusion_kernel, depth=depth, width=width, dropout=dropout)
