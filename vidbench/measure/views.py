"""Clip-level and video-level accuracy over multi-view validation items.

A validation item is one clip (C, T, H, W) or V views of one video (V, C, T, H, W) (`test_clips` ×
`test_crops`). Clip-level top-1 scores every view on its own; video-level top-1 (and top-5 with more
than 5 classes) scores the mean of a video's view logits, the usual multi-view testing protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import torch

from vidbench.measure.accuracy import topk_correct
from vidbench.measure.precision import autocast


@dataclass(frozen=True)
class ViewAccuracy:
    clip_top1: float  # percent of views whose own top-1 is right
    video_top1: float  # percent of videos whose mean-logit top-1 is right
    video_top5: float | None  # None with 5 classes or fewer
    samples: int  # videos
    clips: int  # views scored (videos × views)


@torch.no_grad()
def evaluate_views(model: torch.nn.Module, loader: Iterable, num_classes: int, device: torch.device | str,
                   precision: str = "fp32") -> ViewAccuracy:
    """Accuracy of `model` over `loader`'s (clips, labels) batches, clips (B, C, T, H, W) or multi-view
    (B, V, C, T, H, W). The model sees B clips at a time (one view of each video), so memory is that
    of the loader's batch size."""
    device = torch.device(device)
    model.eval()
    clip_right = video_right = video_right5 = videos = clips_seen = 0
    for clips, labels in loader:
        if clips.ndim == 5:
            clips = clips[:, None]
        labels = labels.to(device)
        per_view = []
        for v in range(clips.shape[1]):
            with autocast(device, precision):
                per_view.append(model(clips[:, v].to(device, non_blocking=True)).float())
        logits = torch.stack(per_view, 1)  # (B, V, K)
        b, v, k = logits.shape
        clip_right += topk_correct(logits.reshape(b * v, k), labels.repeat_interleave(v), 1)
        video = logits.mean(1)
        video_right += topk_correct(video, labels, 1)
        if num_classes > 5:
            video_right5 += topk_correct(video, labels, 5)
        videos += b
        clips_seen += b * v
    if videos == 0:
        raise ValueError("the validation split is empty (or every video in it was skipped)")
    return ViewAccuracy(100.0 * clip_right / clips_seen, 100.0 * video_right / videos,
                        100.0 * video_right5 / videos if num_classes > 5 else None, videos, clips_seen)
