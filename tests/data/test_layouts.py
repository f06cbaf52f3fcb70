"""Video dataset layouts: classes and labels from each, the stratified split, and path errors
reported before any run."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.data.conftest import HMDB_CLASSES, KINETICS_LABELS, UCF_CLASSES
from vidbench.data import create_dataset, dataset_info, list_datasets, validate_dataset_args
from vidbench.data.errors import DatasetArgsError
from vidbench.data.index import folder_index, hmdb51_index, kinetics_index, stratified_split, ucf101_index
from vidbench.errors import RegistryError, SuiteError

CLIP = {"clip_length": 4, "resolution": (32, 32)}


def names(items):
    return sorted(Path(p).name for p, _ in items)


def test_video_datasets_are_registered():
    assert {"video-folder", "ucf101", "hmdb51", "kinetics"} <= set(list_datasets())
    for name in ("video-folder", "ucf101", "hmdb51", "kinetics"):
        info = dataset_info(name)
        assert info.description and info.check is not None
        assert info.accepts("mean") and info.accepts("decoder") and not info.accepts("colour")
    assert not dataset_info("random").accepts("mean")


# -- video-folder ---------------------------------------------------------------------------------
def test_folder_classes_and_labels(folder_tree):
    index = folder_index(folder_tree, val_fraction=0.2)
    assert index.classes == ["jump", "run", "walk"]
    for path, label in index.train + index.val:
        assert Path(path).parent.name == index.classes[label]
        assert Path(path).suffix in {".mp4", ".avi", ".mkv", ".webm"}
    assert len(index.train) + len(index.val) == 15, "notes.txt is not a video"


def test_stratified_split_is_deterministic_and_stratified(folder_tree):
    a = folder_index(folder_tree, val_fraction=0.4, split_seed=0)
    b = folder_index(folder_tree, val_fraction=0.4, split_seed=0)
    assert (a.train, a.val) == (b.train, b.val)
    assert Counter(label for _, label in a.val) == {0: 2, 1: 2, 2: 2}
    assert Counter(label for _, label in a.train) == {0: 3, 1: 3, 2: 3}
    assert not set(a.train) & set(a.val)
    others = [folder_index(folder_tree, val_fraction=0.4, split_seed=s).val for s in range(1, 6)]
    assert any(o != a.val for o in others), "another split_seed gives another split"


def test_stratified_split_keeps_one_of_each_side():
    items = [(f"c{c}/{k}.mp4", c) for c in range(2) for k in range(c + 2)] + [("c2/0.mp4", 2)]
    train, val = stratified_split(items, 0.1, seed=0)
    assert Counter(label for _, label in val) == {0: 1, 1: 1}  # at least one; none from a 1-video class
    assert Counter(label for _, label in train) == {0: 1, 1: 2, 2: 1}


def test_folder_with_train_and_val_folders(split_tree):
    index = folder_index(split_tree, val_fraction=0.5)
    assert index.classes == ["a", "b"]
    assert len(index.train) == 3 + 3 + 2 and len(index.val) == 4
    assert all("/train/" in p for p, _ in index.train) and all("/val/" in p for p, _ in index.val)


def test_video_folder_dataset_builds_splits(folder_tree):
    splits = create_dataset("video-folder", **CLIP, root=str(folder_tree), val_fraction=0.2)
    assert splits.num_classes == 3 and len(splits.train) == 12 and len(splits.val) == 3
    assert splits.train.classes == ["jump", "run", "walk"]


def test_train_and_val_size_take_a_class_spread_subset(folder_tree):
    splits = create_dataset("video-folder", **CLIP, root=str(folder_tree), train_size=6, val_size=2)
    assert len(splits.train) == 6 and Counter(splits.train.labels()) == {0: 2, 1: 2, 2: 2}
    assert len(splits.val) == 2


# -- UCF101 ---------------------------------------------------------------------------------------
def test_ucf101_folds(ucf_tree):
    root, ann = ucf_tree
    index = ucf101_index(root, ann, fold=1)
    assert index.classes == UCF_CLASSES
    assert len(index.train) == 6 and len(index.val) == 3
    assert all("_g01_" in p for p, _ in index.val) and not any("_g01_" in p for p, _ in index.train)
    for path, label in index.train + index.val:
        assert Path(path).parent.name == UCF_CLASSES[label]
    assert index.missing == {"train": 1}
    fold2 = ucf101_index(root, ann, fold=2)
    assert all("_g02_" in p for p, _ in fold2.val)
    splits = create_dataset("ucf101", **CLIP, root=str(root), annotations=str(ann), fold=2)
    assert splits.num_classes == 3 and splits.train.missing == 1


# -- HMDB51 ---------------------------------------------------------------------------------------
def test_hmdb51_markers(hmdb_tree):
    root, ann = hmdb_tree
    index = hmdb51_index(root, ann, fold=1)
    assert index.classes == HMDB_CLASSES
    assert names(index.train) == sorted(f"{c}_clip_{k}.avi" for c in HMDB_CLASSES for k in (0, 1))
    assert names(index.val) == sorted(f"{c}_clip_2.avi" for c in HMDB_CLASSES)
    for path, label in index.train + index.val:
        assert Path(path).parent.name == HMDB_CLASSES[label]


# -- Kinetics -------------------------------------------------------------------------------------
def test_kinetics_csv(kinetics_tree):
    root, ann = kinetics_tree
    index = kinetics_index(root, ann)
    assert index.classes == sorted(KINETICS_LABELS)
    assert len(index.train) == 6 and len(index.val) == 3
    assert index.missing == {"train": 1, "val": 1}
    for path, label in index.train + index.val:
        assert Path(path).parent.name == index.classes[label]
        assert Path(path).stem.endswith(("_000001_000011", "_000011_000021"))
    splits = create_dataset("kinetics", **CLIP, root=str(root), annotations=str(ann))
    assert splits.num_classes == 3


def test_kinetics_accepts_val_csv_and_videos_directly_under_root(tmp_path, kinetics_tree):
    root, ann = kinetics_tree
    flat_ann = tmp_path / "ann"
    flat_ann.mkdir()
    (flat_ann / "train.csv").write_text((ann / "train.csv").read_text())
    (flat_ann / "val.csv").write_text((ann / "validate.csv").read_text())
    flat_root = tmp_path / "all"
    flat_root.mkdir()
    for p in root.rglob("*.mp4"):
        (flat_root / p.name).symlink_to(p)
    index = kinetics_index(flat_root, flat_ann)
    assert len(index.train) == 6 and len(index.val) == 3


# -- errors before any run ------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["video-folder", "ucf101", "hmdb51", "kinetics"])
def test_a_missing_root_is_reported_naming_the_path(name, tmp_path, ucf_tree, hmdb_tree, kinetics_tree):
    ann = {"ucf101": ucf_tree[1], "hmdb51": hmdb_tree[1], "kinetics": kinetics_tree[1]}.get(name)
    args = {"root": str(tmp_path / "nowhere")} | ({"annotations": str(ann)} if ann else {})
    with pytest.raises(DatasetArgsError, match="nowhere") as info:
        validate_dataset_args(name, args)
    assert isinstance(info.value, SuiteError) and isinstance(info.value, RegistryError)
    assert info.value.exit_code == 2
    with pytest.raises(DatasetArgsError, match="nowhere"):
        create_dataset(name, **CLIP, **args)


def test_missing_annotation_files_are_reported_naming_the_path(tmp_path, ucf_tree, hmdb_tree, kinetics_tree):
    empty = tmp_path / "ann"
    empty.mkdir()
    cases = [("ucf101", ucf_tree[0], "classInd.txt"), ("hmdb51", hmdb_tree[0], "test_split1"),
             ("kinetics", kinetics_tree[0], "train.csv")]
    for name, root, what in cases:
        with pytest.raises(DatasetArgsError, match=what) as info:
            validate_dataset_args(name, {"root": str(root), "annotations": str(empty)})
        assert str(empty) in str(info.value)
    with pytest.raises(DatasetArgsError, match="trainlist03.txt"):
        validate_dataset_args("ucf101", {"root": str(ucf_tree[0]), "annotations": str(ucf_tree[1]), "fold": 3})
    with pytest.raises(DatasetArgsError, match=r"does not exist"):
        validate_dataset_args("kinetics", {"root": str(kinetics_tree[0]), "annotations": str(tmp_path / "no")})


def test_option_values_are_checked_before_any_run(folder_tree):
    root = str(folder_tree)
    validate_dataset_args("video-folder", {"root": root, "sampling": "segments", "test_clips": 3,
                                           "mean": [0.5, 0.5, 0.5], "on_corrupt": "fail"})
    bad = [({"sampling": "sparse"}, "sampling"), ({"decoder": "opencv"}, "decoder"),
           ({"on_corrupt": "ignore"}, "on_corrupt"), ({"test_clips": 0}, "test_clips"),
           ({"augment": "yes"}, "augment"), ({"std": [1, 0, 1]}, "std"), ({"val_fraction": 1.5}, "val_fraction"),
           ({"mean": [0.5]}, "mean")]
    for args, key in bad:
        with pytest.raises(DatasetArgsError, match=key):
            validate_dataset_args("video-folder", {"root": root, **args})
    with pytest.raises(DatasetArgsError, match="'root'"):
        validate_dataset_args("video-folder", {})
    with pytest.raises(RegistryError, match="'colour'"):
        validate_dataset_args("video-folder", {"root": root, "colour": 1})
    with pytest.raises(DatasetArgsError, match="fold"):
        validate_dataset_args("hmdb51", {"root": root, "annotations": root, "fold": 4})


def test_an_empty_folder_is_an_error(tmp_path):
    (tmp_path / "cls").mkdir()
    with pytest.raises(DatasetArgsError, match=str(tmp_path)):
        create_dataset("video-folder", **CLIP, root=str(tmp_path))
