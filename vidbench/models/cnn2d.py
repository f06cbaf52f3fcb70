"""2D CNNs applied per frame with temporal consensus (TSN)."""

from __future__ import annotations

import torch
import torch.nn as nn

from vidbench.models.blocks import frames_to_batch, small_cnn2d
from vidbench.models.registry import InputLimits, register_model

TSN_PAPER = "Wang et al., Temporal Segment Networks, ECCV 2016"


class TSN(nn.Module):
    """Temporal Segment Network: one 2D backbone scores every frame; the scores are averaged.

    The consensus ignores frame order, which is exactly what the synthetic-motion dataset exposes.
    """

    def __init__(self, backbone: nn.Module, feature_dim: int, num_classes: int, dropout: float = 0.0,
                 consensus: str = "avg"):
        super().__init__()
        if consensus not in ("avg", "max"):
            raise ValueError(f"consensus must be 'avg' or 'max', not {consensus!r}")
        self.backbone = backbone
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(feature_dim, num_classes)
        self.consensus = consensus

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        frames, b, t = frames_to_batch(x)
        scores = self.fc(self.dropout(self.backbone(frames))).view(b, t, -1)
        return scores.mean(1) if self.consensus == "avg" else scores.amax(1)


def _tsn_small(num_classes: int, widths: tuple[int, ...], dropout: float, consensus: str) -> TSN:
    backbone = nn.Sequential(small_cnn2d(widths), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    return TSN(backbone, widths[-1], num_classes, dropout, consensus)


@register_model(family="cnn", arch="tsn", default_input=(8, 32), paper=TSN_PAPER,
                limits=InputLimits(min_size=16))
def tsn_tiny(num_classes: int = 400, width: int = 16, dropout: float = 0.0, consensus: str = "avg"):
    """Four stride-2 conv stages (width, 2w, 4w, 4w), global pooling, per-frame classifier."""
    return _tsn_small(num_classes, (width, 2 * width, 4 * width, 4 * width), dropout, consensus)
