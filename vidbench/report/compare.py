"""Compare two run folders: the same configurations side by side, the change of every figure with its
interval and significance, regressions marked (see README, "Uncertainty").

A configuration is a run's identity less its seed, so seed replicates are compared as one. B is compared
with A: the change is (B - A) / |A| in percent. A figure regressed when it moved the wrong way by more
than the threshold **and** the change is significant (p < 0.01):
- timings: a Mann-Whitney U test on the two sides' per-call samples (the stored ones, every replicate),
  with a bootstrap interval of the ratio of their statistics;
- figures that vary with the seed (accuracy) or are one noisy value per run: Welch's t-test over seed
  replicates; with one seed on either side the change is "within seed noise" (untested);
- counted figures (params, GMACs, memory): exact, any change beyond the threshold is real.
With `stats=False` (`--no-stats`) the threshold alone decides, as before statistics. When the two stores
ran in different environments (CPU or GPU model, threads, torch or CUDA version), a speed change is a
hardware or software difference, not a regression of the code, unless `same_env` says they are alike.
A run that was ok in A and failed in B (failed, oom, timeout, crashed) is a regression too; a run skipped
in either folder is not compared.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from vidbench.axes import AXES, AXES_BY_NAME, AXIS_NAMES
from vidbench.measure.uncertainty import ALPHA, Difference, replicates_difference, samples_difference
from vidbench.metrics import COLUMNS_BY_NAME, COMPARED_COLUMNS, HIGHER_IS_BETTER, LOWER_IS_BETTER  # noqa: F401
from vidbench.report.aggregate import with_config
from vidbench.report.frame import UNITS, load_run_folder
from vidbench.report.tables import Column, cells, format_value
from vidbench.report.templating import templates
from vidbench.store.record import FAILED_STATUSES

# Directions and the compared columns (every stored figure with a direction, in report order) come from
# the metric table; a column without one is never compared, for the reason the table gives.
COMPARED = COMPARED_COLUMNS
KEY_COLUMNS = ("run_id", "model", "model_args", "dataset", *AXIS_NAMES)
FAILED = tuple(sorted(FAILED_STATUSES))
# Environment fields that change speed: a difference in any of them makes speed changes incomparable.
ENV_KEYS = ("cpu", "device_name", "cpu_count", "threads", "torch", "cuda", "cudnn")
SPEED_NOISE = ("timing", "single")  # figures a different machine or software stack moves


def higher_is_better(metric: str) -> bool:
    return metric in HIGHER_IS_BETTER


@dataclass
class Comparison:
    rows: pd.DataFrame  # one row per (configuration, metric) present in both folders
    status_changes: pd.DataFrame  # runs ok in A and failed in B
    only_a: int
    only_b: int
    threshold_pct: float
    stats: bool = True
    env_differences: list[str] = field(default_factory=list)  # "cpu: X → Y", when the stores' machines differ
    same_env: bool = False

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


def env_differences(envs_a: dict[str, dict], envs_b: dict[str, dict]) -> list[str]:
    """What differs between the environments the two stores ran in, device by device ('cpu: A → B')."""
    out, seen = [], set()
    for device in sorted(set(envs_a) & set(envs_b)):
        a, b = envs_a[device] or {}, envs_b[device] or {}
        for key in ENV_KEYS:
            if key in a and key in b and a[key] != b[key] and (device, a[key], b[key]) not in seen:
                seen.add((device, a[key], b[key]))  # a CPU's device_name is its cpu: said once
                out.append(f"{key}: {a[key]} → {b[key]} ({device} runs)")
    return out


def _samples(runs: pd.DataFrame, key: str) -> list[float]:
    return [x for detail in runs.get("detail", []) for x in ((detail or {}).get(key) or {}).get("samples") or []]


def _summary(values: list[float], metric: str) -> float:
    s = pd.Series(values, dtype=float)
    return float(s.median() if COLUMNS_BY_NAME[metric].aggregate == "median" else s.mean())


def _difference(metric: str, runs_a: pd.DataFrame, runs_b: pd.DataFrame) -> tuple[Difference | None, str]:
    """The test of one figure between two configurations' runs, or None and why it is untested."""
    col = COLUMNS_BY_NAME[metric]
    if col.noise == "exact":
        return None, "exact (counted)"
    if col.noise == "timing":
        a, b = _samples(runs_a, col.samples), _samples(runs_b, col.samples)
        if len(a) >= 2 and len(b) >= 2:
            return samples_difference(a, b, col.quantile, col.inverse), ""
    va, vb = runs_a[metric].dropna().tolist(), runs_b[metric].dropna().tolist()
    if len(va) >= 2 and len(vb) >= 2:
        return replicates_difference(va, vb), ""
    if col.noise == "seed":
        return None, "within seed noise (one seed: no interval)"
    return None, "untested (one value per run, no samples)"


def compare_folders(folder_a: str | Path, folder_b: str | Path, threshold_pct: float = 5.0, stats: bool = True,
                    same_env: bool = False) -> Comparison:
    """Match configurations (runs less their seed) among `ok` runs; B relative to A, in percent."""
    run_a = load_run_folder(folder_a, details=stats)
    run_b = load_run_folder(folder_b, details=stats)
    all_a, all_b = run_a.frame, run_b.frame
    differences = env_differences(run_a.environments, run_b.environments) if stats else []
    speed_incomparable = bool(differences) and not same_env
    a = with_config(all_a[all_a["status"] == "ok"])
    b = with_config(all_b[all_b["status"] == "ok"])
    by_b = dict(list(b.groupby("config", sort=False)))
    records = []
    for config, runs_a in a.groupby("config", sort=False):
        runs_b = by_b.get(config)
        if runs_b is None:
            continue
        first = runs_a.iloc[0]
        keys = {k: first[k] for k in KEY_COLUMNS}
        for metric in COMPARED:
            if metric not in runs_a or runs_a[metric].isna().all() or runs_b[metric].isna().all():
                continue
            va = _summary(runs_a[metric].dropna().tolist(), metric)
            vb = _summary(runs_b[metric].dropna().tolist(), metric)
            change = relative_change(va, vb)
            worse = (-change if higher_is_better(metric) else change) > threshold_pct
            diff, note = _difference(metric, runs_a, runs_b) if stats else (None, "threshold only (--no-stats)")
            exact = COLUMNS_BY_NAME[metric].noise == "exact"
            significant = (not stats) or exact or (diff is not None and diff.significant(ALPHA))
            regression = worse and significant
            if regression and speed_incomparable and COLUMNS_BY_NAME[metric].noise in SPEED_NOISE:
                regression, note = False, "hardware or software difference (environments differ)"
            elif worse and not significant and diff is not None:
                note = f"not significant (p = {diff.p_value:.2g})"
            records.append({**keys, "replicates_a": len(runs_a), "replicates_b": len(runs_b), "metric": metric,
                            "better": "higher" if higher_is_better(metric) else "lower", "a": va, "b": vb,
                            "change_pct": change, "lo_pct": None if diff is None else diff.lo_pct,
                            "hi_pct": None if diff is None else diff.hi_pct,
                            "p_value": None if diff is None else diff.p_value,
                            "method": "" if diff is None else diff.method, "note": note, "regression": regression})
    columns = [*KEY_COLUMNS, "replicates_a", "replicates_b", "metric", "better", "a", "b", "change_pct", "lo_pct",
               "hi_pct", "p_value", "method", "note", "regression"]
    rows = pd.DataFrame(records, columns=columns)
    if len(rows):  # runs together (in axis order), metrics in report order within a run
        order = {m: i for i, m in enumerate(COMPARED)}
        keys = {f"_{a.name}": rows[a.name].map(a.order_key) if a.order_key else rows[a.name] for a in AXES}
        rows = rows.assign(_m=rows["metric"].map(order), **keys).sort_values(
            ["model", "model_args", "dataset", "_device", *keys, "run_id", "_m"], kind="stable")
        rows = rows.drop(columns=["_m", *keys]).reset_index(drop=True)
    broke = all_b[all_b["status"].isin(FAILED) & all_b["run_id"].isin(set(all_a.loc[all_a["status"] == "ok",
                                                                                        "run_id"]))]
    status_changes = broke[[*KEY_COLUMNS, "status", "error"]].reset_index(drop=True)
    ids_a, ids_b = set(all_a["run_id"]), set(all_b["run_id"])
    return Comparison(rows, status_changes, only_a=len(ids_a - ids_b), only_b=len(ids_b - ids_a),
                      threshold_pct=threshold_pct, stats=stats, env_differences=differences, same_env=same_env)


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


def display_rows(result: Comparison) -> pd.DataFrame:
    """The compared rows as shown: args as text, change with its sign, REGRESSION flags."""
    rows = result.rows
    return rows.assign(
        args=rows["model_args"].map(lambda s: "" if s in (None, "", "{}") else str(s)),
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
    """The axes a reader needs to tell the compared runs apart: the device, and every axis that takes more
    than one value among them."""
    runs = pd.concat([result.rows[list(KEY_COLUMNS)], result.status_changes[list(KEY_COLUMNS)]])
    return [a.name for a in AXES if a.name == "device" or runs[a.name].astype(str).nunique() > 1]


def display_columns(result: Comparison) -> list[str]:
    stats = ["p"] if result.stats else []
    return ["model", "args", "dataset", *shown_axes(result), "metric", "a", "b", "change", *stats, "flag"]


def failed_columns(result: Comparison) -> list[str]:
    return ["model", "dataset", *shown_axes(result), "status", "error"]


def render_html(result: Comparison, folder_a: str | Path, folder_b: str | Path) -> str:
    """A self-contained HTML page of the comparison (sortable; regressions highlighted)."""
    env = templates()
    shown = display_rows(result)
    axes = [Column(a, AXES_BY_NAME[a].short) for a in shown_axes(result)]
    columns = [Column("model", "model"), Column("args", "args"), Column("dataset", "dataset"), *axes,
               Column("metric_label", "metric"), Column("better", "better"),
               Column("a", "A"), Column("b", "B"), Column("change", "change", sort="change_pct"),
               *([Column("p_value", "p")] if result.stats else []), Column("flag", "")]
    rows = [{"regression": bool(r), "cells": c} for r, c in zip(shown["regression"], cells(shown, columns))]
    broke = [Column("model", "model"), Column("dataset", "dataset"), *axes, Column("status", "status in B"),
             Column("error", "reason")]
    return env.get_template("compare.html.j2").render(
        folder_a=str(folder_a), folder_b=str(folder_b), threshold=f"{result.threshold_pct:g}",
        summary=summary(result), env_notice=env_notice(result), stats=result.stats,
        methods=sorted({m for m in result.rows["method"] if m}), headers=[c.header for c in columns], rows=rows,
        broke={"headers": [c.header for c in broke], "rows": cells(result.status_changes, broke)},
        format_value=format_value,
    )
