"""Tiny videos written with PyAV for the data-stage tests, and the dataset trees built from them.

Frame i of a test video is a solid gray of level `i * 8` (so a decoded frame tells its index), unless
a `base` shifts it; 32×48, 10 fps, a keyframe every 4 frames so that seeking matters.
"""

from __future__ import annotations

import csv
from pathlib import Path

import av
import numpy as np
import pytest

H, W = 32, 48
FRAMES = 24
LEVEL_STEP = 8


def codec_for(path: Path) -> str:
    ext = path.suffix.lower()
    if ext == ".avi":
        return "mpeg4"
    if ext == ".webm":
        return "libvpx"
    return "libx264" if "libx264" in av.codecs_available else "mpeg4"


def write_video(path: Path, frames: int = FRAMES, size: tuple[int, int] = (H, W), fps: int = 10, gop: int = 4,
                base: int = 0) -> Path:
    """A video whose frame i is the solid gray (base + i * 8) % 256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    codec = codec_for(path)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = size[1], size[0], "yuv420p"
        stream.codec_context.gop_size = gop
        if codec == "libx264":
            stream.options = {"crf": "12", "preset": "ultrafast"}
        else:
            stream.codec_context.bit_rate = 1_000_000
        for i in range(frames):
            level = (base + i * LEVEL_STEP) % 256
            image = np.full((size[0], size[1], 3), level, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def truncate(path: Path, fraction: float = 0.5) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


def garbage(path: Path, size: int = 3000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(np.random.default_rng(0).integers(0, 256, size, dtype=np.uint8).tobytes())
    return path


@pytest.fixture(scope="session")
def folder_tree(tmp_path_factory) -> Path:
    """root/<class>/<video>: 3 classes × 5 videos (mixed containers), plus a non-video file."""
    root = tmp_path_factory.mktemp("folder")
    exts = [".mp4", ".avi", ".mkv", ".mp4", ".webm"]
    for c, name in enumerate(["jump", "run", "walk"]):
        for k, ext in enumerate(exts):
            write_video(root / name / f"{name}_{k}{ext}", frames=20, base=c)
    (root / "jump" / "notes.txt").write_text("not a video")
    return root


@pytest.fixture(scope="session")
def split_tree(tmp_path_factory) -> Path:
    """root/{train,val}/<class>/<video>, with one corrupt and one truncated file in train."""
    root = tmp_path_factory.mktemp("splits")
    for split, n in (("train", 3), ("val", 2)):
        for name in ("a", "b"):
            for k in range(n):
                write_video(root / split / name / f"{name}{k}.mp4", frames=20)
    garbage(root / "train" / "a" / "broken.mp4")
    truncate(write_video(root / "train" / "b" / "cut.mkv", frames=20))
    return root


UCF_CLASSES = ["ApplyEyeMakeup", "Basketball", "HandstandPushups"]


@pytest.fixture(scope="session")
def ucf_tree(tmp_path_factory) -> tuple[Path, Path]:
    """A UCF101-style tree (avi, class folders) and its split files for folds 1 and 2."""
    base = tmp_path_factory.mktemp("ucf")
    root, ann = base / "UCF-101", base / "ucfTrainTestlist"
    ann.mkdir()
    (ann / "classInd.txt").write_text("".join(f"{i + 1} {c}\n" for i, c in enumerate(UCF_CLASSES)))
    videos = {c: [f"{c}/v_{c.replace('Handstand', 'HandStand')}_g0{g}_c01.avi" for g in range(1, 4)]
              for c in UCF_CLASSES}
    for c, rels in videos.items():
        for rel in rels:
            write_video(root / rel, frames=16)
    for fold in (1, 2):
        test_group = f"_g0{fold}_"
        train_lines = [f"{rel} {i + 1}\r\n" for i, c in enumerate(UCF_CLASSES) for rel in videos[c]
                       if test_group not in rel]
        test_lines = [f"{rel}\r\n" for c in UCF_CLASSES for rel in videos[c] if test_group in rel]
        # a listed video that is not on disk: left out and counted as missing
        train_lines.append(f"{UCF_CLASSES[0]}/v_{UCF_CLASSES[0]}_g09_c01.avi 1\r\n")
        (ann / f"trainlist0{fold}.txt").write_text("".join(train_lines))
        (ann / f"testlist0{fold}.txt").write_text("".join(test_lines))
    return root, ann


HMDB_CLASSES = ["brush_hair", "cartwheel", "chew"]


@pytest.fixture(scope="session")
def hmdb_tree(tmp_path_factory) -> tuple[Path, Path]:
    """An HMDB51-style tree: root/<class>/<video>.avi and <class>_test_split1.txt with 0/1/2 markers."""
    base = tmp_path_factory.mktemp("hmdb")
    root, ann = base / "hmdb51", base / "splits"
    ann.mkdir()
    markers = ["1", "1", "2", "0"]  # two train, one test, one unused
    for c in HMDB_CLASSES:
        lines = []
        for k, m in enumerate(markers):
            name = f"{c}_clip_{k}.avi"
            write_video(root / c / name, frames=16)
            lines.append(f"{name} {m} \n")
        (ann / f"{c}_test_split1.txt").write_text("".join(lines))
    return root, ann


KINETICS_LABELS = ["abseiling", "air drumming", "zumba"]


@pytest.fixture(scope="session")
def kinetics_tree(tmp_path_factory) -> tuple[Path, Path]:
    """Kinetics-style CSVs (train.csv, validate.csv) over root/{train,val}/<label>/<id>_<start>_<end>.mp4."""
    base = tmp_path_factory.mktemp("kinetics")
    root, ann = base / "videos", base / "annotations"
    ann.mkdir()
    for split, csv_name, n in (("train", "train.csv", 2), ("val", "validate.csv", 1)):
        rows = []
        for c, label in enumerate(KINETICS_LABELS):
            for k in range(n):
                yid = f"{split[:2]}{c}{k}xYz-_q"
                start, end = 10 * k + 1, 10 * k + 11
                write_video(root / split / label / f"{yid}_{start:06d}_{end:06d}.mp4", frames=16)
                rows.append([label, yid, start, end, split])
        rows.append([KINETICS_LABELS[0], "gone000000", 0, 10, split])  # deleted from YouTube: not on disk
        with (ann / csv_name).open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["label", "youtube_id", "time_start", "time_end", "split"])
            writer.writerows(rows)
    return root, ann
