"""RunSpec: one fully resolved run, with a stable id hashed from what determines its figures.

Its fields are the model and dataset with their args, one field per axis of `vidbench.axes.AXES`,
the metrics asked for, and the train and benchmark blocks. The run id is the hash of `identity()`:
settings no requested metric uses are left out of it, and so is an axis at the value it is left out
at, so stored run ids never change when an axis or key is added.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from functools import cached_property
from typing import Any, Literal

from vidbench.axes import (ALWAYS, AXES, AXES_BY_NAME, CALIBRATION_DEFAULT, INT8_KEYS, SERVING_DEFAULT, NEUTRAL_BENCHMARK, QUANTIZED, NEUTRAL_TRAIN, RUNTIMES, Precision,
                           resolution_label, train_identity)
from vidbench import metrics as _metrics

__all__ = ["NEUTRAL_TRAIN", "RunSpec", "canonical_json", "resolution_label"]

# One encoder for every call: json.dumps with options builds a new one each time, and the store
# encodes five values per run.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


def canonical_json(value: Any) -> str:
    return _CANONICAL.encode(value)


def _axis_default(name: str) -> Any:
    """An axis field's default: the value it is left out of the identity at (what specs written before the
    axis existed ran with), else the suite's default."""
    axis = AXES_BY_NAME[name]
    return axis.to_spec(axis.default[0]) if axis.left_out_at is ALWAYS else axis.left_out_at


@dataclass(frozen=True)
class RunSpec:
    """One fully resolved run: model, dataset, one value per axis, metrics, train and benchmark.

    The axis fields are written out (so an IDE and a reader find them) in the order of `vidbench.axes.AXES`;
    tests/test_tables.py holds them equal to the table, so adding an axis means adding its field here."""

    model: str
    model_args: dict[str, Any]
    dataset: str
    dataset_args: dict[str, Any]
    metrics: tuple[str, ...]
    train: dict[str, Any]
    benchmark: dict[str, Any]
    serving: dict[str, Any] = field(default_factory=dict)  # the `serving` metric's block (one pipeline)
    # One field per axis of AXES, in its order:
    resolution: tuple[int, int] = _axis_default("resolution")
    clip_length: int = _axis_default("clip_length")
    frame_stride: int = _axis_default("frame_stride")
    batch_size: int | Literal["auto"] = _axis_default("batch_size")
    device: str = _axis_default("device")
    precision: Precision = _axis_default("precision")
    compile: bool = _axis_default("compile")
    channels_last: bool = _axis_default("channels_last")
    runtime: Literal[RUNTIMES] = _axis_default("runtime")
    seed: int = _axis_default("seed")
    # Descriptive, not part of the identity:
    family: str = field(default="", compare=False)
    arch: str = field(default="", compare=False)
    # Where relative paths of the suite resolve (vidbench.suite.paths): not part of the identity.
    suite_dir: str = field(default="", compare=False)

    def identity(self) -> dict[str, Any]:
        """Everything that changes a figure of this run. Train and benchmark settings are included only
        where a metric uses them, so ablating the learning rate does not duplicate a speed-only run."""
        ident = self.to_dict(copy=False)
        del ident["family"], ident["arch"], ident["suite_dir"]
        metrics = set(self.metrics)
        ident["metrics"] = sorted(metrics)
        train = train_identity(self.train, metrics)
        if train:
            ident["train"] = train
        else:
            del ident["train"]
        if not _metrics.TIMED_MEASURES & metrics:  # read at use: a metric registered later counts
            del ident["benchmark"]
        else:
            ident["benchmark"] = {k: v for k, v in self.benchmark.items()
                                  if k not in INT8_KEYS and (k not in NEUTRAL_BENCHMARK or NEUTRAL_BENCHMARK[k] != v)}
        if "serving" not in metrics or not ident["serving"]:  # the serving block changes serving runs alone
            del ident["serving"]
        quantization = {k: self.benchmark[k] for k in INT8_KEYS
                        if k in self.benchmark and self.benchmark[k] != NEUTRAL_BENCHMARK[k]}
        if self.precision == QUANTIZED and quantization:  # calibration changes an int8 run's every figure
            ident["int8"] = quantization
        for axis in AXES:
            if not axis.in_identity(ident[axis.name]):
                del ident[axis.name]
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
        """A stored spec; axes it predates take the value they are left out of the identity at."""
        data = with_runtime_alias(dict(data))
        data["metrics"] = tuple(data["metrics"])
        for axis in AXES:
            if axis.name in data:
                data[axis.name] = axis.to_spec(data[axis.name])
        return cls(**data)

    def resolved_model_args(self) -> dict[str, Any]:
        from vidbench.suite.paths import resolve_args

        return resolve_args("model", self.model_args, self.suite_dir)

    def calibration(self) -> dict[str, Any]:
        """The int8 calibration settings (`benchmark.calibration`), their defaults filled in."""
        return {**CALIBRATION_DEFAULT, **self.benchmark.get("calibration", {})}

    def serving_block(self) -> dict[str, Any]:
        """The `serving` block, its defaults filled in (a hand-made spec may give none)."""
        return {**SERVING_DEFAULT, **self.serving}

    def resolved_dataset_args(self) -> dict[str, Any]:
        from vidbench.suite.paths import resolve_args

        return resolve_args("dataset", self.dataset_args, self.suite_dir)

    @property
    def resolution_label(self) -> str:
        return resolution_label(self.resolution)


def with_runtime_alias(values: dict[str, Any]) -> dict[str, Any]:
    """`compile: true` is the Inductor runtime and the Inductor runtime compiles: each sets the other, so
    a run asked either way (or stored before the runtimes axis) is one run, with the id compile gave it."""
    if values.get("runtime") == "inductor":
        return {**values, "compile": True}
    if values.get("compile") and values.get("runtime", "eager") == "eager":
        return {**values, "runtime": "inductor"}
    return values


def stored_axes(spec: dict[str, Any]) -> dict[str, Any]:
    """Every axis value of a stored spec dict as its run had it: an axis the spec predates at its field's
    default (what runs ran with before it existed), and the runtime its compile named."""
    fields_ = RunSpec.__dataclass_fields__
    return with_runtime_alias({a.name: spec.get(a.name, fields_[a.name].default) for a in AXES})
