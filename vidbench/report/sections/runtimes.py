"""Runtimes: one model and setting under several runtimes, and per model the fastest that keeps eager's
answers (the view is `vidbench.report.runtimes`, shared with its plots)."""

from __future__ import annotations

from vidbench.report import runtimes as view
from vidbench.report.sections.base import Section, register
from vidbench.report.sections.blocks import Figures, Table


def build(report):
    if report.runtimes is None:
        return None
    return [Table(report.runtimes.picks, view.PICK_COLUMNS, id="runtime-picks",
                  title="The fastest runtime that keeps eager's answers, per model"),
            Figures(view.SECTION),
            Table(report.runtimes.table, view.COLUMNS, title="Every runtime run", id="runtime-runs")]


SECTION = register(Section(order=30, anchor="runtimes", title=view.TITLE, note=view.NOTE, build=build))
