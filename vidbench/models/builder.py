"""Building a registered model for real, with its pretrained weights. The registry only declares; the
meta-device build is meta.py's (weights.py checks checkpoints against it, so it sits below both)."""

from __future__ import annotations

from typing import Any

import torch.nn as nn

from vidbench.models.registry import model_info
from vidbench.models.weights import load_weights


def create_model(name: str, num_classes: int = 400, weights: str | None = None, weights_map: Any = None,
                 **args: Any) -> nn.Module:
    """Build a registered model; it maps (B, C, T, H, W) float clips to (B, num_classes) logits.

    `weights`: a local checkpoint path (file or Hugging Face folder), or a torchvision weight-set name found
    in the torch cache; `weights_map`: how to read its keys (a layout name or [REGEX, REPLACEMENT] rules),
    ignored without `weights`. What loading did is `weights.load_report(model)`.
    """
    info = model_info(name)
    info.check_args({**args, "weights_map": weights_map})
    model = info.builder(num_classes=num_classes, **args)
    if weights is not None:
        load_weights(model, str(weights), name, info.torchvision_weights, arch=info.arch, head=info.head,
                     weights_map=weights_map)
    return model
