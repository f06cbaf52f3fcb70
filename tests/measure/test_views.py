"""Multi-view accuracy: clip-level top-1 over every view, video-level top-1/top-5 over mean view logits."""

from __future__ import annotations

import pytest
import torch

from tests.data.conftest import folder_tree  # noqa: F401  (fixture: a tiny video-folder tree)
from vidbench.data import create_dataset
from vidbench.data.loader import make_loader
from vidbench.measure.views import evaluate_views


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
