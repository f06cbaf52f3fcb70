"""The driver of a sweep: decide which runs to start, hand them to an executor, store each result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

from vidbench.run.env import device_unavailable, environment
from vidbench.store.record import RunResult
from vidbench.store.sqlite import ResultStore
from vidbench.suite.spec import RunSpec

FAILED_STATUSES = {"failed", "oom", "timeout", "crashed"}


class Executor(Protocol):
    def run(self, spec: RunSpec) -> RunResult: ...


@dataclass(frozen=True)
class PlannedRun:
    spec: RunSpec
    action: str  # "run", or "done" (finished before and kept)
    stored_status: str | None
    reason: str | None = None  # why a run will be skipped


def plan_runs(specs: list[RunSpec], stored: dict[str, str], rerun_failed: bool = False,
              force: bool = False) -> list[PlannedRun]:
    """What to do with each run. Resume is the default: a run with a stored `ok` is done; a stored
    failure is kept unless `rerun_failed`; a stored `skipped` is retried when its device is now here."""
    out = []
    for spec in specs:
        status = stored.get(spec.run_id)
        reason = device_unavailable(spec.device)
        if force or status is None:
            action = "run"
        elif status in FAILED_STATUSES:
            action = "run" if rerun_failed else "done"
        elif status == "skipped":
            action = "done" if reason else "run"
        else:
            action = "done"
        out.append(PlannedRun(spec, action, status, reason))
    return out


def skipped_result(spec: RunSpec, reason: str) -> RunResult:
    return RunResult(spec.run_id, "skipped", reason, env=environment(), duration_s=0.0)


def run_planned(plan: list[PlannedRun], store: ResultStore, executor: Executor, suite_name: str,
                on_start: Callable[[RunSpec], None] = lambda s: None,
                on_end: Callable[[RunSpec, RunResult], None] = lambda s, r: None) -> None:
    """Execute every planned run in order, writing each result the moment it is known."""
    for item in plan:
        if item.action != "run":
            continue
        on_start(item.spec)
        result = skipped_result(item.spec, item.reason) if item.reason else executor.run(item.spec)
        store.write(item.spec, result, suite_name)
        on_end(item.spec, result)
