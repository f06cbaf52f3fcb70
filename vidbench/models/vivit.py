"""ViViT, factorised encoder (Arnab et al., ICCV 2021, "Model 2").

Tubelet embedding (a t×p×p 3D convolution), then a spatial ViT over the tokens of each temporal index
with its own class token, then a temporal transformer over those per-index class tokens with a class
token of its own, whose output is classified. This follows the official Scenic code
(`scenic/projects/vivit/model.py`, `SpaceTimeViViT`; config `kinetics400/vivit_base_factorised_encoder.py`):
learned 1D position embeddings over 1 + h·w spatial and 1 + t temporal tokens, a final LayerNorm in
each encoder, `classifier='token'`, 12 spatial and 4 temporal layers for ViViT-B.

The position embeddings are resized (bicubic over the patch grid, linear over time) when a clip
differs from the size they were built for, so resolution and clip-length sweeps work.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from vidbench.models import stages
from vidbench.models.published import PUBLISHED
from vidbench.models.registry import register_model
from vidbench.models.vit_layers import (
    Block,
    check_divisible,
    patch_limits,
    resize_1d_embed,
    resize_grid_embed,
    trunc_normal_init,
)

VIVIT_PAPER = "Arnab et al., ViViT: A Video Vision Transformer, ICCV 2021"
VIVIT_MEAN = (0.5, 0.5, 0.5)  # Scenic's zero_centering: pixels scaled to [-1, 1]
VIVIT_STD = (0.5, 0.5, 0.5)


class Encoder(nn.Module):
    """A class token, learned position embeddings, pre-norm blocks and a final LayerNorm; returns the
    class token's output."""

    def __init__(self, dim: int, depth: int, heads: int, mlp_ratio: float, norm_eps: float,
                 grid: tuple[int, ...]):
        super().__init__()
        self.grid = tuple(grid)  # (tokens,) along time or (h, w) over space: what pos_embed was built for
        n = 1
        for g in self.grid:
            n *= g
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + n, dim))
        self.blocks = nn.ModuleList(Block(dim, heads, mlp_ratio, "qkv", norm_eps) for _ in range(depth))
        self.norm = nn.LayerNorm(dim, eps=norm_eps)
        trunc_normal_init(self.cls_token, self.pos_embed)

    def _pos_embed(self, grid: tuple[int, ...]) -> torch.Tensor:
        cls, rest = self.pos_embed[:, :1], self.pos_embed[:, 1:]
        if len(grid) == 1:
            rest = resize_1d_embed(rest, grid[0])
        else:
            rest = resize_grid_embed(rest, self.grid, grid)
        return torch.cat([cls, rest], 1)

    def forward(self, x: torch.Tensor, grid: tuple[int, ...]) -> torch.Tensor:
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], 1) + self._pos_embed(grid)
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x)[:, 0]


class ViViTFactorisedEncoder(nn.Module):
    def __init__(self, num_classes: int, img_size: int = 224, num_frames: int = 32, patch_size: int = 16,
                 tubelet_size: int = 2, dim: int = 768, depth: int = 12, temporal_depth: int = 4,
                 heads: int = 12, mlp_ratio: float = 4.0, norm_eps: float = 1e-6):
        super().__init__()
        self.patch_size, self.tubelet_size = patch_size, tubelet_size
        self.patch_embed = nn.Conv3d(3, dim, (tubelet_size, patch_size, patch_size),
                                     stride=(tubelet_size, patch_size, patch_size))
        side = img_size // patch_size
        self.spatial = Encoder(dim, depth, heads, mlp_ratio, norm_eps, (side, side))
        self.temporal = Encoder(dim, temporal_depth, heads, mlp_ratio, norm_eps, (max(num_frames // tubelet_size, 1),))
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_divisible(*x.shape[2:], self.tubelet_size, self.patch_size, "vivit")
        x = self.patch_embed(x)  # (B, D, t, gh, gw)
        b, d, t, gh, gw = x.shape
        x = x.permute(0, 2, 3, 4, 1).reshape(b * t, gh * gw, d)
        x = self.spatial(x, (gh, gw)).view(b, t, d)  # one class token per temporal index
        return self.head(self.temporal(x, (t,)))


def _create_vivit(num_classes: int, *, img_size: int, num_frames: int, patch_size: int, tubelet_size: int,
                  dim: int, depth: int, temporal_depth: int, heads: int) -> ViViTFactorisedEncoder:
    return ViViTFactorisedEncoder(num_classes, img_size, num_frames, patch_size, tubelet_size, dim, depth,
                                  temporal_depth, heads)


@register_model(family="transformer", arch="vivit", default_input=(32, 224), mean=VIVIT_MEAN, std=VIVIT_STD,
                limits=patch_limits(16, 2), paper=VIVIT_PAPER, head="head",
                stages=stages.vivit, published=PUBLISHED["vivit_b"])
def vivit_b(num_classes: int = 400, img_size: int = 224, num_frames: int = 32, patch_size: int = 16,
            tubelet_size: int = 2, dim: int = 768, depth: int = 12, temporal_depth: int = 4, heads: int = 12):
    """ViViT-B/16x2, factorised encoder: 12 spatial + 4 temporal layers, 32 frames of 224 px."""
    return _create_vivit(num_classes, img_size=img_size, num_frames=num_frames, patch_size=patch_size,
                         tubelet_size=tubelet_size, dim=dim, depth=depth, temporal_depth=temporal_depth,
                         heads=heads)


@register_model(family="transformer", arch="vivit", default_input=(8, 32), mean=VIVIT_MEAN, std=VIVIT_STD,
                limits=patch_limits(8, 2), paper=VIVIT_PAPER, head="head",
                stages=stages.vivit)
def vivit_tiny(num_classes: int = 400, img_size: int = 32, num_frames: int = 8, patch_size: int = 8,
               tubelet_size: int = 2, dim: int = 64, depth: int = 2, temporal_depth: int = 1, heads: int = 4):
    """A 64-wide factorised encoder (2 spatial + 1 temporal layers) on 2×8×8 tubelets: trains on a CPU."""
    return _create_vivit(num_classes, img_size=img_size, num_frames=num_frames, patch_size=patch_size,
                         tubelet_size=tubelet_size, dim=dim, depth=depth, temporal_depth=temporal_depth,
                         heads=heads)
