"""Every axis of a sweep, declared once (see ARCHITECTURE.md, "The axis and metric tables").

An axis is a list in the suite file whose values multiply the grid. Each entry here says what the
suite schema validates, what expansion multiplies, which field a RunSpec carries, which column the
store keeps, how reports label a value, which `exclude` key names it, and whether (and at which
value) it is part of a run's identity. Schema, expansion, RunSpec, store, reports, `exclude`,
`--dry-run` and `compare` read this table; adding an axis is one entry plus the code that uses its
value.

Train keys (`train.lr`, ...) are axes too when given as lists; they live in TRAIN_KEYS below, with
the metrics they affect.

This module imports nothing heavy (no torch): the CLI reads it before any run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Callable, Literal

from pydantic import AfterValidator, BeforeValidator, Field, PositiveInt

ALWAYS = object()  # `left_out_at` of an axis that is always part of the run identity
ALL_METRICS = None  # `affects` of a setting that can change every figure


def _as_hw(value: Any) -> Any:
    return [value, value] if isinstance(value, int) and not isinstance(value, bool) else value


DEVICE_PATTERN = re.compile(r"^(cpu|cuda(:\d+)?|mps)$")


def _device_name(device: str) -> str:
    if not DEVICE_PATTERN.match(device):
        raise ValueError(f"unknown device {device!r}; expected cpu, cuda, cuda:N or mps")
    return device


def resolution_side(label: str) -> int:
    """The short side of a resolution label ('112' or '112x160'): how reports order resolutions."""
    return min(int(p) for p in str(label).split("x"))


def resolution_label(resolution: tuple[int, int]) -> str:
    """'112' for a square crop, '112x160' otherwise: how suites, exclude rules and reports write it."""
    h, w = resolution
    return str(h) if h == w else f"{h}x{w}"


Precision = Literal["fp32", "bf16", "fp16", "int8"]
# int8 is post-training static quantization by a deployment runtime (onnxruntime, openvino); its model trains
# and is referenced in fp32
QUANTIZED = "int8"
RUNTIMES = ("eager", "inductor", "export", "onnxruntime", "openvino", "tensorrt")
Resolution = Annotated[tuple[PositiveInt, PositiveInt], BeforeValidator(_as_hw)]
Device = Annotated[str, AfterValidator(_device_name)]


@dataclass(frozen=True)
class Axis:
    """One list axis of the grid: suite key `suite_key`, RunSpec field, exclude key and store column `name`."""

    name: str
    suite_key: str
    item: Any  # the pydantic type of one value
    default: tuple  # the values when the suite leaves the key out
    header: str  # the report's column header
    kind: Literal["int", "float", "bool", "text"]  # the store column's type
    label: Callable[[Any], str] = str  # a value as run labels write it ("32px", "T8", "compiled")
    left_out_at: Any = ALWAYS  # the value at which it is left out of the run identity (axes added late)
    also_left_out: frozenset = frozenset()  # further values left out (encoded by another axis already)
    affects: frozenset[str] | None = ALL_METRICS  # the metrics whose figures it changes
    contract: bool = True  # one of the contract's result columns (else an extra column)
    default_from: str | None = None  # a scalar suite key whose value is the default list of one
    to_spec: Callable[[Any], Any] = lambda v: v  # a validated value → the RunSpec field's value
    to_column: Callable[[Any], Any] = lambda v: v  # the RunSpec field's value → the stored column's value
    order_key: Callable[[Any], Any] | None = None  # how reports sort the stored column (None: as stored)

    def in_identity(self, value: Any) -> bool:
        return (self.left_out_at is ALWAYS or value != self.left_out_at) and value not in self.also_left_out

    @property
    def short(self) -> str:
        """The header of narrow tables (`--dry-run`): the header's first word."""
        return self.header.split(" ")[0]

    def cell(self, value: Any) -> str:
        """A RunSpec value as a narrow table shows it: '112x160', 'yes'."""
        if self.kind == "bool":
            return "yes" if value else "no"
        return str(self.to_column(value))


# The grid's list axes, in the order expansion multiplies them (after model and dataset).
AXES: tuple[Axis, ...] = (
    Axis("resolution", "resolutions", Resolution, ((112, 112),), "px (crop)", "text",
         label=lambda v: f"{v}px", to_spec=tuple, to_column=resolution_label,
         order_key=resolution_side),
    Axis("clip_length", "clip_lengths", PositiveInt, (16,), "T (frames)", "int", label=lambda v: f"T{v}"),
    Axis("frame_stride", "frame_strides", PositiveInt, (1,), "stride (frames)", "int",
         label=lambda v: f"stride {v}"),
    Axis("batch_size", "batch_sizes", PositiveInt | Literal["auto"], (1,), "batch (clips)", "int",
         label=lambda v: f"bs{v}"),
    Axis("device", "devices", Device, ("cpu",), "device", "text"),
    Axis("precision", "precisions", Precision, ("fp32",), "precision", "text"),
    Axis("compile", "compile", bool, (False,), "compile", "bool", label=lambda v: "compiled" if v else "eager",
         affects=frozenset({"latency", "throughput", "train_throughput", "memory", "accuracy"}), to_column=int),
    Axis("channels_last", "channels_last", bool, (False,), "channels_last", "bool", contract=False,
         label=lambda v: f"channels_last={v}",
         affects=frozenset({"latency", "throughput", "train_throughput", "memory", "accuracy"}), to_column=int),
    # Where the model runs: eager PyTorch, Inductor (torch.compile: `compile: [true]` is its alias, and the
    # compile field carries it in the identity, so stored compile runs keep their ids), the deployment
    # runtimes (vidbench.backends: torch.export + AOTInductor, ONNX Runtime, OpenVINO, TensorRT).
    Axis("runtime", "runtimes", Literal[RUNTIMES], ("eager",), "runtime", "text", contract=False,
         left_out_at="eager", also_left_out=frozenset({"inductor"}),
         affects=frozenset({"latency", "throughput", "train_throughput", "memory", "accuracy"})),
    # Runs that differ only in seed are replicates of one configuration. The seed was always part of the
    # identity (as the suite's single `seed:`, still the default of one).
    Axis("seed", "seeds", int, (0,), "seed", "int", contract=False, default_from="seed", label=lambda v: f"seed={v}"),
)
AXES_BY_NAME = {a.name: a for a in AXES}
AXIS_NAMES = tuple(a.name for a in AXES)
# The two axes whose values are suite entries with constructor args (`models:`, `datasets:`).
ENTRY_AXES = ("model", "dataset")
EXCLUDE_KEYS = (*ENTRY_AXES, *AXIS_NAMES)


@dataclass(frozen=True)
class TrainKey:
    """A key of the suite's `train:` block; a list of values makes it an axis (`train.<name>` in exclude)."""

    name: str
    item: Any
    default: Any
    label: Callable[[Any], str] = lambda v: str(v)
    left_out_at: Any = ALWAYS  # keys added after stores were written: left out of the identity at this value
    affects: frozenset[str] = frozenset({"accuracy", "train_throughput"})


OPTIMIZERS = ("adamw", "adam", "sgd")
SCHEDULES = ("constant", "cosine")
PROTOCOLS = ("full", "linear_probe", "partial", "attentive_probe")  # what of a (pretrained) model trains: all,
# the head, all but the first `freeze` stages, a cross-attention head over the frozen encoder's tokens
PROBES = ("linear_probe", "attentive_probe")  # the frozen-backbone protocols (their features can be cached)
# The optimizer state is part of a training step's peak memory: the optimizer (and SGD's momentum buffer)
# change `memory` as well as the trained metrics.
_OPTIMIZER_STATE = frozenset({"accuracy", "train_throughput", "memory"})

TRAIN_KEYS: tuple[TrainKey, ...] = (
    TrainKey("epochs", PositiveInt, 1),
    TrainKey("optimizer", Literal[OPTIMIZERS], "adamw", affects=_OPTIMIZER_STATE),
    TrainKey("lr", Annotated[float, Field(gt=0)], 1e-3),
    TrainKey("weight_decay", Annotated[float, Field(ge=0)], 0.05),
    TrainKey("momentum", Annotated[float, Field(ge=0, lt=1)], 0.9, affects=_OPTIMIZER_STATE),
    TrainKey("batch_size", PositiveInt, 16),
    TrainKey("schedule", Literal[SCHEDULES], "constant", left_out_at="constant"),
    TrainKey("warmup_epochs", Annotated[float, Field(ge=0, allow_inf_nan=False)], 0.0, left_out_at=0.0),
    # The transfer protocol (added after stores existed: each left out of the identity at the value that
    # trains as before). `freeze` counts the model's declared stages; `layer_decay` scales each block's
    # learning rate by decay^(depth above it), as BEiT and VideoMAE fine-tune.
    TrainKey("protocol", Literal[PROTOCOLS], "full", left_out_at="full"),
    TrainKey("freeze", Annotated[int, Field(ge=0)], 0, left_out_at=0),
    TrainKey("layer_decay", Annotated[float, Field(gt=0, le=1)], 1.0, left_out_at=1.0),
    # Validation every N epochs (0: only at the end): the accuracy curve and best_top1 exist only with it.
    TrainKey("eval_every", Annotated[int, Field(ge=0)], 0, left_out_at=0, affects=frozenset({"accuracy"})),
    # Where the trained weights go changes no figure: never part of the identity.
    TrainKey("save_weights", bool, False, left_out_at=False, affects=frozenset()),
    # Frozen-backbone probes (vidbench.measure.feature_cache). `probe_views: N` draws N augmented views of
    # each training video up front and epoch e trains on view (e - 1) mod N; 0 trains on what the loader
    # draws each epoch, as before (cached only where the split draws nothing at random). `feature_cache:
    # false` recomputes the same features every epoch (the reference; the same figures, slower).
    TrainKey("probe_views", Annotated[int, Field(ge=0)], 0, left_out_at=0, affects=frozenset({"accuracy", "knn"})),
    TrainKey("feature_cache", bool, True, left_out_at=True, affects=frozenset({"accuracy"})),
    # The attentive probe's depth (blocks, the last one cross-attention from a learned query) and heads:
    # V-JEPA 2's defaults (facebookresearch/vjepa2, configs/eval: num_probe_blocks 4, num_heads 16).
    TrainKey("probe_depth", PositiveInt, 4, left_out_at=4),
    TrainKey("probe_heads", PositiveInt, 16, left_out_at=16),
    # Neighbours of the k-NN metric (cosine, similarity-weighted votes).
    TrainKey("knn_k", PositiveInt, 20, left_out_at=20, affects=frozenset({"knn"})),
)
TRAIN_BY_NAME = {k.name: k for k in TRAIN_KEYS}
# Benchmark settings added after stores existed, at the value that measures as before: left out of the
# identity there (the benchmark block is part of every timed run's identity).
# `views_batch: None` (automatic: all of a video's views in one batch, halved on out-of-memory) measures as before.
# The `serving` metric's block (suite key `serving`), as a run holds it: part of a serving run's identity only
SERVING_DEFAULT = {"scenarios": ["single_stream", "multi_stream", "server", "offline"], "slo_ms": 100.0,
                   "percentile": 99.0, "max_batch": 8, "max_wait_ms": 5.0, "min_duration_s": 10.0, "pipeline": "model"}
# int8 quantization settings (benchmark.calibration, benchmark.int8_floor): part of an int8 run's identity only
CALIBRATION_DEFAULT = {"samples": 300, "method": "minmax", "max_drop": None}
INT8_KEYS = ("calibration", "int8_floor")
NEUTRAL_BENCHMARK = {"parity_floor": 99.0, "views_batch": None, "calibration": CALIBRATION_DEFAULT, "int8_floor": None}
# The values that train as before a key existed: what older specs and stores are read with.
NEUTRAL_TRAIN = {k.name: k.left_out_at for k in TRAIN_KEYS if k.left_out_at is not ALWAYS}


def train_identity(train: dict[str, Any], metrics: set[str] | frozenset[str]) -> dict[str, Any]:
    """The train settings that change a figure of a run measuring `metrics`.

    A key is kept when one of its metrics is measured. With a trained metric every key counts (keys added
    late are left out at their neutral value, as specs written before them trained). When only metrics
    that read part of the train block are measured (`memory` reads the optimizer state), those keys count
    only where they differ from their defaults, so runs stored before the metric declared them keep
    their ids."""
    trained = bool(metrics & {"accuracy", "train_throughput"})
    out = {}
    for name, value in train.items():
        key = TRAIN_BY_NAME.get(name)
        if key is None:  # a key this version does not know: keep it, so it cannot collapse two runs
            out[name] = value
        elif not key.affects & metrics:
            continue
        elif trained:
            if key.left_out_at is ALWAYS or value != key.left_out_at:
                out[name] = value
        elif value != key.default:
            out[name] = value
    return out


def setting_label(key: str, value: Any) -> str:
    """A setting and its value as run labels write them: '32px', 'T8', 'compiled', 'lr=0.001'."""
    axis = AXES_BY_NAME.get(key)
    if axis is not None:
        return axis.label(value)
    return f"{key.split('.')[-1] if key.startswith('train.') else key}={value}"
