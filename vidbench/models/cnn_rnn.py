"""CNN + RNN: a 2D network encodes every frame, a recurrent network reads them in order (LRCN)."""

from __future__ import annotations

import torch
import torch.nn as nn

from vidbench.models.blocks import frames_to_batch, small_cnn2d
from vidbench.models.registry import InputLimits, register_model

LRCN_PAPER = "Donahue et al., Long-term Recurrent Convolutional Networks, CVPR 2015"
_RNNS = {"lstm": nn.LSTM, "gru": nn.GRU}


class LRCN(nn.Module):
    """Frame encoder → LSTM/GRU over time → classifier on the last step or the mean of all steps."""

    def __init__(self, encoder: nn.Module, feature_dim: int, num_classes: int, hidden: int = 256,
                 rnn: str = "lstm", layers: int = 1, bidirectional: bool = False, pooling: str = "last"):
        super().__init__()
        if rnn not in _RNNS:
            raise ValueError(f"rnn must be one of {sorted(_RNNS)}, not {rnn!r}")
        if pooling not in ("last", "mean"):
            raise ValueError(f"pooling must be 'last' or 'mean', not {pooling!r}")
        self.encoder = encoder
        self.rnn = _RNNS[rnn](feature_dim, hidden, num_layers=layers, batch_first=True,
                              bidirectional=bidirectional)
        self.pooling = pooling
        self.fc = nn.Linear(hidden * (2 if bidirectional else 1), num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        frames, b, t = frames_to_batch(x)
        feats = self.encoder(frames).view(b, t, -1)
        out, _ = self.rnn(feats)
        return self.fc(out[:, -1] if self.pooling == "last" else out.mean(1))


def _small_encoder(widths: tuple[int, ...], grid: int, feature_dim: int) -> nn.Sequential:
    # Pool to a small grid and flatten (not a global pool): where things are in the frame survives,
    # so the RNN can follow motion, as LRCN's fc6 features over AlexNet's spatial map do.
    return nn.Sequential(
        small_cnn2d(widths), nn.AdaptiveAvgPool2d(grid), nn.Flatten(),
        nn.Linear(widths[-1] * grid * grid, feature_dim), nn.ReLU(inplace=True),
    )


@register_model(family="cnn_rnn", arch="lrcn", default_input=(8, 32), paper=LRCN_PAPER,
                limits=InputLimits(min_size=16))
def lrcn_tiny(num_classes: int = 400, width: int = 16, hidden: int = 128, rnn: str = "lstm",
              bidirectional: bool = False, pooling: str = "last"):
    """Three stride-2 conv stages, a 4×4 grid of features per frame, one LSTM layer."""
    widths = (width, 2 * width, 4 * width)
    return LRCN(_small_encoder(widths, 4, hidden), hidden, num_classes, hidden, rnn, 1, bidirectional,
                pooling)
