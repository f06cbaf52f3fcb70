"""3D CNNs: C3D, and torchvision's video ResNets under their own names."""

from __future__ import annotations

import torch
import torch.nn as nn
from torchvision.models import video as tv_video

from vidbench.models.registry import InputLimits, register_model

C3D_PAPER = "Tran et al., Learning Spatiotemporal Features with 3D Convolutional Networks, ICCV 2015"
CLOSER_LOOK_PAPER = "Tran et al., A Closer Look at Spatiotemporal Convolutions for Action Recognition, CVPR 2018"


class C3D(nn.Module):
    """VGG-style 3D network of 3×3×3 convolutions; pool1 keeps time, later pools halve it.

    `stages` lists the widths of the convolutions in each stage, e.g. ((64,), (128,), (256, 256)).
    """

    def __init__(self, stages: tuple[tuple[int, ...], ...], num_classes: int, hidden: int = 0,
                 dropout: float = 0.0):
        super().__init__()
        layers, cin = [], 3
        for i, widths in enumerate(stages):
            for w in widths:
                layers += [nn.Conv3d(cin, w, 3, padding=1), nn.BatchNorm3d(w), nn.ReLU(inplace=True)]
                cin = w
            if i < len(stages) - 1:
                kernel = (1, 2, 2) if i == 0 else (2, 2, 2)
                layers.append(nn.MaxPool3d(kernel, kernel, ceil_mode=True))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool3d(1)
        head: list[nn.Module] = [nn.Flatten()]
        if hidden:
            head += [nn.Linear(cin, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout)]
            cin = hidden
        head.append(nn.Linear(cin, num_classes))
        self.head = nn.Sequential(*head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.pool(self.features(x)))


@register_model(family="cnn", arch="c3d", default_input=(8, 32), paper=C3D_PAPER,
                limits=InputLimits(min_size=8, min_frames=4))
def c3d_tiny(num_classes: int = 400, width: int = 16):
    """Four stages (w, 2w, 4w, 4w) of 3×3×3 convolutions, global pooling, linear classifier."""
    return C3D(((width,), (2 * width,), (4 * width,), (4 * width,)), num_classes)


def _torchvision_video(builder, num_classes: int) -> nn.Module:
    # weights=None: nothing is downloaded; the architecture is torchvision's own.
    return builder(weights=None, num_classes=num_classes)


@register_model(family="cnn", arch="r3d", default_input=(16, 112), paper=CLOSER_LOOK_PAPER)
def r3d_18(num_classes: int = 400):
    """torchvision's R3D-18: ResNet-18 with full 3D convolutions."""
    return _torchvision_video(tv_video.r3d_18, num_classes)


@register_model(family="cnn", arch="mc3", default_input=(16, 112), paper=CLOSER_LOOK_PAPER)
def mc3_18(num_classes: int = 400):
    """torchvision's MC3-18: 3D convolutions in the first stage, 2D (1×3×3) after."""
    return _torchvision_video(tv_video.mc3_18, num_classes)


@register_model(family="cnn", arch="r2plus1d", default_input=(16, 112), paper=CLOSER_LOOK_PAPER)
def r2plus1d_18(num_classes: int = 400):
    """torchvision's R(2+1)D-18: each 3D convolution factorised into spatial then temporal."""
    return _torchvision_video(tv_video.r2plus1d_18, num_classes)
