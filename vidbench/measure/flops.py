"""Parameters and multiply-accumulates counted on the meta device.

On real CPU tensors torch's FlopCounterMode sees fused kernels (attention, LSTM) it has no formula
for and counts them as 0; on the meta device those ops decompose into matmuls it does count. Nothing
is allocated, so even large models at large inputs are counted in well under a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from vidbench.models import create_model


@dataclass(frozen=True)
class ModelCost:
    params: int
    macs: int  # multiply-accumulates of one forward pass of one clip

    @property
    def gmacs(self) -> float:
        return self.macs / 1e9

    @property
    def gflops(self) -> float:
        return 2 * self.macs / 1e9


def count_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def forward_flops(model: torch.nn.Module, clip: torch.Tensor) -> int:
    """FLOPs (2 per multiply-accumulate) of one forward pass, as torch's FlopCounterMode counts them."""
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(clip)
    return int(counter.get_total_flops())


def model_cost(name: str, num_classes: int, args: dict[str, Any], frames: int, height: int, width: int) -> ModelCost:
    """Params and MACs of a registered model for one (3, frames, height, width) clip at batch 1."""
    args = {k: v for k, v in args.items() if k != "weights"}  # weights change no count
    with torch.device("meta"):
        model = create_model(name, num_classes=num_classes, **args).eval()
        clip = torch.empty(1, 3, frames, height, width)
    return ModelCost(params=count_params(model), macs=forward_flops(model, clip) // 2)
