"""A whole `vidbench run`: load and check the suite, plan, execute, store, render — as one library call."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from vidbench.errors import UsageError
from vidbench.report import render_reports
from vidbench.run.executors import LocalExecutor
from vidbench.run.sweep import FAILED_STATUSES, PlannedRun, plan_runs, run_planned
from vidbench.store.record import RunResult
from vidbench.store.sqlite import STORE_NAME, ResultStore
from vidbench.suite import RunSpec, Suite, expand_suite, load_suite
from vidbench.suite.plugins import import_plugins, resolve_plugins

EXECUTORS = ("local", "ray")


@dataclass
class PreparedSweep:
    suite: Suite
    suite_text: str
    specs: list[RunSpec]
    plugins: list[str]
    output: Path

    def stored_statuses(self) -> dict[str, str]:
        """Stored statuses, read without creating anything (a dry run writes nothing)."""
        if not (self.output / STORE_NAME).is_file():
            return {}
        with ResultStore.open_existing(self.output) as store:
            return store.statuses()

    def plan(self, rerun_failed: bool = False, force: bool = False) -> list[PlannedRun]:
        return plan_runs(self.specs, self.stored_statuses(), rerun_failed, force)


def prepare_sweep(suite_path: str | Path, output: str | Path | None = None) -> PreparedSweep:
    """Everything that can go wrong with the suite goes wrong here, before anything is run or written."""
    suite_path = Path(suite_path)
    suite = load_suite(suite_path)
    plugins = resolve_plugins(suite.plugins, suite_path.parent)
    import_plugins(plugins)
    specs = expand_suite(suite)
    out = Path(output or suite.output or Path("reports") / suite.name)
    if out.exists() and not out.is_dir():
        raise UsageError(f"output {str(out)!r} exists and is not a folder")
    return PreparedSweep(suite, suite_path.read_text(), specs, plugins, out)


@dataclass
class SweepOutcome:
    output: Path
    results: dict[str, str]  # run_id → status, for every run of the suite
    executed: int
    reports: list[Path]

    @property
    def exit_code(self) -> int:
        return 1 if any(s in FAILED_STATUSES for s in self.results.values()) else 0


def execute_sweep(prepared: PreparedSweep, plan: list[PlannedRun], executor: str = "local",
                  on_start: Callable[[RunSpec], None] = lambda s: None,
                  on_end: Callable[[RunSpec, RunResult], None] = lambda s, r: None) -> SweepOutcome:
    if executor != "local":
        raise UsageError(f"executor {executor!r} is not available in this version; use --executor local")
    prepared.output.mkdir(parents=True, exist_ok=True)
    executed = sum(p.action == "run" for p in plan)
    with ResultStore(prepared.output / STORE_NAME) as store:
        store.set_meta("suite_name", prepared.suite.name)
        store.set_meta("suite_yaml", prepared.suite_text)
        with LocalExecutor(prepared.plugins, prepared.suite.limits.timeout_s,
                           log_path=prepared.output / "worker.log") as ex:
            run_planned(plan, store, ex, prepared.suite.name, on_start, on_end)
        statuses = store.statuses()
    reports = render_reports(prepared.output)
    return SweepOutcome(prepared.output, {s.run_id: statuses[s.run_id] for s in prepared.specs}, executed, reports)
