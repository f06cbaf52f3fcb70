"""Transfer protocols: which part of a (pretrained) model trains, in which mode, at which learning rate.

- `full`: everything trains (the default, what vidbench always did).
- `linear_probe`: only the declared head trains; the rest is frozen and kept in eval mode (batch norm
  statistics and dropout as in inference), as linear evaluation protocols do.
- `partial` with `freeze: N`: the first N of the model's declared stages are frozen and in eval mode.
- `layer_decay: d` (< 1): stage k of n trains at lr × d^(n − k), the head and final norms at lr (BEiT's
  and VideoMAE's layer-wise decay, with the embedding as the first stage).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch.nn as nn

from vidbench.axes import PROBES
from vidbench.models import model_info
from vidbench.models.stages import Stage, acts_on_stages, in_stage, model_stages


@dataclass
class TransferPlan:
    """What the optimizer updates (parameter groups with their learning rates), how the model enters
    training mode, and how much of it trains."""

    param_groups: list[dict[str, Any]]
    train_mode: Callable[[nn.Module], None]
    trainable: int  # parameters that train
    frozen: int  # parameters that do not

    def as_detail(self) -> dict[str, Any]:
        return {"trainable_params": self.trainable, "frozen_params": self.frozen,
                "lr_groups": sorted({round(g["lr"], 12) for g in self.param_groups})}


def _modules_under(model: nn.Module, prefixes: tuple[str, ...]) -> list[nn.Module]:
    modules = dict(model.named_modules())
    return [modules[p] for p in prefixes if p in modules]


def transfer_plan(model: nn.Module, model_name: str, train: dict[str, Any]) -> TransferPlan:
    """Freeze what the protocol freezes (requires_grad off) and group the rest by learning rate. The
    model's stages are read only when the protocol acts on them: any model trains `full`."""
    protocol = train.get("protocol", "full")
    freeze, decay, lr = int(train.get("freeze") or 0), float(train.get("layer_decay") or 1.0), float(train["lr"])
    info = model_info(model_name)
    stages: list[Stage] = model_stages(model_name, model) if acts_on_stages(train) else []
    if protocol in PROBES:  # the attentive probe's own head is built over cached features (scenarios/probing)
        def frozen(name: str) -> bool:
            return not in_stage(name, info.head)
    elif protocol == "partial":
        def frozen(name: str) -> bool:
            return any(in_stage(name, stage) for stage in stages[:freeze])
    else:
        def frozen(name: str) -> bool:
            return False

    groups: dict[float, list[nn.Parameter]] = {}
    counts = {True: 0, False: 0}
    for name, param in model.named_parameters():
        is_frozen = frozen(name)
        counts[is_frozen] += param.numel()
        if is_frozen:
            param.requires_grad_(False)
            continue
        depth = next((len(stages) - k for k, stage in enumerate(stages) if in_stage(name, stage)), 0)
        groups.setdefault(decay ** depth, []).append(param)
    param_groups = [{"params": ps, "lr": lr * scale} for scale, ps in sorted(groups.items(), reverse=True)]

    if protocol in PROBES:
        def train_mode(m: nn.Module) -> None:
            m.eval()
            for head in _modules_under(m, info.head):
                head.train()
    elif protocol == "partial":
        frozen_prefixes = tuple(p for stage in stages[:freeze] for p in stage)

        def train_mode(m: nn.Module) -> None:
            m.train()
            for module in _modules_under(m, frozen_prefixes):
                module.eval()
    else:
        def train_mode(m: nn.Module) -> None:
            m.train()
    return TransferPlan(param_groups, train_mode, counts[False], counts[True])
