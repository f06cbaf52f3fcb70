"""The driver of a sweep: decide which runs to start, hand them to an executor, store each result."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Protocol

from vidbench.backends import backend_for
from vidbench.run.artifacts import weights_path
from vidbench.run.env import device_unavailable, environment
from vidbench.run.executors import Event
from vidbench.run.policy import FAILED_STATUSES
from vidbench.store.record import RunResult
from vidbench.store.protocol import RunStore
from vidbench.suite.spec import RunSpec


class Executor(Protocol):
    def execute(self, specs: list[RunSpec]) -> Iterator[Event]:
        """Run the specs (in worker processes), yielding start/end/stopped events as they happen."""


@dataclass(frozen=True)
class PlannedRun:
    spec: RunSpec
    action: str  # "run", or "done" (finished before and kept)
    stored_status: str | None
    reason: str | None = None  # why a run will be skipped


def plan_runs(specs: list[RunSpec], stored: dict[str, str], rerun_failed: bool = False,
              force: bool = False, run_folder: Path | None = None) -> list[PlannedRun]:
    """What to do with each run. Resume is the default: a run with a stored `ok` is done; a stored
    failure is kept unless `rerun_failed`; a stored `skipped` is retried when its device is now here; a
    run asked to save its weights (which change no figure, so not its id) runs again when they are not
    in `run_folder`."""
    out = []
    for spec in specs:
        status = stored.get(spec.run_id)
        reason = device_unavailable(spec.device) or backend_for(spec).unavailable(spec)
        if force or status is None or (status == "ok" and _weights_missing(spec, run_folder)):
            action = "run"
        elif status in FAILED_STATUSES:
            action = "run" if rerun_failed else "done"
        elif status == "skipped":
            action = "done" if reason else "run"
        else:
            action = "done"
        out.append(PlannedRun(spec, action, status, reason))
    return out


def _weights_missing(spec: RunSpec, run_folder: Path | None) -> bool:
    wants = spec.train.get("save_weights") and "accuracy" in spec.metrics
    return bool(wants and run_folder is not None and not weights_path(run_folder, spec).is_file())


def skipped_result(spec: RunSpec, reason: str) -> RunResult:
    return RunResult(spec.run_id, "skipped", reason, env=environment(), duration_s=0.0)


def run_planned(plan: list[PlannedRun], store: RunStore, executor: Executor, suite_name: str,
                on_start: Callable[[RunSpec], None] = lambda s: None,
                on_end: Callable[[RunSpec, RunResult], None] = lambda s, r: None,
                on_phase: Callable[[RunSpec, str], None] = lambda s, text: None) -> list[str]:
    """Execute the planned runs, writing each result the moment it is known (here, in the driver).

    Returns the devices the executor stopped for failing too often in a row; their remaining runs
    are not started and stay pending for the next sweep."""
    planned = [item for item in plan if item.action == "run"]
    # Runs on an absent device have nothing to start: their results are known at once, stored together.
    skipped = [(item.spec, skipped_result(item.spec, item.reason)) for item in planned if item.reason]
    store.write_many(skipped, suite_name)
    for spec, result in skipped:
        on_start(spec)
        on_end(spec, result)
    to_run = [item.spec for item in planned if not item.reason]
    stopped = []
    for event in executor.execute(to_run):
        if event.kind == "start":
            on_start(event.spec)
        elif event.kind == "phase":  # what a running run is doing now (a local worker's report)
            on_phase(event.spec, event.text)
        elif event.kind == "end":
            store.write(event.spec, event.result, suite_name)
            on_end(event.spec, event.result)
        elif event.kind == "stopped":
            stopped.append(event.device)
    return sorted(stopped)
