"""Published accuracy × measured cost: full-size runs beside their models' published top-1, per device the
most accurate published model within each latency budget, and where each published figure comes from."""

from __future__ import annotations

from vidbench.report.published_chart import section as plot_section
from vidbench.report.published_join import BUDGET_COLUMNS, BUDGET_NOTE, BUDGET_TITLE, NOTE, RUN_COLUMNS
from vidbench.report.published_join import SOURCE_COLUMNS, TITLE
from vidbench.report.sections.base import Section, register
from vidbench.report.sections.blocks import Figures, Note, Table

RUNS_TITLE = "Every full-size run beside its published result"
SOURCES_TITLE = "Sources of the published figures"


def build(report):
    """Left out unless some run was measured at its model's published protocol: off it, the cost beside a
    published top-1 is not that top-1's cost, and the section would answer a question the suite did not ask."""
    view = report.published
    if view is None or not view.runs["at_protocol"].any():
        return None
    blocks = [Note(BUDGET_NOTE)]
    for i, (device, budgets) in enumerate(view.devices(), 1):
        blocks.append(Figures(plot_section(device)))
        if len(budgets):
            blocks.append(Table(budgets, BUDGET_COLUMNS, title=f"{BUDGET_TITLE} on {device}",
                                id=f"published-budgets-{i}", wrap_last=True))
    return blocks + [
        Table(view.runs, RUN_COLUMNS, title=RUNS_TITLE, fold=RUNS_TITLE, id="published-runs", wrap_last=True),
        Table(view.sources, SOURCE_COLUMNS, title=SOURCES_TITLE, fold=SOURCES_TITLE, id="published-sources",
              wrap_last=True)]


SECTION = register(Section(order=10, anchor="published", title=TITLE, note=NOTE, build=build))
