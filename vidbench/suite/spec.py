"""RunSpec: one fully resolved run, with a stable id hashed from what determines its figures."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from functools import cached_property
from typing import Any

TIMED_METRICS = {"latency", "throughput", "train_throughput"}
TRAINED_METRICS = {"accuracy", "train_throughput"}
# Train keys added after stores were written, at the value that trains as before they existed: left out
# of the identity at that value, so a suite that does not use them keeps its stored run ids.
NEUTRAL_TRAIN = {"schedule": "constant", "warmup_epochs": 0.0}  # also the suite schema's defaults


# One encoder for every call: json.dumps with options builds a new one each time, and the store
# encodes five values per run.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


def canonical_json(value: Any) -> str:
    return _CANONICAL.encode(value)


@dataclass(frozen=True)
class RunSpec:
    model: str
    model_args: dict[str, Any]
    dataset: str
    dataset_args: dict[str, Any]
    resolution: tuple[int, int]
    clip_length: int
    frame_stride: int
    batch_size: int | str  # a number, or "auto": the largest that fits, found by the runner
    device: str
    precision: str
    compile: bool
    metrics: tuple[str, ...]
    train: dict[str, Any]
    benchmark: dict[str, Any]
    seed: int
    channels_last: bool = False
    # Descriptive, not part of the identity:
    family: str = field(default="", compare=False)
    arch: str = field(default="", compare=False)

    def identity(self) -> dict[str, Any]:
        """Everything that changes a figure of this run. Train and benchmark settings are included only
        when a metric uses them, so ablating the learning rate does not duplicate a speed-only run."""
        ident = self.to_dict(copy=False)
        del ident["family"], ident["arch"]
        ident["metrics"] = sorted(self.metrics)
        if not TRAINED_METRICS & set(self.metrics):
            del ident["train"]
        else:
            ident["train"] = {k: v for k, v in self.train.items() if k not in NEUTRAL_TRAIN or NEUTRAL_TRAIN[k] != v}
        if not TIMED_METRICS & set(self.metrics):
            del ident["benchmark"]
        return ident

    @cached_property
    def run_id(self) -> str:
        """Hashed once per spec (the spec is frozen): a sweep and the store ask for it many times."""
        return hashlib.sha256(canonical_json(self.identity()).encode()).hexdigest()[:16]

    def to_dict(self, copy: bool = True) -> dict[str, Any]:
        """The fields as a dict; copy=False shares the nested dicts instead of deep-copying them, for
        serialising at once (the store writes one per run) and never for changing."""
        return asdict(self) if copy else {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RunSpec":
        data = dict(data)
        data["resolution"] = tuple(data["resolution"])
        data["metrics"] = tuple(data["metrics"])
        return cls(**data)

    @property
    def resolution_label(self) -> str:
        return resolution_label(self.resolution)


def resolution_label(resolution: tuple[int, int]) -> str:
    """'112' for a square crop, '112x160' otherwise: how suites, exclude rules and reports write it."""
    h, w = resolution
    return str(h) if h == w else f"{h}x{w}"
