"""VideoMAE's fine-tuning ViT (Tong et al., NeurIPS 2022): the network VideoMAE reports for
action recognition after its masked pre-training.

Joint space-time attention over 2×16×16 tubelet tokens (no class token), fixed 1D sine-cosine
position embeddings, q and v biases without a key bias, then mean pooling, `fc_norm` and a linear
head. This follows the official `MCG-NJU/VideoMAE` `modeling_finetune.py` (`use_mean_pooling=True`,
`init_values=0`: no layer scale). The sine-cosine table is generated for the actual number of tokens,
so any clip the tubelets divide works.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from vidbench.models import stages
from vidbench.models.published import PUBLISHED, Published
from vidbench.models.registry import register_model
from vidbench.models.vit_layers import IMAGENET_MEAN, IMAGENET_STD, Block, check_divisible, patch_limits, sinusoid_table

VIDEOMAE_PAPER = ("Tong et al., VideoMAE: Masked Autoencoders are Data-Efficient Learners for Self-Supervised "
                  "Video Pre-Training, NeurIPS 2022")


class VideoMAEViT(nn.Module):
    def __init__(self, num_classes: int, patch_size: int = 16, tubelet_size: int = 2, dim: int = 768,
                 depth: int = 12, heads: int = 12, mlp_ratio: float = 4.0, norm_eps: float = 1e-6):
        super().__init__()
        self.patch_size, self.tubelet_size = patch_size, tubelet_size
        self.patch_embed = nn.Conv3d(3, dim, (tubelet_size, patch_size, patch_size),
                                     stride=(tubelet_size, patch_size, patch_size))
        self.blocks = nn.ModuleList(Block(dim, heads, mlp_ratio, "qv", norm_eps) for _ in range(depth))
        self.fc_norm = nn.LayerNorm(dim, eps=norm_eps)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_divisible(*x.shape[2:], self.tubelet_size, self.patch_size, "videomae")
        x = self.patch_embed(x).flatten(2).transpose(1, 2)  # (B, t·h·w, D), time-major
        x = x + sinusoid_table(x.shape[1], x.shape[2], like=x)
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.fc_norm(x.mean(1)))


def _create_videomae(num_classes: int, *, patch_size: int, tubelet_size: int, dim: int, depth: int,
                     heads: int, mlp_ratio: float = 4.0) -> VideoMAEViT:
    return VideoMAEViT(num_classes, patch_size, tubelet_size, dim, depth, heads, mlp_ratio)


def videomae_from_hf_config(num_classes: int = 400, *, hidden_size: int, num_hidden_layers: int,
                            num_attention_heads: int, intermediate_size: int, patch_size: int = 16,
                            tubelet_size: int = 2) -> VideoMAEViT:
    """vidbench's VideoMAE ViT from a Hugging Face `VideoMAEConfig`'s keys (hf_video.py's table): the
    same network, parameter for parameter (tests/models/test_hf_video.py)."""
    return _create_videomae(num_classes, patch_size=patch_size, tubelet_size=tubelet_size, dim=hidden_size,
                            depth=num_hidden_layers, heads=num_attention_heads,
                            mlp_ratio=intermediate_size / hidden_size)


def videomae_facts(default_patch: int, paper: str = VIDEOMAE_PAPER) -> dict:
    """What every VideoMAE ViT registers alike (here and in hf_video.py's table): its arch (so checkpoint
    layouts apply), normalisation, limits, head and stages."""
    return dict(family="transformer", arch="videomae", mean=IMAGENET_MEAN, std=IMAGENET_STD,
                limits=patch_limits(default_patch, 2), paper=paper, head="head",
                stages=stages.vit("blocks", ("patch_embed", "pos_embed")))


def _register(default_input: tuple[int, int], default_patch: int, published: tuple[Published, ...] = ()):
    return register_model(default_input=default_input, published=published, **videomae_facts(default_patch))


@_register((16, 224), 16, PUBLISHED["videomae_vit_s"])
def videomae_vit_s(num_classes: int = 400, patch_size: int = 16, tubelet_size: int = 2, dim: int = 384,
                   depth: int = 12, heads: int = 6):
    """VideoMAE ViT-S/16: 12 layers, 384 wide, 6 heads; 16 frames of 224 px."""
    return _create_videomae(num_classes, patch_size=patch_size, tubelet_size=tubelet_size, dim=dim, depth=depth,
                            heads=heads)


@_register((16, 224), 16, PUBLISHED["videomae_vit_b"])
def videomae_vit_b(num_classes: int = 400, patch_size: int = 16, tubelet_size: int = 2, dim: int = 768,
                   depth: int = 12, heads: int = 12):
    """VideoMAE ViT-B/16: 12 layers, 768 wide, 12 heads; 16 frames of 224 px."""
    return _create_videomae(num_classes, patch_size=patch_size, tubelet_size=tubelet_size, dim=dim, depth=depth,
                            heads=heads)


@_register((8, 32), 8)
def videomae_tiny(num_classes: int = 400, patch_size: int = 8, tubelet_size: int = 2, dim: int = 64,
                  depth: int = 2, heads: int = 4):
    """A 2-layer, 64-wide VideoMAE ViT on 2×8×8 tubelets: trains on a CPU in seconds."""
    return _create_videomae(num_classes, patch_size=patch_size, tubelet_size=tubelet_size, dim=dim, depth=depth,
                            heads=heads)
