"""Clip-level and video-level accuracy over multi-view validation items.

A validation item is one clip (C, T, H, W) or V views of one video (V, C, T, H, W) (`test_clips` ×
`test_crops`). Clip-level top-1 scores every view on its own; video-level top-1 (and top-5 with more
than 5 classes) scores the mean of a video's view logits, the usual multi-view testing protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, TypeVar

import torch

from vidbench.measure.accuracy import topk_correct
from vidbench.measure.oom import is_out_of_memory
from vidbench.measure.precision import autocast

T = TypeVar("T")


def chunk_sizes(views: int, limit: int | None) -> list[int]:
    """Views per call for one video: all in one call (`limit` None or at least `views`), else the fewest
    calls of at most `limit` views, as even as possible (250 views at 64: 63, 63, 62, 62)."""
    if limit is None or limit >= views:
        return [views]
    calls = -(-views // limit)
    q, r = divmod(views, calls)
    return [q + 1] * r + [q] * (calls - r)


def halving_on_oom(attempt: Callable[[int | None], T], views: int, limit: int | None,
                   release: Callable[[], None] = lambda: None) -> tuple[T, int | None, int]:
    """`attempt(limit)` with the views per call halved after each out-of-memory error, down to one view:
    (its result, the limit it ran at, halvings). Only an automatic limit (None) halves: a limit asked
    for is kept, and its out-of-memory error raised. `release` frees cached memory before a retry."""
    halvings, automatic = 0, limit is None
    while True:
        try:
            return attempt(limit), limit, halvings
        except Exception as e:  # noqa: BLE001 - anything else is re-raised
            current = views if limit is None else limit
            if not (automatic and is_out_of_memory(e) and current > 1):
                raise
        # out of the except block: the error's traceback (and the tensors its frames hold) is gone
        limit, halvings = max(1, current // 2), halvings + 1
        release()


@dataclass(frozen=True)
class ViewAccuracy:
    clip_top1: float  # percent of views whose own top-1 is right
    video_top1: float  # percent of videos whose mean-logit top-1 is right
    video_top5: float | None  # None with 5 classes or fewer
    samples: int  # videos
    clips: int  # views scored (videos × views)


def _view_logits(model: torch.nn.Module, clips: torch.Tensor, device: torch.device, precision: str,
                 limit: int | None) -> torch.Tensor:
    """(B, V, K) logits of (B, V, C, T, H, W) clips: one view of each video per call (`limit` None), or
    the B × V clips in calls of at most `limit` (`views_batch`)."""
    b, v = clips.shape[:2]
    if limit is None:
        parts = [clips[:, j] for j in range(v)]
    else:
        flat = clips.reshape(b * v, *clips.shape[2:])
        starts = [0]
        for size in chunk_sizes(b * v, limit):
            starts.append(starts[-1] + size)
        parts = [flat[lo:hi] for lo, hi in zip(starts, starts[1:])]
    out = []
    for part in parts:
        with autocast(device, precision):
            out.append(model(part.to(device, non_blocking=True)).float())
    return torch.stack(out, 1) if limit is None else torch.cat(out).reshape(b, v, -1)


@torch.no_grad()
def evaluate_views(model: torch.nn.Module, loader: Iterable, num_classes: int, device: torch.device | str,
                   precision: str = "fp32", views_batch: int | None = None) -> ViewAccuracy:
    """Accuracy of `model` over `loader`'s (clips, labels) batches, clips (B, C, T, H, W) or multi-view
    (B, V, C, T, H, W). The model sees B clips at a time (one view of each video), so memory is that
    of the loader's batch size; with `views_batch`, at most that many of the batch's clips per call, as
    the per-video timing chunks them (the logits are the same)."""
    device = torch.device(device)
    model.eval()
    clip_right = video_right = video_right5 = videos = clips_seen = 0
    for clips, labels in loader:
        if clips.ndim == 5:
            clips = clips[:, None]
        labels = labels.to(device)
        logits = _view_logits(model, clips, device, precision, views_batch)  # (B, V, K)
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
