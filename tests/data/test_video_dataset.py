"""Video dataset items end to end: decoded frames, views, unreadable files, loaders,
input-pipeline throughput and `check_videos`."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
import torch

from tests.data.conftest import LEVEL_STEP
from vidbench.data import create_dataset
from vidbench.data.check import check_videos
from vidbench.data.errors import CorruptVideoError
from vidbench.data.loader import collate_videos, make_loader, measure_data_throughput, resolve_num_workers
from vidbench.data.video import data_detail, skipped_videos
from vidbench.errors import UsageError

RAW = {"mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0]}  # clips hold level / 255


def folder(root, clip_length=4, frame_stride=2, resolution=(32, 32), **args):
    return create_dataset("video-folder", clip_length=clip_length, resolution=resolution, frame_stride=frame_stride,
                          root=str(root), **{"decoder": "pyav", **args})


def frame_levels(clip: torch.Tensor) -> list[float]:
    """Mean level (0-255) of each frame of a raw (C, T, H, W) clip."""
    return (clip.mean((0, 2, 3)) * 255).tolist()


# -- items ----------------------------------------------------------------------------------------
def test_val_items_are_the_centred_dense_clip(folder_tree):
    splits = folder(folder_tree, clip_length=4, frame_stride=2, **RAW)
    assert splits.train.decoder_backend == "pyav" and splits.val.views == 1
    for i in range(len(splits.val)):
        clip, label = splits.val[i]
        assert clip.shape == (3, 4, 32, 32) and clip.dtype == torch.float32
        start = (20 - 7) // 2  # 20-frame videos, span 7
        expected = [label + (start + 2 * k) * LEVEL_STEP for k in range(4)]  # class c's videos are offset by c
        assert frame_levels(clip) == pytest.approx(expected, abs=4)


def test_train_items_are_dense_clips_with_the_stride(folder_tree):
    splits = folder(folder_tree, clip_length=3, frame_stride=3, **RAW)
    torch.manual_seed(0)
    for i in range(4):
        clip, label = splits.train[i]
        levels = frame_levels(clip)
        steps = [b - a for a, b in zip(levels, levels[1:])]
        assert steps == pytest.approx([3 * LEVEL_STEP] * 2, abs=5)


def test_segment_sampling_items(folder_tree):
    splits = folder(folder_tree, clip_length=4, sampling="segments", **RAW)
    clip, label = splits.val[0]
    expected = [label + i * LEVEL_STEP for i in (2, 7, 12, 17)]  # middles of four 5-frame segments
    assert frame_levels(clip) == pytest.approx(expected, abs=4)


def test_multi_view_val_items_stack_clips_times_crops(folder_tree):
    splits = folder(folder_tree, clip_length=4, frame_stride=1, test_clips=2, test_crops=3, **RAW)
    assert splits.val.views == 6 and splits.train.views == 1
    views, label = splits.val[0]
    assert views.shape == (6, 3, 4, 32, 32)
    first, second = frame_levels(views[0]), frame_levels(views[3])
    assert first == pytest.approx([label + i * LEVEL_STEP for i in range(4)], abs=4)  # clip 0 starts at 0
    assert second == pytest.approx([label + i * LEVEL_STEP for i in range(16, 20)], abs=4)  # clip 1 ends at 19
    clip, _ = splits.train[0]
    assert clip.shape == (3, 4, 32, 32)


def test_items_are_normalised_with_the_given_statistics(folder_tree):
    raw, _ = folder(folder_tree, **RAW).val[0]
    norm, _ = folder(folder_tree, mean=[0.5, 0.4, 0.3], std=[0.2, 0.25, 0.5]).val[0]
    expected = (raw - torch.tensor([0.5, 0.4, 0.3]).view(3, 1, 1, 1)) / torch.tensor([0.2, 0.25, 0.5]).view(3, 1, 1, 1)
    assert torch.allclose(norm, expected, atol=1e-5)


# -- loaders --------------------------------------------------------------------------------------
def _epoch(dataset, workers, seed=3):
    return [(c.clone(), l.clone()) for c, l in make_loader(dataset, 4, shuffle=True, num_workers=workers, seed=seed)]


def _same(a, b) -> bool:
    return len(a) == len(b) and all(torch.equal(x[0], y[0]) and torch.equal(x[1], y[1]) for x, y in zip(a, b))


def test_make_loader_batches_and_is_seeded(folder_tree):
    splits = folder(folder_tree)
    torch.manual_seed(0)  # in the main process, augmentation draws from torch's global generator
    a = _epoch(splits.train, 0)
    torch.manual_seed(0)
    b = _epoch(splits.train, 0)
    assert [c.shape for c, _ in a] == [(4, 3, 4, 32, 32)] * 3
    assert _same(a, b)
    # in workers, from per-worker seeds drawn from the loader's seeded generator
    assert _same(_epoch(splits.train, 1), _epoch(splits.train, 1))
    assert not _same(_epoch(splits.train, 1), _epoch(splits.train, 1, seed=4))
    loader = make_loader(splits.train, 4, num_workers=2, device="cpu")
    assert loader.num_workers == 2 and loader.persistent_workers and not loader.pin_memory
    assert make_loader(splits.train, 4, num_workers=0, device="cuda").pin_memory


def test_default_workers(folder_tree, monkeypatch):
    splits = folder(folder_tree)
    assert resolve_num_workers(splits.train) >= 0
    assert resolve_num_workers(folder(folder_tree, num_workers=3).train) == 3
    synthetic = create_dataset("random", clip_length=2, resolution=(8, 8), train_size=2, val_size=2)
    assert resolve_num_workers(synthetic.train) == 0
    process = multiprocessing.current_process()
    monkeypatch.setattr(process, "_config", {**process._config, "daemon": True})
    with pytest.warns(RuntimeWarning, match="daemonic"):
        assert resolve_num_workers(splits.train, 2) == 0


def test_collate_drops_skipped_items():
    item = (torch.zeros(3, 2, 4, 4), 1)
    clips, labels = collate_videos([None, item, None, item])
    assert clips.shape == (2, 3, 2, 4, 4) and labels.tolist() == [1, 1]
    assert collate_videos([None, None]) is None


def test_loader_batches_are_the_items_stacked(folder_tree, split_tree):
    # make_loader's batches come from VideoClips.__getitems__, which normalises the clips straight into
    # one batch tensor: the same clips as the items one by one, stacked, unreadable ones left out
    val = folder(folder_tree, test_clips=2, test_crops=3).val
    clips, labels = next(iter(make_loader(val, 3, num_workers=0)))
    items = [val[i] for i in range(3)]
    assert clips.shape == (3, 6, 3, 4, 32, 32) and torch.equal(clips, torch.stack([c for c, _ in items]))
    assert labels.tolist() == [label for _, label in items]
    train, again = (folder(split_tree, clip_length=8, frame_stride=2).train for _ in range(2))  # 2 of 8 unreadable
    torch.manual_seed(0)  # the same random clips, crops and flips for both
    batches = list(make_loader(train, 3, num_workers=0))
    torch.manual_seed(0)
    items = [again[i] for i in range(len(again))]
    expected = [[it for it in items[k:k + 3] if it is not None] for k in range(0, len(items), 3)]
    assert [len(b[1]) for b in batches] == [len(e) for e in expected if e] and sum(map(len, expected)) == 6
    for (clips, labels), want in zip(batches, [e for e in expected if e]):
        assert torch.equal(clips, torch.stack([c for c, _ in want])) and labels.tolist() == [lb for _, lb in want]


# -- unreadable videos ----------------------------------------------------------------------------
BAD = {"broken.mp4", "cut.mkv"}


@pytest.mark.parametrize("workers", [0, 1])
def test_unreadable_videos_are_skipped_and_counted_once(split_tree, workers):
    # span 15 of 20 frames: every clip of the truncated video reaches past its end
    splits = folder(split_tree, clip_length=8, frame_stride=2)
    assert len(splits.train) == 8
    loader = make_loader(splits.train, 3, shuffle=True, num_workers=workers, seed=0)
    for _ in range(2):
        seen = sum(len(labels) for _, labels in loader)
        assert seen == 6
    assert splits.train.skipped == 2 and skipped_videos(splits) == 2
    assert {Path(p).name for p in splits.train.skipped_paths()} == BAD
    detail = data_detail(splits)
    assert detail["skipped_videos"] == 2 and detail["decoder"] == "pyav"
    assert detail["videos"] == {"train": 8, "val": 4}


def test_a_batch_of_only_unreadable_videos_is_not_yielded(split_tree):
    splits = folder(split_tree, clip_length=8, frame_stride=2)
    bad = [i for i, (p, _) in enumerate(splits.train.videos) if Path(p).name in BAD]
    good = [i for i in range(len(splits.train)) if i not in bad]
    order = torch.utils.data.Subset(splits.train, bad + good[:2])
    batches = list(make_loader(order, 2, num_workers=0))
    assert len(batches) == 1 and batches[0][0].shape[0] == 2


@pytest.mark.parametrize("workers", [0, 1])
def test_on_corrupt_fail_raises_naming_the_file(split_tree, workers):
    splits = folder(split_tree, clip_length=8, frame_stride=2, on_corrupt="fail")
    with pytest.raises(CorruptVideoError) as info:
        for _ in make_loader(splits.train, 8, num_workers=workers):
            pass
    assert any(name in str(info.value) for name in BAD)
    assert str(split_tree) in str(info.value)


def test_skipped_videos_is_none_for_datasets_that_do_not_decode():
    splits = create_dataset("random", clip_length=2, resolution=(8, 8), train_size=2, val_size=2)
    assert skipped_videos(splits) is None and data_detail(splits) is None


# -- throughput -----------------------------------------------------------------------------------
def test_data_throughput_is_positive(folder_tree):
    splits = folder(folder_tree)
    assert measure_data_throughput(splits.train, batch_size=4, num_workers=0, batches=4) > 0  # cycles 12 videos
    assert measure_data_throughput(splits.val, batch_size=2, num_workers=1, batches=2) > 0


def test_data_throughput_of_a_dataset_without_readable_videos_is_an_error(split_tree):
    splits = folder(split_tree, clip_length=8, frame_stride=2)
    bad = [i for i, (p, _) in enumerate(splits.train.videos) if Path(p).name in BAD]
    with pytest.raises(ValueError, match="no readable clip"):
        measure_data_throughput(torch.utils.data.Subset(splits.train, bad), 2, num_workers=0)


# -- check_videos ---------------------------------------------------------------------------------
def test_check_videos_finds_exactly_the_unreadable_files(split_tree):
    seen = []
    bad = check_videos(split_tree, progress=lambda done, total, path: seen.append((done, total)))
    assert {Path(p).name: r.split(":")[0] for p, r in bad} == {"broken.mp4": "cannot open", "cut.mkv": "truncated"}
    assert seen[-1] == (12, 12)  # 10 good, 2 bad


def test_check_videos_on_good_videos_finds_nothing(folder_tree):
    assert check_videos(folder_tree) == []


def test_check_videos_on_a_missing_folder(tmp_path):
    with pytest.raises(UsageError, match="nowhere"):
        check_videos(tmp_path / "nowhere")
