"""`vidbench compare` as people read it (terminal, Markdown, HTML): the changed figures with their intervals,
the counted figures that did not change on one line, and the runs stored in one folder only, listed."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from vidbench.axes import AXES, AXES_BY_NAME
from vidbench.measure.uncertainty import ALPHA
from vidbench.metrics import COLUMNS_BY_NAME, short_header
from vidbench.report.compare import KEY_COLUMNS, Comparison
from vidbench.report.frame import UNITS
from vidbench.report.tables import Column, cells, format_value
from vidbench.report.templating import templates


def summary(result: Comparison) -> str:
    rule = (f"worse by more than {result.threshold_pct:g}% and significant (p < {ALPHA:g})" if result.stats
            else f"worse by more than {result.threshold_pct:g}% (no statistics)")
    return (f"{result.matched} runs matched, {result.only_a} only in A, {result.only_b} only in B; "
            f"{result.regression_count} regression(s): {rule}"
            + (f" ({len(result.status_changes)} run(s) ok in A failed in B)" if len(result.status_changes) else ""))


def env_notice(result: Comparison) -> str | None:
    """What to say first when the stores' environments differ."""
    if not result.env_differences:
        return None
    verdict = ("compared as the same environment (--same-env)" if result.same_env else
               "speed changes are labelled hardware or software differences, not regressions (--same-env to "
               "count them)")
    return "the two stores ran in different environments: " + "; ".join(result.env_differences) + f"; {verdict}"


SAME = 1e-9  # percent: a counted figure's float rounding (GMACs summed in another order), not a change


def _unchanged_counts(rows: pd.DataFrame) -> pd.Series:
    """Which rows are counted figures (params, GMACs, memory) that did not change: said once, not row by row."""
    exact = rows["metric"].map(lambda m: COLUMNS_BY_NAME[m].noise == "exact")
    return exact & (rows["change_pct"].astype(float).abs() < SAME)


def counted_line(result: Comparison) -> str | None:
    """'params, GMACs, … unchanged in every matched run (counted, exact)', or which changed; None if none."""
    rows = result.rows
    if not len(rows):
        return None
    same = _unchanged_counts(rows)
    names = list(dict.fromkeys(rows.loc[same, "metric"]))
    if not names:
        return None
    changed = set(rows.loc[~same & rows["metric"].isin(names), "metric"])
    where = "in every matched run" if not changed else "wherever not listed below"
    return f"counted figures unchanged {where} (exact): " + ", ".join(short_header(m) for m in names)


def display_rows(result: Comparison) -> pd.DataFrame:
    """The compared rows as shown (unchanged counted figures left to `counted_line`): args as text, change
    with its sign and interval, REGRESSION flags."""
    rows = result.rows[~_unchanged_counts(result.rows)] if len(result.rows) else result.rows
    return rows.assign(
        args=rows["model_args"].map(_args_text),
        change=[_change_text(r) for _, r in rows.iterrows()],
        p=rows["p_value"].map(lambda p: "" if p is None or pd.isna(p) else f"{p:.2g}"),
        flag=[("REGRESSION" if r["regression"] else r["note"]) for _, r in rows.iterrows()],
        metric_label=rows["metric"].map(lambda m: UNITS.get(m, m)),
    )


def _change_text(row: pd.Series) -> str:
    """'+20.1% [+18.0, +22.3]': the change with its 95% interval where a test gave one."""
    text = f"{row['change_pct']:+.1f}%"
    lo, hi = row.get("lo_pct"), row.get("hi_pct")
    if lo is not None and hi is not None and not (pd.isna(lo) or pd.isna(hi)):
        text += f" [{lo:+.1f}, {hi:+.1f}]"
    return text


def shown_axes(result: Comparison) -> list[str]:
    """The axes a reader needs to tell the runs shown apart (compared, broken, in one folder only): the
    device, and every axis that takes more than one value among them."""
    frames = [f[list(KEY_COLUMNS)] for f in (result.rows, result.status_changes, result.only_in_a,
                                             result.only_in_b) if f is not None and len(f)]
    runs = pd.concat(frames) if frames else pd.DataFrame(columns=list(KEY_COLUMNS))
    return [a.name for a in AXES if a.name == "device" or runs[a.name].astype(str).nunique() > 1]


def display_columns(result: Comparison) -> list[str]:
    stats = ["p"] if result.stats else []
    return ["model", "args", "dataset", *shown_axes(result), "metric", "a", "b", "change", *stats, "flag"]


def failed_columns(result: Comparison) -> list[str]:
    return ["model", "dataset", *shown_axes(result), "status", "error"]


def one_side_columns(result: Comparison) -> list[str]:
    return ["model", "args", "dataset", *shown_axes(result), "status"]


def _args_text(model_args) -> str:
    return "" if model_args in (None, "", "{}") else str(model_args)


def one_side_tables(result: Comparison) -> list[tuple[str, pd.DataFrame]]:
    """The runs stored in one folder only, titled, where there are any."""
    sides = (("runs only in A", result.only_in_a), ("runs only in B", result.only_in_b))
    return [(title, runs.assign(args=runs["model_args"].map(_args_text))) for title, runs in sides
            if runs is not None and len(runs)]


def render_html(result: Comparison, folder_a: str | Path, folder_b: str | Path) -> str:
    """A self-contained HTML page of the comparison (sortable; regressions highlighted)."""
    shown = display_rows(result)
    axes = [Column(a, AXES_BY_NAME[a].short) for a in shown_axes(result)]
    columns = [Column("model", "model"), Column("args", "args"), Column("dataset", "dataset"), *axes,
               Column("metric_label", "metric"), Column("better", "better"),
               Column("a", "A"), Column("b", "B"), Column("change", "change", sort="change_pct"),
               *([Column("p_value", "p")] if result.stats else []), Column("flag", "")]
    rows = [{"regression": bool(r), "cells": c} for r, c in zip(shown["regression"], cells(shown, columns))]
    broke = [Column("model", "model"), Column("dataset", "dataset"), *axes, Column("status", "status in B"),
             Column("error", "reason")]
    side = [Column("model", "model"), Column("args", "args"), Column("dataset", "dataset"), *axes,
            Column("status", "status")]
    return templates().get_template("compare.html.j2").render(
        folder_a=str(folder_a), folder_b=str(folder_b), threshold=f"{result.threshold_pct:g}",
        summary=summary(result), env_notice=env_notice(result), stats=result.stats, counted=counted_line(result),
        methods=sorted({m for m in result.rows["method"] if m}), headers=[c.header for c in columns], rows=rows,
        broke={"headers": [c.header for c in broke], "rows": cells(result.status_changes, broke)},
        sides=[{"title": t, "headers": [c.header for c in side], "rows": cells(r, side)}
               for t, r in one_side_tables(result)],
        format_value=format_value,
    )
