"""Clip transforms: resizing, crops, flips, normalisation, and the (C, T, H, W) float output."""

from __future__ import annotations

import pytest
import torch

from vidbench.data.transforms import (
    KINETICS_MEAN,
    ClipTransform,
    center_crop,
    hflip,
    normalize,
    random_crop,
    resize_short_side,
    resize_to_cover,
)


def frames(t=4, h=32, w=48, value=None):
    if value is not None:
        return torch.full((t, 3, h, w), value, dtype=torch.uint8)
    return torch.randint(0, 256, (t, 3, h, w), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))


def test_resize_short_side_keeps_the_aspect_ratio():
    out = resize_short_side(frames(h=32, w=48), 64)
    assert out.shape == (4, 3, 64, 96) and out.dtype == torch.uint8
    assert resize_short_side(frames(h=60, w=40), 20).shape == (4, 3, 30, 20)


def test_resize_to_cover_holds_the_crop():
    assert resize_to_cover(frames(h=32, w=48), (32, 32), 1 / 0.875).shape[-2:] == (37, 55)
    assert resize_to_cover(frames(h=32, w=48), (16, 40)).shape[-2:] == (27, 40)


def test_crops_and_flip():
    x = frames(h=32, w=48)
    assert torch.equal(center_crop(x, (16, 16)), x[..., 8:24, 16:32])
    c = random_crop(x, (16, 20), torch.Generator().manual_seed(0))
    assert c.shape == (4, 3, 16, 20)
    assert torch.equal(hflip(x)[..., 0], x[..., -1])


def test_normalize_returns_c_t_h_w_floats_with_the_given_statistics():
    x = frames(t=5, h=8, w=10, value=128)
    out = normalize(x, mean=(0.5, 0.25, 0.0), std=(0.5, 0.25, 1.0))
    assert out.shape == (3, 5, 8, 10) and out.dtype == torch.float32
    expected = [(128 / 255 - 0.5) / 0.5, (128 / 255 - 0.25) / 0.25, 128 / 255]
    assert out.mean((1, 2, 3)).tolist() == pytest.approx(expected, abs=1e-5)


def test_mid_gray_with_kinetics_statistics_is_near_zero():
    levels = [round(m * 255) for m in KINETICS_MEAN]
    x = torch.stack([torch.full((2, 6, 6), v, dtype=torch.uint8) for v in levels], 1)  # (T, C, H, W)
    assert normalize(x, KINETICS_MEAN, (0.2, 0.2, 0.2)).abs().max() < 0.01


@pytest.mark.parametrize("train,augment", [(False, True), (True, False), (True, True)])
@pytest.mark.parametrize("size", [(32, 32), (24, 40)])
def test_clip_transform_output_shape(train, augment, size):
    t = ClipTransform(size, train=train, augment=augment)
    out = t(frames(t=6, h=32, w=48))
    assert out.shape == (3, 6, *size) and out.dtype == torch.float32


def test_without_augmentation_training_matches_validation():
    x = frames()
    a = ClipTransform((32, 32), train=True, augment=False)(x)
    b = ClipTransform((32, 32), train=False)(x)
    assert torch.equal(a, b)


def test_augmentation_varies_crops_and_flips():
    x = frames()
    t = ClipTransform((32, 32), train=True, augment=True)
    torch.manual_seed(0)
    outs = [t(x) for _ in range(8)]
    assert any(not torch.equal(outs[0], o) for o in outs[1:])


def test_multi_crop_views():
    t = ClipTransform((32, 32))
    views = t.views(frames(h=32, w=64), 3)
    assert len(views) == 3 and all(v.shape == (3, 4, 32, 32) for v in views)
    assert not torch.equal(views[0], views[2])
    assert torch.equal(views[1], t(frames(h=32, w=64))), "the middle crop is the centre crop"


def test_bad_statistics_are_rejected():
    with pytest.raises(ValueError, match="mean"):
        ClipTransform((8, 8), mean=(0.5, 0.5))
    with pytest.raises(ValueError, match="std"):
        ClipTransform((8, 8), std=(0.5, 0.0, 0.5))
