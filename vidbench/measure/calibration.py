"""The clips that calibrate an int8 run: drawn from the run's **training** split (never validation, which
would leak the figure the quantization is judged by), seeded by the run's seed, one clip per item (so a
count of items is a count of clips for both quantizers). With `max_drop` (OpenVINO's accuracy control) a
disjoint, labelled part of the training split is held out to measure the drop on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

HELD_OUT_SHARE = 4  # accuracy control holds out a quarter of the training split (at most `samples` clips)


@dataclass(frozen=True)
class CalibrationSet:
    """Indices into a training split: the calibration clips and, for accuracy control, the held-out ones."""

    split: Any  # a dataset: split[i] -> (clip C×T×H×W, label)
    indices: tuple[int, ...]
    held_out: tuple[int, ...]
    method: str
    max_drop: float | None

    def clips(self) -> "ClipStream":
        """The calibration clips as batches of one, re-iterable (a quantizer may pass over them twice)."""
        return ClipStream(self.split, self.indices)

    def labelled(self) -> "ClipStream":
        """The held-out clips with their labels, as (batch of one, label) pairs."""
        return ClipStream(self.split, self.held_out, labels=True)

    def describe(self) -> dict[str, Any]:
        """What calibrated the run, for its detail."""
        described = {"split": "train", "clips": len(self.indices), "method": self.method}
        if self.max_drop is not None:
            described.update(max_drop=self.max_drop, held_out_clips=len(self.held_out))
        return described


class ClipStream:
    """Clips of a split, read one at a time as they are asked for (300 full-size clips do not fit in memory
    at once), each with a batch dimension; with `labels`, paired with its label."""

    def __init__(self, split: Any, indices: tuple[int, ...], labels: bool = False):
        self.split, self.indices, self.labels = split, indices, labels

    def __len__(self) -> int:
        return len(self.indices)

    def __iter__(self) -> Iterator[Any]:
        for index in self.indices:
            clip, label = self.split[index]
            yield (clip[None], int(label)) if self.labels else clip[None]


def calibration_set(split: Any, settings: dict[str, Any], seed: int) -> CalibrationSet:
    """`settings["samples"]` clips of `split` in a seeded order (all of them when the split is smaller, said
    by `describe`); with `max_drop`, the first of that order held out and the calibration drawn after it."""
    import torch

    order = torch.randperm(len(split), generator=torch.Generator().manual_seed(seed)).tolist()
    samples, max_drop = int(settings["samples"]), settings.get("max_drop")
    held = min(len(order) // HELD_OUT_SHARE, samples) if max_drop is not None else 0
    if max_drop is not None and held == 0:
        raise ValueError(f"benchmark.calibration.max_drop needs a held-out part of the training split, and it has "
                         f"only {len(order)} clip(s)")
    return CalibrationSet(split, tuple(order[held:held + samples]), tuple(order[:held]), settings["method"], max_drop)
