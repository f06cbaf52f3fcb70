"""Recommendations: per dataset and device, the most accurate run within each latency budget and the
fastest above each accuracy floor, each with its verdict against the runner-up."""

from __future__ import annotations

from vidbench.report import analysis
from vidbench.report.sections.base import Section, register
from vidbench.report.sections.blocks import Note, Table
from vidbench.report.sections.columns import figure
from vidbench.report.tables import Column

COLUMNS = [Column("kind", "rule"), Column("criterion", "criterion"), Column("choice", "choice"),
           Column("family", "family"), figure("top1"), figure("latency_ms_p50"), figure("throughput_clips_s"),
           figure("gmacs"), figure("peak_mem_mb"), Column("verdict", "against the runner-up")]
NONE = "No recommendations: they need ok runs with top-1 accuracy, latency and throughput."


def basis(keys: list[str]) -> str:
    """How the picks are made (the groups they are made in depend on the runs)."""
    return ("Per dataset and device" + (" and batch size" if "batch_size" in keys else "") +
            ", among the ok runs with top-1, latency and throughput. Latency budgets are the nearest-rank "
            "25th, 50th and 75th percentiles and the maximum of the p50 latencies observed in that group "
            "(so each is a latency some run reached); the pick is the most accurate run within the budget. "
            "Accuracy floors are the same percentiles of the observed top-1, and 'best' is the highest top-1 "
            "reached; the pick is the run with the highest throughput at or above the floor. The Pareto set "
            "holds every run that no other run beats on both top-1 and throughput. Runs that differ only in "
            "seed count as one configuration (their mean top-1, their median timings). A pick is a winner only "
            "when its 95% interval does not overlap the runner-up's; otherwise it is tied with it.")


def build(report):
    """Left out when no run measured top-1 (a speed-only suite has nothing to recommend by); the note says what
    is missing when accuracy was measured but the picks still cannot be made."""
    frame = report.frame
    if "top1" not in frame.columns or not frame["top1"].notna().any():
        return None
    recs = analysis.recommendations(report.chosen_from)
    if not len(recs):
        return [Note(NONE)]
    groups = recs.groupby(["dataset", "device"], sort=False)
    return [Note(basis(analysis.recommendation_groups(report.frame))),
            *(Table(g, COLUMNS, title=f"{d} · {dev}") for (d, dev), g in groups)]


SECTION = register(Section(order=20, anchor="recommendations", title="Recommendations", build=build))
