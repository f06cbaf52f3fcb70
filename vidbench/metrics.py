"""Every metric and every stored figure, declared once (see ARCHITECTURE.md, "The axis and metric tables").

A *metric* is what a suite asks for (`metrics: [latency, accuracy]`); it fills one or more *columns*
of the results store. MEASURES says, per metric, which columns it fills and which settings beyond the
axes change its figures (the benchmark block for timed metrics; which train keys is declared with
each key in `vidbench.axes.TRAIN_KEYS`). COLUMNS says, per stored figure, its unit, whether more is
better (or why it is not compared), and how replicate runs are aggregated. The suite schema, the run
identity, the store, `compare`, the reports and the results export read these tables.

This module imports nothing heavy (no torch): the CLI reads it before any run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from vidbench.axes import AXES, TRAIN_KEYS


@dataclass(frozen=True)
class Measure:
    """A metric name of the suite file: the columns it fills and what, beyond the axes, changes them."""

    name: str
    what: str
    timed: bool = False  # its figures depend on the suite's `benchmark` block


MEASURES: tuple[Measure, ...] = (
    Measure("params", "trainable and frozen parameters, counted on the meta device"),
    Measure("flops", "multiply-accumulates of one clip (forward, and forward + backward), on the meta device"),
    Measure("memory", "peak tensor memory of one inference batch and of one training step (optimizer state "
                      "included)"),
    Measure("latency", "time of one forward pass of a batch", timed=True),
    Measure("throughput", "clips per second of inference at the run's batch size", timed=True),
    Measure("train_throughput", "clips per second of training steps", timed=True),
    Measure("accuracy", "top-1/top-5 on the validation split after training as `train:` says"),
    Measure("data_throughput", "clips per second of the input pipeline (decode + transforms)"),
    Measure("energy", "joules per clip over the timed inference loop and training steps, from the device's "
                      "own counters (NVML on CUDA, RAPL on CPU; device-wide)", timed=True),
    Measure("knn", "k-NN top-1 of the frozen encoder's features (validation against training; no training)"),
    Measure("serving", "MLPerf LoadGen's SingleStream, MultiStream, Server and Offline tests of the prepared model "
                       "(the `serving` block: latency bound, dynamic batching, model or end to end from video)",
            timed=True),  # the benchmark block's threads change what it serves
)
MEASURE_NAMES = tuple(m.name for m in MEASURES)
# Asked for only by name: a suite that lists no metrics keeps the run ids it had before these existed.
OPT_IN = ("data_throughput", "energy", "knn", "serving")
DEFAULT_MEASURES = tuple(m for m in MEASURE_NAMES if m not in OPT_IN)
TIMED_MEASURES = frozenset(m.name for m in MEASURES if m.timed)


Better = Literal["higher", "lower"] | None


@dataclass(frozen=True)
class Column:
    """One stored figure of a run."""

    name: str
    measure: str  # the metric (MEASURES) that fills it
    header: str  # unit and meaning, as reports head the column
    better: Better  # which way is an improvement; None for a figure that is not compared…
    not_compared: str = ""  # …and then why
    kind: Literal["int", "float", "bool"] = "float"
    contract: bool = False  # one of the contract's result columns
    short: str = ""  # a shorter header, for plot axes and narrow tables
    aggregate: Literal["mean", "median", "sum", "any"] = "mean"  # how replicate runs are summarised
    # Where its noise comes from, which decides how its uncertainty is estimated and tested:
    #   exact   counted, the same on every rerun (no interval; any change is real)
    #   timing  a statistic of the per-call samples the run's detail keeps under `samples`: within a run, a
    #           bootstrap interval of that statistic; between runs, a test on the samples
    #   seed    changes with the seed (accuracy): an interval only over seed replicates
    #   single  one noisy value per run, no samples kept: an interval only over replicates
    noise: Literal["exact", "timing", "seed", "single"] = "exact"
    samples: str = ""  # with noise="timing": the detail key of the samples ("inference_s", "train_step_s")
    quantile: float = 50.0  # …the percentile of the samples the figure is made of
    inverse: bool = False  # …True when the figure is a rate (∝ 1 / the statistic), e.g. throughput
    limits: tuple[float, float] | None = None  # the range the figure can take (a percentage): intervals end there

    def __post_init__(self):
        if (self.better is None) != bool(self.not_compared):
            raise ValueError(f"{self.name}: a column has a direction or a reason it is not compared, not both")
        if (self.noise == "timing") != bool(self.samples):
            raise ValueError(f"{self.name}: a timing figure names its samples, and only a timing figure")


PERCENT = (0.0, 100.0)


def _timing(name: str, measure: str, header: str, samples: str, quantile: float = 50.0, **kw) -> Column:
    """A statistic of per-call times (lower is better), summarised over replicates by their median."""
    return Column(name, measure, header, "lower", aggregate="median", noise="timing", samples=samples,
                  quantile=quantile, **kw)


def _rate(name: str, measure: str, header: str, samples: str, **kw) -> Column:
    """A rate made from the median per-call time (higher is better): clips/s, TFLOP/s, MFU."""
    return Column(name, measure, header, "higher", aggregate="median", noise="timing", samples=samples,
                  inverse=True, **kw)


# In report order: the contract's columns first, then figures derived from the same measurements and
# how they were obtained.
COLUMNS: tuple[Column, ...] = (
    Column("params", "params", "params", "lower", kind="int", contract=True, short="params"),
    Column("gmacs", "flops", "GMACs (1 clip, multiply-accumulates)", "lower", contract=True, short="GMACs"),
    Column("gflops", "flops", "GFLOPs (= 2 × GMACs)", "lower", contract=True, short="GFLOPs"),
    Column("peak_mem_mb", "memory", "peak mem (MiB, inference)", "lower", contract=True, short="peak mem (MiB)"),
    _timing("latency_ms_p50", "latency", "latency p50 (ms/batch)", "inference_s", contract=True,
            short="latency p50 (ms)"),
    _timing("latency_ms_p90", "latency", "latency p90 (ms/batch)", "inference_s", 90.0, contract=True,
            short="latency p90 (ms)"),
    _rate("throughput_clips_s", "throughput", "throughput (clips/s)", "inference_s", contract=True,
          short="throughput (clips/s)"),
    _rate("train_throughput_clips_s", "train_throughput", "train throughput (clips/s)", "train_step_s",
          contract=True, short="train throughput (clips/s)"),
    Column("train_peak_mem_mb", "memory", "peak mem (MiB, train step)", "lower", contract=True,
           short="train peak mem (MiB)"),
    Column("top1", "accuracy", "top-1 (%)", "higher", contract=True, short="top-1 (%)", noise="seed", limits=PERCENT),
    Column("top5", "accuracy", "top-5 (%)", "higher", contract=True, short="top-5 (%)", noise="seed", limits=PERCENT),
    _timing("latency_ms_p99", "latency", "latency p99 (ms/batch)", "inference_s", 99.0),
    _rate("throughput_frames_s", "throughput", "throughput (frames/s)", "inference_s"),
    _rate("train_throughput_frames_s", "train_throughput", "train throughput (frames/s)", "train_step_s"),
    Column("train_gmacs", "flops", "train GMACs (fwd + bwd, 1 clip)", "lower"),
    Column("peak_mem_reserved_mb", "memory", "reserved mem (MiB, CUDA)", "lower"),
    Column("rss_peak_mb", "memory", "RSS peak (MiB, worker process)", "lower", noise="single"),
    # What a run adds to the process's resident memory over a few inference calls (CPU): comparable across
    # runtimes, including those whose buffers PyTorch cannot see (vidbench.measure.rss).
    Column("infer_rss_mb", "memory", "RSS added (MiB, inference: weights, buffers, activations)", "lower",
           noise="single", short="RSS added (MiB)"),
    _rate("tflops_achieved", "throughput", "TFLOP/s achieved", "inference_s"),
    _rate("mfu", "throughput", "MFU", "inference_s"),
    _rate("train_tflops_achieved", "train_throughput", "train TFLOP/s achieved", "train_step_s"),
    _rate("train_mfu", "train_throughput", "train MFU", "train_step_s"),
    Column("compile_s", "latency", "compile (s)", "lower", noise="single"),
    Column("unstable", "latency", "unstable timing", None, kind="bool", aggregate="any",
           not_compared="a flag on the timing's spread, not a figure"),
    Column("emulated", "latency", "emulated precision (no native bf16/fp16 on this CPU)", None, kind="bool",
           aggregate="any", not_compared="a flag on how the precision ran, not a figure"),
    Column("bounded", "latency", "fewer timed calls than asked (a slow call, bounded by the timeout)", None,
           kind="bool", aggregate="any", not_compared="a flag on the timing loop, not a figure"),
    Column("skipped_videos", "accuracy", "skipped videos", None, kind="int", aggregate="sum",
           not_compared="a property of the dataset's files, not of the model"),
    Column("data_throughput_clips_s", "data_throughput", "input pipeline (clips/s)", "higher", aggregate="median",
           noise="single"),
    Column("clip_top1", "accuracy", "clip top-1 (%, multi-view)", "higher", noise="seed", limits=PERCENT),
    # The cost of the test protocol: a video is `views` clips (test clips × crops), batched together.
    Column("views", "flops", "views per video (clips × crops)", None, kind="int",
           not_compared="the test protocol, a setting of the run"),
    Column("gmacs_per_video", "flops", "GMACs per video (all views)", "lower"),
    _timing("latency_ms_per_video", "latency", "latency per video (ms, all views)", "video_s"),
    _rate("videos_s", "throughput", "videos/s (all views)", "video_s"),
    # Energy (device-wide counters around the timed loops; empty where none can be read, with the reason).
    Column("energy_j_per_clip", "energy", "energy (J/clip, inference)", "lower", noise="single"),
    Column("avg_power_w", "energy", "average power (W, inference)", None,
           not_compared="a device's draw: neither better nor worse by itself (see energy per clip)"),
    Column("clips_per_kj", "energy", "clips per kJ (inference)", "higher", noise="single"),
    Column("train_energy_j_per_clip", "energy", "energy (J/clip, train step)", "lower", noise="single"),
    Column("train_avg_power_w", "energy", "average power (W, train step)", None,
           not_compared="a device's draw: neither better nor worse by itself (see energy per clip)"),
    Column("train_clips_per_kj", "energy", "clips per kJ (train step)", "higher", noise="single"),
    # A runtime other than eager PyTorch: its conversion, and whether it still gives eager's answers.
    Column("export_s", "latency", "export (s, conversion and compilation)", "lower", noise="single"),
    Column("artifact_mb", "latency", "artifact (MiB, exported file)", "lower"),
    Column("parity_max_abs", "latency", "parity: max |logit - eager logit|", "lower"),
    Column("parity_top1_agree", "latency", "parity: top-1 agreeing with eager (%)", "higher", limits=PERCENT),
    # int8: calibrating and quantizing the converted model (apart from export_s), and what it cost in top-1
    # against the same model in fp32 under the same runtime, on the same validation clips.
    Column("calibration_s", "latency", "int8 calibration and quantization (s)", "lower", noise="single"),
    Column("top1_fp32", "accuracy", "top-1 in fp32, same runtime (%, beside int8)", "higher", noise="seed",
           limits=PERCENT),
    Column("top1_delta", "accuracy", "int8 top-1 - fp32 top-1 (points)", "higher", noise="seed",
           short="int8 Δ top-1"),
    # The accuracy curve (with train.eval_every) and what training cost.
    Column("best_top1", "accuracy", "best top-1 (%, over the evaluations)", "higher", noise="seed", limits=PERCENT),
    Column("best_epoch", "accuracy", "epoch of the best top-1", None, kind="int",
           not_compared="an epoch number, not a figure to improve"),
    Column("train_s", "accuracy", "training time (s, wall)", "lower", noise="single"),
    Column("train_pflops", "accuracy", "training PFLOPs (train GMACs × 2 × clips seen)", "lower"),
    # Serving under load (metric `serving`, opt-in), read from LoadGen's own results.
    Column("ss_latency_ms_p90", "serving", "SingleStream latency p90 (ms, LoadGen)", "lower", noise="single",
           short="SS p90 (ms)"),
    Column("ms_latency_ms_p99", "serving", "MultiStream latency p99 (ms per query, LoadGen)", "lower",
           noise="single", short="MS p99 (ms)"),
    Column("server_max_qps", "serving", "Server: highest Poisson rate within the latency bound (queries/s)",
           "higher", noise="single", short="max QPS at SLO"),
    Column("server_latency_ms_p99", "serving", "Server latency at the bound's percentile, at max QPS (ms)", "lower",
           noise="single", short="Server p99 (ms)"),
    Column("offline_samples_s", "serving", "Offline samples/s (LoadGen)", "higher", noise="single",
           short="Offline (samples/s)"),
    Column("serving_valid", "serving", "LoadGen's verdict: every reported test VALID", None, kind="bool",
           aggregate="any", not_compared="a verdict, not a figure (each scenario's is in the detail)"),
    # A zero-training signal of a frozen encoder: k-NN over its cached features (metric `knn`, opt-in).
    Column("knn_top1", "knn", "k-NN top-1 (%, frozen features)", "higher", noise="seed", limits=PERCENT,
           short="k-NN top-1 (%)"),
)
COLUMNS_BY_NAME = {c.name: c for c in COLUMNS}
CONTRACT_COLUMNS = tuple(c.name for c in COLUMNS if c.contract)
EXTRA_COLUMNS = tuple(c.name for c in COLUMNS if not c.contract)
COMPARED_COLUMNS = tuple(c.name for c in COLUMNS if c.better is not None)
HIGHER_IS_BETTER = frozenset(c.name for c in COLUMNS if c.better == "higher")
LOWER_IS_BETTER = frozenset(c.name for c in COLUMNS if c.better == "lower")


def register_measure(measure: Measure, columns: tuple[Column, ...]) -> None:
    """Add a metric and the columns it fills (a plugin's or a test's scenario): opt-in (asked by name only, so
    suites that list no metrics keep their run ids) and outside the contract. The tables are rebuilt, so a
    reader that looks them up here at use (`metrics.COLUMNS`, not an import-time copy) sees the new names."""
    global MEASURES, MEASURE_NAMES, OPT_IN, TIMED_MEASURES, COLUMNS, EXTRA_COLUMNS, COMPARED_COLUMNS
    global HIGHER_IS_BETTER, LOWER_IS_BETTER
    taken = set(MEASURE_NAMES) | set(COLUMNS_BY_NAME)
    clash = [n for n in (measure.name, *(c.name for c in columns)) if n in taken]
    if clash or any(c.measure != measure.name or c.contract for c in columns):
        raise ValueError(f"register_measure({measure.name!r}): names taken {clash} or columns not its own "
                         "non-contract ones")
    MEASURES, COLUMNS = (*MEASURES, measure), (*COLUMNS, *columns)
    MEASURE_NAMES, OPT_IN = (*MEASURE_NAMES, measure.name), (*OPT_IN, measure.name)
    TIMED_MEASURES = TIMED_MEASURES | ({measure.name} if measure.timed else set())
    COLUMNS_BY_NAME.update({c.name: c for c in columns})  # in place: importers of the dict see them too
    EXTRA_COLUMNS = (*EXTRA_COLUMNS, *(c.name for c in columns))
    COMPARED_COLUMNS = (*COMPARED_COLUMNS, *(c.name for c in columns if c.better is not None))
    HIGHER_IS_BETTER = HIGHER_IS_BETTER | {c.name for c in columns if c.better == "higher"}
    LOWER_IS_BETTER = LOWER_IS_BETTER | {c.name for c in columns if c.better == "lower"}


def column(name: str) -> Column:
    """The declared column of a figure a scenario stores: a name that is not declared fails loudly here,
    not as a figure the store silently lacks."""
    try:
        return COLUMNS_BY_NAME[name]
    except KeyError:
        raise KeyError(f"{name!r} is not a declared column (vidbench.metrics.COLUMNS)") from None


def quantile_columns(measure: str, samples: str) -> tuple[Column, ...]:
    """The figures of `measure` that are a percentile of `samples` (per-call times, not rates made from them),
    in table order: latency p50, p90, p99 of the inference loop."""
    return tuple(c for c in COLUMNS if c.measure == measure and c.samples == samples and not c.inverse)
# What a run records besides its figures (not compared: it measures the run, not the model).
DURATION_HEADER = "duration (s)"


def header(column: str) -> str:
    """The report header of a stored figure or axis column; the name itself for anything else."""
    if column in COLUMNS_BY_NAME:
        return COLUMNS_BY_NAME[column].header
    axis = next((a for a in AXES if a.name == column), None)
    if axis is not None:
        return axis.header
    return DURATION_HEADER if column == "duration_s" else column


def short_header(column: str) -> str:
    col = COLUMNS_BY_NAME.get(column)
    return (col.short or col.header) if col else header(column)


def quantiles_of(samples: str) -> tuple[float, ...]:
    """The percentiles of a timing's samples (`inference_s`, `train_step_s`) that some figure is made of."""
    return tuple(sorted({c.quantile for c in COLUMNS if c.samples == samples}))


def columns_of(measure: str) -> tuple[str, ...]:
    return tuple(c.name for c in COLUMNS if c.measure == measure)


def changed_by(measure: str) -> tuple[str, ...]:
    """The axes and settings that change a metric's figures: every axis that affects it, the train keys
    that do, and the benchmark block for timed metrics (model, dataset and their args change every one)."""
    axes = [a.name for a in AXES if a.affects is None or measure in a.affects]
    train = [f"train.{k.name}" for k in TRAIN_KEYS if measure in k.affects]
    return ("model", "model_args", "dataset", "dataset_args", *axes, *train,
            *(("benchmark",) if measure in TIMED_MEASURES else ()))
