"""Families: per dataset and device, each model family's best and median figures (shown when runs span
more than one family)."""

from __future__ import annotations

from vidbench.report import analysis
from vidbench.report.sections.base import Section, register
from vidbench.report.sections.blocks import Figures, Table
from vidbench.report.tables import Column

COLUMNS = [Column("dataset", "dataset"), Column("device", "device"), Column("family", "family"),
           Column("runs", "ok runs"), Column("models", "models"), Column("best_top1", "best top-1 (%)"),
           Column("best_run", "best run"), Column("median_top1", "median top-1 (%)"),
           Column("median_gmacs", "median GMACs"),
           Column("median_throughput_clips_s", "median throughput (clips/s)"),
           Column("median_latency_ms_p50", "median latency p50 (ms)"),
           Column("median_peak_mem_mb", "median peak mem (MiB)")]


def build(report):
    families = analysis.family_summary(report.frame)
    if not len(families) or families["family"].nunique() < 2:
        return None
    return [Table(families, COLUMNS), Figures("families")]


SECTION = register(Section(order=90, anchor="families", title="Families", build=build))
