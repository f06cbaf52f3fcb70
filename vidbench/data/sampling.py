"""Which frames make a clip: dense clips with a stride, TSN-style segments, and multi-view testing.

Every function returns frame indices in [0, num_frames) and is pure apart from the generator it is
given (train-time randomness); val-time choices are deterministic.

- `dense`: `clip_length` frames `frame_stride` apart; a random start for training, the centred one
  for validation. A video shorter than the clip's span repeats its last frame.
- `segments` (TSN, Wang et al. 2016): the video is cut into `clip_length` equal segments and one frame
  is taken from each — a random one for training, the middle one for validation. `frame_stride` does
  not apply.
- multi-view testing: `n` temporal views — dense clips with starts evenly spread over the video, or
  segments sampled at `n` evenly spaced offsets inside each segment — and `m` spatial crops
  (`crop_positions`) of each.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

SAMPLINGS = ("dense", "segments")


def clip_span(clip_length: int, frame_stride: int) -> int:
    """Frames a dense clip covers from its first to its last frame."""
    return (clip_length - 1) * frame_stride + 1


def _randint(high: int, generator: torch.Generator | None) -> int:
    """Uniform integer in [0, high] (inclusive)."""
    return int(torch.randint(high + 1, (1,), generator=generator)) if high > 0 else 0


def dense_indices(num_frames: int, clip_length: int, frame_stride: int, start: int) -> list[int]:
    """`clip_length` frames `frame_stride` apart from `start`; past the end, the last frame repeats."""
    return [min(start + k * frame_stride, num_frames - 1) for k in range(clip_length)]


def dense_start(num_frames: int, clip_length: int, frame_stride: int, *, train: bool,
                generator: torch.Generator | None = None) -> int:
    """A random start (train) or the centred one (val) of a dense clip."""
    slack = max(0, num_frames - clip_span(clip_length, frame_stride))
    return _randint(slack, generator) if train else slack // 2


def segment_indices(num_frames: int, num_segments: int, *, train: bool, generator: torch.Generator | None = None,
                    offset: float = 0.5) -> list[int]:
    """One frame from each of `num_segments` equal segments: random (train) or at `offset` (0–1) of the
    segment (val; 0.5 is the middle). Fewer frames than segments repeats frames."""
    length = num_frames / num_segments
    out = []
    for k in range(num_segments):
        lo = int(k * length)
        hi = max(lo, int((k + 1) * length) - 1)
        if train:
            out.append(lo + _randint(hi - lo, generator))
        else:
            out.append(min(int(k * length + offset * length), num_frames - 1))
    return out


def temporal_views(num_frames: int, clip_length: int, frame_stride: int, views: int, sampling: str = "dense"
                   ) -> list[list[int]]:
    """`views` deterministic clips covering the video: dense clips with evenly spread starts (one view:
    the centred clip), or segment samples at evenly spaced offsets (one view: the middles)."""
    if views < 1:
        raise ValueError("views must be at least 1")
    if sampling == "segments":
        return [segment_indices(num_frames, clip_length, train=False, offset=(j + 0.5) / views)
                for j in range(views)]
    slack = max(0, num_frames - clip_span(clip_length, frame_stride))
    if views == 1:
        starts = [slack // 2]
    else:
        starts = [round(j * slack / (views - 1)) for j in range(views)]
    return [dense_indices(num_frames, clip_length, frame_stride, s) for s in starts]


def crop_positions(size: tuple[int, int], crop: tuple[int, int], crops: int) -> list[tuple[int, int]]:
    """(top, left) of `crops` crops of `crop` (h, w) from a frame of `size` (h, w): one crop is centred;
    more are spread evenly along the axis with the most room (3 → the usual left/centre/right or
    top/centre/bottom), centred on the other."""
    (h, w), (ch, cw) = size, crop
    if ch > h or cw > w:
        raise ValueError(f"a {ch}x{cw} crop does not fit a {h}x{w} frame")
    top, left = (h - ch) // 2, (w - cw) // 2
    if crops == 1:
        return [(top, left)]
    spread = lambda room: [round(j * room / (crops - 1)) for j in range(crops)]  # noqa: E731
    if w - cw >= h - ch:
        return [(top, x) for x in spread(w - cw)]
    return [(y, left) for y in spread(h - ch)]


@dataclass(frozen=True)
class FrameSampler:
    """The frames of one item: one clip for training, `test_clips` clips for validation."""

    clip_length: int
    frame_stride: int = 1
    sampling: str = "dense"
    train: bool = True
    test_clips: int = 1

    def __post_init__(self):
        if self.sampling not in SAMPLINGS:
            raise ValueError(f"unknown sampling {self.sampling!r} (use one of {', '.join(SAMPLINGS)})")
        if self.clip_length < 1 or self.frame_stride < 1 or self.test_clips < 1:
            raise ValueError("clip_length, frame_stride and test_clips must be at least 1")

    @property
    def views(self) -> int:
        return 1 if self.train else self.test_clips

    def __call__(self, num_frames: int, generator: torch.Generator | None = None) -> list[list[int]]:
        if num_frames < 1:
            raise ValueError("a video without frames")
        if not self.train:
            return temporal_views(num_frames, self.clip_length, self.frame_stride, self.test_clips, self.sampling)
        if self.sampling == "segments":
            return [segment_indices(num_frames, self.clip_length, train=True, generator=generator)]
        start = dense_start(num_frames, self.clip_length, self.frame_stride, train=True, generator=generator)
        return [dense_indices(num_frames, self.clip_length, self.frame_stride, start)]
