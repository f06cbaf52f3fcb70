"""Layers shared by the video transformers: attention, MLP, pre-norm block, position embeddings.

Attention goes through `F.scaled_dot_product_attention`, which torch's FlopCounterMode counts on the
meta device (vidbench's FLOP counter), so every model's attention is in its GMACs.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

from vidbench.devices import wide_float_dtype
from vidbench.models.registry import InputLimits

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
QKV_BIAS = ("qkv", "qv", "none")


class Attention(nn.Module):
    """Multi-head self-attention with a fused qkv projection.

    `qkv_bias`: "qkv" one bias over q, k and v (ViT, TimeSformer, ViViT); "qv" q and v biases and no
    key bias (BEiT / VideoMAE: a key bias only shifts every logit of a row by the same amount);
    "none" no bias.
    """

    def __init__(self, dim: int, heads: int, qkv_bias: str = "qkv"):
        super().__init__()
        if qkv_bias not in QKV_BIAS:
            raise ValueError(f"qkv_bias must be one of {QKV_BIAS}, not {qkv_bias!r}")
        if dim % heads:
            raise ValueError(f"dim {dim} is not divisible by heads {heads}")
        self.heads = heads
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias == "qkv")
        if qkv_bias == "qv":
            self.q_bias = nn.Parameter(torch.zeros(dim))
            self.v_bias = nn.Parameter(torch.zeros(dim))
        else:
            self.q_bias = self.v_bias = None
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        if self.q_bias is None:
            qkv = self.qkv(x)
        else:
            bias = torch.cat([self.q_bias, torch.zeros_like(self.q_bias), self.v_bias])
            qkv = F.linear(x, self.qkv.weight, bias)
        q, k, v = qkv.view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, k, v)
        return self.proj(out.transpose(1, 2).reshape(b, n, d))


class Mlp(nn.Sequential):
    def __init__(self, dim: int, ratio: float):
        hidden = int(dim * ratio)
        super().__init__(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))


class Block(nn.Module):
    """Pre-norm transformer block: x + attn(norm(x)), then x + mlp(norm(x))."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float = 4.0, qkv_bias: str = "qkv",
                 norm_eps: float = 1e-6):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=norm_eps)
        self.attn = Attention(dim, heads, qkv_bias)
        self.norm2 = nn.LayerNorm(dim, eps=norm_eps)
        self.mlp = Mlp(dim, mlp_ratio)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


def resize_grid_embed(grid: torch.Tensor, old: tuple[int, int], new: tuple[int, int]) -> torch.Tensor:
    """(1, old_h·old_w, D) learned grid embeddings → (1, new_h·new_w, D), bicubic (as timm and
    TimeSformer do when fine-tuning at another resolution)."""
    if tuple(old) == tuple(new):
        return grid
    d = grid.shape[-1]
    grid = grid.reshape(1, old[0], old[1], d).permute(0, 3, 1, 2)
    grid = F.interpolate(grid, size=tuple(new), mode="bicubic", align_corners=False)
    return grid.permute(0, 2, 3, 1).reshape(1, new[0] * new[1], d)


def resize_1d_embed(emb: torch.Tensor, n: int) -> torch.Tensor:
    """(1, m, D) learned embeddings along time → (1, n, D), linear."""
    if emb.shape[1] == n:
        return emb
    return F.interpolate(emb.transpose(1, 2), size=n, mode="linear", align_corners=False).transpose(1, 2)


def sinusoid_table(n: int, d: int, like: torch.Tensor) -> torch.Tensor:
    """(1, n, d) fixed 1D sine-cosine position table of "Attention is all you need" (sin on even,
    cos on odd channels), as VideoMAE's `get_sinusoid_encoding_table`, on `like`'s device and dtype.

    Generated for the actual token count, so any clip size works; computed where it is used (a few
    elementwise ops, no host-to-device copy per forward), in float64 where the device has it.
    """
    wide = wide_float_dtype(like.device)
    position = torch.arange(n, dtype=wide, device=like.device).unsqueeze(1)
    index = torch.arange(d, device=like.device)
    angle = position / torch.pow(10000.0, (2 * (index // 2)).to(wide) / d)
    table = torch.where(index % 2 == 0, torch.sin(angle), torch.cos(angle))
    return table.to(like.dtype).unsqueeze(0)


def check_divisible(t: int, h: int, w: int, tubelet: int, patch: int, model: str) -> None:
    """Tubelet embeddings drop what does not fill a whole tubelet; refuse such a clip instead."""
    if t % tubelet or h % patch or w % patch or t < tubelet or min(h, w) < patch:
        raise ValueError(f"{model}: a {t}x{h}x{w} clip does not divide into {tubelet}x{patch}x{patch} tubelets")


def patch_limits(default_patch: int, default_tubelet: int | None = None) -> Callable[[dict], InputLimits]:
    """Input limits that follow the `patch_size` (and `tubelet_size`) constructor args."""

    def limits(args: dict) -> InputLimits:
        patch = int(args.get("patch_size", default_patch))
        if default_tubelet is None:
            return InputLimits(size_multiple=patch, min_size=patch)
        tubelet = int(args.get("tubelet_size", default_tubelet))
        return InputLimits(size_multiple=patch, min_size=patch, frame_multiple=tubelet, min_frames=tubelet)

    return limits


def trunc_normal_init(*params: torch.Tensor | None, std: float = 0.02) -> None:
    for p in params:
        if p is not None:
            nn.init.trunc_normal_(p, std=std)


__all__ = [
    "IMAGENET_MEAN", "IMAGENET_STD", "Attention", "Block", "Mlp", "check_divisible", "patch_limits",
    "resize_1d_embed", "resize_grid_embed", "sinusoid_table", "trunc_normal_init",
]
