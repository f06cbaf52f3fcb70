"""The attentive probe: a small transformer over a frozen encoder's tokens whose last block is
cross-attention from one trainable query, then a linear classifier on the query.

As V-JEPA 2 evaluates frozen encoders (facebookresearch/vjepa2, `src/models/attentive_pooler.py`
AttentivePooler + AttentiveClassifier; configs/eval: num_probe_blocks 4, num_heads 16): depth - 1 self-attention
blocks over the tokens, then a cross-attention block (the query attends to the normalised tokens, then an MLP),
width the encoder's (the tokens' width), MLP ratio 4, query initialised N(0, 0.02²). `train.probe_depth` and
`train.probe_heads` set depth and heads; heads that do not divide the width are lowered to the largest that does.
"""

from __future__ import annotations

import torch
import torch.nn as nn


def fitting_heads(width: int, heads: int) -> int:
    """The most heads, up to `heads`, that divide `width` (attention splits the width evenly)."""
    return max(h for h in range(1, min(heads, width) + 1) if width % h == 0)


class CrossAttentionBlock(nn.Module):
    def __init__(self, width: int, heads: int, mlp_ratio: float = 4.0):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.attn = nn.MultiheadAttention(width, heads, batch_first=True)
        hidden = int(width * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(width, hidden), nn.GELU(), nn.Linear(hidden, width))

    def forward(self, query: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        kv = self.norm1(tokens)
        query = query + self.attn(query, kv, kv, need_weights=False)[0]
        return query + self.mlp(self.norm2(query))


class AttentiveProbe(nn.Module):
    """(B, N, width) tokens → (B, num_classes) logits."""

    def __init__(self, width: int, num_classes: int, depth: int = 4, heads: int = 16, mlp_ratio: float = 4.0):
        super().__init__()
        self.heads = fitting_heads(width, heads)
        self.blocks = nn.ModuleList(
            nn.TransformerEncoderLayer(width, self.heads, int(width * mlp_ratio), dropout=0.0, activation="gelu",
                                       batch_first=True, norm_first=True) for _ in range(depth - 1))
        self.query = nn.Parameter(torch.zeros(1, 1, width))
        nn.init.trunc_normal_(self.query, std=0.02)
        self.pool = CrossAttentionBlock(width, self.heads, mlp_ratio)
        self.classifier = nn.Linear(width, num_classes)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            tokens = block(tokens)
        query = self.pool(self.query.expand(len(tokens), -1, -1), tokens)
        return self.classifier(query[:, 0])
