"""Clip transforms: uint8 frames (T, C, H, W) in, the float clip (C, T, H, W) a model takes out.

Validation (and training with `augment: false`): resize so the frame covers the crop divided by
`crop_fraction` (0.875: 128 for a 112 crop, the short side for a square crop), then the centre crop
(or `crops` crops spread along the long side for multi-view testing). Training with augmentation: the
same resize times a random factor in `scale_jitter`, a random crop and a horizontal flip half the time.
Then /255 and normalisation with the model's mean and std (Kinetics statistics by default, as
torchvision's video models).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import torch

from vidbench.data.sampling import crop_positions

KINETICS_MEAN = (0.43216, 0.394666, 0.37645)
KINETICS_STD = (0.22803, 0.22145, 0.216989)


def resize(frames: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear (antialiased) resize of uint8 (T, C, H, W) frames to `size` (h, w)."""
    if tuple(frames.shape[-2:]) == tuple(size):
        return frames
    from torchvision.transforms.v2 import functional as TF  # torchvision's import is ~1 s: only when resizing

    return TF.resize(frames, list(size), antialias=True)


def resize_short_side(frames: torch.Tensor, short: int) -> torch.Tensor:
    """Resize so the shorter side is `short`, keeping the aspect ratio."""
    h, w = frames.shape[-2:]
    scale = short / min(h, w)
    return resize(frames, (max(short, round(h * scale)), max(short, round(w * scale))))


def resize_to_cover(frames: torch.Tensor, crop: tuple[int, int], scale: float = 1.0) -> torch.Tensor:
    """Resize, keeping the aspect ratio, to the smallest size holding a `crop` × `scale` crop (for a
    square crop: the short side becomes crop × scale)."""
    h, w = frames.shape[-2:]
    factor = max(crop[0] * scale / h, crop[1] * scale / w)
    return resize(frames, (max(crop[0], math.ceil(h * factor - 1e-6)), max(crop[1], math.ceil(w * factor - 1e-6))))


def crop(frames: torch.Tensor, top: int, left: int, size: tuple[int, int]) -> torch.Tensor:
    return frames[..., top:top + size[0], left:left + size[1]]


def center_crop(frames: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    return crop(frames, *crop_positions(tuple(frames.shape[-2:]), size, 1)[0], size)


def random_crop(frames: torch.Tensor, size: tuple[int, int], generator: torch.Generator | None = None) -> torch.Tensor:
    h, w = frames.shape[-2:]
    if size[0] > h or size[1] > w:
        raise ValueError(f"a {size[0]}x{size[1]} crop does not fit a {h}x{w} frame")
    top = int(torch.randint(h - size[0] + 1, (1,), generator=generator))
    left = int(torch.randint(w - size[1] + 1, (1,), generator=generator))
    return crop(frames, top, left, size)


def hflip(frames: torch.Tensor) -> torch.Tensor:
    return frames.flip(-1)


def normalize(frames: torch.Tensor, mean: Sequence[float], std: Sequence[float],
              out: torch.Tensor | None = None) -> torch.Tensor:
    """uint8 (T, C, H, W), any strides → float32 (C, T, H, W): (x / 255 - mean) / std per channel.

    Computed as (x - 255 mean) / (255 std): one copy converts and transposes into `out` (a new
    contiguous tensor, or e.g. a clip's row of a batch), then one in-place pass each for the shift and
    the scale. This runs once per clip in the input pipeline.
    """
    if out is None:
        out = torch.empty((frames.shape[1], frames.shape[0], *frames.shape[2:]), dtype=torch.float32)
    out.copy_(frames.permute(1, 0, 2, 3))
    shift = torch.tensor([255 * m for m in mean], dtype=torch.float32).view(-1, 1, 1, 1)
    scale = torch.tensor([255 * s for s in std], dtype=torch.float32).view(-1, 1, 1, 1)
    return out.sub_(shift).div_(scale)


@dataclass(frozen=True)
class ClipTransform:
    """uint8 frames (T, C, H, W) → normalised float clips (C, T, H, W) of `size` (h, w)."""

    size: tuple[int, int]
    train: bool = False
    augment: bool = True
    mean: tuple[float, ...] = KINETICS_MEAN
    std: tuple[float, ...] = KINETICS_STD
    crop_fraction: float = 0.875
    scale_jitter: tuple[float, float] = (1.0, 1.25)
    flip: bool = True

    def __post_init__(self):
        if len(self.mean) != 3 or len(self.std) != 3:
            raise ValueError("mean and std take 3 values (R, G, B)")
        if any(s <= 0 for s in self.std):
            raise ValueError("std values must be positive")
        if not 0 < self.crop_fraction <= 1:
            raise ValueError("crop_fraction must be in (0, 1]")

    @property
    def augmenting(self) -> bool:
        return self.train and self.augment

    def __call__(self, frames: torch.Tensor, generator: torch.Generator | None = None,
                 out: torch.Tensor | None = None) -> torch.Tensor:
        """One clip: random resize/crop/flip when augmenting, else the centre crop (written into `out`
        (C, T, h, w) when given)."""
        if not self.augmenting:
            return self.views(frames, 1, None if out is None else out[None])[0]
        lo, hi = self.scale_jitter
        scale = lo + (hi - lo) * float(torch.rand(1, generator=generator))
        frames = random_crop(resize_to_cover(frames, self.size, scale / self.crop_fraction), self.size, generator)
        if self.flip and float(torch.rand(1, generator=generator)) < 0.5:
            frames = hflip(frames)
        return normalize(frames, self.mean, self.std, out)

    def views(self, frames: torch.Tensor, crops: int, out: torch.Tensor | None = None) -> list[torch.Tensor]:
        """`crops` deterministic crops of the resized frames (1: the centre crop), written into the rows
        of `out` (crops, C, T, h, w) when given."""
        frames = resize_to_cover(frames, self.size, 1 / self.crop_fraction)
        positions = crop_positions(tuple(frames.shape[-2:]), self.size, crops)
        rows = [None] * len(positions) if out is None else out.unbind(0)
        return [normalize(crop(frames, top, left, self.size), self.mean, self.std, row)
                for (top, left), row in zip(positions, rows)]
