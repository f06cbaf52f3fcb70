"""Runs: every run, laid out for choosing (`vidbench.report.layout`), the settings all runs share on one
held-fixed line; in HTML with a text filter and a dropdown per setting the runs differ in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import pandas as pd

from vidbench.report.layout import held_fixed, held_fixed_text, run_columns
from vidbench.report.sections.base import Section, register
from vidbench.report.sections.blocks import Output, html_table
from vidbench.report.tables import markdown_columns

FILTERS = ("model", "family", "dataset", "device", "status")  # the dropdowns (where runs differ)


@dataclass(frozen=True, eq=False)
class RunsTable:
    """The runs table (compact in Markdown, every column and the filters in HTML) under its held-fixed line."""

    runs: pd.DataFrame
    held_fixed: str  # the settings every run shares, as one line ("" when none)
    kind: ClassVar[str] = "runs"

    def markdown(self, out: Output) -> list[str]:
        fixed = [f"Held fixed: {self.held_fixed}.", ""] if self.held_fixed else []
        return fixed + [markdown_columns(self.runs, run_columns(self.runs, compact=True)), ""]

    def html(self, out: Output) -> dict:
        frame = self.runs
        table = html_table(frame, run_columns(frame))
        attrs = [{f: str(frame[f].iloc[i]) for f in FILTERS} for i in range(len(frame))]
        table["rows"] = [{"status": a["status"], "attrs": a, "cells": c} for a, c in zip(attrs, table["rows"])]
        filters = {f: values for f in FILTERS if len(values := sorted({a[f] for a in attrs})) > 1}
        return {"table": table, "filters": filters, "held_fixed": self.held_fixed}


def build(report):
    return [RunsTable(report.runs, held_fixed_text(held_fixed(report.runs)))]


SECTION = register(Section(order=40, anchor="runs-section", title="Runs", build=build))
