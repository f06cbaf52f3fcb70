"""Small building blocks shared by the tiny presets of several families."""

from __future__ import annotations

import torch.nn as nn


def conv_bn_relu2d(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


def small_cnn2d(widths: tuple[int, ...], in_channels: int = 3) -> nn.Sequential:
    """A plain stride-2 conv stack: each stage halves the frame and sets the width."""
    layers, cin = [], in_channels
    for w in widths:
        layers.append(conv_bn_relu2d(cin, w, stride=2))
        cin = w
    return nn.Sequential(*layers)


def frames_to_batch(x):
    """(B, C, T, H, W) → (B·T, C, H, W), for applying a 2D network to every frame."""
    b, c, t, h, w = x.shape
    return x.transpose(1, 2).reshape(b * t, c, h, w), b, t
