"""Serving: per device, each model and runtime under LoadGen's load, the model that serves the most queries per
second within the latency bound, and Server's latency against the offered load (the view is
`vidbench.report.serving`, shared with its plot). It leads a report whose runs all measured serving."""

from __future__ import annotations

from vidbench.report import serving as view
from vidbench.report.sections.base import Section, register
from vidbench.report.sections.blocks import Figures, Table
from vidbench.report.sections.columns import filled


def build(report):
    if report.serving is None:
        return None
    return [Table(report.serving.best, view.BEST_COLUMNS, id="serving-best",
                  title="The model that serves the most queries per second within the bound"),
            Figures(view.SECTION),
            *(Table(rows, filled(view.COLUMNS, rows), title=f"Every serving run · {device}", id=f"serving-{device}")
              for device, rows in report.serving.table.groupby("device", sort=True))]


def every_run_served(report) -> bool:
    frame = report.frame
    ok = frame[frame["status"] == "ok"]
    return report.serving is not None and len(ok) > 0 and ok["server_max_qps"].notna().all() \
        if "server_max_qps" in ok else False


SECTION = register(Section(order=34, anchor="serving", title="Serving under load", note=view.NOTE, toc="Serving",
                           build=build, leads=every_run_served))
