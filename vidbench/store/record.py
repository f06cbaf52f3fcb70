"""What a finished run leaves behind: its status, metric values, raw detail and environment."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STATUSES = ("ok", "failed", "oom", "timeout", "crashed", "skipped")

# The contract's metric columns, in report order. Values are None when not asked for or not measurable.
METRIC_COLUMNS = (
    "params", "gmacs", "gflops", "peak_mem_mb", "latency_ms_p50", "latency_ms_p90", "throughput_clips_s",
    "train_throughput_clips_s", "train_peak_mem_mb", "top1", "top5",
)
SPEC_COLUMNS = (
    "model", "family", "arch", "model_args", "dataset", "dataset_args", "resolution", "clip_length",
    "frame_stride", "batch_size", "device", "precision", "compile",
)
# Beyond the contract: how each figure was obtained, and figures derived from the same measurements.
EXTRA_METRIC_COLUMNS = (
    "latency_ms_p99", "throughput_frames_s", "train_throughput_frames_s", "train_gmacs", "peak_mem_reserved_mb",
    "rss_peak_mb", "tflops_achieved", "mfu", "train_tflops_achieved", "train_mfu", "compile_s", "unstable",
    "skipped_videos", "data_throughput_clips_s", "clip_top1",
)
RESULT_COLUMNS = ("run_id", *SPEC_COLUMNS, "status", "error", *METRIC_COLUMNS, "duration_s", "channels_last",
                  *EXTRA_METRIC_COLUMNS)


@dataclass
class RunResult:
    run_id: str
    status: str
    error: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)  # raw samples, losses, tracebacks
    env: dict[str, Any] = field(default_factory=dict)
    duration_s: float | None = None

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} is not one of {STATUSES}")
        unknown = set(self.metrics) - set(METRIC_COLUMNS) - set(EXTRA_METRIC_COLUMNS)
        if unknown:
            raise ValueError(f"unknown metric columns {sorted(unknown)}")
