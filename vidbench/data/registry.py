"""Dataset registry: builders that turn (clip shape, seed, args) into train and val splits."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable

from torch.utils.data import Dataset

from vidbench.errors import RegistryError
from vidbench.registry_base import Registry


@dataclass
class DatasetSplits:
    """What a dataset builder returns: clips are float tensors (C, T, H, W) with an int label."""

    num_classes: int
    train: Dataset
    val: Dataset


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    builder: Callable[..., DatasetSplits]
    description: str = ""

    def check_args(self, args: dict[str, Any]) -> None:
        params = inspect.signature(self.builder).parameters
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            return
        accepted = {n for n, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY} - _CLIP_KEYS
        unknown = sorted(set(args) - accepted)
        if unknown:
            raise RegistryError(
                f"dataset {self.name!r} takes no argument {unknown[0]!r} (it takes: {', '.join(sorted(accepted))})"
            )


# Set by the runner from the run's axes, never by a suite's dataset args.
_CLIP_KEYS = {"clip_length", "resolution", "frame_stride", "seed"}
_DATASETS: Registry[DatasetInfo] = Registry("dataset")


def register_dataset(name: str | None = None, description: str = ""):
    """Decorator registering `f(*, clip_length, resolution, frame_stride, seed, **args) -> DatasetSplits`.

    The name defaults to the function's name with underscores as hyphens (`synthetic_motion` →
    `synthetic-motion`).
    """

    def wrap(builder: Callable[..., DatasetSplits]):
        key = name or builder.__name__.replace("_", "-")
        _DATASETS.add(key, DatasetInfo(key, builder, description or (builder.__doc__ or "").strip().split("\n")[0]))
        return builder

    return wrap


def dataset_info(name: str) -> DatasetInfo:
    return _DATASETS.get(name)


def list_datasets(pattern: str | None = None) -> list[str]:
    return _DATASETS.names(pattern)


def create_dataset(name: str, *, clip_length: int, resolution: tuple[int, int], frame_stride: int = 1,
                   seed: int = 0, **args: Any) -> DatasetSplits:
    info = _DATASETS.get(name)
    info.check_args(args)
    return info.builder(clip_length=clip_length, resolution=tuple(resolution), frame_stride=frame_stride,
                        seed=seed, **args)
