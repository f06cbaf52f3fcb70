"""CNN + RNN: a 2D network encodes every frame, a recurrent network reads them in order.

LRCN: pooled per-frame features → LSTM/GRU → classifier, over a small CNN (`lrcn_tiny`) or
torchvision's ImageNet backbones (`weights=None`), one shared builder `_create_lrcn`.
ConvLSTM: the recurrence itself is convolutional, so the state keeps its spatial layout.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from vidbench.models import stages
from vidbench.models.blocks import frames_to_batch, small_cnn2d
from vidbench.models.cnn2d import IMAGENET_MEAN, IMAGENET_STD, TORCHVISION_2D_LIMITS, torchvision_backbone_2d
from vidbench.models.published import NO_PUBLISHED
from vidbench.models.registry import InputLimits, register_model

LRCN_PAPER = "Donahue et al., Long-term Recurrent Convolutional Networks, CVPR 2015"
CONVLSTM_PAPER = ("Shi et al., Convolutional LSTM Network: A Machine Learning Approach for Precipitation "
                  "Nowcasting, NeurIPS 2015")
_RNNS = {"lstm": nn.LSTM, "gru": nn.GRU}


def _check_pooling(pooling: str) -> None:
    if pooling not in ("last", "mean"):
        raise ValueError(f"pooling must be 'last' or 'mean', not {pooling!r}")


class LRCN(nn.Module):
    """Frame encoder → LSTM/GRU over time → classifier on the last step or the mean of all steps.

    With `bidirectional`, "last" is each direction's final state: the forward one at the last frame,
    the backward one at the first, so both have read the whole clip.
    """

    def __init__(self, encoder: nn.Module, feature_dim: int, num_classes: int, hidden: int = 256,
                 rnn: str = "lstm", layers: int = 1, bidirectional: bool = False, pooling: str = "last"):
        super().__init__()
        if rnn not in _RNNS:
            raise ValueError(f"rnn must be one of {sorted(_RNNS)}, not {rnn!r}")
        _check_pooling(pooling)
        self.encoder = encoder
        self.rnn = _RNNS[rnn](feature_dim, hidden, num_layers=layers, batch_first=True,
                              bidirectional=bidirectional)
        self.pooling = pooling
        self.fc = nn.Linear(hidden * (2 if bidirectional else 1), num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        frames, b, t = frames_to_batch(x)
        feats = self.encoder(frames).view(b, t, -1)
        out, _ = self.rnn(feats)
        if self.pooling == "mean":
            return self.fc(out.mean(1))
        if self.rnn.bidirectional:
            h = self.rnn.hidden_size
            return self.fc(torch.cat([out[:, -1, :h], out[:, 0, h:]], dim=1))
        return self.fc(out[:, -1])


def _small_encoder(widths: tuple[int, ...], grid: int, feature_dim: int) -> nn.Sequential:
    # Pool to a small grid and flatten (not a global pool): where things are in the frame survives,
    # so the RNN can follow motion, as LRCN's fc6 features over AlexNet's spatial map do.
    return nn.Sequential(
        small_cnn2d(widths), nn.AdaptiveAvgPool2d(grid), nn.Flatten(),
        nn.Linear(widths[-1] * grid * grid, feature_dim), nn.ReLU(inplace=True),
    )


def _create_lrcn(backbone: str, num_classes: int, *, rnn: str, hidden: int, layers: int,
                 bidirectional: bool, pooling: str) -> LRCN:
    """LRCN over a torchvision backbone: its globally pooled features feed the RNN directly."""
    encoder, features = torchvision_backbone_2d(backbone)
    return LRCN(encoder, features, num_classes, hidden, rnn, layers, bidirectional, pooling)


@register_model(family="cnn_rnn", arch="lrcn", default_input=(8, 32), paper=LRCN_PAPER,
                limits=InputLimits(min_size=16), head="fc", stages=stages.lrcn)
def lrcn_tiny(num_classes: int = 400, width: int = 16, hidden: int = 128, rnn: str = "lstm",
              bidirectional: bool = False, pooling: str = "last"):
    """Three stride-2 conv stages, a 4×4 grid of features per frame, one LSTM layer."""
    widths = (width, 2 * width, 4 * width)
    return LRCN(_small_encoder(widths, 4, hidden), hidden, num_classes, hidden, rnn, 1, bidirectional,
                pooling)


# LRCN's activity-recognition LSTM has 256 hidden units (the paper found 256 better than 1024).
_LRCN_TV = dict(family="cnn_rnn", arch="lrcn", default_input=(16, 224), mean=IMAGENET_MEAN, std=IMAGENET_STD,
                limits=TORCHVISION_2D_LIMITS, paper=LRCN_PAPER, head="fc", stages=stages.lrcn)


@register_model(**_LRCN_TV, torchvision_weights="ResNet18_Weights", no_published=NO_PUBLISHED["lrcn_resnet18_lstm"])
def lrcn_resnet18_lstm(num_classes: int = 400, hidden: int = 256, layers: int = 1, bidirectional: bool = False,
                       pooling: str = "last"):
    """torchvision's ResNet-18 (512-d pooled features per frame), then an LSTM."""
    return _create_lrcn("resnet18", num_classes, rnn="lstm", hidden=hidden, layers=layers,
                        bidirectional=bidirectional, pooling=pooling)


@register_model(**_LRCN_TV, torchvision_weights="ResNet18_Weights", no_published=NO_PUBLISHED["lrcn_resnet18_gru"])
def lrcn_resnet18_gru(num_classes: int = 400, hidden: int = 256, layers: int = 1, bidirectional: bool = False,
                      pooling: str = "last"):
    """torchvision's ResNet-18 (512-d pooled features per frame), then a GRU."""
    return _create_lrcn("resnet18", num_classes, rnn="gru", hidden=hidden, layers=layers,
                        bidirectional=bidirectional, pooling=pooling)


@register_model(**_LRCN_TV, torchvision_weights="ResNet50_Weights", no_published=NO_PUBLISHED["lrcn_resnet50_lstm"])
def lrcn_resnet50_lstm(num_classes: int = 400, hidden: int = 256, layers: int = 1, bidirectional: bool = False,
                       pooling: str = "last"):
    """torchvision's ResNet-50 (2048-d pooled features per frame), then an LSTM."""
    return _create_lrcn("resnet50", num_classes, rnn="lstm", hidden=hidden, layers=layers,
                        bidirectional=bidirectional, pooling=pooling)


@register_model(**_LRCN_TV, torchvision_weights="MobileNet_V3_Large_Weights",
                no_published=NO_PUBLISHED["lrcn_mobilenet_v3_gru"])
def lrcn_mobilenet_v3_gru(num_classes: int = 400, hidden: int = 256, layers: int = 1,
                          bidirectional: bool = False, pooling: str = "last"):
    """torchvision's MobileNetV3-Large (960-d pooled features per frame, before its 1280-wide
    pre-logits layer), then a GRU. Large, not Small: it is the MobileNetV3 torchvision and most
    video work mean by default, and at 0.22 GMACs per 224² frame it is still the cheap backbone."""
    return _create_lrcn("mobilenet_v3_large", num_classes, rnn="gru", hidden=hidden, layers=layers,
                        bidirectional=bidirectional, pooling=pooling)


class ConvLSTMCell(nn.Module):
    """Shi et al.'s ConvLSTM cell: every gate is a convolution over the input and the hidden state.

    i, f, o = σ(W_x∗X + W_h∗H + b), g = tanh(W_xg∗X + W_hg∗H + b_g), C' = f⊙C + i⊙g, H' = o⊙tanh(C').
    The four gates' input and hidden convolutions are one nn.Conv2d over [X, H] (the same sum), so
    the meta-device counter counts them: H·W·4·hidden·(in + hidden)·k² MACs per step. Without the
    paper's peephole terms (W_c⊙C), as in Keras' ConvLSTM2D and most reimplementations: their
    weights would be the size of the frame, which would fix the resolution.
    """

    def __init__(self, in_channels: int, hidden: int, kernel_size: int = 3):
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd (same padding), not {kernel_size!r}")
        self.hidden = hidden
        self.gates = nn.Conv2d(in_channels + hidden, 4 * hidden, kernel_size, padding=kernel_size // 2)

    def forward(self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        h, c = state
        i, f, g, o = self.gates(torch.cat([x, h], dim=1)).chunk(4, dim=1)  # nn.LSTM's gate order
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c


class ConvLSTM(nn.Module):
    """Frame encoder → stacked ConvLSTM cells over time → the last (or mean) hidden map, globally
    pooled → classifier."""

    def __init__(self, encoder: nn.Module, feature_channels: int, num_classes: int, hidden: int = 32,
                 layers: int = 1, kernel_size: int = 3, pooling: str = "last"):
        super().__init__()
        _check_pooling(pooling)
        if layers < 1:
            raise ValueError(f"layers must be at least 1, not {layers!r}")
        self.encoder = encoder
        self.cells = nn.ModuleList(
            ConvLSTMCell(feature_channels if i == 0 else hidden, hidden, kernel_size) for i in range(layers))
        self.pooling = pooling
        self.fc = nn.Linear(hidden, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        frames, b, t = frames_to_batch(x)
        feats = self.encoder(frames)
        _, c, h, w = feats.shape
        seq = list(feats.view(b, t, c, h, w).unbind(1))
        for cell in self.cells:
            state = (feats.new_zeros(b, cell.hidden, h, w),) * 2
            outs = []
            for x_t in seq:
                state = cell(x_t, state)
                outs.append(state[0])
            seq = outs
        out = seq[-1] if self.pooling == "last" else torch.stack(seq, 1).mean(1)
        return self.fc(out.mean((2, 3)))


@register_model(family="cnn_rnn", arch="convlstm", default_input=(8, 32), paper=CONVLSTM_PAPER,
                limits=InputLimits(min_size=8), head="fc", stages=stages.convlstm,
                no_published=NO_PUBLISHED["convlstm"])
def convlstm(num_classes: int = 400, width: int = 16, hidden: int = 32, layers: int = 1, kernel_size: int = 3,
             pooling: str = "last"):
    """Two stride-2 conv stages (width, 2·width), ConvLSTM layer(s) of `hidden` channels on the
    1/4-resolution map, global pooling, classifier. Small enough to be its own tiny preset; needs
    8 px so the recurrent state is at least 2×2."""
    return ConvLSTM(small_cnn2d((width, 2 * width)), 2 * width, num_classes, hidden, layers, kernel_size, pooling)
