"""The Python face of `vidbench run` and `vidbench results`: a suite (a file or a dict) run into a folder,
and a folder's results as a DataFrame with the columns `vidbench results --format csv` prints, so a notebook
and a script read the same table the CLI writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd


def load_results(folder: str | Path, aggregate: bool = False) -> pd.DataFrame:
    """One row per run (the CSV export's columns), or with `aggregate` one per configuration, seeds folded
    (the columns of `vidbench results --aggregate --format csv`). A folder without a store: UsageError."""
    from vidbench.report.frame import export_frame, load_run_folder

    if not aggregate:
        return export_frame(load_run_folder(folder, details=False).frame).reset_index(drop=True)
    from vidbench.report.aggregate import aggregate as fold, export_aggregate

    return export_aggregate(fold(load_run_folder(folder).frame)).reset_index(drop=True)


def run_suite(suite: str | Path | dict[str, Any], output: str | Path | None = None, *, executor: Any = "local",
              address: str | None = None, rerun_failed: bool = False, force: bool = False,
              base_dir: str | Path | None = None) -> pd.DataFrame:
    """Run a suite as `vidbench run` does (resume by default) and return `load_results(output)`; the
    DataFrame's `attrs` hold `output`, `exit_code` (0, or 1 when a run failed), `reports` and `report_error`.
    A dict is a suite file's content; its relative paths resolve against `base_dir` (default: the current
    folder). `executor`: "local", "ray" (with `address`), or any object with the executor's `execute(specs)`.
    A bad suite raises the CLI's error (a `VidbenchError`) before anything runs."""
    from vidbench.run.session import execute_sweep, render_folder

    prepared = _prepared(suite, output, base_dir)
    plan = prepared.plan(rerun_failed, force)
    if isinstance(executor, str):
        outcome = execute_sweep(prepared, plan, executor, address)
        reports, error, code = outcome.reports, outcome.report_error, outcome.exit_code
    else:
        with prepared.session() as session:
            outcome = session.execute(plan, executor)
            reports, error = render_folder(prepared.output)
        code = 1 if outcome.exit_code or error else 0
    frame = load_results(prepared.output)
    frame.attrs.update(output=prepared.output, exit_code=code, reports=reports, report_error=error)
    return frame


def _prepared(suite: str | Path | dict[str, Any], output: str | Path | None, base_dir: str | Path | None):
    """`prepare_sweep` for a file; for a dict, the same steps on the parsed content."""
    from vidbench.run.session import PreparedSweep, prepare_sweep

    if not isinstance(suite, dict):
        return prepare_sweep(suite, output)
    import yaml

    from vidbench.admission import admit_suite
    from vidbench.errors import UsageError
    from vidbench.suite.plugins import import_plugins, resolve_plugins
    from vidbench.suite.schema import parse_suite

    base = Path(base_dir or ".").resolve()
    parsed = parse_suite(suite, "suite")
    plugins = resolve_plugins(parsed.plugins, base)
    import_plugins(plugins)
    specs = admit_suite(parsed, base)
    out = Path(output or parsed.output or Path("reports") / parsed.name)
    if out.exists() and not out.is_dir():
        raise UsageError(f"output {str(out)!r} exists and is not a folder")
    return PreparedSweep(parsed, yaml.safe_dump(suite, sort_keys=False), specs, plugins, out)
