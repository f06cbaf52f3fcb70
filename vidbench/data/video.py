"""A split of a video dataset: a list of (path, label) read, sampled and transformed per item.

Items:
- training split: `(clip, label)`, clip float (C, T, H, W);
- validation split with one view (`test_clips` × `test_crops` = 1): the same;
- validation split with V > 1 views: `(views, label)`, views float (V, C, T, H, W), clip-major
  (the `test_crops` crops of temporal clip 0, then of clip 1, ...). `evaluate_views` (measure/views.py)
  averages them.

A DataLoader batch is read through `__getitems__`: its clips are normalised straight into one batch
tensor, which `collate_videos` passes on as it is (no stacking copy).

Unreadable videos (`DecodeError`): under `on_corrupt: skip` the item is `None` — `collate_videos`
drops it and `VideoLoader` drops a batch left empty — and the video is marked in a shared-memory
table, so the count is right whatever DataLoader worker hit it and a known-bad video is not opened
again. Under `on_corrupt: fail` a `CorruptVideoError` naming the file is raised (DataLoader workers
re-raise it in the main process).
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch.utils.data import Dataset

from vidbench.data.decode import open_video, resolve_backend
from vidbench.data.errors import CorruptVideoError, DecodeError
from vidbench.data.loader import ClipBatch, empty_clips
from vidbench.data.sampling import FrameSampler
from vidbench.data.transforms import ClipTransform

ON_CORRUPT = ("skip", "fail")


class VideoClips(Dataset):
    """One split of a video dataset."""

    def __init__(self, videos: Sequence[tuple[str, int]], classes: Sequence[str], *, sampler: FrameSampler,
                 transform: ClipTransform, test_crops: int = 1, decoder: str = "auto", on_corrupt: str = "skip",
                 num_workers: int | None = None, split: str = "", missing: int = 0):
        if on_corrupt not in ON_CORRUPT:
            raise ValueError(f"unknown on_corrupt {on_corrupt!r} (use one of {', '.join(ON_CORRUPT)})")
        if test_crops < 1:
            raise ValueError("test_crops must be at least 1")
        self.videos = [(str(p), int(label)) for p, label in videos]
        self.classes = list(classes)
        self.sampler, self.transform = sampler, transform
        self.test_crops = 1 if sampler.train else test_crops
        self.decoder_backend = resolve_backend(decoder)  # the backend this split decodes with, for the record
        self.on_corrupt = on_corrupt
        self.num_workers = num_workers  # the DataLoader workers asked for in the dataset args (None: default)
        self.split = split
        self.missing = missing  # videos the annotations list that are not on disk (left out, not skipped)
        # One byte per video, in shared memory: DataLoader workers (forked or spawned) write the same table.
        self._bad = torch.zeros(len(self.videos), dtype=torch.uint8).share_memory_()

    # -- items ---------------------------------------------------------------------------------
    @property
    def views(self) -> int:
        """Clips per item: 1 for training, test_clips × test_crops for validation."""
        return self.sampler.views * self.test_crops

    def __len__(self) -> int:
        return len(self.videos)

    @property
    def item_shape(self) -> tuple[int, ...]:
        """(C, T, H, W), or (views, C, T, H, W) for a multi-view validation item."""
        clip = (3, self.sampler.clip_length, *self.transform.size)
        return clip if self.views == 1 else (self.views, *clip)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int] | None:
        return self._item(index, empty_clips(self.item_shape))

    def __getitems__(self, indices: Sequence[int]) -> ClipBatch:
        """The items of a DataLoader batch, their clips normalised straight into the rows of one batch
        tensor (the readable ones, in order), so that collating them copies nothing."""
        clips = empty_clips((len(indices), *self.item_shape))
        items, done = [], 0
        for index in indices:
            item = self._item(index, clips[done])
            done += item is not None
            items.append(item)
        return ClipBatch(items, clips[:done])

    def _item(self, index: int, out: torch.Tensor) -> tuple[torch.Tensor, int] | None:
        if not 0 <= index < len(self.videos):
            raise IndexError(index)
        path, label = self.videos[index]
        if self._bad[index] and self.on_corrupt == "skip":
            return None
        try:
            clip = self._load(path, out)
        except DecodeError as e:
            self._bad[index] = 1
            if self.on_corrupt == "fail":
                raise CorruptVideoError(f"unreadable video {path}: {e.reason} (on_corrupt: fail)") from None
            return None
        return clip, label

    def _load(self, path: str, out: torch.Tensor) -> torch.Tensor:
        """Decode, sample and transform the video at `path` into `out` (`item_shape`)."""
        with open_video(path, self.decoder_backend) as reader:
            views = self.sampler(reader.num_frames)
            flat = [i for view in views for i in view]
            frames = reader.get_frames(flat)  # one pass over the video for all temporal views
        t = self.sampler.clip_length
        rows = out.view(-1, *out.shape[-4:])  # (views, C, T, H, W)
        if self.sampler.train:
            self.transform(frames[:t], out=rows[0])
            return out
        crops = self.test_crops
        for k in range(len(views)):
            self.transform.views(frames[k * t:(k + 1) * t], crops, rows[k * crops:(k + 1) * crops])
        return out

    # -- bad videos ----------------------------------------------------------------------------
    @property
    def skipped(self) -> int:
        """Videos found unreadable so far (each counted once, whichever process found it)."""
        return int(self._bad.sum())

    def skipped_paths(self) -> list[str]:
        return [self.videos[i][0] for i in self._bad.nonzero().flatten().tolist()]

    def labels(self) -> list[int]:
        return [label for _, label in self.videos]

    def __repr__(self) -> str:
        return (f"VideoClips(split={self.split!r}, videos={len(self.videos)}, classes={len(self.classes)}, "
                f"views={self.views}, decoder={self.decoder_backend!r})")


def _video_splits(splits) -> list[VideoClips]:
    return [s for s in (splits.train, splits.val) if isinstance(s, VideoClips)]


def skipped_videos(splits) -> int | None:
    """Unreadable videos passed over so far in a DatasetSplits (train + val); None for a dataset that
    does not decode videos (the `skipped_videos` column stays empty)."""
    parts = _video_splits(splits)
    return sum(s.skipped for s in parts) if parts else None


def data_detail(splits, max_paths: int = 50) -> dict | None:
    """What a run should record about its video data: decoder backend, videos per split, views, videos
    listed but missing, and the skipped files (the first `max_paths`). None for non-video datasets."""
    parts = _video_splits(splits)
    if not parts:
        return None
    skipped = [p for s in parts for p in s.skipped_paths()]
    return {
        "decoder": parts[0].decoder_backend,
        "videos": {s.split: len(s) for s in parts},
        "missing_videos": {s.split: s.missing for s in parts},
        "val_views": splits.val.views if isinstance(splits.val, VideoClips) else 1,
        "skipped_videos": len(skipped),
        "skipped_paths": skipped[:max_paths],
    }
