"""The dataset registry: register_dataset, create_dataset, list_datasets."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import Dataset

import vidbench
from vidbench.data import DatasetSplits, create_dataset, dataset_info, list_datasets, register_dataset
from vidbench.errors import RegistryError


class _Constant(Dataset):
    def __init__(self, n, shape, value):
        self.n, self.shape, self.value = n, shape, value

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return torch.full(self.shape, float(self.value)), i % 2


def test_builtin_datasets_are_registered():
    assert {"synthetic-motion", "synthetic-appearance", "random"} <= set(list_datasets())
    assert list_datasets("synthetic-*") == ["synthetic-appearance", "synthetic-motion"]
    assert all(dataset_info(n).description for n in list_datasets())


def test_register_dataset_names_it_after_the_function_with_hyphens(isolated_registries):
    seen = {}

    @register_dataset()
    def my_const_data(*, clip_length, resolution, frame_stride=1, seed=0, value: float = 1.0):
        """Constant clips."""
        seen.update(clip_length=clip_length, resolution=resolution, frame_stride=frame_stride, seed=seed)
        shape = (3, clip_length, *resolution)
        return DatasetSplits(2, _Constant(4, shape, value), _Constant(2, shape, value))

    assert "my-const-data" in list_datasets()
    assert dataset_info("my-const-data").description == "Constant clips."
    splits = vidbench.create_dataset("my-const-data", clip_length=3, resolution=[8, 12], frame_stride=2, seed=5,
                                     value=7.0)
    assert seen == {"clip_length": 3, "resolution": (8, 12), "frame_stride": 2, "seed": 5}
    clip, _ = splits.train[0]
    assert clip.shape == (3, 3, 8, 12) and float(clip[0, 0, 0, 0]) == 7.0
    assert (len(splits.train), len(splits.val), splits.num_classes) == (4, 2, 2)


def test_register_dataset_with_an_explicit_name(isolated_registries):
    @register_dataset("explicit-name", description="given")
    def whatever(*, clip_length, resolution, frame_stride=1, seed=0):
        raise AssertionError("not built")

    assert dataset_info("explicit-name").description == "given"


def test_a_duplicate_dataset_name_is_an_error(isolated_registries):
    with pytest.raises(RegistryError, match="random"):
        @register_dataset("random")
        def other(*, clip_length, resolution, frame_stride=1, seed=0):
            raise AssertionError


def test_create_dataset_rejects_an_argument_the_builder_does_not_take():
    with pytest.raises(RegistryError) as info:
        create_dataset("synthetic-motion", clip_length=4, resolution=(16, 16), num_clases=3)
    assert "'num_clases'" in str(info.value) and "num_classes" in str(info.value)


def test_create_dataset_with_an_unknown_name_suggests_the_closest():
    with pytest.raises(RegistryError, match="did you mean 'synthetic-motion'"):
        create_dataset("synthetic-motoin", clip_length=4, resolution=(16, 16))
