"""One training step, and whole-epoch training, shared by train_throughput and accuracy."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from vidbench import phase
from vidbench.axes import NEUTRAL_TRAIN, OPTIMIZERS
from vidbench.devices import device_ops
from vidbench.measure.precision import autocast


def make_optimizer(params: Iterable[torch.nn.Parameter], train: dict[str, Any]) -> torch.optim.Optimizer:
    name, lr, wd = train["optimizer"], float(train["lr"]), float(train["weight_decay"])
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=wd)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=wd, momentum=float(train.get("momentum", 0.9)))
    raise ValueError(f"unknown optimizer {name!r}; expected one of {OPTIMIZERS}")


def lr_factor(step: int, total_steps: int, schedule: str, warmup_steps: int) -> float:
    """The learning rate at optimizer step `step` (0-based) as a fraction of the configured one.

    Per step (not per epoch): a linear warm-up from 1/warmup_steps to 1 over the first warmup_steps
    steps, and "cosine" decaying from 1 towards 0 over all the steps, the warm-up included, so the curve
    does not depend on the warm-up's length (as timm's cosine scheduler with warmup_prefix=False). A
    warm-up as long as the training never reaches the schedule."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    if schedule == "constant":
        return 1.0
    if schedule == "cosine":
        return 0.5 * (1 + math.cos(math.pi * step / max(total_steps, 1)))
    raise ValueError(f"unknown schedule {schedule!r}; expected 'constant' or 'cosine'")


def make_scheduler(optimizer: torch.optim.Optimizer, train: dict[str, Any],
                   steps_per_epoch: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Per-step learning-rate schedule of `train` (keys absent from older specs take their neutral values:
    constant, no warm-up, as those specs trained)."""
    train = {**NEUTRAL_TRAIN, **train}
    total = int(train["epochs"]) * steps_per_epoch
    warmup = math.ceil(float(train["warmup_epochs"]) * steps_per_epoch)  # a non-zero warm-up is >= 1 step
    schedule = train["schedule"]
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_factor(step, total, schedule, warmup))


def make_train_step(model: torch.nn.Module, optimizer: torch.optim.Optimizer, device: torch.device,
                    precision: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """A function doing forward + backward + optimizer step on one batch; returns the loss."""
    scaler = device_ops(device).grad_scaler(precision)

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


@dataclass
class EpochRecord:
    """Where training stood after an epoch: its mean loss, the wall time and clips seen so far, and the
    validation top-1 when it was evaluated then."""

    epoch: int
    loss: float
    seconds: float
    clips: int
    top1: float | None = None


def train_epochs(model: torch.nn.Module, loader: DataLoader, train: dict[str, Any], device: torch.device,
                 precision: str, params: Iterable | None = None,
                 evaluate: Callable[[], float] | None = None,
                 train_mode: Callable[[torch.nn.Module], None] | None = None,
                 history: list[EpochRecord] | None = None) -> list[float]:
    """Train for train['epochs'] epochs; returns the mean loss of each epoch.

    `params`: what the optimizer updates (parameter groups with their own learning rates, or the trainable
    parameters; default all). `train_mode` puts the model in training mode (a probe keeps its frozen part in
    eval mode). `evaluate` is called every train['eval_every'] epochs and after the last; each epoch's
    record goes to `history` (evaluation time excluded from the wall time)."""
    set_mode = train_mode or (lambda m: m.train())
    set_mode(model)
    optimizer = make_optimizer(model.parameters() if params is None else params, train)
    scheduler = make_scheduler(optimizer, train, len(loader))
    step = make_train_step(model, optimizer, device, precision)
    epochs, every = int(train["epochs"]), int(train.get("eval_every") or 0)
    epoch_losses, seconds, seen = [], 0.0, 0
    for epoch in range(1, epochs + 1):
        phase.report(f"training epoch {epoch}/{epochs}")
        started = time.perf_counter()
        total, count = 0.0, 0
        for clips, labels in loader:
            clips, labels = clips.to(device, non_blocking=True), labels.to(device, non_blocking=True)
            total += float(step(clips, labels)) * len(labels)
            scheduler.step()
            count += len(labels)
        seconds += time.perf_counter() - started
        seen += count
        epoch_losses.append(total / max(count, 1))
        top1 = None
        if evaluate is not None and every and (epoch % every == 0 or epoch == epochs):
            top1 = evaluate()
            set_mode(model)
        if history is not None:
            history.append(EpochRecord(epoch, epoch_losses[-1], seconds, seen, top1))
    return epoch_losses
