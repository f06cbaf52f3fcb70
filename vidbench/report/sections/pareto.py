"""Pareto fronts: top-1 against each cost per dataset and device, and the runs on each front."""

from __future__ import annotations

from vidbench.report import analysis
from vidbench.report.sections.base import Section, register
from vidbench.report.sections.blocks import Figures, Table
from vidbench.report.sections.columns import figure
from vidbench.report.tables import Column

PLOTS = "pareto"
NOTE = "Top-1 against GMACs, throughput and peak memory per dataset and device; the runs on the front are ringed and joined."
COLUMNS = [Column("dataset", "dataset"), Column("device", "device"), Column("against", "top-1 against"),
           Column("run", "run on the front"), Column("family", "family"), figure("top1"), Column("value", "cost")]


def build(report):
    if not report.plots_in(PLOTS):
        return None
    return [Figures(PLOTS), Table(analysis.pareto_fronts(report.chosen_from), COLUMNS, fold="The runs on each front")]


SECTION = register(Section(order=60, anchor="pareto", title="Pareto fronts", note=NOTE, build=build))
