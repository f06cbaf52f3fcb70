"""Multi-view accuracy: clip-level top-1 over every view, video-level top-1/top-5 over mean view logits."""

from __future__ import annotations

import pytest
import torch

from tests.data.conftest import folder_tree  # noqa: F401  (fixture: a tiny video-folder tree)
from vidbench.data import create_dataset
from vidbench.data.loader import make_loader
from vidbench.measure.views import chunk_sizes, evaluate_views, halving_on_oom


class ChannelMeans(torch.nn.Module):
    """Logits = each channel's mean: the test decides what every view predicts."""

    def forward(self, x):
        return x.mean((2, 3, 4))


def views_of(logits: list[list[float]]) -> torch.Tensor:
    k = len(logits[0])
    return torch.stack([torch.tensor(v, dtype=torch.float32).view(k, 1, 1, 1).expand(k, 2, 4, 4) for v in logits])


def test_evaluate_views_scores_clips_and_videos():
    video0 = views_of([[1, 0, 0], [1, 0, 0], [0, 0, 1.5]])  # label 0: clips 2/3 right, mean right
    video1 = views_of([[0, 1, 0], [0, 0, 1], [0, 0, 1]])  # label 2: clips 2/3 right, mean right
    video2 = views_of([[0, 1, 0], [2, 0, 0], [2, 0, 0]])  # label 1: clips 1/3 right, mean wrong
    loader = [(torch.stack([video0, video1]), torch.tensor([0, 2])), (video2[None], torch.tensor([1]))]
    acc = evaluate_views(ChannelMeans(), loader, 3, "cpu", "fp32")
    assert acc.samples == 3 and acc.clips == 9
    assert acc.clip_top1 == pytest.approx(100 * 5 / 9)
    assert acc.video_top1 == pytest.approx(100 * 2 / 3)
    assert acc.video_top5 is None


def test_evaluate_views_on_single_clips_equals_plain_accuracy():
    clips = views_of([[1, 0, 0], [0, 1, 0], [0, 1, 0]])
    acc = evaluate_views(ChannelMeans(), [(clips, torch.tensor([0, 1, 2]))], 3, "cpu", "fp32")
    assert acc.clip_top1 == acc.video_top1 == pytest.approx(200 / 3) and acc.clips == acc.samples == 3


def test_video_top5_scores_the_mean_logits_with_more_than_five_classes():
    # label 6 is never a view's top-1, and is 2nd by mean logits in video 0 but 7th in video 1
    video0 = views_of([[1, 0, 0, 0, 0, 0, 0.9], [1, 0, 0, 0, 0, 0, 0.9]])
    video1 = views_of([[6, 5, 4, 3, 2, 1, 0], [6, 5, 4, 3, 2, 1, 0]])
    acc = evaluate_views(ChannelMeans(), [(torch.stack([video0, video1]), torch.tensor([6, 6]))], 7, "cpu")
    assert acc.clip_top1 == acc.video_top1 == 0.0
    assert acc.video_top5 == pytest.approx(50.0)


def test_an_empty_loader_is_an_error():
    with pytest.raises(ValueError, match="empty"):
        evaluate_views(ChannelMeans(), [], 3, "cpu")


def test_evaluate_views_over_a_multi_view_loader(folder_tree):  # noqa: F811
    splits = create_dataset("video-folder", clip_length=2, resolution=(16, 16), frame_stride=2, root=str(folder_tree),
                            decoder="pyav", test_clips=2, test_crops=2)
    model = torch.nn.Sequential(torch.nn.AdaptiveAvgPool3d(1), torch.nn.Flatten(), torch.nn.Linear(3, 3))
    acc = evaluate_views(model, make_loader(splits.val, 2, num_workers=0), splits.num_classes, "cpu", "fp32")
    assert acc.samples == len(splits.val) and acc.clips == 4 * len(splits.val)
    assert 0 <= acc.clip_top1 <= 100 and 0 <= acc.video_top1 <= 100


# -- views in chunks (`benchmark.views_batch`) ---------------------------------------------------------------
def test_chunk_sizes_are_the_fewest_even_calls_within_the_limit():
    assert chunk_sizes(30, None) == [30] and chunk_sizes(30, 30) == [30] and chunk_sizes(30, 64) == [30]
    assert chunk_sizes(250, 64) == [63, 63, 62, 62]
    assert chunk_sizes(30, 8) == [8, 8, 7, 7] and chunk_sizes(5, 1) == [1] * 5
    for views, limit in ((250, 125), (250, 62), (7, 3), (30, 4)):
        sizes = chunk_sizes(views, limit)
        assert sum(sizes) == views and max(sizes) <= limit and len(sizes) == -(-views // limit)


def test_an_automatic_limit_halves_on_out_of_memory_and_an_asked_one_does_not():
    tried, released = [], []

    def attempt(limit):
        tried.append(limit)
        if (limit or 250) > 62:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 9 GiB")
        return "ran"

    assert halving_on_oom(attempt, 250, None, lambda: released.append(1)) == ("ran", 62, 2)
    assert tried == [None, 125, 62] and len(released) == 2
    with pytest.raises(torch.OutOfMemoryError):
        halving_on_oom(attempt, 250, 100)  # asked for: its out-of-memory error is the run's
    with pytest.raises(ValueError):
        halving_on_oom(lambda limit: (_ for _ in ()).throw(ValueError("bad shape")), 250, None)


@pytest.mark.parametrize("views_batch", [1, 2, 4, 5, 100])
def test_views_in_chunks_score_exactly_as_one_view_at_a_time(views_batch):
    torch.manual_seed(0)
    clips = torch.randn(3, 4, 3, 2, 4, 4)  # 3 videos × 4 views
    loader = [(clips, torch.tensor([0, 1, 2]))]
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 2 * 4 * 4, 6))
    plain = evaluate_views(model, loader, 6, "cpu", "fp32")
    chunked = evaluate_views(model, loader, 6, "cpu", "fp32", views_batch=views_batch)
    assert chunked == plain
