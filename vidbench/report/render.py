"""Render report.html (self-contained: inline SVG, CSS and JS) and report.md (+ plots/*.png).

Everything is computed once from the store (`analyse`), then written twice; the two reports say the
same things in the same order.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import yaml

from vidbench.report import analysis
from vidbench.report.aggregate import UNCERTAIN_COLUMNS, aggregate, aggregate_rows
from vidbench.report.frame import SHORT_UNITS, UNITS, RunFolder, load_run_folder
from vidbench.report.layout import held_fixed, held_fixed_text, run_columns
from vidbench.report.plots import Plot, build_figures, model_styles
from vidbench.report.published_chart import published_plots, section as published_section
from vidbench.report import runtimes as runtime_section
from vidbench.report.published_join import BUDGET_COLUMNS, BUDGET_NOTE, BUDGET_TITLE, PublishedView, published_view
from vidbench.report.published_join import NOTE as PUBLISHED_NOTE, RUN_COLUMNS as PUBLISHED_RUNS, SOURCE_COLUMNS
from vidbench.report.published_join import TITLE as PUBLISHED_TITLE
from vidbench.report.tables import Column, cells, formatted, markdown_columns
from vidbench.report.templating import templates

FORMATS = ("html", "md")
# The CLI's `vidbench results` table (the report's runs table is laid out by vidbench.report.layout).
MD_COLUMNS = (
    "variant", "family", "dataset", "resolution", "clip_length", "batch_size", "device", "status", "params",
    "gmacs", "peak_mem_mb", "latency_ms_p50", "throughput_clips_s", "train_throughput_clips_s", "top1",
)
FILTERS = ("model", "family", "dataset", "device", "status")  # the runs table's dropdowns (where runs differ)
SHORT_HEADERS = {"variant": "model"}
# The order runs are listed in (the store's order is the order they finished).
RUN_ORDER = ["dataset", "device", "family", "variant", "side", "clip_length", "batch_size", "precision"]
UNIT_NOTE = ("GMACs are multiply-accumulates of one clip at batch 1 (what torchvision and most papers call "
             "\"GFLOPs\"); GFLOPs = 2 × GMACs. Latency is one forward pass of a batch (ms); throughput is clips/s; "
             "peak memory is MiB held by tensors (CUDA allocator peak on a GPU, live-tensor peak on the CPU).")
DETAIL_KEYS = ("error_class", "exitcode", "oom_batch_sizes", "batch_size_run", "ray_error")


def header(column: str) -> str:
    return UNITS.get(column, SHORT_HEADERS.get(column, column))


def _fixed(digits: int):
    return formatted(f".{digits}f")


def _signed(v: float) -> str:
    return f"{v:+.2f}"


def _m(key: str, title: str | None = None) -> Column:
    return Column(key, title or SHORT_UNITS.get(key, header(key)))


REC_COLUMNS = [Column("kind", "rule"), Column("criterion", "criterion"), Column("choice", "choice"), Column("family", "family"),
               _m("top1"), _m("latency_ms_p50"), _m("throughput_clips_s"), _m("gmacs"), _m("peak_mem_mb"),
               Column("verdict", "against the runner-up")]
FRONT_COLUMNS = [Column("dataset", "dataset"), Column("device", "device"), Column("against", "top-1 against"),
                 Column("run", "run on the front"), Column("family", "family"), _m("top1"),
                 Column("value", "cost")]
FAMILY_COLUMNS = [Column("dataset", "dataset"), Column("device", "device"), Column("family", "family"),
                  Column("runs", "ok runs"), Column("models", "models"), Column("best_top1", "best top-1 (%)"),
                  Column("best_run", "best run"), Column("median_top1", "median top-1 (%)"),
                  Column("median_gmacs", "median GMACs"),
                  Column("median_throughput_clips_s", "median throughput (clips/s)"),
                  Column("median_latency_ms_p50", "median latency p50 (ms)"),
                  Column("median_peak_mem_mb", "median peak mem (MiB)")]
DEVICE_COLUMNS = [Column("variant", "model"), Column("family", "family"), Column("device", "device"),
                  Column("runs", "ok runs"), Column("median_throughput_clips_s", "median throughput (clips/s)"),
                  Column("median_latency_ms_p50", "median latency p50 (ms)"),
                  Column("median_peak_mem_mb", "median peak mem (MiB)"),
                  Column("speedup", "throughput × baseline", lambda v: f"{v:.2f}×"),
                  Column("matched", "matched runs"), Column("baseline", "baseline")]
PROBLEM_COLUMNS = [Column("variant", "model"), Column("dataset", "dataset"), Column("resolution", "px", sort="side"),
                   Column("clip_length", "T"), Column("batch_size", "batch"), Column("device", "device"),
                   Column("precision", "precision"), Column("status", "status"), Column("error", "reason")]


def display_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The runs in reading order, with their constructor args as text ('attention=joint')."""
    shown = frame.sort_values(RUN_ORDER, kind="stable", na_position="last") if len(frame) else frame
    args = [v[len(m) + 1:-1] if v != m else "" for v, m in zip(shown["variant"], shown["model"])]
    return shown.assign(args=args).reset_index(drop=True)


@dataclass
class Report:
    run: RunFolder
    runs: pd.DataFrame  # the runs in reading order
    plots: list[Plot]
    recommendations: pd.DataFrame
    rec_basis: str
    fronts: pd.DataFrame
    exponents: pd.DataFrame  # long
    scaling: pd.DataFrame  # wide
    families: pd.DataFrame
    devices: pd.DataFrame
    problems: pd.DataFrame
    uncertainty: pd.DataFrame  # one row per configuration: its figures with their intervals
    published: PublishedView | None = None  # full-size runs beside their models' published top-1
    runtimes: runtime_section.RuntimeView | None = None  # one setting under several runtimes
    held_fixed: str = ""  # the settings every run shares, as one line
    description: str = ""
    counts: dict = field(default_factory=dict)

    @property
    def scaling_columns(self) -> list[Column]:
        fixed = [Column("variant", "model"), Column("family", "family"), Column("device", "device")]
        return fixed + [Column(c, c + "b", _signed) for c in self.scaling.columns if c not in
                        ("variant", "family", "device")]

    def recommendation_groups(self) -> list[tuple[str, pd.DataFrame]]:
        recs = self.recommendations
        return [(f"{d} · {dev}", g) for (d, dev), g in recs.groupby(["dataset", "device"], sort=False)]

    def plots_in(self, section: str) -> list[Plot]:
        return [p for p in self.plots if p.section == section]


def uncertainty_table(configs: pd.DataFrame) -> pd.DataFrame:
    """Per configuration (replicates folded): its label, replicates, and each measured noisy figure with its
    interval as text."""
    if configs.empty:
        return pd.DataFrame()
    table = aggregate_rows(configs).assign(run=analysis.run_labels(configs).tolist())
    return table.sort_values(["dataset", "device", "run"], kind="stable").reset_index(drop=True)


def uncertainty_columns(table: pd.DataFrame) -> list[Column]:
    fixed = [Column("run", "configuration"), Column("dataset", "dataset"), Column("device", "device"),
             Column("replicates", "runs (seeds)")]
    return fixed + [_m(c) for c in table.columns if c in UNCERTAIN_COLUMNS]


def analyse(run: RunFolder) -> Report:
    frame = run.frame
    configs = aggregate(frame)
    exponents = analysis.scaling_exponents(frame)
    keys = analysis.recommendation_groups(frame)
    basis = ("Per dataset and device" + (" and batch size" if "batch_size" in keys else "") +
             ", among the ok runs with top-1, latency and throughput. Latency budgets are the nearest-rank "
             "25th, 50th and 75th percentiles and the maximum of the p50 latencies observed in that group "
             "(so each is a latency some run reached); the pick is the most accurate run within the budget. "
             "Accuracy floors are the same percentiles of the observed top-1, and 'best' is the highest top-1 "
             "reached; the pick is the run with the highest throughput at or above the floor. The Pareto set "
             "holds every run that no other run beats on both top-1 and throughput. Runs that differ only in "
             "seed count as one configuration (their mean top-1, their median timings). A pick is a winner only "
             "when its 95% interval does not overlap the runner-up's; otherwise it is tied with it.")
    description = ""
    if run.suite_yaml:
        try:
            description = str((yaml.safe_load(run.suite_yaml) or {}).get("description") or "").strip()
        except yaml.YAMLError:
            description = ""
    published = published_view(configs if len(configs) else frame)
    plots = build_figures(frame, exponents, configs)
    if published is not None:
        plots = published_plots(published.runs, model_styles(frame)) + plots
    runtimes = runtime_section.runtime_view(frame)
    if runtimes is not None:
        plots = plots + runtime_section.runtime_plots(runtimes)
    runs = display_frame(frame)
    return Report(
        run=run, runs=runs, plots=plots, published=published, runtimes=runtimes, held_fixed=held_fixed_text(held_fixed(runs)),
        recommendations=analysis.recommendations(configs) if len(configs) else analysis.recommendations(frame),
        rec_basis=basis, fronts=analysis.pareto_fronts(configs) if len(configs) else analysis.pareto_fronts(frame),
        exponents=exponents,
        scaling=analysis.scaling_table(exponents), families=analysis.family_summary(frame),
        devices=analysis.device_summary(frame), problems=display_frame(frame[frame["status"] != "ok"]),
        uncertainty=uncertainty_table(configs),
        description=description, counts=frame["status"].value_counts().to_dict(),
    )


def _figure_bytes(fig, fmt: str) -> bytes:
    """The figure as SVG or PNG, trimmed to what it draws. The trim box is measured once per figure
    (bbox_inches="tight" would lay the figure out again for every format)."""
    bbox = getattr(fig, "_vidbench_bbox", None)
    if bbox is None:
        bbox = fig._vidbench_bbox = fig.get_tightbbox(fig.canvas.get_renderer()).padded(0.08)
    buf = io.BytesIO()
    kwargs = {"metadata": {"Date": None, "Creator": None}} if fmt == "svg" else {}
    fig.savefig(buf, format=fmt, bbox_inches=bbox, dpi=110 if fmt == "png" else 72, **kwargs)
    return buf.getvalue()


def _inline_svg(svg: str, prefix: str) -> str:
    """The <svg> element alone, its ids prefixed so that several inline plots never share one."""
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}-{m.group(1)}"', svg)
    svg = re.sub(r'xlink:href="#([^"]+)"', lambda m: f'xlink:href="#{prefix}-{m.group(1)}"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}-{m.group(1)})", svg)
    return svg


def _details(detail: dict) -> dict:
    info = {k: detail[k] for k in DETAIL_KEYS if detail.get(k) not in (None, "", [])}
    tb = detail.get("traceback") or []
    return {"info": {k: v if isinstance(v, str) else json.dumps(v) for k, v in info.items()},
            "traceback": "\n".join(tb) if isinstance(tb, list) else str(tb)}


def _env_value(v) -> str:
    return json.dumps(v) if isinstance(v, dict | list) else ("" if v is None else str(v))


def _intro(report: Report) -> list[str]:
    counts = ", ".join(f"{n} {s}" for s, n in sorted(report.counts.items()))
    return [f"{len(report.run.frame)} runs: {counts}." if counts else "No runs stored yet."]


# -- Markdown -----------------------------------------------------------------------------------------
def render_markdown(report: Report) -> str:
    run = report.run
    plots_dir = run.folder / "plots"
    plots_dir.mkdir(exist_ok=True)
    for old in plots_dir.glob("*.png"):  # plots of an earlier render that this one may not draw
        old.unlink()

    def plots(section: str) -> list[str]:
        out = []
        for p in report.plots_in(section):
            (plots_dir / f"{p.name}.png").write_bytes(_figure_bytes(p.fig, "png"))
            out += [f"![{p.title}](plots/{p.name}.png)", ""]
        return out

    parts = [f"# vidbench report: {run.suite_name}", ""]
    if report.description:
        parts += [report.description, ""]
    parts += [*_intro(report), "", UNIT_NOTE, ""]
    if report.published is not None:
        pub = report.published
        parts += [f"## {PUBLISHED_TITLE}", "", PUBLISHED_NOTE, "", BUDGET_NOTE, ""]
        for device, budgets in pub.devices():
            parts += plots(published_section(device))
            if len(budgets):
                parts += [f"### {BUDGET_TITLE} on {device}", "", markdown_columns(budgets, BUDGET_COLUMNS), ""]
        parts += ["### Every full-size run beside its published result", "", markdown_columns(pub.runs, PUBLISHED_RUNS),
                  "", "### Sources of the published figures", "", markdown_columns(pub.sources, SOURCE_COLUMNS), ""]
    parts += ["## Recommendations", ""]
    if len(report.recommendations):
        parts += [report.rec_basis, ""]
        for title, recs in report.recommendation_groups():
            parts += [f"### {title}", "", markdown_columns(recs, REC_COLUMNS), ""]
    else:
        parts += ["No recommendations: they need ok runs with top-1 accuracy, latency and throughput.", ""]
    if report.runtimes is not None:
        view = report.runtimes
        parts += [f"## {runtime_section.TITLE}", "", runtime_section.NOTE, "",
                  "### The fastest runtime that keeps eager's answers, per model", "",
                  markdown_columns(view.picks, runtime_section.PICK_COLUMNS), "", *plots(runtime_section.SECTION),
                  "### Every runtime run", "", markdown_columns(view.table, runtime_section.COLUMNS), ""]
    parts += ["## Runs", ""]
    if report.held_fixed:
        parts += [f"Held fixed: {report.held_fixed}.", ""]
    parts += [markdown_columns(report.runs, run_columns(report.runs, compact=True)), ""]
    if len(report.uncertainty):
        parts += ["## Figures with their uncertainty", "", UNCERTAINTY_NOTE, "",
                  markdown_columns(report.uncertainty, uncertainty_columns(report.uncertainty)), ""]
    if report.plots_in("pareto"):
        parts += ["## Pareto fronts", "", "Top-1 against GMACs, throughput and peak memory per dataset and device; "
                  "the runs on the front are ringed and joined.", "", *plots("pareto"),
                  markdown_columns(report.fronts, FRONT_COLUMNS), ""]
    if report.plots_in("curves"):
        parts += ["## Accuracy while training", "", CURVES_NOTE, "", *plots("curves")]
    if len(report.scaling) or report.plots_in("scaling"):
        parts += ["## How cost grows", "", SCALING_NOTE, ""]
        if len(report.scaling):
            parts += [markdown_columns(report.scaling, report.scaling_columns), ""]
        parts += plots("scaling")
    if len(report.families) and report.families["family"].nunique() > 1:
        parts += ["## Families", "", markdown_columns(report.families, FAMILY_COLUMNS), "", *plots("families")]
    if len(report.devices):
        parts += ["## Devices", "", DEVICE_NOTE, "", markdown_columns(report.devices, DEVICE_COLUMNS), "",
                  *plots("devices")]
    if len(report.problems):
        parts += ["## Failed and skipped runs", "", markdown_columns(report.problems, PROBLEM_COLUMNS), ""]
        for _, r in report.problems.iterrows():
            d = _details(r["detail"] or {})
            if d["traceback"]:
                summary = f"{r['variant']} · {r['dataset']} · {r['resolution']}px · T={r['clip_length']} · " \
                          f"{r['device']}: {d['info'].get('error_class', r['status'])}"
                tb = d["traceback"].replace("```", "'''")
                parts += [f"<details><summary>{_html_escape(summary)}</summary>", "", "```", tb, "```", "",
                          "</details>", ""]
    if run.environments:
        parts += ["## Environment", ""]
        for device, env in sorted(run.environments.items()):
            frame = pd.DataFrame({"key": list(env), "value": [_env_value(v) for v in env.values()]})
            parts += [f"### {device}", "", markdown_columns(frame, [Column("key", "key"), Column("value", "value")]),
                      ""]
    if run.suite_yaml:
        parts += ["## Suite", "", "```yaml", run.suite_yaml.rstrip(), "```", ""]
    return "\n".join(parts)


def _html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


UNCERTAINTY_NOTE = ("Each figure with its 95% interval. Over several runs of one configuration (seeds): the mean "
                    "with a Student-t interval, and for timings the median with a bootstrap interval (n = runs). "
                    "For one run: a timing's within-run interval, a bootstrap over its per-call samples, which "
                    "says how precisely that run measured, not how far another run could land (labelled "
                    "within-run); accuracy from one seed has no interval (n=1). Two figures whose intervals "
                    "overlap are not told apart by these runs.")
CURVES_NOTE = ("Top-1 on the validation split at each evaluation (train.eval_every), against the epoch and against "
               "the training compute spent so far (2 × the training step's GMACs per clip under the run's "
               "protocol × clips seen, in PFLOPs): which backbone gets there fastest, and at what cost.")
SCALING_NOTE = ("Each exponent b in metric ∝ T^b (clip length) or px^b (short side of the crop) is the least-squares "
                "slope on log-log axes, fitted over every series of runs of one model and device that differ only "
                "in that axis (each series with its own intercept, so dataset, the other shape axis and batch size "
                "are held fixed). GMACs ∝ T^1 is linear in clip length; throughput exponents are negative.")
DEVICE_NOTE = ("Speed-up: the median, over runs matched in every other setting, of throughput on the device over "
               "throughput on the baseline device.")


# -- HTML ---------------------------------------------------------------------------------------------
def _table(frame: pd.DataFrame, columns: list[Column]) -> dict:
    return {"headers": [c.header for c in columns], "rows": cells(frame, columns)}


def render_html(report: Report) -> str:
    run = report.run
    env = templates()
    frame = report.runs
    runs = _table(frame, run_columns(frame))
    attrs = [{f: str(frame[f].iloc[i]) for f in FILTERS} for i in range(len(frame))]
    runs["rows"] = [{"status": a["status"], "attrs": a, "cells": c} for a, c in zip(attrs, runs["rows"])]
    filters = {f: values for f in FILTERS if len(values := sorted({a[f] for a in attrs})) > 1}

    def svgs(section: str) -> list[dict]:
        return [{"name": p.name, "title": p.title, "svg": _inline_svg(_figure_bytes(p.fig, "svg").decode(), p.name)}
                for p in report.plots_in(section)]

    problems = []
    for (_, r), row_cells in zip(report.problems.iterrows(), cells(report.problems, PROBLEM_COLUMNS)):
        problems.append({"cells": row_cells, "status": r["status"], **_details(r["detail"] or {})})
    pub = report.published
    published = None if pub is None else {
        "title": PUBLISHED_TITLE, "note": PUBLISHED_NOTE, "budget_note": BUDGET_NOTE, "budget_title": BUDGET_TITLE,
        "devices": [{"device": device, "plots": svgs(published_section(device)),
                     "budgets": _table(b, BUDGET_COLUMNS) if len(b) else None} for device, b in pub.devices()],
        "runs": _table(pub.runs, PUBLISHED_RUNS), "sources": _table(pub.sources, SOURCE_COLUMNS)}
    return env.get_template("report.html.j2").render(
        title=run.suite_name, description=report.description, intro=_intro(report)[0], note=UNIT_NOTE,
        published=published, runs=runs, filters=filters, held_fixed=report.held_fixed,
        runtimes=None if report.runtimes is None else {
            "title": runtime_section.TITLE, "note": runtime_section.NOTE, "plots": svgs(runtime_section.SECTION),
            "picks": _table(report.runtimes.picks, runtime_section.PICK_COLUMNS),
            "table": _table(report.runtimes.table, runtime_section.COLUMNS)},
        recommendations=[(title, _table(recs, REC_COLUMNS)) for title, recs in report.recommendation_groups()],
        rec_basis=report.rec_basis,
        uncertainty=_table(report.uncertainty, uncertainty_columns(report.uncertainty))
        if len(report.uncertainty) else None, uncertainty_note=UNCERTAINTY_NOTE,
        pareto_plots=svgs("pareto"), fronts=_table(report.fronts, FRONT_COLUMNS),
        curve_plots=svgs("curves"), curves_note=CURVES_NOTE,
        scaling_note=SCALING_NOTE, scaling=_table(report.scaling, report.scaling_columns),
        scaling_plots=svgs("scaling"),
        families=_table(report.families, FAMILY_COLUMNS) if report.families["family"].nunique() > 1 else None,
        family_plots=svgs("families"),
        devices=_table(report.devices, DEVICE_COLUMNS) if len(report.devices) else None, device_note=DEVICE_NOTE,
        device_plots=svgs("devices"),
        problems={"headers": [c.header for c in PROBLEM_COLUMNS], "rows": problems},
        environments={d: {k: _env_value(v) for k, v in e.items()} for d, e in sorted(run.environments.items())},
        suite_yaml=run.suite_yaml,
    )


def render_reports(folder: str | Path, formats: tuple[str, ...] = FORMATS) -> list[Path]:
    """Write the requested reports into the run folder; returns their paths."""
    run = load_run_folder(folder)
    report = analyse(run)
    written = []
    try:
        if "md" in formats:
            path = run.folder / "report.md"
            path.write_text(render_markdown(report))
            written.append(path)
        if "html" in formats:
            path = run.folder / "report.html"
            path.write_text(render_html(report))
            written.append(path)
    finally:
        for p in report.plots:
            plt.close(p.fig)
    return written
