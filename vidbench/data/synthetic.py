"""Synthetic datasets with a known answer, generated on the fly and deterministic from the seed.

A bright blob moves over a noisy background on a torus (it leaves one edge and enters the opposite
one). Because the start point is uniform on the torus, the blob's position in any single frame is
uniform whatever the class:
- `synthetic-motion`: the class is the direction of motion (num_classes directions evenly spaced on
  the circle); colour and start are random. No single frame tells the class, so an order-agnostic
  model (per-frame CNN + average consensus) sits near chance, while one that relates frames can learn it.
  "Near", not "at": opposite directions are each other's time reversal, so their frames are alike as a
  set, but the set does show the axis the blobs moved along; an order-agnostic model could at best
  learn the axis, never the sign (50% with 4 directions). TSN's average consensus stays at 19-28%
  (chance 25%) in the ablation's training.
- `synthetic-appearance`: the class is the blob's colour (num_classes hues evenly spaced); direction
  and start are random. Any single frame tells the class.
"""

from __future__ import annotations

import math

import torch
from torch.utils.data import Dataset

from vidbench.data.registry import DatasetSplits, register_dataset
from vidbench.errors import RegistryError

_SPLIT_IDS = {"train": 1, "val": 2}


def _item_generator(seed: int, split: str, index: int) -> torch.Generator:
    # Distinct, reproducible stream per (seed, split, item), independent of worker or batch order.
    return torch.Generator().manual_seed((seed * 1_000_003 + _SPLIT_IDS[split] * 100_000_007 + index) % 2**63)


def hue_to_rgb(hue: torch.Tensor | float) -> torch.Tensor:
    """Fully saturated colour of a hue in [0, 1): the RGB palette used to colour blobs."""
    h = torch.as_tensor(hue, dtype=torch.float32) * 6.0
    k = torch.stack([(5 + h) % 6, (3 + h) % 6, (1 + h) % 6])
    return 1 - torch.clamp(torch.minimum(k, 4 - k), 0, 1)


def render_blob_clip(starts: torch.Tensor, velocity: torch.Tensor, colors: torch.Tensor, frames: int,
                     size: tuple[int, int], sigma: float, noise: float, g: torch.Generator) -> torch.Tensor:
    """(3, T, H, W) clip of Gaussian blobs (starts: (K, 2), colors: (K, 3)) all moving at `velocity`
    px/frame on a torus, plus Gaussian noise."""
    h, w = size
    t = torch.arange(frames, dtype=torch.float32)
    cy = starts[:, 0, None] + velocity[0] * t  # (K, T)
    cx = starts[:, 1, None] + velocity[1] * t
    dy = torch.remainder(torch.arange(h) - cy[..., None] + h / 2, h) - h / 2  # (K, T, H) torus distance
    dx = torch.remainder(torch.arange(w) - cx[..., None] + w / 2, w) - w / 2  # (K, T, W)
    blobs = torch.exp(-(dy[..., :, None] ** 2 + dx[..., None, :] ** 2) / (2 * sigma**2))  # (K, T, H, W)
    clip = torch.einsum("kc,kthw->cthw", colors, blobs).clamp(max=1.0)
    return clip + noise * torch.randn(clip.shape, generator=g)


class BlobClips(Dataset):
    """One split of a blob dataset; `kind` says whether direction or colour carries the class."""

    def __init__(self, kind: str, split: str, size: int, num_classes: int, clip_length: int,
                 resolution: tuple[int, int], frame_stride: int, seed: int, speed: float, noise: float,
                 blobs: int):
        self.kind, self.split, self.size, self.blobs = kind, split, size, blobs
        self.num_classes, self.clip_length, self.resolution = num_classes, clip_length, resolution
        self.seed, self.noise = seed, noise
        side = min(resolution)
        self.sigma = max(1.5, side / 10)
        # Speed scales with the frame so a sweep over resolution keeps the same motion in frame units;
        # a frame stride of s samples every s-th frame of the underlying motion.
        self.step = speed * side / 16 * frame_stride

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        if not 0 <= index < self.size:
            raise IndexError(index)
        g = _item_generator(self.seed, self.split, index)
        label = index % self.num_classes
        h, w = self.resolution
        starts = torch.rand(self.blobs, 2, generator=g) * torch.tensor([h, w], dtype=torch.float32)
        random_hues = torch.rand(self.blobs, generator=g)
        random_angle = float(torch.rand(1, generator=g))
        if self.kind == "motion":
            angle, hues = 2 * math.pi * label / self.num_classes, random_hues
        else:
            angle, hues = 2 * math.pi * random_angle, torch.full((self.blobs,), label / self.num_classes)
        velocity = self.step * torch.tensor([math.sin(angle), math.cos(angle)])
        colors = torch.stack([hue_to_rgb(hue) for hue in hues])
        clip = render_blob_clip(starts, velocity, colors, self.clip_length, self.resolution, self.sigma,
                                self.noise, g)
        return clip, label


def _blob_splits(kind: str, *, clip_length, resolution, frame_stride, seed, num_classes, train_size,
                 val_size, speed, noise, blobs) -> DatasetSplits:
    if num_classes < 2:
        raise ValueError("num_classes must be at least 2")
    if blobs < 1:
        raise ValueError("blobs must be at least 1")
    make = lambda split, size: BlobClips(kind, split, size, num_classes, clip_length, resolution,  # noqa: E731
                                         frame_stride, seed, speed, noise, blobs)
    return DatasetSplits(num_classes, make("train", train_size), make("val", val_size))


@register_dataset("synthetic-motion")
def synthetic_motion(*, clip_length: int, resolution: tuple[int, int], frame_stride: int = 1, seed: int = 0,
                     num_classes: int = 4, train_size: int = 512, val_size: int = 256, speed: float = 1.0,
                     noise: float = 0.1, blobs: int = 3) -> DatasetSplits:
    """A blob moving in one of num_classes directions: only the order of frames tells the class."""
    return _blob_splits("motion", clip_length=clip_length, resolution=resolution, frame_stride=frame_stride,
                        seed=seed, num_classes=num_classes, train_size=train_size, val_size=val_size,
                        speed=speed, noise=noise, blobs=blobs)


@register_dataset("synthetic-appearance")
def synthetic_appearance(*, clip_length: int, resolution: tuple[int, int], frame_stride: int = 1, seed: int = 0,
                         num_classes: int = 4, train_size: int = 512, val_size: int = 256, speed: float = 1.0,
                         noise: float = 0.1, blobs: int = 3) -> DatasetSplits:
    """A blob whose colour is the class, moving in a random direction: any one frame tells the class."""
    return _blob_splits("appearance", clip_length=clip_length, resolution=resolution, frame_stride=frame_stride,
                        seed=seed, num_classes=num_classes, train_size=train_size, val_size=val_size,
                        speed=speed, noise=noise, blobs=blobs)


class NoiseClips(Dataset):
    """Gaussian noise with random labels: the right input for speed-only runs (accuracy is chance)."""

    def __init__(self, split: str, size: int, num_classes: int, clip_length: int, resolution: tuple[int, int],
                 seed: int, views: int = 1):
        self.split, self.size, self.num_classes, self.seed, self.views = split, size, num_classes, seed, views
        self.shape = (views, 3, clip_length, *resolution) if views > 1 else (3, clip_length, *resolution)

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        if not 0 <= index < self.size:
            raise IndexError(index)
        g = _item_generator(self.seed, self.split, index)
        label = int(torch.randint(self.num_classes, (1,), generator=g))
        return torch.randn(self.shape, generator=g), label


def _check_views(args: dict) -> None:
    for key in ("test_clips", "test_crops"):
        value = args.get(key, 1)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise RegistryError(f"dataset 'random': {key} = {value!r}: a whole number of views, at least 1")


@register_dataset("random", check=_check_views)
def random(*, clip_length: int, resolution: tuple[int, int], frame_stride: int = 1, seed: int = 0,
           num_classes: int = 400, train_size: int = 64, val_size: int = 64, test_clips: int = 1,
           test_crops: int = 1) -> DatasetSplits:
    """Noise tensors with random labels, no decoding: for speed-only runs. `test_clips` × `test_crops`
    validation views per video, as a model's published test protocol has them (the per-video cost)."""
    train = NoiseClips("train", train_size, num_classes, clip_length, resolution, seed)
    val = NoiseClips("val", val_size, num_classes, clip_length, resolution, seed, views=test_clips * test_crops)
    return DatasetSplits(num_classes, train, val)
