"""Compare two run folders: the same runs side by side, relative change of every metric, regressions marked.

A run is the same run when its run_id (the hash of its spec) is the same. B is compared with A: the
change is (B - A) / |A| in percent, and a metric regressed when it moved the wrong way by more than the
threshold — down for the metrics where more is better (throughput, accuracy, MFU), up for the rest
(latency, memory, compute, compile time). A run that was ok in A and failed in B (failed, oom,
timeout, crashed) is a regression too; a run skipped in either folder is not compared.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from vidbench.axes import AXES, AXES_BY_NAME, AXIS_NAMES
from vidbench.report.frame import UNITS, load_run_folder
from vidbench.report.tables import Column, cells, format_value
from vidbench.report.templating import templates
from vidbench.metrics import COMPARED_COLUMNS, HIGHER_IS_BETTER, LOWER_IS_BETTER  # noqa: F401 (re-exported)
from vidbench.store.record import FAILED_STATUSES

# Directions and the compared columns (every stored figure with a direction, in report order) come from
# the metric table; a column without one is never compared, for the reason the table gives.
COMPARED = COMPARED_COLUMNS
KEY_COLUMNS = ("run_id", "model", "model_args", "dataset", *AXIS_NAMES)
FAILED = tuple(sorted(FAILED_STATUSES))


def higher_is_better(metric: str) -> bool:
    return metric in HIGHER_IS_BETTER


@dataclass
class Comparison:
    rows: pd.DataFrame  # one row per (run, metric) present in both folders
    status_changes: pd.DataFrame  # runs ok in A and failed in B
    only_a: int
    only_b: int
    threshold_pct: float

    @property
    def regressions(self) -> pd.DataFrame:
        return self.rows[self.rows["regression"]]

    @property
    def regression_count(self) -> int:
        return len(self.regressions) + len(self.status_changes)

    @property
    def matched(self) -> int:
        return self.rows["run_id"].nunique() if len(self.rows) else 0


def relative_change(a: float, b: float) -> float:
    if a == b:
        return 0.0
    return (b - a) / abs(a) * 100 if a else math.copysign(math.inf, b - a)


def compare_folders(folder_a: str | Path, folder_b: str | Path, threshold_pct: float = 5.0) -> Comparison:
    """Match runs by run_id among `ok` runs; B relative to A, in percent."""
    all_a = load_run_folder(folder_a, details=False).frame
    all_b = load_run_folder(folder_b, details=False).frame
    a, b = all_a[all_a["status"] == "ok"], all_b[all_b["status"] == "ok"]
    merged = a.merge(b, on="run_id", suffixes=("_a", "_b"))
    records = []
    for metric in COMPARED:
        if f"{metric}_a" not in merged.columns or f"{metric}_b" not in merged.columns:
            continue
        for _, row in merged.iterrows():
            va, vb = row[f"{metric}_a"], row[f"{metric}_b"]
            if pd.isna(va) or pd.isna(vb):
                continue
            va, vb = float(va), float(vb)
            change = relative_change(va, vb)
            worse = -change if higher_is_better(metric) else change
            records.append({**{k: row[k if k == "run_id" else f"{k}_a"] for k in KEY_COLUMNS}, "metric": metric,
                            "better": "higher" if higher_is_better(metric) else "lower",
                            "a": va, "b": vb, "change_pct": change, "regression": worse > threshold_pct})
    columns = [*KEY_COLUMNS, "metric", "better", "a", "b", "change_pct", "regression"]
    rows = pd.DataFrame(records, columns=columns)
    if len(rows):  # runs together (in axis order), metrics in report order within a run
        order = {m: i for i, m in enumerate(COMPARED)}
        keys = {f"_{a.name}": rows[a.name].map(a.order_key) if a.order_key else rows[a.name] for a in AXES}
        rows = rows.assign(_m=rows["metric"].map(order), **keys).sort_values(
            ["model", "model_args", "dataset", "_device", *keys, "run_id", "_m"], kind="stable")
        rows = rows.drop(columns=["_m", *keys]).reset_index(drop=True)
    broke = all_b[all_b["status"].isin(FAILED) & all_b["run_id"].isin(set(a["run_id"]))]
    status_changes = broke[[*KEY_COLUMNS, "status", "error"]].reset_index(drop=True)
    ids_a, ids_b = set(all_a["run_id"]), set(all_b["run_id"])
    return Comparison(rows, status_changes, only_a=len(ids_a - ids_b), only_b=len(ids_b - ids_a),
                      threshold_pct=threshold_pct)


def summary(result: Comparison) -> str:
    return (f"{result.matched} runs matched, {result.only_a} only in A, {result.only_b} only in B; "
            f"{result.regression_count} regression(s) beyond {result.threshold_pct:g}%"
            + (f" ({len(result.status_changes)} run(s) ok in A failed in B)" if len(result.status_changes) else ""))


def display_rows(result: Comparison) -> pd.DataFrame:
    """The compared rows as shown: args as text, change with its sign, REGRESSION flags."""
    rows = result.rows
    return rows.assign(
        args=rows["model_args"].map(lambda s: "" if s in (None, "", "{}") else str(s)),
        change=rows["change_pct"].map(lambda c: f"{c:+.1f}%"),
        flag=rows["regression"].map(lambda r: "REGRESSION" if r else ""),
        metric_label=rows["metric"].map(lambda m: UNITS.get(m, m)),
    )


def shown_axes(result: Comparison) -> list[str]:
    """The axes a reader needs to tell the compared runs apart: the device, and every axis that takes more
    than one value among them."""
    runs = pd.concat([result.rows[list(KEY_COLUMNS)], result.status_changes[list(KEY_COLUMNS)]])
    return [a.name for a in AXES if a.name == "device" or runs[a.name].astype(str).nunique() > 1]


def display_columns(result: Comparison) -> list[str]:
    return ["model", "args", "dataset", *shown_axes(result), "metric", "a", "b", "change", "flag"]


def failed_columns(result: Comparison) -> list[str]:
    return ["model", "dataset", *shown_axes(result), "status", "error"]


def render_html(result: Comparison, folder_a: str | Path, folder_b: str | Path) -> str:
    """A self-contained HTML page of the comparison (sortable; regressions highlighted)."""
    env = templates()
    shown = display_rows(result)
    axes = [Column(a, AXES_BY_NAME[a].short) for a in shown_axes(result)]
    columns = [Column("model", "model"), Column("args", "args"), Column("dataset", "dataset"), *axes,
               Column("metric_label", "metric"), Column("better", "better"),
               Column("a", "A"), Column("b", "B"), Column("change_pct", "change", lambda c: f"{c:+.1f}%"),
               Column("flag", "")]
    rows = [{"regression": bool(r), "cells": c} for r, c in zip(shown["regression"], cells(shown, columns))]
    broke = [Column("model", "model"), Column("dataset", "dataset"), *axes, Column("status", "status in B"),
             Column("error", "reason")]
    return env.get_template("compare.html.j2").render(
        folder_a=str(folder_a), folder_b=str(folder_b), threshold=f"{result.threshold_pct:g}",
        summary=summary(result), headers=[c.header for c in columns], rows=rows,
        broke={"headers": [c.header for c in broke], "rows": cells(result.status_changes, broke)},
        format_value=format_value,
    )
