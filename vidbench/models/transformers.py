"""TimeSformer (Bertasius et al., ICML 2021): divided, joint or space-only attention over frame patches.

`timesformer_tiny` and `timesformer_b` share one builder, `_create_timesformer`. The layers shared by
all the video transformers live in `vit_layers`; ViViT, VideoMAE and torchvision's Video Swin and
MViT are in `vivit`, `videomae` and `torchvision_transformers`.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from vidbench.models import stages
from vidbench.models.published import PUBLISHED
from vidbench.models.registry import register_model, register_table
from vidbench.models.vit_layers import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    Attention,
    Mlp,
    patch_limits,
    resize_1d_embed,
    resize_grid_embed,
)

_TIMESFORMER_STAGES = stages.vit("blocks", ("patch_embed", "pos_embed", "time_embed", "cls_token"))

TIMESFORMER_PAPER = "Bertasius et al., Is Space-Time Attention All You Need for Video Understanding?, ICML 2021"
TIMESFORMER_MEAN = (0.45, 0.45, 0.45)  # the official code's DATA.MEAN / DATA.STD (PySlowFast defaults)
TIMESFORMER_STD = (0.225, 0.225, 0.225)
ATTENTION_MODES = ("divided", "joint", "space_only")


class TimeSformerBlock(nn.Module):
    """One block. `divided`: temporal attention (same patch across frames), then spatial attention
    (patches of one frame, with the class token); `joint`: all tokens at once; `space_only`: each frame
    on its own."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float, attention: str, norm_eps: float = 1e-5):
        super().__init__()
        self.attention = attention
        if attention == "divided":
            self.norm_t = nn.LayerNorm(dim, eps=norm_eps)
            self.attn_t = Attention(dim, heads)
            self.fc_t = nn.Linear(dim, dim)
        self.norm1 = nn.LayerNorm(dim, eps=norm_eps)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=norm_eps)
        self.mlp = Mlp(dim, mlp_ratio)

    def forward(self, x: torch.Tensor, t: int) -> torch.Tensor:
        if self.attention in ("joint", "space_only"):  # joint: (B, 1+T·N, D); space_only: (B·T, 1+N, D)
            x = x + self.attn(self.norm1(x))
            return x + self.mlp(self.norm2(x))
        cls, patches = x[:, :1], x[:, 1:]  # patches: (B, T·N, D), time-major
        b, tn, d = patches.shape
        n = tn // t
        xt = patches.view(b, t, n, d).transpose(1, 2).reshape(b * n, t, d)
        xt = self.fc_t(self.attn_t(self.norm_t(xt)))
        patches = patches + xt.view(b, n, t, d).transpose(1, 2).reshape(b, tn, d)
        xs = torch.cat([cls.repeat_interleave(t, 0), patches.reshape(b * t, n, d)], 1)  # (B·T, 1+N, D)
        xs = self.attn(self.norm1(xs))
        cls = cls + xs[:, :1].view(b, t, d).mean(1, keepdim=True)
        patches = patches + xs[:, 1:].reshape(b, tn, d)
        x = torch.cat([cls, patches], 1)
        return x + self.mlp(self.norm2(x))


class TimeSformer(nn.Module):
    """ViT over frame patches with learned space and time embeddings, interpolated when the input
    differs from the size they were built for, so resolution and clip-length sweeps work.

    Linear layers keep PyTorch's default init (a ViT-style trunc_normal(0.02) init with a zero-init
    temporal fc made the tiny model fail to learn motion on synthetic-motion); only the class token
    and the embeddings are drawn from trunc_normal(0.02).
    """

    def __init__(self, num_classes: int, img_size: int = 224, num_frames: int = 8, patch_size: int = 16,
                 dim: int = 768, depth: int = 12, heads: int = 12, mlp_ratio: float = 4.0,
                 attention: str = "divided", dropout: float = 0.0, norm_eps: float = 1e-5):
        super().__init__()
        if attention not in ATTENTION_MODES:
            raise ValueError(f"attention must be one of {ATTENTION_MODES}, not {attention!r}")
        self.attention, self.patch_size = attention, patch_size
        self.patch_embed = nn.Conv2d(3, dim, patch_size, stride=patch_size)
        self.grid = img_size // patch_size
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + self.grid**2, dim))
        self.time_embed = nn.Parameter(torch.zeros(1, num_frames, dim)) if attention != "space_only" else None
        self.blocks = nn.ModuleList(TimeSformerBlock(dim, heads, mlp_ratio, attention, norm_eps)
                                    for _ in range(depth))
        self.norm = nn.LayerNorm(dim, eps=norm_eps)
        self.head_drop = nn.Dropout(dropout)
        self.head = nn.Linear(dim, num_classes)
        for p in (self.cls_token, self.pos_embed, self.time_embed):
            if p is not None:
                nn.init.trunc_normal_(p, std=0.02)

    def _pos_embed(self, gh: int, gw: int) -> torch.Tensor:
        cls, grid = self.pos_embed[:, :1], self.pos_embed[:, 1:]
        return torch.cat([cls, resize_grid_embed(grid, (self.grid, self.grid), (gh, gw))], 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, t, h, w = x.shape
        x = self.patch_embed(x.transpose(1, 2).reshape(b * t, c, h, w))  # (B·T, D, gh, gw)
        gh, gw = x.shape[-2:]
        x = x.flatten(2).transpose(1, 2)  # (B·T, N, D)
        n, d = x.shape[1], x.shape[2]
        x = torch.cat([self.cls_token.expand(b * t, -1, -1), x], 1) + self._pos_embed(gh, gw)
        if self.attention == "space_only":
            for blk in self.blocks:
                x = blk(x, t)
            return self.head(self.head_drop(self.norm(x)[:, 0].view(b, t, d).mean(1)))
        cls = x[:, :1].view(b, t, d)[:, :1]  # one class token per clip
        patches = x[:, 1:].reshape(b, t, n, d) + resize_1d_embed(self.time_embed, t).unsqueeze(2)
        x = torch.cat([cls, patches.reshape(b, t * n, d)], 1)
        for blk in self.blocks:
            x = blk(x, t)
        return self.head(self.head_drop(self.norm(x)[:, 0]))


def _create_timesformer(num_classes: int, *, img_size: int, num_frames: int, patch_size: int, dim: int,
                        depth: int, heads: int, attention: str, norm_eps: float = 1e-5) -> TimeSformer:
    return TimeSformer(num_classes, img_size, num_frames, patch_size, dim, depth, heads, 4.0, attention,
                       norm_eps=norm_eps)


@register_model(family="transformer", arch="timesformer", default_input=(8, 32), paper=TIMESFORMER_PAPER,
                mean=IMAGENET_MEAN, std=IMAGENET_STD, limits=patch_limits(8), head="head",
                stages=_TIMESFORMER_STAGES)
def timesformer_tiny(num_classes: int = 400, img_size: int = 32, num_frames: int = 8, patch_size: int = 8,
                     dim: int = 64, depth: int = 2, heads: int = 4, attention: str = "divided"):
    """A 2-block, 64-wide TimeSformer on 8-px patches: trains on a CPU in seconds."""
    return _create_timesformer(num_classes, img_size=img_size, num_frames=num_frames, patch_size=patch_size,
                               dim=dim, depth=depth, heads=heads, attention=attention)


@register_model(family="transformer", arch="timesformer", default_input=(8, 224), paper=TIMESFORMER_PAPER,
                mean=TIMESFORMER_MEAN, std=TIMESFORMER_STD, limits=patch_limits(16), head="head",
                stages=_TIMESFORMER_STAGES, published=PUBLISHED["timesformer_b"])
def timesformer_b(num_classes: int = 400, img_size: int = 224, num_frames: int = 8, patch_size: int = 16,
                  dim: int = 768, depth: int = 12, heads: int = 12, attention: str = "divided"):
    """TimeSformer on ViT-B/16 (the paper's default: 8 frames of 224 px, divided space-time attention)."""
    return _create_timesformer(num_classes, img_size=img_size, num_frames=num_frames, patch_size=patch_size,
                               dim=dim, depth=depth, heads=heads, attention=attention, norm_eps=1e-6)


# TimeSformer's larger variants (facebookresearch/TimeSformer README; configs/Kinetics/TimeSformer_divST_16x16_448.yaml
# and _96x4_224.yaml): timesformer_b's ViT-B/16 with divided attention, built for 16 frames of 448 px (HR) or 96
# frames of 224 px (L); only the position embedding (num_patches + 1 rows) and the time embedding (num_frames
# rows) grow.
register_table([
    {"name": "timesformer_hr", "config": dict(img_size=448, num_frames=16), "default_input": (16, 448),
     "published": PUBLISHED["timesformer_hr"]},
    {"name": "timesformer_l", "config": dict(img_size=224, num_frames=96), "default_input": (96, 224),
     "published": PUBLISHED["timesformer_l"]},
], builder=timesformer_b, family="transformer", arch="timesformer", paper=TIMESFORMER_PAPER, mean=TIMESFORMER_MEAN,
    std=TIMESFORMER_STD, limits=patch_limits(16), head="head", stages=_TIMESFORMER_STAGES)
