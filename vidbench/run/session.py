"""A whole `vidbench run`: load and check the suite, plan, execute, store, render — as one library call."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from vidbench.errors import UsageError
from vidbench.run.executor_choice import EXECUTORS, check_executor  # noqa: F401 (re-exported)
from vidbench.run.executors import LocalExecutor, WorkerProcess
from vidbench.run.lock import FolderLock
from vidbench.run.policy import FAILED_STATUSES
from vidbench.run.sweep import PlannedRun, plan_runs, run_planned
from vidbench.store.record import RunResult
from vidbench.store.sqlite import STORE_NAME, ResultStore
from vidbench.suite import RunSpec, Suite, expand_suite, load_suite
from vidbench.suite.plugins import import_plugins, resolve_plugins



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
        return plan_runs(self.specs, self.stored_statuses(), rerun_failed, force, self.output)


def prepare_sweep(suite_path: str | Path, output: str | Path | None = None,
                  suite: Suite | None = None) -> PreparedSweep:
    """Everything that can go wrong with the suite goes wrong here, before anything is run or written.
    `suite`: the file already loaded and validated (the CLI does that before importing torch)."""
    suite_path = Path(suite_path)
    suite = suite or load_suite(suite_path)
    plugins = resolve_plugins(suite.plugins, suite_path.parent)
    import_plugins(plugins)
    specs = expand_suite(suite, suite_path.parent.resolve())
    out = Path(output or suite.output or Path("reports") / suite.name)
    if out.exists() and not out.is_dir():
        raise UsageError(f"output {str(out)!r} exists and is not a folder")
    return PreparedSweep(suite, suite_path.read_text(), specs, plugins, out)


@dataclass
class SweepOutcome:
    output: Path
    results: dict[str, str | None]  # run_id → status (None: not run), for every run of the suite
    executed: int
    reports: list[Path]
    stopped_devices: list[str]
    report_error: str | None = None

    @property
    def exit_code(self) -> int:
        failed = any(s in FAILED_STATUSES for s in self.results.values())
        return 1 if failed or self.stopped_devices or self.report_error else 0


def make_executor(kind: str, prepared: PreparedSweep, address: str | None = None,
                  spare: WorkerProcess | None = None):
    """`spare`: a local worker started early (`WorkerProcess.spare`), taken by the first device that runs."""
    check_executor(kind, address)
    limits = prepared.suite.limits
    common = dict(plugins=prepared.plugins, timeout_s=limits.timeout_s, log_dir=prepared.output,
                  oom_retries=limits.oom_retries, max_consecutive_failures=limits.max_consecutive_failures)
    if kind == "local":
        return LocalExecutor(**common, spare=spare)
    if spare is not None:
        spare.kill()
    from vidbench.run.ray_executor import RayExecutor

    return RayExecutor(**common, address=address)


def _report_renderer() -> tuple[Callable[[Path], list[Path]] | None, str | None]:
    """`render_reports`, imported (matplotlib, pandas: half a second) before the runs, while the workers
    start; or, when it cannot be imported, why (the runs go on: it is the sweep's report error)."""
    try:
        from vidbench.report import render_reports
    except Exception as e:
        return None, f"{type(e).__name__}: {e}"
    return render_reports, None


def execute_sweep(prepared: PreparedSweep, plan: list[PlannedRun], executor: str = "local",
                  address: str | None = None, on_start: Callable[[RunSpec], None] = lambda s: None,
                  on_end: Callable[[RunSpec, RunResult], None] = lambda s, r: None,
                  spare: WorkerProcess | None = None) -> SweepOutcome:
    with make_executor(executor, prepared, address, spare) as ex:  # before anything is written: it may refuse
        prepared.output.mkdir(parents=True, exist_ok=True)
        executed = 0

        def finished(spec: RunSpec, result: RunResult) -> None:
            nonlocal executed
            executed += 1
            on_end(spec, result)

        with FolderLock(prepared.output), ResultStore(prepared.output / STORE_NAME) as store:
            store.set_meta("suite_name", prepared.suite.name)
            store.set_meta("suite_yaml", prepared.suite_text)
            render, report_error = _report_renderer()  # while the workers start
            stopped = run_planned(plan, store, ex, prepared.suite.name, on_start, finished)
            statuses = store.statuses()
            reports = []
            if render is not None:
                try:
                    reports = render(prepared.output)
                except Exception as e:  # every result is stored already; the reports can be rendered again
                    report_error = f"{type(e).__name__}: {e}"
    return SweepOutcome(prepared.output, {s.run_id: statuses.get(s.run_id) for s in prepared.specs}, executed,
                        reports, stopped, report_error)
