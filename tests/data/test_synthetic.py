"""Synthetic datasets: deterministic, the right shapes, and a known answer (motion vs appearance)."""

from __future__ import annotations

import math
from collections import Counter

import pytest
import torch

from vidbench.data import create_dataset
from vidbench.data.synthetic import hue_to_rgb

BLOBS = ("synthetic-motion", "synthetic-appearance")
K = 4
SIDE = 32


def splits(name, seed=0, clip_length=4, resolution=(SIDE, SIDE), frame_stride=1, **args):
    return create_dataset(name, clip_length=clip_length, resolution=resolution, frame_stride=frame_stride, seed=seed,
                          **{"num_classes": K, "train_size": 64, "val_size": 16, **args})


# -- blob geometry helpers (independent of the generator: they only look at pixels) ---------------------
def blob_positions(clip: torch.Tensor) -> torch.Tensor:
    """(T, 2) circular-mean (y, x) position of the bright blob in every frame of a (3, T, H, W) clip."""
    _, _, h, w = clip.shape
    weight = clip.sum(0).clamp(min=0) ** 2  # brightness, squared to suppress the background noise
    phase_y = torch.exp(2j * math.pi * torch.arange(h) / h)
    phase_x = torch.exp(2j * math.pi * torch.arange(w) / w)
    zy = (weight.sum(2).to(torch.complex64) * phase_y).sum(1)
    zx = (weight.sum(1).to(torch.complex64) * phase_x).sum(1)
    return torch.stack([torch.angle(zy) / (2 * math.pi) * h, torch.angle(zx) / (2 * math.pi) * w], 1) % torch.tensor(
        [h, w])


def mean_step(clip: torch.Tensor) -> torch.Tensor:
    """Mean (dy, dx) per frame on the torus."""
    _, _, h, w = clip.shape
    pos = blob_positions(clip)
    size = torch.tensor([h, w], dtype=torch.float32)
    d = (pos[1:] - pos[:-1] + size / 2) % size - size / 2
    return d.mean(0)


def direction_class(clip: torch.Tensor, k: int) -> int:
    dy, dx = mean_step(clip).tolist()
    return round(math.atan2(dy, dx) / (2 * math.pi) * k) % k


def colour_class(frame: torch.Tensor, k: int) -> int:
    """Nearest palette hue to the colour of the frame's bright pixels (one (3, H, W) frame)."""
    weight = frame.sum(0).clamp(min=0) ** 2
    colour = (frame * weight).sum((1, 2))
    palette = torch.stack([hue_to_rgb(c / k) for c in range(k)])
    sims = torch.nn.functional.cosine_similarity(palette, colour[None], dim=1)
    return int(sims.argmax())


# -- determinism, shapes, labels --------------------------------------------------------------------
@pytest.mark.parametrize("name", [*BLOBS, "random"])
def test_deterministic_from_the_seed(name):
    a, b, c = splits(name, seed=3), splits(name, seed=3), splits(name, seed=4)
    for i in (0, 5):
        clip_a, label_a = a.train[i]
        clip_b, label_b = b.train[i]
        assert torch.equal(clip_a, clip_b) and label_a == label_b
        assert torch.equal(a.train[i][0], clip_a), "the same item twice is the same"
        assert not torch.equal(c.train[i][0], clip_a), "another seed gives other clips"


@pytest.mark.parametrize("name", [*BLOBS, "random"])
def test_train_and_val_differ(name):
    s = splits(name)
    assert not torch.equal(s.train[0][0], s.val[0][0])


@pytest.mark.parametrize("name", [*BLOBS, "random"])
@pytest.mark.parametrize(("clip_length", "resolution"), [(4, (16, 16)), (6, (24, 40))])
def test_shapes_and_sizes(name, clip_length, resolution):
    s = splits(name, clip_length=clip_length, resolution=resolution, train_size=10, val_size=6)
    assert (len(s.train), len(s.val), s.num_classes) == (10, 6, K)
    clip, label = s.val[5]
    assert clip.shape == (3, clip_length, *resolution)
    assert clip.dtype == torch.float32
    assert isinstance(label, int) and 0 <= label < K
    with pytest.raises(IndexError):
        s.val[6]


@pytest.mark.parametrize("name", BLOBS)
def test_labels_are_balanced(name):
    s = splits(name, train_size=64)
    counts = Counter(s.train[i][1] for i in range(len(s.train)))
    assert counts == {c: 64 // K for c in range(K)}


@pytest.mark.parametrize("name", BLOBS)
def test_blob_datasets_need_two_classes(name):
    with pytest.raises(ValueError, match="num_classes"):
        splits(name, num_classes=1)


def test_random_dataset_is_noise_with_valid_labels():
    s = create_dataset("random", clip_length=4, resolution=(8, 8), num_classes=10, train_size=200, val_size=2)
    labels = {s.train[i][1] for i in range(200)}
    assert labels <= set(range(10)) and len(labels) > 5
    clip = s.train[0][0]
    assert abs(float(clip.mean())) < 0.2 and 0.8 < float(clip.std()) < 1.2


# -- what carries the class ---------------------------------------------------------------------------
def test_motion_direction_reveals_the_class():
    s = splits("synthetic-motion", clip_length=6, train_size=48)
    predicted = [direction_class(s.train[i][0], K) for i in range(48)]
    assert predicted == [s.train[i][1] for i in range(48)]


def test_motion_blob_position_in_any_frame_is_class_independent():
    # Start points are uniform on the torus, so each class's blob positions are uniform: the mean of
    # exp(2πi·pos/side) over many clips is near 0 for every class (it would be near 1 for a fixed position).
    s = splits("synthetic-motion", clip_length=6, train_size=64 * K)
    by_class: dict[int, list[torch.Tensor]] = {c: [] for c in range(K)}
    for i in range(len(s.train)):
        clip, label = s.train[i]
        by_class[label].append(blob_positions(clip)[[0, -1]])  # first and last frame
    for c, positions in by_class.items():
        pos = torch.stack(positions)  # (N, 2 frames, 2 axes)
        resultant = torch.exp(2j * math.pi * pos / SIDE).mean(0).abs()
        assert (resultant < 0.35).all(), f"class {c}: positions are not uniform ({resultant})"


def test_motion_colour_does_not_reveal_the_class():
    s = splits("synthetic-motion", train_size=64)
    hits = sum(colour_class(s.train[i][0][:, 0], K) == s.train[i][1] for i in range(64))
    assert hits < 0.5 * 64  # chance is 1/K


def test_appearance_colour_reveals_the_class_from_a_single_frame():
    s = splits("synthetic-appearance", train_size=48)
    for frame in (0, -1):
        predicted = [colour_class(s.train[i][0][:, frame], K) for i in range(48)]
        assert predicted == [s.train[i][1] for i in range(48)]


def test_appearance_direction_does_not_reveal_the_class():
    s = splits("synthetic-appearance", clip_length=6, train_size=64)
    hits = sum(direction_class(s.train[i][0], K) == s.train[i][1] for i in range(64))
    assert hits < 0.5 * 64


def test_speed_scales_with_resolution_and_frame_stride():
    def speed(**kw):
        s = splits("synthetic-motion", clip_length=6, train_size=8, noise=0.0, **kw)
        return sum(float(mean_step(s.train[i][0]).norm()) for i in range(8)) / 8

    base = speed()
    assert base == pytest.approx(SIDE / 16, rel=0.1)  # `speed` is in units of side/16 px per frame
    assert speed(frame_stride=2) == pytest.approx(2 * base, rel=0.1)
    assert speed(resolution=(64, 64)) == pytest.approx(2 * base, rel=0.1)
