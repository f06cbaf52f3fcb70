"""A registered model built on the meta device: no memory, no initialisation, its weights left unread;
for counting FLOPs and parameters, checking checkpoints' shapes and reading its stages before any run."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn as nn

from vidbench.models.registry import WEIGHTS_ARGS, model_info


def meta_model(name: str, num_classes: int, args: dict[str, Any]) -> nn.Module:
    """The registered model built on the meta device from its args, its weights left unread."""
    info = model_info(name)
    info.check_args(dict(args))
    with torch.device("meta"):
        return info.builder(num_classes=num_classes, **{k: v for k, v in args.items() if k not in WEIGHTS_ARGS})
