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
    # Validates a suite's args before any run (paths exist, option values known); raises a RegistryError.
    check: Callable[[dict[str, Any]], None] | None = None

    def accepts(self, arg: str) -> bool:
        """Whether the builder names `arg` among its parameters (e.g. for the runner to pass the model's
        `mean`/`std`); a builder taking only `**args` names nothing."""
        param = inspect.signature(self.builder).parameters.get(arg)
        return param is not None and param.kind in (inspect.Parameter.KEYWORD_ONLY,
                                                     inspect.Parameter.POSITIONAL_OR_KEYWORD)

    def validate(self, args: dict[str, Any]) -> None:
        """Everything knowable before a run: argument names, then the dataset's own `check`."""
        self.check_args(args)
        if self.check is not None:
            self.check(dict(args))

    def arguments(self) -> dict[str, str]:
        """The args a suite can set (`datasets: [{name, args}]`), each with its default ('required' where it has
        none): what `vidbench datasets` lists."""
        params = inspect.signature(self.builder).parameters.values()
        return {p.name: "required" if p.default is inspect.Parameter.empty else repr(p.default) for p in params
                if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name not in _CLIP_KEYS}

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


def register_dataset(name: str | None = None, description: str = "",
                     check: Callable[[dict[str, Any]], None] | None = None):
    """Decorator registering `f(*, clip_length, resolution, frame_stride, seed, **args) -> DatasetSplits`.

    The name defaults to the function's name with underscores as hyphens (`synthetic_motion` →
    `synthetic-motion`). `check(args)`, when given, validates a suite's args before any run (a missing
    root or annotation file) and raises a RegistryError naming what is wrong.
    """

    def wrap(builder: Callable[..., DatasetSplits]):
        key = name or builder.__name__.replace("_", "-")
        doc = description or (builder.__doc__ or "").strip().split("\n")[0]
        _DATASETS.add(key, DatasetInfo(key, builder, doc, check))
        return builder

    return wrap


def dataset_info(name: str) -> DatasetInfo:
    return _DATASETS.get(name)


def list_datasets(pattern: str | None = None) -> list[str]:
    return _DATASETS.names(pattern)


def validate_dataset_args(name: str, args: dict[str, Any]) -> None:
    """Raise a RegistryError (for path and option problems a `DatasetArgsError`, which is also a
    SuiteError) when `name` with `args` cannot be built: an unknown name or argument, a missing root or
    annotation file, an unknown option value. Cheap: nothing is decoded, big folders are not listed."""
    _DATASETS.get(name).validate(args)


def create_dataset(name: str, *, clip_length: int, resolution: tuple[int, int], frame_stride: int = 1,
                   seed: int = 0, **args: Any) -> DatasetSplits:
    info = _DATASETS.get(name)
    info.validate(args)
    return info.builder(clip_length=clip_length, resolution=tuple(resolution), frame_stride=frame_stride,
                        seed=seed, **args)
