"""The suite file, validated by pydantic (unknown keys rejected) and loaded into a `Suite`."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PositiveInt, ValidationError, create_model
from pydantic import AfterValidator, field_validator, model_validator

from vidbench.axes import AXES, CALIBRATION_DEFAULT, NEUTRAL_BENCHMARK, SERVING_DEFAULT, TRAIN_KEYS, Axis
from vidbench.errors import SuiteError
from vidbench import metrics as _metrics
from vidbench.metrics import DEFAULT_MEASURES, MEASURE_NAMES

METRICS = MEASURE_NAMES  # the declared metrics; one registered later (`metrics.register_measure`) is valid too


def _known_metric(value: Any) -> Any:
    """A metric name, checked against the metric table at validation (not a copy taken at import), in the
    words pydantic gives a Literal."""
    names = _metrics.MEASURE_NAMES
    if not isinstance(value, str) or value not in names:
        *first, last = (repr(n) for n in names)
        raise ValueError(f"Input should be {', '.join(first)} or {last}")
    return value


Metric = Annotated[str, BeforeValidator(_known_metric)]


def _as_list(value: Any) -> Any:
    return value if isinstance(value, list) else [value]


def _as_entry(value: Any) -> Any:
    return {"name": value} if isinstance(value, str) else value


def _no_repeats(values: list[Any] | None) -> list[Any] | None:
    seen = set()
    for v in values or ():
        if v in seen:
            raise ValueError(f"{v!r} is listed twice")
        seen.add(v)
    return values


OneOrMany = lambda item: Annotated[list[item], BeforeValidator(_as_list), Field(min_length=1)]  # noqa: E731
AxisList = lambda item: Annotated[list[item], Field(min_length=1), AfterValidator(_no_repeats)]  # noqa: E731


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Entry(Strict):
    """A model or dataset: a name (a glob for models), fixed `args`, and swept `grid` args."""

    name: str
    args: dict[str, Any] = {}
    grid: dict[str, Annotated[list[Any], Field(min_length=1)]] = {}

    @field_validator("grid")
    @classmethod
    def _grid_disjoint_from_args(cls, grid: dict[str, list[Any]], info) -> dict[str, list[Any]]:
        both = set(grid) & set(info.data.get("args", {}))
        if both:
            raise ValueError(f"{sorted(both)[0]!r} is both a fixed arg and a grid axis")
        return grid


class ModelEntry(Entry):
    """A model entry; `protocol: published` runs it at its whole published test protocol (frames, frame
    stride, crop, clips × crops, single-frame segments: vidbench.suite.published), replacing the suite's
    clip axes; `test_views: published`, the older key, is its alias (clips × crops alone measured a cost that
    was not the published accuracy's); `input: default` runs the model's default clip (its frames and size
    replace the suite's clip_lengths and resolutions), so a suite can sweep models whose natural inputs differ."""

    protocol: Literal["published"] | None = None
    test_views: Literal["published"] | None = None
    input: Literal["default"] | None = None  # `default`: its default clip (frames × size) instead of the axes

    @model_validator(mode="before")
    @classmethod
    def _views_are_the_protocol(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("test_views") == "published" and "protocol" not in data:
            return {**data, "protocol": "published"}
        return data


EntryList = Annotated[list[Annotated[Entry, BeforeValidator(_as_entry)]], Field(min_length=1)]
ModelList = Annotated[list[Annotated[ModelEntry, BeforeValidator(_as_entry)]], Field(min_length=1)]


TrainConfig = create_model(
    "TrainConfig", __base__=Strict,
    __doc__="Training for accuracy and train_throughput; a list value makes that key an ablation axis.",
    **{k.name: (OneOrMany(k.item), [k.default]) for k in TRAIN_KEYS},
)


class Calibration(Strict):
    """Post-training int8 quantization (`precisions: [int8]`): how many clips of the run's training split
    calibrate the activation ranges, by which method, and (OpenVINO's accuracy control) the top-1 drop, in
    points on a held-out part of the training split, within which layers stay in int8."""

    samples: PositiveInt = CALIBRATION_DEFAULT["samples"]
    method: Literal["minmax", "entropy", "percentile"] = CALIBRATION_DEFAULT["method"]
    max_drop: Annotated[float, Field(gt=0, le=100)] | None = CALIBRATION_DEFAULT["max_drop"]


class BenchmarkConfig(Strict):
    """How timings are taken: warm up for at least `warmup` calls and `warmup_s` seconds (and until the last
    calls agree), then at least `repeats` timed calls filling at least `min_time_s` seconds."""

    warmup: Annotated[int, Field(ge=0)] = 3
    repeats: PositiveInt = 20
    warmup_s: Annotated[float, Field(ge=0)] = 0.2
    min_time_s: Annotated[float, Field(ge=0)] = 0.5
    threads: PositiveInt | None = None  # torch intra-op threads; None: torch's default (the physical cores)
    cudnn_benchmark: bool = True
    auto_batch_max: PositiveInt = 256  # the largest batch `batch_sizes: [auto]` tries
    # A runtime whose top-1 agrees with eager PyTorch's on fewer clips than this (percent) is `mismatch`.
    parity_floor: Annotated[float, Field(ge=0, le=100)] = NEUTRAL_BENCHMARK["parity_floor"]
    # At most this many of one video's views per call (None: all in one batch, halved on out-of-memory).
    views_batch: PositiveInt | None = NEUTRAL_BENCHMARK["views_batch"]
    calibration: Calibration = Calibration()
    # An int8 run whose top-1 agrees with fp32 eager's on fewer clips than this is `mismatch` (None: no floor,
    # since quantization is expected to move some answers; its accuracy cost is `top1_delta`).
    int8_floor: Annotated[float, Field(ge=0, le=100)] | None = NEUTRAL_BENCHMARK["int8_floor"]


SERVING_SCENARIOS = ("single_stream", "multi_stream", "server", "offline")
PIPELINES = ("model", "end_to_end")


class ServingConfig(Strict):
    """The `serving` metric's load (MLPerf LoadGen's scenarios): Server's latency bound (`slo_ms` at
    `percentile`), dynamic batching (`max_batch`, waiting `max_wait_ms` for a partial batch), LoadGen's
    minimum duration per test, and what a query holds (`model`: a prepared clip; `end_to_end`: a video file
    decoded and transformed inside the query). A list of pipelines makes one run per pipeline."""

    scenarios: Annotated[list[Literal[SERVING_SCENARIOS]], Field(min_length=1)] = list(SERVING_DEFAULT["scenarios"])
    slo_ms: Annotated[float, Field(gt=0)] = SERVING_DEFAULT["slo_ms"]
    # the latency percentiles LoadGen's results report
    percentile: Literal[50.0, 90.0, 95.0, 97.0, 99.0, 99.9] = SERVING_DEFAULT["percentile"]
    max_batch: PositiveInt = SERVING_DEFAULT["max_batch"]
    max_wait_ms: Annotated[float, Field(ge=0)] = SERVING_DEFAULT["max_wait_ms"]
    min_duration_s: Annotated[float, Field(gt=0)] = SERVING_DEFAULT["min_duration_s"]
    pipeline: OneOrMany(Literal[PIPELINES]) = [SERVING_DEFAULT["pipeline"]]

    def per_run(self) -> list[dict[str, Any]]:
        """One serving block per pipeline, as each run holds it."""
        block = self.model_dump()
        return [{**block, "pipeline": p} for p in dict.fromkeys(self.pipeline)]


class Limits(Strict):
    timeout_s: Annotated[float, Field(gt=0)] = 900
    oom_retries: Annotated[int, Field(ge=0)] = 2
    max_consecutive_failures: Annotated[int, Field(ge=1)] | None = None
    # A run lost with its Ray node (node died, worker killed by Ray's memory monitor, preempted) is submitted
    # again to a live node this many times before it counts as crashed.
    node_retries: Annotated[int, Field(ge=0)] = 2


class _SuiteBase(Strict):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    description: str = ""
    seed: int = 0
    output: str | None = None
    plugins: list[str] = []
    models: ModelList
    datasets: EntryList = [Entry(name="random")]
    metrics: AxisList(Metric) = list(DEFAULT_MEASURES)
    train: TrainConfig = TrainConfig()
    benchmark: BenchmarkConfig = BenchmarkConfig()
    serving: ServingConfig = ServingConfig()
    exclude: list[dict[str, Any]] = []
    limits: Limits = Limits()

    def axis_values(self, axis: Axis) -> list[Any]:
        """The values the suite gives an axis: its list, else its default (or the one `default_from` value)."""
        values = getattr(self, axis.suite_key)
        if values is None:
            values = [getattr(self, axis.default_from)]
        return list(values)


def _axis_field(axis: Axis) -> tuple[Any, Any]:
    if axis.default_from:  # e.g. `seeds`, whose default is the suite's single `seed`
        return AxisList(axis.item) | None, None
    return AxisList(axis.item), list(axis.default)


Suite = create_model("Suite", __base__=_SuiteBase, **{a.suite_key: _axis_field(a) for a in AXES})


_SCHEMAS = (Suite, ModelEntry, TrainConfig, BenchmarkConfig, Limits)


def _loc_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith("function-") or part.startswith("tuple["):
            continue
        else:
            out += f".{part}" if out else str(part)
    return out


def describe_validation_error(error: ValidationError) -> str:
    """The first problem of a pydantic error as one line: key path, value, what is wrong."""
    errors = error.errors()
    # A misspelt required key shows up twice, as `missing` and as `extra_forbidden`: name the typo.
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    path = _loc_path(err["loc"]) or "suite"
    if err["type"] == "extra_forbidden":
        key = str(err["loc"][-1])
        known = {f for schema in _SCHEMAS for f in schema.model_fields}
        close = difflib.get_close_matches(key, known, n=1)
        hint = (" (a key of model entries, not of this one)" if key in known else
                f" (did you mean {close[0]!r}?)" if close else "")
        return f"{path}: unknown key{hint}"
    if err["type"] == "missing":
        return f"{path}: required key is missing"
    msg = err["msg"].removeprefix("Value error, ")
    return f"{path} = {err.get('input')!r}: {msg}"


def parse_suite(data: Any, source: str = "suite") -> Suite:
    if not isinstance(data, dict):
        raise SuiteError(f"{source}: a suite file must be a mapping of keys, not {type(data).__name__}")
    try:
        return Suite.model_validate(data)
    except ValidationError as e:
        raise SuiteError(f"{source}: {describe_validation_error(e)}") from None


def load_suite(path: str | Path) -> Suite:
    """Read and validate a suite file; every problem is a SuiteError naming the file and key."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as e:
        raise SuiteError(f"cannot read suite file {str(path)!r}: {e.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        raise SuiteError(f"{path}{where}: malformed YAML: {e.problem}") from None
    except yaml.YAMLError as e:
        raise SuiteError(f"{path}: malformed YAML: {e}") from None
    _import_declared_plugins(data, path)
    return parse_suite(data, str(path))


def _import_declared_plugins(data: Any, path: Path) -> None:
    """The suite's plugins imported before it is validated: a metric a plugin registers
    (`metrics.register_measure`) is then a valid entry of its `metrics` (only suites with plugins pay the
    imports here; a malformed `plugins` key is left to the validation's own message)."""
    plugins = data.get("plugins") if isinstance(data, dict) else None
    if isinstance(plugins, list) and plugins and all(isinstance(p, str) for p in plugins):
        from vidbench.suite.plugins import import_plugins, resolve_plugins

        import_plugins(resolve_plugins(plugins, path.parent))
