"""Failed and skipped runs: each with its reason, and the stored details and traceback of its failure."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import ClassVar

import pandas as pd

from vidbench.report.analysed import display_frame
from vidbench.report.sections.base import Section, register
from vidbench.report.sections.blocks import Output, html_table
from vidbench.report.tables import Column, markdown_columns

COLUMNS = [Column("variant", "model"), Column("dataset", "dataset"), Column("resolution", "px", sort="side"),
           Column("clip_length", "T"), Column("batch_size", "batch"), Column("device", "device"),
           Column("precision", "precision"), Column("status", "status"), Column("error", "reason")]
DETAIL_KEYS = ("error_class", "exitcode", "oom_batch_sizes", "batch_size_run", "ray_error")


def details(detail: dict) -> dict:
    """The stored detail worth showing, as text, and the traceback as one string."""
    info = {k: detail[k] for k in DETAIL_KEYS if detail.get(k) not in (None, "", [])}
    tb = detail.get("traceback") or []
    return {"info": {k: v if isinstance(v, str) else json.dumps(v) for k, v in info.items()},
            "traceback": "\n".join(tb) if isinstance(tb, list) else str(tb)}


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _traceback_lines(r: pd.Series, d: dict) -> list[str]:
    """A folded Markdown block holding one run's traceback (raw HTML, as GitHub renders it)."""
    summary = f"{r['variant']} · {r['dataset']} · {r['resolution']}px · T={r['clip_length']} · " \
              f"{r['device']}: {d['info'].get('error_class', r['status'])}"
    tb = d["traceback"].replace("```", "'''")
    return [f"<details><summary>{_escape(summary)}</summary>", "", "```", tb, "```", "", "</details>", ""]


@dataclass(frozen=True, eq=False)
class Problems:
    """The failed and skipped runs; in Markdown each traceback follows the table, in HTML it folds in its row."""

    runs: pd.DataFrame
    kind: ClassVar[str] = "problems"

    def markdown(self, out: Output) -> list[str]:
        lines = [markdown_columns(self.runs, COLUMNS), ""]
        for _, r in self.runs.iterrows():
            d = details(r["detail"] or {})
            if d["traceback"]:
                lines += _traceback_lines(r, d)
        return lines

    def html(self, out: Output) -> dict:
        table = html_table(self.runs, COLUMNS)
        table["rows"] = [{"cells": c, "status": r["status"], **details(r["detail"] or {})}
                         for (_, r), c in zip(self.runs.iterrows(), table["rows"])]
        return {"table": table}


def build(report):
    frame = report.frame
    problems = display_frame(frame[frame["status"] != "ok"])
    return [Problems(problems)] if len(problems) else None


SECTION = register(Section(order=110, anchor="problems", title="Failed and skipped runs", toc="Failed and skipped",
                           build=build))
