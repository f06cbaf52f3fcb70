"""Render report.html (self-contained: inline SVG, CSS and JS) and report.md (+ plots/*.png)."""

from __future__ import annotations

import html
import io
from pathlib import Path

import jinja2
import matplotlib.pyplot as plt
import pandas as pd

from vidbench.report.frame import UNITS, RunFolder, load_run_folder
from vidbench.report.plots import PLOTS
from vidbench.report.tables import _py, format_value, markdown_table

FORMATS = ("html", "md")
TABLE_COLUMNS = (
    "model", "family", "arch", "model_args", "dataset", "resolution", "clip_length", "frame_stride",
    "batch_size", "device", "precision", "compile", "status", "params", "gmacs", "gflops", "peak_mem_mb",
    "train_peak_mem_mb", "latency_ms_p50", "latency_ms_p90", "throughput_clips_s", "train_throughput_clips_s",
    "top1", "top5", "duration_s",
)
MD_COLUMNS = (
    "model", "family", "dataset", "resolution", "clip_length", "batch_size", "device", "status", "params",
    "gmacs", "peak_mem_mb", "latency_ms_p50", "throughput_clips_s", "train_throughput_clips_s", "top1",
)
SHORT_HEADERS = {"clip_length": "T", "frame_stride": "stride", "batch_size": "batch", "resolution": "px",
                 "model_args": "args"}
UNIT_NOTE = ("GMACs are multiply-accumulates of one clip at batch 1 (what torchvision and most papers call "
             "\"GFLOPs\"); GFLOPs = 2 × GMACs. Latency is one forward pass of a batch; peak memory is MiB held "
             "by tensors (CUDA allocator peak on a GPU, live-tensor peak on the CPU).")


def header(column: str) -> str:
    return UNITS.get(column, SHORT_HEADERS.get(column, column))


def _figure_bytes(fig, fmt: str) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, bbox_inches="tight", dpi=130 if fmt == "png" else 72)
    return buf.getvalue()


def _figures(frame: pd.DataFrame) -> list[tuple[str, str, object]]:
    out = []
    for spec in PLOTS:
        fig = spec.make(frame)
        if fig is not None:
            out.append((spec.name, spec.title, fig))
    return out


def _problems(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["status"] != "ok"]


def render_markdown(run: RunFolder, figures) -> str:
    plots_dir = run.folder / "plots"
    plots_dir.mkdir(exist_ok=True)
    parts = [f"# vidbench report: {run.suite_name}", "", UNIT_NOTE, "", "## Runs", "",
             markdown_table(run.frame, MD_COLUMNS, [header(c) for c in MD_COLUMNS]), ""]
    if figures:
        parts += ["## Plots", ""]
        for name, title, fig in figures:
            (plots_dir / f"{name}.png").write_bytes(_figure_bytes(fig, "png"))
            parts += [f"### {title}", "", f"![{title}](plots/{name}.png)", ""]
    problems = _problems(run.frame)
    if len(problems):
        parts += ["## Failed and skipped runs", "",
                  markdown_table(problems, ("model", "dataset", "resolution", "clip_length", "device", "status",
                                            "error")), ""]
    return "\n".join(parts)


def _cell(column: str, value) -> dict:
    value = _py(value)
    sort = "" if value is None or (isinstance(value, float) and value != value) else value
    return {"text": format_value(value), "sort": sort if isinstance(sort, int | float) else str(sort),
            "numeric": isinstance(value, int | float) and not isinstance(value, bool)}


def render_html(run: RunFolder, figures) -> str:
    env = jinja2.Environment(loader=jinja2.PackageLoader("vidbench.report", "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"]))
    rows = [{"status": r["status"], "cells": [_cell(c, r[c]) for c in TABLE_COLUMNS]} for _, r in run.frame.iterrows()]
    problems = _problems(run.frame)
    svgs = []
    for name, title, fig in figures:
        svg = _figure_bytes(fig, "svg").decode()
        svgs.append({"name": name, "title": title, "svg": svg[svg.index("<svg"):]})
    counts = run.frame["status"].value_counts().to_dict()
    return env.get_template("report.html.j2").render(
        title=run.suite_name, note=UNIT_NOTE, headers=[header(c) for c in TABLE_COLUMNS], rows=rows,
        plots=svgs, counts=counts,
        problems=[{k: format_value(_py(r[k])) for k in ("model", "dataset", "resolution", "clip_length", "device",
                                                          "status", "error")} for _, r in problems.iterrows()],
        environments=run.environments, suite_yaml=run.suite_yaml, escape=html.escape,
    )


def render_reports(folder: str | Path, formats: tuple[str, ...] = FORMATS) -> list[Path]:
    """Write the requested reports into the run folder; returns their paths."""
    run = load_run_folder(folder)
    figures = _figures(run.frame)
    written = []
    try:
        if "md" in formats:
            path = run.folder / "report.md"
            path.write_text(render_markdown(run, figures))
            written.append(path)
        if "html" in formats:
            path = run.folder / "report.html"
            path.write_text(render_html(run, figures))
            written.append(path)
    finally:
        for _, _, fig in figures:
            plt.close(fig)
    return written
