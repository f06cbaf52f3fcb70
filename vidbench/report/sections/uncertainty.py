"""Figures with their uncertainty: per configuration (seed replicates folded), each noisy figure with its
95% interval."""

from __future__ import annotations

import pandas as pd

from vidbench.report import analysis
from vidbench.report.aggregate import UNCERTAIN_COLUMNS, aggregate_rows
from vidbench.report.sections.base import Section, register
from vidbench.report.sections.blocks import Table
from vidbench.report.sections.columns import figure
from vidbench.report.tables import Column

NOTE = ("Each figure with its 95% interval. Over several runs of one configuration (seeds): the mean "
        "with a Student-t interval, and for timings the median with a bootstrap interval (n = runs). "
        "For one run: a timing's within-run interval, a bootstrap over its per-call samples, which "
        "says how precisely that run measured, not how far another run could land (labelled "
        "within-run); accuracy from one seed has no interval (n=1). Two figures whose intervals "
        "overlap are not told apart by these runs.")


def uncertainty_table(configs: pd.DataFrame) -> pd.DataFrame:
    """Per configuration: its label, replicates, and each measured noisy figure with its interval as text."""
    if configs.empty:
        return pd.DataFrame()
    table = aggregate_rows(configs).assign(run=analysis.run_labels(configs).tolist())
    return table.sort_values(["dataset", "device", "run"], kind="stable").reset_index(drop=True)


def columns(table: pd.DataFrame) -> list[Column]:
    fixed = [Column("run", "configuration"), Column("dataset", "dataset"), Column("device", "device"),
             Column("replicates", "runs (seeds)")]
    return fixed + [figure(c) for c in table.columns if c in UNCERTAIN_COLUMNS]


def build(report):
    table = uncertainty_table(report.configs)
    return [Table(table, columns(table), id="uncertainty")] if len(table) else None


SECTION = register(Section(order=50, anchor="uncertainty", title="Figures with their uncertainty", note=NOTE,
                           toc="Uncertainty", build=build))
