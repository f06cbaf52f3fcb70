"""What a finished run leaves behind: its status, metric values, raw detail and environment."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vidbench.axes import AXES
from vidbench.metrics import COLUMNS_BY_NAME, CONTRACT_COLUMNS, EXTRA_COLUMNS

# `unsupported`: the runtime cannot convert the model (a finding, finished like `skipped`); `mismatch`:
# converted and measured, but its answers disagree with eager PyTorch's beyond the parity floor.
STATUSES = ("ok", "failed", "oom", "timeout", "crashed", "skipped", "unsupported", "mismatch")
FAILED_STATUSES = frozenset({"failed", "oom", "timeout", "crashed"})  # the run did not finish; `--rerun-failed` reruns it

# The contract's metric columns, in report order, then the figures beyond the contract (how each figure was
# obtained, and figures derived from the same measurements). Values are None when not asked for or not
# measurable. Declared in vidbench.metrics.
METRIC_COLUMNS = CONTRACT_COLUMNS
EXTRA_METRIC_COLUMNS = EXTRA_COLUMNS
# What names a run: the model and dataset with their args, and the contract's axes (vidbench.axes).
SPEC_COLUMNS = ("model", "family", "arch", "model_args", "dataset", "dataset_args",
                *(a.name for a in AXES if a.contract))
RESULT_COLUMNS = ("run_id", *SPEC_COLUMNS, "status", "error", *METRIC_COLUMNS, "duration_s",
                  *(a.name for a in AXES if not a.contract), *EXTRA_METRIC_COLUMNS)


def result_columns() -> tuple[str, ...]:
    """RESULT_COLUMNS with the figures of metrics registered since import (`metrics.register_measure`),
    read from the tables at the call: what a reader of every stored figure (the report's frame) lists."""
    from vidbench import metrics

    return (*RESULT_COLUMNS, *(c for c in metrics.EXTRA_COLUMNS if c not in RESULT_COLUMNS))


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
        unknown = set(self.metrics) - set(COLUMNS_BY_NAME)  # read at use: a registered metric's columns count
        if unknown:
            raise ValueError(f"unknown metric columns {sorted(unknown)}")
