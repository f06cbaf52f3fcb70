"""Which videos make each split, and their labels, for each on-disk layout.

- `folder_index`: `root/<class>/<video>` (a seeded stratified split), or `root/{train,val}/<class>/<video>`.
- `ucf101_index`: `classInd.txt`, `trainlist0N.txt` (with 1-based labels), `testlist0N.txt` (without).
- `hmdb51_index`: `<class>_test_split<N>.txt` files, one line `<video> <0|1|2>` per video
  (1 train, 2 test, 0 unused).
- `kinetics_index`: the official CSVs (`label,youtube_id,time_start,time_end,split`); videos are
  `<youtube_id>_<start:06d>_<end:06d>.<ext>` anywhere under `root/<split>/` or `root/`.

Videos are files ending in .mp4, .avi, .mkv or .webm (any case). A video an annotation file lists but
that is not on disk is left out and counted in `missing`. Every error names the path at fault.
"""

from __future__ import annotations

import csv
import os
import random
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from vidbench.data.decode import VIDEO_EXTENSIONS
from vidbench.data.errors import DatasetArgsError

Item = tuple[str, int]


@dataclass
class VideoIndex:
    classes: list[str]
    train: list[Item]
    val: list[Item]
    missing: dict[str, int] = field(default_factory=dict)  # split → listed videos not on disk

    def check_not_empty(self, where: Path) -> VideoIndex:
        for split in ("train", "val"):
            if not getattr(self, split):
                lost = self.missing.get(split, 0)
                more = f" ({lost} listed in the annotations are not on disk)" if lost else ""
                raise DatasetArgsError(f"no {split} videos found under {where}{more}")
        return self


def is_video(path: str | Path) -> bool:
    return str(path).lower().endswith(VIDEO_EXTENSIONS)


def find_videos(folder: Path) -> list[Path]:
    """Every video file under `folder` (recursively, hidden files skipped), sorted."""
    out = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        out.extend(Path(dirpath) / f for f in filenames if not f.startswith(".") and is_video(f))
    return sorted(out)


def require_dir(path: Path, what: str) -> Path:
    if not path.exists():
        raise DatasetArgsError(f"{what} {str(path)!r} does not exist")
    if not path.is_dir():
        raise DatasetArgsError(f"{what} {str(path)!r} is not a folder")
    return path


def require_file(path: Path, what: str) -> Path:
    if not path.is_file():
        raise DatasetArgsError(f"{what} {str(path)!r} does not exist" if not path.exists()
                               else f"{what} {str(path)!r} is not a file")
    return path


# -- video-folder ------------------------------------------------------------------------------------
def folder_has_splits(root: Path) -> bool:
    return (root / "train").is_dir() and (root / "val").is_dir()


def _class_dirs(folder: Path) -> list[str]:
    return sorted(d.name for d in folder.iterdir() if d.is_dir() and not d.name.startswith("."))


def stratified_split(items: list[Item], val_fraction: float, seed: int) -> tuple[list[Item], list[Item]]:
    """Per class: a seeded shuffle of the sorted videos, the first round(n × val_fraction) to val (at
    least one when the class has two or more videos and val_fraction > 0, never all of them)."""
    by_class: dict[int, list[str]] = defaultdict(list)
    for path, label in items:
        by_class[label].append(path)
    train, val = [], []
    for label in sorted(by_class):
        paths = sorted(by_class[label])
        random.Random(f"{seed}:{label}:{len(paths)}").shuffle(paths)
        n_val = round(len(paths) * val_fraction)
        if val_fraction > 0 and len(paths) >= 2:
            n_val = min(max(n_val, 1), len(paths) - 1)
        val += [(p, label) for p in paths[:n_val]]
        train += [(p, label) for p in paths[n_val:]]
    return sorted(train, key=_order), sorted(val, key=_order)


def _order(item: Item) -> tuple[int, str]:
    return item[1], item[0]


def folder_index(root: Path, val_fraction: float = 0.2, split_seed: int = 0) -> VideoIndex:
    require_dir(root, "root")
    if folder_has_splits(root):
        classes = sorted(set(_class_dirs(root / "train")) | set(_class_dirs(root / "val")))
        label = {c: i for i, c in enumerate(classes)}

        def split(name: str) -> list[Item]:
            return [(str(v), label[c]) for c in _class_dirs(root / name) for v in find_videos(root / name / c)]

        index = VideoIndex(classes, split("train"), split("val"))
    else:
        classes = [c for c in _class_dirs(root) if find_videos(root / c)]
        if not classes:
            raise DatasetArgsError(f"no class folders with videos under root {str(root)!r} "
                                   "(expected root/<class>/<video> or root/{train,val}/<class>/<video>)")
        items = [(str(v), i) for i, c in enumerate(classes) for v in find_videos(root / c)]
        train, val = stratified_split(items, val_fraction, split_seed)
        index = VideoIndex(classes, train, val)
    return index.check_not_empty(root)


# -- UCF101 ------------------------------------------------------------------------------------------
def _lines(path: Path) -> list[list[str]]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        raise DatasetArgsError(f"cannot read {str(path)!r}: {e.strerror or e}") from None
    return [line.split() for line in text.splitlines() if line.strip()]


class _Locator:
    """Finds the file an annotation line names under root: at its relative path, else anywhere under
    root by its file name (case-insensitive; the folder is scanned once, on the first miss)."""

    def __init__(self, root: Path):
        self.root = root
        self._by_name: dict[str, Path] | None = None

    def __call__(self, relative: str) -> Path | None:
        path = self.root / relative
        if path.is_file():
            return path
        if self._by_name is None:
            self._by_name = {p.name.lower(): p for p in find_videos(self.root)}
        return self._by_name.get(Path(relative.replace("\\", "/")).name.lower())


def ucf101_files(annotations: Path, fold: int) -> list[Path]:
    return [annotations / "classInd.txt", annotations / f"trainlist{fold:02d}.txt",
            annotations / f"testlist{fold:02d}.txt"]


def ucf101_index(root: Path, annotations: Path, fold: int = 1) -> VideoIndex:
    require_dir(root, "root")
    require_dir(annotations, "annotations")
    class_file, train_file, test_file = (require_file(p, "annotation file") for p in ucf101_files(annotations, fold))
    numbered = {}
    for parts in _lines(class_file):
        if len(parts) < 2 or not parts[0].isdigit():
            raise DatasetArgsError(f"{str(class_file)!r}: expected '<number> <class>' lines, got {' '.join(parts)!r}")
        numbered[int(parts[0])] = parts[1]
    classes = [numbered[k] for k in sorted(numbered)]
    by_name = {c.lower(): i for i, c in enumerate(classes)}
    locate = _Locator(root)
    missing: dict[str, int] = {}

    def read(split: str, path: Path) -> list[Item]:
        items = []
        for parts in _lines(path):
            relative = parts[0]
            if len(parts) > 1 and parts[1].isdigit():
                label = int(parts[1]) - 1
            else:
                folder = relative.replace("\\", "/").split("/")[0].lower()
                if folder not in by_name:
                    raise DatasetArgsError(f"{str(path)!r}: the class of {relative!r} is not in {str(class_file)!r}")
                label = by_name[folder]
            if not 0 <= label < len(classes):
                raise DatasetArgsError(f"{str(path)!r}: label {label + 1} of {relative!r} is not in "
                                       f"{str(class_file)!r}")
            video = locate(relative)
            if video is None:
                missing[split] = missing.get(split, 0) + 1
            else:
                items.append((str(video), label))
        return items

    return VideoIndex(classes, read("train", train_file), read("val", test_file), missing).check_not_empty(root)


# -- HMDB51 ------------------------------------------------------------------------------------------
def hmdb51_split_files(annotations: Path, fold: int) -> dict[str, Path]:
    """class → its split file for the fold."""
    pattern = re.compile(rf"^(.+)_test_split{fold}\.txt$")
    out = {}
    for p in sorted(annotations.iterdir()):
        m = pattern.match(p.name)
        if m and p.is_file():
            out[m.group(1)] = p
    return out


def hmdb51_index(root: Path, annotations: Path, fold: int = 1) -> VideoIndex:
    require_dir(root, "root")
    require_dir(annotations, "annotations")
    files = hmdb51_split_files(annotations, fold)
    if not files:
        raise DatasetArgsError(f"no HMDB51 split files '<class>_test_split{fold}.txt' in annotations "
                               f"{str(annotations)!r}")
    classes = sorted(files)
    locate = _Locator(root)
    train, val, missing = [], [], {}
    for label, name in enumerate(classes):
        for parts in _lines(files[name]):
            if len(parts) < 2 or parts[1] not in ("0", "1", "2"):
                raise DatasetArgsError(f"{str(files[name])!r}: expected '<video> <0|1|2>' lines, "
                                       f"got {' '.join(parts)!r}")
            if parts[1] == "0":
                continue
            split = "train" if parts[1] == "1" else "val"
            video = locate(f"{name}/{parts[0]}")
            if video is None:
                missing[split] = missing.get(split, 0) + 1
            else:
                (train if split == "train" else val).append((str(video), label))
    return VideoIndex(classes, train, val, missing).check_not_empty(root)


# -- Kinetics ----------------------------------------------------------------------------------------
KINETICS_VAL_FILES = ("validate.csv", "val.csv")
KINETICS_VAL_DIRS = ("val", "validate", "valid", "validation")
KINETICS_COLUMNS = ("label", "youtube_id", "time_start", "time_end")


def kinetics_files(annotations: Path) -> tuple[Path, Path]:
    """(train.csv, the validation CSV) in the annotations folder; raises naming what is missing."""
    require_dir(annotations, "annotations")
    train = require_file(annotations / "train.csv", "annotation file")
    for name in KINETICS_VAL_FILES:
        if (annotations / name).is_file():
            return train, annotations / name
    raise DatasetArgsError(f"annotation file {str(annotations / KINETICS_VAL_FILES[0])!r} "
                           f"(or {KINETICS_VAL_FILES[1]}) does not exist")


def kinetics_clip_name(youtube_id: str, start: str | float, end: str | float) -> str:
    return f"{youtube_id}_{int(float(start)):06d}_{int(float(end)):06d}"


def _read_kinetics_csv(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
            header = rows[0].keys() if rows else []
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise DatasetArgsError(f"cannot read {str(path)!r}: {e}") from None
    lacking = [c for c in KINETICS_COLUMNS if c not in header]
    if rows and lacking:
        raise DatasetArgsError(f"{str(path)!r} lacks the column {lacking[0]!r} "
                               f"(expected {','.join(KINETICS_COLUMNS)},split)")
    return rows


def kinetics_index(root: Path, annotations: Path) -> VideoIndex:
    require_dir(root, "root")
    train_csv, val_csv = kinetics_files(annotations)
    train_rows, val_rows = _read_kinetics_csv(train_csv), _read_kinetics_csv(val_csv)
    classes = sorted({r["label"] for r in train_rows} | {r["label"] for r in val_rows})
    label = {c: i for i, c in enumerate(classes)}
    missing: dict[str, int] = {}

    def split(name: str, rows: list[dict[str, str]], folders: tuple[str, ...]) -> list[Item]:
        folder = next((root / f for f in folders if (root / f).is_dir()), root)
        on_disk = {p.stem: p for p in find_videos(folder)}
        items = []
        for row in rows:
            try:
                stem = kinetics_clip_name(row["youtube_id"], row["time_start"], row["time_end"])
            except (TypeError, ValueError):
                raise DatasetArgsError(f"{str(train_csv if name == 'train' else val_csv)!r}: bad row {row}") from None
            video = on_disk.get(stem)
            if video is None:
                missing[name] = missing.get(name, 0) + 1
            else:
                items.append((str(video), label[row["label"]]))
        return sorted(items, key=_order)

    index = VideoIndex(classes, split("train", train_rows, ("train",)), split("val", val_rows, KINETICS_VAL_DIRS),
                       missing)
    return index.check_not_empty(root)
