"""Running a list of RunSpecs into a run folder (`Session`: lock, plan against the store, execute, store),
rendering it (`render_folder`), and a whole `vidbench run` of a suite file on top of them (`prepare_sweep`,
`execute_sweep`). A producer of runs without a suite file (tests, a `tune` command) uses the session alone."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from vidbench.admission import admit_suite
from vidbench.errors import UsageError
from vidbench.run.executor_choice import EXECUTORS, check_executor  # noqa: F401 (re-exported)
from vidbench.run.executors import LocalExecutor, WorkerProcess
from vidbench.run.lock import FolderLock
from vidbench.run.policy import FAILED_STATUSES
from vidbench.run.sweep import Executor, PlannedRun, plan_runs, run_planned
from vidbench.store.protocol import RunStore
from vidbench.store.record import RunResult
from vidbench.store.sqlite import STORE_NAME, ResultStore
from vidbench.suite import RunSpec, Suite, load_suite
from vidbench.suite.plugins import import_plugins, resolve_plugins
from vidbench.suite.schema import Limits

OnStart = Callable[[RunSpec], None]
OnEnd = Callable[[RunSpec, RunResult], None]
OnPhase = Callable[[RunSpec, str], None]  # a running run and what it is doing now ('training epoch 3/20')


@dataclass
class SessionOutcome:
    output: Path
    results: dict[str, str | None]  # run_id → status (None: not run), for every run of the plan
    executed: int
    stopped_devices: list[str]

    @property
    def exit_code(self) -> int:
        failed = any(s in FAILED_STATUSES for s in self.results.values())
        return 1 if failed or self.stopped_devices else 0


class Session:
    """Runs RunSpecs into the run folder `output`, whoever made them. Inside `with session:` the folder is
    locked and its store open; `store` (any RunStore, kept open by its owner) replaces the folder's SQLite
    file. `name` is the suite column of the rows written, `meta` the store's meta keys."""

    def __init__(self, output: str | Path, store: RunStore | None = None, name: str = "",
                 meta: dict[str, str] | None = None):
        self.output, self.name, self.meta = Path(output), name, dict(meta or {})
        self._given, self._store, self._lock = store, None, None

    def stored_statuses(self) -> dict[str, str]:
        """Stored statuses, read without creating anything (a dry run writes nothing)."""
        store = self._store or self._given
        if store is not None:
            return store.statuses()
        if not (self.output / STORE_NAME).is_file():
            return {}
        with ResultStore.open_existing(self.output) as opened:
            return opened.statuses()

    def plan(self, specs: list[RunSpec], rerun_failed: bool = False, force: bool = False) -> list[PlannedRun]:
        return plan_runs(specs, self.stored_statuses(), rerun_failed, force, self.output)

    def __enter__(self) -> "Session":
        self.output.mkdir(parents=True, exist_ok=True)
        self._lock = FolderLock(self.output).__enter__()
        try:
            self._store = self._given or ResultStore(self.output / STORE_NAME)
            for key, value in self.meta.items():
                self._store.set_meta(key, value)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self._store is not None and self._store is not self._given:
            self._store.close()
        self._store = None
        if self._lock is not None:
            self._lock.__exit__()
            self._lock = None

    def meta_value(self, key: str) -> str | None:
        """A value of the open store's metadata (inside `with session:`)."""
        return self._store.get_meta(key) if self._store is not None else None

    def set_meta_value(self, key: str, value: str) -> None:
        if self._store is not None:
            self._store.set_meta(key, value)

    def execute(self, plan: list[PlannedRun], executor: Executor, on_start: OnStart = lambda s: None,
                on_end: OnEnd = lambda s, r: None, on_phase: OnPhase = lambda s, text: None) -> SessionOutcome:
        """Run the plan's runs to do, storing each result as it ends (inside `with session:`)."""
        if self._store is None:
            raise RuntimeError("Session.execute runs inside `with session:` (the folder locked, its store open)")
        executed = 0

        def finished(spec: RunSpec, result: RunResult) -> None:
            nonlocal executed
            executed += 1
            on_end(spec, result)

        stopped = run_planned(plan, self._store, executor, self.name, on_start, finished, on_phase)
        statuses = self._store.statuses()
        return SessionOutcome(self.output, {p.spec.run_id: statuses.get(p.spec.run_id) for p in plan}, executed,
                              stopped)

    def run(self, specs: list[RunSpec], executor: Executor, rerun_failed: bool = False, force: bool = False,
            on_start: OnStart = lambda s: None, on_end: OnEnd = lambda s, r: None) -> SessionOutcome:
        """Lock the folder, plan `specs` against its store, execute and store: the whole session."""
        with self:
            return self.execute(self.plan(specs, rerun_failed, force), executor, on_start, on_end)


def _limit_args(limits: Limits | None) -> dict:
    limits = limits or Limits()
    return dict(timeout_s=limits.timeout_s, oom_retries=limits.oom_retries,
                max_consecutive_failures=limits.max_consecutive_failures)


def local_executor(log_dir: Path | None, plugins: list[str] | None = None, limits: Limits | None = None,
                   spare: WorkerProcess | None = None) -> LocalExecutor:
    """Warm worker processes on this machine, under `limits` (the suite's, or the schema's defaults)."""
    return LocalExecutor(plugins=list(plugins or []), log_dir=log_dir, spare=spare, **_limit_args(limits))


def _report_renderer() -> tuple[Callable[[Path], list[Path]] | None, str | None]:
    """`render_reports`, imported (matplotlib, pandas: half a second) before the runs, while the workers
    start; or, when it cannot be imported, why (the runs go on: it is the sweep's report error)."""
    try:
        from vidbench.report import render_reports
    except Exception as e:
        return None, f"{type(e).__name__}: {e}"
    return render_reports, None


def render_folder(output: Path, renderer: tuple[Callable[[Path], list[Path]] | None, str | None] | None = None
                  ) -> tuple[list[Path], str | None]:
    """The reports rendered into the run folder from its store, and why rendering failed (None: it did not):
    every result is stored already, so a failure is reported, not raised. `renderer`: `_report_renderer()`
    called earlier."""
    render, error = renderer or _report_renderer()
    if render is None:
        return [], error
    try:
        return render(output), None
    except Exception as e:
        return [], f"{type(e).__name__}: {e}"


# -- a suite file: `vidbench run` ------------------------------------------------------------------------
@dataclass
class PreparedSweep:
    suite: Suite
    suite_text: str
    specs: list[RunSpec]
    plugins: list[str]
    output: Path

    def session(self) -> Session:
        return Session(self.output, name=self.suite.name,
                       meta={"suite_name": self.suite.name, "suite_yaml": self.suite_text})

    def stored_statuses(self) -> dict[str, str]:
        """Stored statuses, read without creating anything (a dry run writes nothing)."""
        return self.session().stored_statuses()

    def plan(self, rerun_failed: bool = False, force: bool = False) -> list[PlannedRun]:
        return self.session().plan(self.specs, rerun_failed, force)


def prepare_sweep(suite_path: str | Path, output: str | Path | None = None,
                  suite: Suite | None = None) -> PreparedSweep:
    """Everything that can go wrong with the suite goes wrong here, before anything is run or written.
    `suite`: the file already loaded and validated (the CLI does that before importing torch)."""
    suite_path = Path(suite_path)
    suite = suite or load_suite(suite_path)
    plugins = resolve_plugins(suite.plugins, suite_path.parent)
    import_plugins(plugins)
    specs = admit_suite(suite, suite_path.parent.resolve())
    out = Path(output or suite.output or Path("reports") / suite.name)
    if out.exists() and not out.is_dir():
        raise UsageError(f"output {str(out)!r} exists and is not a folder")
    return PreparedSweep(suite, suite_path.read_text(), specs, plugins, out)


@dataclass
class SweepOutcome(SessionOutcome):
    reports: list[Path] = field(default_factory=list)
    report_error: str | None = None

    @property
    def exit_code(self) -> int:
        return 1 if super().exit_code or self.report_error else 0


def make_executor(kind: str, prepared: PreparedSweep, address: str | None = None,
                  spare: WorkerProcess | None = None):
    """`spare`: a local worker started early (`WorkerProcess.spare`), taken by the first device that runs."""
    check_executor(kind, address)
    if kind == "local":
        return local_executor(prepared.output, prepared.plugins, prepared.suite.limits, spare)
    if spare is not None:
        spare.kill()
    from vidbench.run.ray_executor import RayExecutor

    return RayExecutor(plugins=prepared.plugins, log_dir=prepared.output, address=address,
                       node_retries=prepared.suite.limits.node_retries, **_limit_args(prepared.suite.limits))


def execute_sweep(prepared: PreparedSweep, plan: list[PlannedRun], executor: str = "local",
                  address: str | None = None, on_start: OnStart = lambda s: None,
                  on_end: OnEnd = lambda s, r: None, spare: WorkerProcess | None = None,
                  on_phase: OnPhase = lambda s, text: None) -> SweepOutcome:
    """The prepared suite's plan run through its session, then rendered (inside the lock, as one sweep)."""
    with make_executor(executor, prepared, address, spare) as ex:  # before anything is written: it may refuse
        with prepared.session() as session:
            renderer = _report_renderer()  # while the workers start
            outcome = session.execute(plan, ex, on_start, on_end, on_phase)
            reports, report_error = _render_if_changed(prepared, session, outcome.executed, renderer)
    return SweepOutcome(**vars(outcome), reports=reports, report_error=report_error)


REPORTS = ("report.md", "report.html")
RENDERED_KEY = "rendered_for"  # the store's metadata key: what the reports in the folder were rendered from


def _rendered_for(prepared: PreparedSweep) -> str:
    """What a rendering depends on besides the runs: vidbench (version and checkout) and the suite file."""
    import hashlib

    from vidbench.run.env import git_commit, package_version

    text = "\n".join([package_version("vidbench") or "", git_commit() or "", prepared.suite_text])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _render_if_changed(prepared: PreparedSweep, session: Session, executed: int, renderer
                       ) -> tuple[list[Path], str | None]:
    """The reports rendered again only when a run was stored, the suite file or vidbench changed, or a report is
    missing: a sweep with nothing to do returns at once (`vidbench report` always renders)."""
    key = _rendered_for(prepared)
    existing = [prepared.output / name for name in REPORTS]
    if not executed and session.meta_value(RENDERED_KEY) == key and all(p.is_file() for p in existing):
        return existing, None
    reports, error = render_folder(prepared.output, renderer)
    if error is None:
        session.set_meta_value(RENDERED_KEY, key)
    return reports, error
