"""Video datasets on local disk: `video-folder`, `ucf101`, `hmdb51`, `kinetics`.

Each takes where the videos are (`root`, and `annotations` for the official splits) plus the same
decoding and sampling options:

| arg | default | what |
|---|---|---|
| `decoder` | `auto` | `pyav`, `torchcodec`, or `auto` (torchcodec when it loads, else PyAV) |
| `sampling` | `dense` | `dense` (clip_length frames frame_stride apart) or `segments` (TSN) |
| `test_clips`, `test_crops` | 1, 1 | validation views per video: temporal clips × spatial crops |
| `augment` | true | random resize/crop/flip for training (false: the centre crop, as validation) |
| `mean`, `std` | Kinetics | normalisation; the runner passes the model's |
| `on_corrupt` | `skip` | an unreadable video is skipped and counted, or (`fail`) stops the run |
| `num_workers` | from the cores | DataLoader workers (`make_loader`) |
| `train_size`, `val_size` | all | a deterministic, class-spread subset of each split |

Nothing is downloaded. `check(args)` hooks find a missing root or annotation file before any run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from vidbench.data.decode import BACKENDS, backend_available
from vidbench.data.errors import DatasetArgsError
from vidbench.data.index import (
    VideoIndex,
    folder_index,
    hmdb51_index,
    hmdb51_split_files,
    kinetics_files,
    kinetics_index,
    require_dir,
    require_file,
    ucf101_files,
    ucf101_index,
)
from vidbench.data.registry import DatasetSplits, register_dataset
from vidbench.data.sampling import SAMPLINGS, FrameSampler
from vidbench.data.transforms import KINETICS_MEAN, KINETICS_STD, ClipTransform
from vidbench.data.video import ON_CORRUPT, VideoClips

OPTION_DEFAULTS: dict[str, Any] = {
    "decoder": "auto", "sampling": "dense", "test_clips": 1, "test_crops": 1, "augment": True, "mean": None,
    "std": None, "on_corrupt": "skip", "num_workers": None, "train_size": None, "val_size": None,
}
FOLDS = (1, 2, 3)


# -- argument checks (no decoding, no listing of big folders) ---------------------------------------
def _int(args: dict[str, Any], key: str, low: int, optional: bool = False) -> None:
    value = args.get(key)
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise DatasetArgsError(f"{key}: expected an integer ≥ {low}, got {value!r}")


def check_options(args: dict[str, Any]) -> None:
    """Validate the decoding/sampling options shared by every video dataset."""
    opts = {**OPTION_DEFAULTS, **args}
    if opts["decoder"] not in BACKENDS:
        raise DatasetArgsError(f"decoder: unknown value {opts['decoder']!r} (use one of {', '.join(BACKENDS)})")
    if opts["decoder"] != "auto" and (problem := backend_available(opts["decoder"])):
        raise DatasetArgsError(f"decoder: {problem}")
    if opts["sampling"] not in SAMPLINGS:
        raise DatasetArgsError(f"sampling: unknown value {opts['sampling']!r} (use one of {', '.join(SAMPLINGS)})")
    if opts["on_corrupt"] not in ON_CORRUPT:
        raise DatasetArgsError(f"on_corrupt: unknown value {opts['on_corrupt']!r} "
                               f"(use one of {', '.join(ON_CORRUPT)})")
    if not isinstance(opts["augment"], bool):
        raise DatasetArgsError(f"augment: expected true or false, got {opts['augment']!r}")
    _int(opts, "test_clips", 1)
    _int(opts, "test_crops", 1)
    _int(opts, "num_workers", 0, optional=True)
    _int(opts, "train_size", 1, optional=True)
    _int(opts, "val_size", 1, optional=True)
    for key in ("mean", "std"):
        value = opts[key]
        if value is None:
            continue
        if (not isinstance(value, (list, tuple)) or len(value) != 3
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
            raise DatasetArgsError(f"{key}: expected 3 numbers (R, G, B), got {value!r}")
        if key == "std" and any(v <= 0 for v in value):
            raise DatasetArgsError(f"std: values must be positive, got {value!r}")


def _required(args: dict[str, Any], dataset: str, *keys: str) -> None:
    for key in keys:
        if args.get(key) in (None, ""):
            raise DatasetArgsError(f"dataset {dataset!r} needs the argument {key!r}")


def _fold(args: dict[str, Any]) -> int:
    fold = args.get("fold", 1)
    if fold not in FOLDS or isinstance(fold, bool):
        raise DatasetArgsError(f"fold: expected 1, 2 or 3, got {fold!r}")
    return fold


def check_video_folder(args: dict[str, Any]) -> None:
    _required(args, "video-folder", "root")
    check_options(args)
    fraction = args.get("val_fraction", 0.2)
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 <= fraction < 1:
        raise DatasetArgsError(f"val_fraction: expected a number in [0, 1), got {fraction!r}")
    if not isinstance(args.get("split_seed", 0), int):
        raise DatasetArgsError(f"split_seed: expected an integer, got {args.get('split_seed')!r}")
    require_dir(Path(args["root"]), "root")


def check_ucf101(args: dict[str, Any]) -> None:
    _required(args, "ucf101", "root", "annotations")
    check_options(args)
    fold = _fold(args)
    require_dir(Path(args["root"]), "root")
    for path in ucf101_files(require_dir(Path(args["annotations"]), "annotations"), fold):
        require_file(path, "annotation file")


def check_hmdb51(args: dict[str, Any]) -> None:
    _required(args, "hmdb51", "root", "annotations")
    check_options(args)
    fold = _fold(args)
    require_dir(Path(args["root"]), "root")
    annotations = require_dir(Path(args["annotations"]), "annotations")
    if not hmdb51_split_files(annotations, fold):
        raise DatasetArgsError(f"no HMDB51 split files '<class>_test_split{fold}.txt' in annotations "
                               f"{str(annotations)!r}")


def check_kinetics(args: dict[str, Any]) -> None:
    _required(args, "kinetics", "root", "annotations")
    check_options(args)
    require_dir(Path(args["root"]), "root")
    kinetics_files(Path(args["annotations"]))


# -- building -------------------------------------------------------------------------------------
def subset(items: Sequence[tuple[str, int]], size: int | None) -> list[tuple[str, int]]:
    """`size` items evenly spread over the (label, path)-sorted list, so every class keeps its share."""
    ordered = sorted(items, key=lambda it: (it[1], it[0]))
    if size is None or size >= len(ordered):
        return ordered
    return [ordered[k * len(ordered) // size] for k in range(size)]


def video_splits(index: VideoIndex, *, clip_length: int, resolution: tuple[int, int], frame_stride: int,
                 decoder: str, sampling: str, test_clips: int, test_crops: int, augment: bool,
                 mean: Sequence[float] | None, std: Sequence[float] | None, on_corrupt: str,
                 num_workers: int | None, train_size: int | None, val_size: int | None) -> DatasetSplits:
    """Train and val `VideoClips` over an index, with the shared options."""
    norm = {"mean": tuple(mean or KINETICS_MEAN), "std": tuple(std or KINETICS_STD)}
    size = tuple(resolution)

    def make(split: str, items: list[tuple[str, int]], train: bool) -> VideoClips:
        sampler = FrameSampler(clip_length, frame_stride, sampling, train=train, test_clips=test_clips)
        transform = ClipTransform(size, train=train, augment=augment, **norm)
        clips = VideoClips(items, index.classes, sampler=sampler, transform=transform, test_crops=test_crops,
                           decoder=decoder, on_corrupt=on_corrupt, num_workers=num_workers, split=split,
                           missing=index.missing.get(split, 0))
        return clips

    return DatasetSplits(len(index.classes), make("train", subset(index.train, train_size), True),
                         make("val", subset(index.val, val_size), False))


def _options(local: dict[str, Any]) -> dict[str, Any]:
    opts = {k: local[k] for k in OPTION_DEFAULTS}
    check_options(opts)
    return opts


@register_dataset("video-folder", check=check_video_folder)
def video_folder(*, clip_length: int, resolution: tuple[int, int], frame_stride: int = 1, seed: int = 0,
                 root: str, val_fraction: float = 0.2, split_seed: int = 0, decoder: str = "auto",
                 sampling: str = "dense", test_clips: int = 1, test_crops: int = 1, augment: bool = True,
                 mean: Sequence[float] | None = None, std: Sequence[float] | None = None, on_corrupt: str = "skip",
                 num_workers: int | None = None, train_size: int | None = None,
                 val_size: int | None = None) -> DatasetSplits:
    """Local videos in root/<class>/ (a seeded stratified split) or root/{train,val}/<class>/."""
    index = folder_index(Path(root), val_fraction, split_seed)
    return video_splits(index, clip_length=clip_length, resolution=resolution, frame_stride=frame_stride,
                        **_options(locals()))


@register_dataset("ucf101", check=check_ucf101)
def ucf101(*, clip_length: int, resolution: tuple[int, int], frame_stride: int = 1, seed: int = 0, root: str,
           annotations: str, fold: int = 1, decoder: str = "auto", sampling: str = "dense", test_clips: int = 1,
           test_crops: int = 1, augment: bool = True, mean: Sequence[float] | None = None,
           std: Sequence[float] | None = None, on_corrupt: str = "skip", num_workers: int | None = None,
           train_size: int | None = None, val_size: int | None = None) -> DatasetSplits:
    """UCF101 over local videos, with the official split files (classInd.txt, trainlist0N.txt, testlist0N.txt)."""
    index = ucf101_index(Path(root), Path(annotations), fold)
    return video_splits(index, clip_length=clip_length, resolution=resolution, frame_stride=frame_stride,
                        **_options(locals()))


@register_dataset("hmdb51", check=check_hmdb51)
def hmdb51(*, clip_length: int, resolution: tuple[int, int], frame_stride: int = 1, seed: int = 0, root: str,
           annotations: str, fold: int = 1, decoder: str = "auto", sampling: str = "dense", test_clips: int = 1,
           test_crops: int = 1, augment: bool = True, mean: Sequence[float] | None = None,
           std: Sequence[float] | None = None, on_corrupt: str = "skip", num_workers: int | None = None,
           train_size: int | None = None, val_size: int | None = None) -> DatasetSplits:
    """HMDB51 over local videos, with the official <class>_test_splitN.txt files."""
    index = hmdb51_index(Path(root), Path(annotations), fold)
    return video_splits(index, clip_length=clip_length, resolution=resolution, frame_stride=frame_stride,
                        **_options(locals()))


@register_dataset("kinetics", check=check_kinetics)
def kinetics(*, clip_length: int, resolution: tuple[int, int], frame_stride: int = 1, seed: int = 0, root: str,
             annotations: str, decoder: str = "auto", sampling: str = "dense", test_clips: int = 1,
             test_crops: int = 1, augment: bool = True, mean: Sequence[float] | None = None,
             std: Sequence[float] | None = None, on_corrupt: str = "skip", num_workers: int | None = None,
             train_size: int | None = None, val_size: int | None = None) -> DatasetSplits:
    """Kinetics over local clips, with the official CSV annotations (train.csv, validate.csv)."""
    index = kinetics_index(Path(root), Path(annotations))
    return video_splits(index, clip_length=clip_length, resolution=resolution, frame_stride=frame_stride,
                        **_options(locals()))
