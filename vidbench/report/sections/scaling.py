"""How cost grows: per model and device, the exponent of each cost in clip length and in resolution."""

from __future__ import annotations

import pandas as pd

from vidbench.report import analysis
from vidbench.report.sections.base import Section, register
from vidbench.report.sections.blocks import Figures, Table
from vidbench.report.tables import Column

PLOTS = "scaling"
NOTE = ("Each exponent b in metric ∝ T^b (clip length) or px^b (short side of the crop) is the least-squares "
        "slope on log-log axes, fitted over every series of runs of one model and device that differ only "
        "in that axis (each series with its own intercept, so dataset, the other shape axis and batch size "
        "are held fixed). GMACs ∝ T^1 is linear in clip length; throughput exponents are negative.")
FIXED = ("variant", "family", "device")


def columns(table: pd.DataFrame) -> list[Column]:
    """The model, then one column per fitted exponent ('GMACs ∝ T^' headed 'GMACs ∝ T^b', signed)."""
    fixed = [Column("variant", "model"), Column("family", "family"), Column("device", "device")]
    return fixed + [Column(c, c + "b", lambda v: f"{v:+.2f}") for c in table.columns if c not in FIXED]


def build(report):
    table = analysis.scaling_table(report.exponents)
    if not len(table) and not report.plots_in(PLOTS):
        return None
    return ([Table(table, columns(table), id="exponents")] if len(table) else []) + [Figures(PLOTS)]


SECTION = register(Section(order=80, anchor="scaling", title="How cost grows", note=NOTE, build=build))
