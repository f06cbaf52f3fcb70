"""One training step, and whole-epoch training, shared by train_throughput and accuracy."""

from __future__ import annotations

from typing import Any, Callable, Iterable

import torch
import torch.nn.functional as F

from vidbench.measure.precision import autocast

OPTIMIZERS = ("adamw", "adam", "sgd")


def make_optimizer(params: Iterable[torch.nn.Parameter], train: dict[str, Any]) -> torch.optim.Optimizer:
    name, lr, wd = train["optimizer"], float(train["lr"]), float(train["weight_decay"])
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=wd)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=wd, momentum=float(train.get("momentum", 0.9)))
    raise ValueError(f"unknown optimizer {name!r}; expected one of {OPTIMIZERS}")


def make_train_step(model: torch.nn.Module, optimizer: torch.optim.Optimizer, device: torch.device,
                    precision: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """A function doing forward + backward + optimizer step on one batch; returns the loss."""
    scaler = torch.amp.GradScaler(device.type) if precision == "fp16" and device.type == "cuda" else None

    def step(clips: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        optimizer.zero_grad(set_to_none=True)
        with autocast(device, precision):
            loss = F.cross_entropy(model(clips), labels)
        if scaler is None:
            loss.backward()
            optimizer.step()
        else:
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        return loss.detach()

    return step


def train_epochs(model: torch.nn.Module, loader: Iterable, train: dict[str, Any], device: torch.device,
                 precision: str) -> list[float]:
    """Train for train['epochs'] epochs; returns the mean loss of each epoch."""
    model.train()
    optimizer = make_optimizer(model.parameters(), train)
    step = make_train_step(model, optimizer, device, precision)
    epoch_losses = []
    for _ in range(int(train["epochs"])):
        total, count = 0.0, 0
        for clips, labels in loader:
            clips, labels = clips.to(device, non_blocking=True), labels.to(device, non_blocking=True)
            total += float(step(clips, labels)) * len(labels)
            count += len(labels)
        epoch_losses.append(total / max(count, 1))
    return epoch_losses
