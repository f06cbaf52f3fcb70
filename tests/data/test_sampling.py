"""Frame sampling: dense clips with a stride, TSN segments, multi-view testing, spatial crop positions."""

from __future__ import annotations

import pytest
import torch

from vidbench.data.sampling import (
    FrameSampler,
    clip_span,
    crop_positions,
    dense_indices,
    dense_start,
    segment_indices,
    temporal_views,
)


def test_dense_clip_with_a_stride():
    assert clip_span(4, 3) == 10
    assert dense_indices(30, 4, 3, start=5) == [5, 8, 11, 14]
    assert dense_indices(30, 4, 1, start=0) == [0, 1, 2, 3]


def test_dense_clip_longer_than_the_video_repeats_the_last_frame():
    assert dense_indices(5, 4, 2, start=0) == [0, 2, 4, 4]
    assert dense_start(5, 4, 2, train=True) == 0 and dense_start(5, 4, 2, train=False) == 0


def test_dense_val_start_is_centred_and_train_start_is_random_within_the_video():
    assert dense_start(30, 4, 2, train=False) == (30 - 7) // 2
    g = torch.Generator().manual_seed(0)
    starts = {dense_start(30, 4, 2, train=True, generator=g) for _ in range(400)}
    assert starts == set(range(0, 30 - 7 + 1)), "every valid start, and only those"


def test_segments_take_one_frame_per_equal_segment():
    assert segment_indices(30, 3, train=False) == [5, 15, 25]  # the middle of 0-9, 10-19, 20-29
    g = torch.Generator().manual_seed(0)
    for _ in range(100):
        idx = segment_indices(30, 3, train=True, generator=g)
        assert 0 <= idx[0] <= 9 and 10 <= idx[1] <= 19 and 20 <= idx[2] <= 29
    seen = {segment_indices(30, 3, train=True, generator=g)[0] for _ in range(300)}
    assert seen == set(range(10))


def test_segments_with_fewer_frames_than_segments_repeat_frames():
    idx = segment_indices(3, 6, train=False)
    assert len(idx) == 6 and idx == sorted(idx) and set(idx) == {0, 1, 2}


def test_multi_view_dense_clips_spread_evenly_over_the_video():
    views = temporal_views(30, 4, 2, views=3)
    assert [v[0] for v in views] == [0, 12, 23]  # starts 0 .. 30-7
    assert views[2] == [23, 25, 27, 29]
    assert temporal_views(30, 4, 2, views=1) == [dense_indices(30, 4, 2, dense_start(30, 4, 2, train=False))]


def test_multi_view_segments_sample_evenly_spaced_offsets_in_each_segment():
    views = temporal_views(30, 3, 1, views=2, sampling="segments")
    assert views == [[2, 12, 22], [7, 17, 27]]  # offsets 1/4 and 3/4 of each 10-frame segment
    assert temporal_views(30, 3, 1, views=1, sampling="segments") == [[5, 15, 25]]


def test_frame_sampler_train_and_val():
    train = FrameSampler(4, 2, "dense", train=True, test_clips=5)
    assert train.views == 1 and len(train(30, torch.Generator().manual_seed(1))) == 1
    val = FrameSampler(4, 2, "dense", train=False, test_clips=3)
    assert val.views == 3 and val(30) == temporal_views(30, 4, 2, 3)
    seg = FrameSampler(3, 1, "segments", train=False)
    assert seg(30) == [[5, 15, 25]]
    with pytest.raises(ValueError, match="sampling"):
        FrameSampler(4, sampling="sparse")


def test_crop_positions():
    assert crop_positions((40, 40), (32, 32), 1) == [(4, 4)]
    assert crop_positions((36, 64), (32, 32), 3) == [(2, 0), (2, 16), (2, 32)]  # along the long side
    assert crop_positions((64, 36), (32, 32), 3) == [(0, 2), (16, 2), (32, 2)]
    with pytest.raises(ValueError, match="does not fit"):
        crop_positions((16, 16), (32, 32), 1)
