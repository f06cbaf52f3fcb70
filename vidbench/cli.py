"""The `vidbench` command: thin typer commands that parse, call the library and print.

Errors a user can cause become one line on stderr and the exit code README.md documents ("Exit codes"), here and only here.
"""

from __future__ import annotations

import atexit
import functools
import gc
import json
import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from vidbench.errors import UsageError, VidbenchError, require_folder
from vidbench.models.families import FAMILIES as MODEL_FAMILIES  # declared once; imports no torch

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Benchmark and ablate video understanding models.")
out = Console(soft_wrap=True)
if not out.is_terminal:  # piped output: no wrapping of wide tables to a guessed 80 columns
    out = Console(soft_wrap=True, width=250)
err = Console(stderr=True, soft_wrap=True)


def _version(value: bool) -> None:
    if value:
        from vidbench import __version__

        print(f"vidbench {__version__}")
        raise typer.Exit(0)


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print vidbench's version and exit.")) -> None:
    """Benchmark and ablate video understanding models."""


def _add_row(table: Table, *cells, **kwargs) -> None:
    """A table row shown as written: model variants like 'c3d_tiny[weights=…]' are not rich markup."""
    table.add_row(*(Text(c) if isinstance(c, str) else c for c in cells), **kwargs)


def cli_errors(fn):
    """A VidbenchError is the user's mistake: one line, its exit code, no traceback. Ctrl-C exits 130."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except VidbenchError as e:
            err.print(f"[red]error:[/red] {escape(str(e))}", highlight=False)
            raise typer.Exit(e.exit_code) from None
        except KeyboardInterrupt:
            err.print("interrupted: finished runs are kept in the store")
            raise typer.Exit(130) from None

    return wrapper


MAX_SUMMARY_ROWS = 40  # finished runs listed at the end of `vidbench run`; the report has them all
# Short headers of the closing summary's figures.
SHORT_HEADERS = {"params": "params", "gmacs": "GMACs", "peak_mem_mb": "peak MiB", "latency_ms_p50": "p50 ms",
                 "throughput_clips_s": "clips/s", "train_throughput_clips_s": "train clips/s", "top1": "top-1 %",
                 "data_throughput_clips_s": "data clips/s", "energy_j_per_clip": "J/clip"}
REPORT_FORMATS = ("html", "md")  # vidbench.report.render.FORMATS, without importing matplotlib to check


class TableFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


class ResultsFormat(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"
    md = "md"
    parquet = "parquet"


def _print_records(records: list[dict], fmt: str, title: str, wide_columns: tuple[str, ...] = ()) -> None:
    """JSON and CSV get every column; the terminal table leaves out the `wide_columns`."""
    if fmt == "json":
        print(json.dumps(records, indent=2, default=str))
        return
    import pandas as pd

    frame = pd.DataFrame(records)
    if fmt == "csv":
        sys.stdout.write(frame.to_csv(index=False))
        return
    from vidbench.report.tables import format_value

    frame = frame.drop(columns=[c for c in wide_columns if c in frame.columns])
    table = Table(title=title)
    for col in frame.columns:
        table.add_column(col, justify="right" if frame[col].dtype.kind in "if" else "left")
    for row in records:
        _add_row(table, *(format_value(row[c]) for c in frame.columns))
    out.print(table)


@app.command()
@cli_errors
def run(
    suite: Path = typer.Argument(..., help="The suite file (YAML)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Run folder (default reports/<name>)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the expanded runs and which are done; run nothing."),
    rerun_failed: bool = typer.Option(False, "--rerun-failed", help="Run again the runs stored as failed."),
    force: bool = typer.Option(False, "--force", help="Run every run again, finished or not."),
    executor: str = typer.Option("local", "--executor", help="local or ray."),
    address: Optional[str] = typer.Option(None, "--address", help="Ray cluster address (with --executor ray)."),
    as_json: bool = typer.Option(False, "--json", help="Print the outcome as JSON."),
):
    """Validate the suite, expand the grid, run every run not already finished, store, render reports."""
    from vidbench.run.executor_choice import check_executor
    from vidbench.suite.schema import load_suite

    check_executor(executor, address)
    loaded = load_suite(suite)  # a malformed suite fails here, before torch is imported
    # A spare worker starts now, before this process imports torch: its imports (torch, the runner) run while
    # the suite is expanded here. The first device that runs takes it; a dry run never starts one.
    spare = None
    if not dry_run and executor == "local":
        from vidbench.run.executors import WorkerProcess

        spare = WorkerProcess.spare()
    try:
        from vidbench.run.session import prepare_sweep

        prepared = prepare_sweep(suite, output, loaded)
        plan = prepared.plan(rerun_failed, force)
        if dry_run:
            _print_plan(prepared, plan, as_json)
            return
        todo = sum(p.action == "run" for p in plan)
        if not as_json:
            out.print(f"{prepared.suite.name}: {len(plan)} runs, {len(plan) - todo} already finished, "
                      f"{todo} to run → {prepared.output}", highlight=False)
        outcome = _execute_with_progress(prepared, plan, todo, as_json, executor, address, spare)
        if as_json:
            print(json.dumps({"output": str(outcome.output), "executed": outcome.executed, "runs": outcome.results,
                              "stopped_devices": outcome.stopped_devices, "reports": [str(p) for p in outcome.reports],
                              "report_error": outcome.report_error},
                             indent=2))
        else:
            counts: dict[str, int] = {}
            for s in outcome.results.values():
                counts[s or "not run"] = counts.get(s or "not run", 0) + 1
            out.print(", ".join(f"{n} {s}" for s, n in sorted(counts.items())), highlight=False)
            if outcome.report_error:
                err.print(f"error: rendering the reports failed ({outcome.report_error}); every result is stored: "
                          f"run `vidbench report {outcome.output}` again", highlight=False, markup=False)
            for device in outcome.stopped_devices:
                err.print(f"stopped {device}: limits.max_consecutive_failures "
                          f"({prepared.suite.limits.max_consecutive_failures}) failed runs in a row", highlight=False)
            _print_finished(prepared)
            for p in outcome.reports:
                out.print(f"report: {p}", highlight=False)
        raise typer.Exit(outcome.exit_code)
    finally:
        if spare is not None:  # not taken (an error, nothing to run): stopped; taken: already stopped
            spare.kill()


def _describe(spec) -> str:
    args = "".join(f" {k}={v}" for k, v in spec.model_args.items())
    return (f"{spec.model}{args} · {spec.dataset} · {spec.resolution_label}px · T={spec.clip_length} · "
            f"bs={spec.batch_size} · {spec.device} · {spec.precision}" +
            ("" if spec.runtime == "eager" else f" · {spec.runtime}") +
            (f" · serving {spec.serving['pipeline']}" if spec.serving.get("pipeline") else ""))


def _print_plan(prepared, plan, as_json: bool) -> None:
    def state(p):
        if p.action == "done":
            return p.stored_status
        return f"skip ({p.reason})" if p.reason else ("rerun" if p.stored_status else "pending")

    if as_json:
        print(json.dumps([{"run_id": p.spec.run_id, **p.spec.to_dict(), "state": state(p)} for p in plan],
                         indent=2, default=str))
        return
    from vidbench.axes import AXES

    table = Table(title=f"{prepared.suite.name}: {len(plan)} runs → {prepared.output}")
    for col in ("run_id", "model", "args", "dataset", *(a.short for a in AXES), "state"):
        table.add_column(col)
    for p in plan:
        s = p.spec
        _add_row(table, s.run_id, s.model, json.dumps(s.model_args) if s.model_args else "", s.dataset,
                      *(a.cell(getattr(s, a.name)) for a in AXES), state(p))
    out.print(table)


class _SkipGroups:
    """Runs skipped for one reason on one device, said once ('16 runs on cuda skipped: CUDA is not
    available…') instead of a line each: flushed before the next printed line and at the end."""

    def __init__(self, say):
        self.say, self.groups = say, {}

    def add(self, spec, result) -> None:
        key = (spec.device, result.error or "")
        self.groups[key] = self.groups.get(key, 0) + 1

    def flush(self) -> None:
        for (device, reason), n in self.groups.items():
            self.say(f"{n} run{'s' if n > 1 else ''} on {device} skipped: {reason}")
        self.groups = {}


def _execute_with_progress(prepared, plan, todo: int, quiet: bool, executor: str, address: str | None,
                           spare=None):
    """Run the plan with a line per finished run (or a bar on a terminal), and the time left estimated from the
    finished runs' wall times."""
    from vidbench.run.eta import Eta
    from vidbench.run.session import execute_sweep

    eta = Eta(todo)
    if quiet or not out.is_terminal:
        on_end, skips = _line_per_run(todo, quiet, eta)
        outcome = execute_sweep(prepared, plan, executor, address, on_start=lambda spec: None, on_end=on_end,
                                spare=spare)
        skips.flush()
        return outcome

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.fields[eta]}"), console=out) as progress:
        task = progress.add_task("starting", total=todo, eta="")
        skips = _SkipGroups(lambda line: progress.console.print(line, highlight=False, markup=False))

        def on_start(spec):
            progress.update(task, description=_describe(spec))

        def on_phase(spec, text):  # what the running run is doing: converting, timing, training epoch k/n
            progress.update(task, description=f"{_describe(spec)} · {text}")

        def on_end(spec, result):
            if result.status == "skipped":
                skips.add(spec, result)
            else:
                skips.flush()
                if result.status != "ok":
                    progress.console.print(f"{_describe(spec)}: {result.status} {result.error or ''}",
                                           highlight=False, markup=False)
            eta.finished(result.status, result.duration_s)
            progress.update(task, advance=1, eta=eta.text())

        outcome = execute_sweep(prepared, plan, executor, address, on_start=on_start, on_end=on_end,
                                spare=spare, on_phase=on_phase)
        skips.flush()
        return outcome


def _line_per_run(todo: int, quiet: bool, eta):
    """(on_end, skip groups) printing one line per finished run, with the time left, for logs and pipes."""
    skips = _SkipGroups(lambda line: print(line, flush=True))
    done = [0]

    def on_end(spec, result):
        done[0] += 1
        eta.finished(result.status, result.duration_s)
        if quiet:
            return
        if result.status == "skipped":
            skips.add(spec, result)
            return
        skips.flush()
        msg = f"  {result.error}" if result.error else ""
        left = f" · {eta.text()}" if eta.text() else ""
        print(f"[{done[0]}/{todo}] {_describe(spec)}: {result.status} ({result.duration_s or 0:.1f} s){left}{msg}",
              flush=True)

    return on_end, skips


def _print_finished(prepared) -> None:
    """The key figures of the suite's finished runs, one line each (the metrics it asked for), so that the
    answer is on screen without opening the report."""
    from vidbench.metrics import columns_of
    from vidbench.report.frame import load_run_folder
    from vidbench.report.tables import _py, flag_notes, format_value, marked, unstable_marks

    ids = {s.run_id for s in prepared.specs}
    frame = load_run_folder(prepared.output, details=False).frame
    frame = frame[frame["run_id"].isin(ids) & (frame["status"] == "ok")]
    if frame.empty:
        return
    figures = [columns_of(m)[0] for m in prepared.suite.metrics]
    figures = [c for c in figures if frame[c].notna().any()]
    from vidbench.axes import AXES_BY_NAME
    from vidbench.report.frame import varying_axes

    table = Table(title=f"{len(frame)} finished run{'' if len(frame) == 1 else 's'}", title_justify="left")
    # every axis that tells two runs apart (runtime, precision, seed, dataset args...) besides the input
    varying = [c for c in varying_axes(frame, always=("batch_size", "device", "precision")) if c not in ("resolution",
                                                                                             "clip_length")]
    for name in ("model", "dataset", "input", *(AXES_BY_NAME[c].short if c in AXES_BY_NAME else c for c in varying)):
        table.add_column(name)
    for c in figures:
        table.add_column(SHORT_HEADERS.get(c, c), justify="right")
    shown = frame.sort_values(["dataset", "device", "variant", "side", "clip_length", "seed"], kind="stable")
    shown = shown.head(MAX_SUMMARY_ROWS)
    marks = {c: unstable_marks(shown, c) for c in figures}
    for i, (_, r) in enumerate(shown.iterrows()):
        _add_row(table, r["variant"], r["dataset"], f"{r['resolution']}px × {r['clip_length']}",
                 *(format_value(_py(r[c])) for c in varying),
                 *(marked(format_value(_py(r[c])), marks[c][i]) for c in figures))
    out.print(table)
    if any(any(m) for m in marks.values()):
        for note in flag_notes(shown):
            out.print(note, highlight=False)
    if len(frame) > MAX_SUMMARY_ROWS:
        out.print(f"… and {len(frame) - MAX_SUMMARY_ROWS} more in the report", highlight=False)


@app.command()
@cli_errors
def models(
    pattern: Optional[str] = typer.Argument(None, help="Glob on model names, e.g. 'r*_18'."),
    family: Optional[str] = typer.Option(None, "--family", help=f"{', '.join(MODEL_FAMILIES[:-1])} or {MODEL_FAMILIES[-1]}."),
    fmt: TableFormat = typer.Option(TableFormat.table, "--format", help="table, json or csv."),
    as_json: bool = typer.Option(False, "--json", help="JSON with every field (as --format json)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Count every model again; read and write no cache."),
):
    """The model registry: params and GMACs per clip at each model's default input (counted on the meta
    device), and published Kinetics-400 top-1 at its published test protocol with the GMACs per video."""
    from vidbench.models_listing import model_records, select

    if family is not None and family not in MODEL_FAMILIES:
        raise UsageError(f"--family must be one of {', '.join(MODEL_FAMILIES)}, not {family!r}")
    records = select(model_records(use_cache=not no_cache), pattern, family)
    if not records:
        raise UsageError(f"no registered model matches {pattern!r}" + (f" in family {family!r}" if family else ""))
    if as_json or fmt is TableFormat.json:
        print(json.dumps(records, indent=2))
        return
    rows = [_model_row(r) for r in records]
    _print_records(rows, fmt.value, "models (GMACs: one clip at the default input, 400 classes; published: "
                                    "Kinetics-400 top-1 at the published views, with its GMACs per video)",
                   wide_columns=("paper", "published_source"))


def _model_row(record: dict) -> dict:
    """One model as the table and CSV show it: its first published Kinetics-400 result beside its cost."""
    first = None if record["primary"] is None else record["published"][record["primary"]]
    return {"name": record["name"], "family": record["family"], "arch": record["arch"], "params": record["params"],
            "gmacs": round(record["gmacs"], 3), "input": record["input"],
            "published_top1": None if first is None else first["top1"],
            "published_views": None if first is None else f"{first['clips']}x{first['crops']}",
            "published_input": None if first is None else first["input"],
            "gmacs_per_video": None if first is None else round(first["gmacs_per_video"], 1),
            "paper": record["paper"], "published_source": None if first is None else first["source"]}


@app.command()
@cli_errors
def datasets(fmt: TableFormat = typer.Option(TableFormat.table, "--format", help="table, json or csv.")):
    """The dataset registry."""
    from vidbench.data import dataset_info, list_datasets

    _print_records([{"name": n, "description": dataset_info(n).description,
                     "args": ", ".join(f"{k}={v}" for k, v in dataset_info(n).arguments().items())}
                    for n in list_datasets()], fmt.value, "datasets")


@app.command()
@cli_errors
def results(
    folder: Path = typer.Argument(..., help="A run folder."),
    fmt: ResultsFormat = typer.Option(ResultsFormat.table, "--format", help="table, csv, json, md or parquet."),
    output: Optional[Path] = typer.Option(None, "--output", "-o",
                                          help="Write to this file instead of stdout (required for parquet)."),
    aggregated: bool = typer.Option(False, "--aggregate",
                                    help="One row per configuration (seeds folded): mean, std, n, 95% interval."),
    to: Optional[str] = typer.Option(None, "--to", help="Log the runs to a tracker instead: mlflow."),
    tracking_uri: Optional[str] = typer.Option(None, "--tracking-uri",
                                               help="With --to mlflow: the tracking URI (default: MLflow's own)."),
):
    """The runs of a run folder, one row per run (or per configuration), on stdout (or --output FILE)."""
    from vidbench.report.frame import records_json, require_run_folder, write_parquet_frame
    from vidbench.report.tables import _py, format_value

    if to is not None:
        _results_to(folder, to, tracking_uri)
        return

    if fmt is ResultsFormat.parquet and output is None:
        raise UsageError("--format parquet writes a binary file: give it --output FILE")
    if output is not None and output.is_dir():
        raise UsageError(f"--output {output} is a directory; give a file name")
    if output is not None and fmt is ResultsFormat.table:
        raise UsageError("--output takes csv, json, md or parquet; the table is for the terminal")
    require_run_folder(folder)
    from vidbench.report.sections.columns import header

    table, unit, shown, columns = _results_view(folder, aggregated, fmt is ResultsFormat.table)
    headers = [header(c) for c in columns]
    if fmt is ResultsFormat.parquet:
        write_parquet_frame(table, output)
        err.print(f"{len(table)} {unit} → {output}", highlight=False)
        return
    if fmt is ResultsFormat.table:
        rich_table = Table(title=f"{folder}: {len(shown)} {unit}")
        for h in headers:
            rich_table.add_column(h)
        for _, row in shown.iterrows():
            _add_row(rich_table, *(format_value(_py(row[c])) for c in columns))
        out.print(rich_table)
        return
    from vidbench.report.tables import markdown_table

    text = {ResultsFormat.csv: lambda: table.to_csv(index=False), ResultsFormat.json: lambda: records_json(table) + "\n",
            ResultsFormat.md: lambda: markdown_table(shown, columns, headers) + "\n"}[fmt]()
    if output is not None:
        output.write_text(text)
    else:
        sys.stdout.write(text)


def _results_to(folder: Path, to: str, tracking_uri: str | None) -> None:
    """`results --to mlflow`: every run logged to the tracker, one line said."""
    if to != "mlflow":
        raise UsageError(f"--to takes mlflow, not {to!r}")
    from vidbench.report.frame import require_run_folder

    require_run_folder(folder)
    from vidbench.export.mlflow import export_folder

    done = export_folder(folder, tracking_uri)
    err.print(f"{done['logged']} runs logged to MLflow experiment {done['experiment']!r}"
              + (f" ({done['already']} logged before)" if done["already"] else "")
              + (f" at {tracking_uri}" if tracking_uri else ""), highlight=False, markup=False)


def _results_view(folder: Path, aggregated: bool, terminal: bool):
    """What `results` writes (the export), what it shows as a table, and that table's columns: on the terminal,
    the runs' headline figures after every axis that tells two runs apart; in Markdown, every column."""
    from vidbench.report.frame import export_frame, load_run_folder

    if aggregated:
        from vidbench.report.aggregate import aggregate, aggregate_rows, export_aggregate

        configs = aggregate(load_run_folder(folder).frame)
        shown = aggregate_rows(configs)
        return export_aggregate(configs), "configurations", shown, list(shown.columns)
    from vidbench.report.layout import result_columns

    frame = load_run_folder(folder, details=False).frame
    table = export_frame(frame)
    return table, "runs", frame, result_columns(frame) if terminal else list(table.columns)


@app.command()
@cli_errors
def report(
    folder: Path = typer.Argument(..., help="A run folder."),
    fmt: str = typer.Option("html,md", "--format", help="Comma-separated: html, md."),
):
    """Render the reports of a run folder again, from its store alone."""
    formats = tuple(f.strip() for f in fmt.split(",") if f.strip())
    if not formats or any(f not in REPORT_FORMATS for f in formats):
        raise UsageError(f"--format takes html and/or md, not {fmt!r}")
    from vidbench.report.frame import require_run_folder

    require_run_folder(folder)
    from vidbench.report.render import render_reports

    for path in render_reports(folder, formats):
        out.print(f"report: {path}", highlight=False)


@app.command()
@cli_errors
def compare(
    folder_a: Path = typer.Argument(..., help="The baseline run folder."),
    folder_b: Path = typer.Argument(..., help="The run folder compared with it."),
    threshold: float = typer.Option(5.0, "--threshold", help="Percent change that counts as a regression."),
    no_stats: bool = typer.Option(False, "--no-stats", help="The threshold alone decides (no significance test)."),
    same_env: bool = typer.Option(False, "--same-env",
                                  help="Count speed changes as regressions even when the environments differ."),
    fmt: str = typer.Option("table", "--format", help="table, md, html or csv."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write md, html or csv to this file."),
):
    """The same runs of two folders side by side; exit 1 when any metric regressed beyond the threshold."""
    from vidbench.report.compare import compare_folders
    from vidbench.report.compare_view import env_notice, render_html, summary

    if fmt not in ("table", "md", "html", "csv"):
        raise UsageError(f"--format takes table, md, html or csv, not {fmt!r}")
    if threshold < 0:
        raise UsageError(f"--threshold is a percentage ≥ 0, not {threshold:g}")
    if output is not None and fmt == "table":
        raise UsageError("--output takes md, html or csv; the table is for the terminal")
    result = compare_folders(folder_a, folder_b, threshold, stats=not no_stats, same_env=same_env)
    notice = env_notice(result)
    if notice:
        err.print(notice, highlight=False, markup=False)
    if fmt == "table":
        _print_comparison(result, f"{folder_a} → {folder_b}")
    else:
        text = {"csv": lambda: result.rows.to_csv(index=False), "md": lambda: _comparison_markdown(result),
                "html": lambda: render_html(result, folder_a, folder_b)}[fmt]()
        if output is not None:
            output.write_text(text)
        else:
            sys.stdout.write(text)
    err.print(summary(result), highlight=False)
    for method in sorted({m for m in result.rows["method"] if m}):
        err.print(f"test: {method}", highlight=False)
    raise typer.Exit(1 if result.regression_count else 0)


def _comparison_tables(result) -> list[tuple[str, object, list[str], str | None]]:
    """The comparison's tables, each (title, rows, columns, row style): the changes, the runs that broke,
    the runs in one folder only."""
    from vidbench.report.compare_view import (display_columns, display_rows, failed_columns, one_side_columns,
                                              one_side_tables)

    tables = [("", display_rows(result), display_columns(result), None)]
    if len(result.status_changes):
        tables.append(("runs ok in A that failed in B", result.status_changes, failed_columns(result), "red"))
    return tables + [(title, runs, one_side_columns(result), None) for title, runs in one_side_tables(result)]


def _print_comparison(result, title: str) -> None:
    from vidbench.report.compare_view import counted_line
    from vidbench.report.tables import _py, format_value

    for i, (name, rows, columns, style) in enumerate(_comparison_tables(result)):
        table = Table(title=name or title)
        for c in columns:
            table.add_column(c)
        for _, r in rows.iterrows():
            red = style or ("red" if i == 0 and r["regression"] else None)
            _add_row(table, *(format_value(_py(r[c])) for c in columns), style=red)
        out.print(table)
    if counted_line(result):
        out.print(counted_line(result), highlight=False, markup=False)


def _comparison_markdown(result) -> str:
    from vidbench.report.compare_view import counted_line
    from vidbench.report.tables import markdown_table

    text = ""
    for name, rows, columns, _ in _comparison_tables(result):
        text += (f"\n{name[0].upper()}{name[1:]}:\n\n" if name else "") + markdown_table(rows, columns) + "\n"
    line = counted_line(result)
    return text + (f"\n{line}.\n" if line else "")


@app.command()
@cli_errors
def env(as_json: bool = typer.Option(False, "--json", help="Print as JSON.")):
    """The environment fingerprint (torch, CUDA, CPU, decoder backends), each device type (available or why not)
    and each runtime with its package's version (or what to install)."""
    from vidbench.run import inventory
    from vidbench.run.env import environment

    data = {**environment(), "devices": inventory.devices(), "runtimes": inventory.runtimes()}
    if as_json:
        print(json.dumps(data, indent=2, default=str))
        return
    table = Table(show_header=False)
    for k, v in data.items():
        if isinstance(v, dict):
            v = "\n".join(f"{name}: {value}" for name, value in v.items())
        _add_row(table, k, json.dumps(v) if isinstance(v, list) else str(v))
    out.print(table)


data_app = typer.Typer(help="Video dataset tools.", no_args_is_help=True)
app.add_typer(data_app, name="data")


@data_app.command("check")
@cli_errors
def data_check(
    root: Path = typer.Argument(..., help="A folder of videos (searched recursively)."),
    decoder: str = typer.Option("pyav", "--decoder", help="pyav, torchcodec or auto."),
):
    """List every unreadable video under ROOT with the reason; exit 1 if there is any, 0 if none."""
    require_folder(root)  # before the decoders (and torch) are imported
    from vidbench.data.check import check_videos

    bad = check_videos(root, decoder=decoder)
    for path, reason in bad:
        print(f"{path}: {reason}")
    err.print(f"{len(bad)} unreadable video(s) under {root}", highlight=False)
    raise typer.Exit(1 if bad else 0)


def main() -> None:
    # At exit, the interpreter's last garbage collection would walk every object torch, pandas and matplotlib
    # keep (~0.4 s, for memory the process hands back anyway): frozen, they are left out of it. Exit
    # handlers and the modules' own cleanup still run.
    atexit.register(gc.freeze)
    app()
