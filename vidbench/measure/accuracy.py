"""Top-k accuracy on a validation split, as a percentage of samples (not an average of batches)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import torch

from vidbench.measure.precision import autocast


def topk_correct(logits: torch.Tensor, labels: torch.Tensor, k: int) -> int:
    """How many samples have their label among the k highest logits."""
    top = logits.topk(k, dim=1).indices
    return int((top == labels[:, None]).any(dim=1).sum())


@dataclass(frozen=True)
class Accuracy:
    top1: float
    top5: float | None  # None when there are 5 classes or fewer: top-5 would be 100% by construction
    samples: int


@torch.no_grad()
def evaluate(model: torch.nn.Module, loader: Iterable, num_classes: int, device: torch.device,
             precision: str) -> Accuracy:
    model.eval()
    correct1 = correct5 = samples = 0
    for clips, labels in loader:
        clips, labels = clips.to(device), labels.to(device)
        with autocast(device, precision):
            logits = model(clips)
        correct1 += topk_correct(logits, labels, 1)
        if num_classes > 5:
            correct5 += topk_correct(logits, labels, 5)
        samples += len(labels)
    if samples == 0:
        raise ValueError("the validation split is empty")
    return Accuracy(100.0 * correct1 / samples, 100.0 * correct5 / samples if num_classes > 5 else None, samples)
