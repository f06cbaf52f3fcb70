"""Small building blocks shared by the tiny presets of several families."""

from __future__ import annotations

import torch.nn as nn


def torchvision_model(module: str, name: str, **kwargs) -> nn.Module:
    """torchvision's `module.name(weights=None, **kwargs)`: its architecture, nothing downloaded.

    torchvision is imported here, when a model is built, never when the registry is: its package import
    (torchvision.ops, hence torch._dynamo) costs about a second over torch's own."""
    import importlib

    return getattr(importlib.import_module(module), name)(weights=None, **kwargs)


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


def projection_shortcut3d(dim_in: int, dim_out: int, spatial_stride: int):
    """The residual branch's 1×1×1 projection when a block changes width or stride, else None (identity)."""
    if dim_in == dim_out and spatial_stride == 1:
        return None
    return nn.Sequential(nn.Conv3d(dim_in, dim_out, 1, stride=(1, spatial_stride, spatial_stride), bias=False),
                         nn.BatchNorm3d(dim_out))


def init_video_cnn(model: nn.Module) -> None:
    """PySlowFast's init for 3D CNNs: MSRA fill for convolutions, BN γ=1 β=0, a small normal fc.

    Nothing to fill on the meta device, where models are built to be counted: the fills would run
    through Python reference kernels there (~0.2 s for x3d_l's 800 modules)."""
    if any(p.is_meta for p in model.parameters()):
        return
    for m in model.modules():
        if isinstance(m, nn.Conv3d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm3d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.01)
            nn.init.zeros_(m.bias)
