"""Replicates folded into configurations, every figure with its interval (see README, "Uncertainty").

Runs that differ only in seed are replicates of one configuration. A configuration's figure is the mean
of its replicates (the median for timings, as the metric table says) with a 95% interval over them
(Student t; bootstrap for medians). A configuration with one run gets, for its timings, the within-run
interval of its statistic (a bootstrap over the run's per-call samples), labelled as such; its other
figures have no interval.
"""

from __future__ import annotations

import dataclasses
import math

import pandas as pd

from vidbench.axes import AXES
from vidbench.measure.uncertainty import Interval, mean_interval, median_interval, quantile_interval
from vidbench.measure.uncertainty import within_run_interval
from vidbench.metrics import COLUMNS_BY_NAME, COMPARED_COLUMNS
from vidbench.report.frame import SHOWN_AXES, varying_axes
from vidbench.suite.spec import RunSpec, canonical_json

REPLICATE_AXIS = "seed"
# The figures shown with their intervals, where measured: accuracy, then every timing and memory figure.
UNCERTAIN_COLUMNS = ("top1", "top5", "latency_ms_p50", "latency_ms_p90", "throughput_clips_s",
                     "train_throughput_clips_s", "peak_mem_mb", "train_peak_mem_mb")
# Per figure: the interval's ends, the replicates it is over, their spread, and how it was obtained.
SUFFIXES = ("lo", "hi", "n", "std", "interval")


def config_key(spec: dict | None, fallback: str) -> str:
    """What a configuration is: a run's identity (what changes its figures) less its seed."""
    if not spec:
        return fallback
    identity = RunSpec.from_dict(spec).identity()
    identity.pop(REPLICATE_AXIS, None)
    return canonical_json(identity)


def with_config(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with a `config` column: equal for runs that differ only in seed."""
    specs = frame["spec"] if "spec" in frame else [None] * len(frame)
    return frame.assign(config=[config_key(spec, run_id) for spec, run_id in zip(specs, frame["run_id"])])


def run_interval(row: pd.Series, column: str) -> Interval | None:
    """One run's figure with its within-run interval where the figure is a timing (else no interval)."""
    value = row.get(column)
    if value is None or pd.isna(value):
        return None
    col = COLUMNS_BY_NAME[column]
    if col.noise != "timing":
        return Interval(float(value), float(value), float(value), 1, None, "none")
    timing = (row.get("detail") or {}).get(col.samples) or {}
    ci = (timing.get("ci") or {}).get(f"{col.quantile:g}")
    if ci is None and timing.get("samples"):  # stored before the runner kept intervals: from the samples
        ci = quantile_interval(timing["samples"], col.quantile)
    return within_run_interval(float(value), tuple(ci) if ci else None, col.inverse)


def figure_interval(runs: pd.DataFrame, column: str) -> Interval | None:
    """A configuration's figure over its replicate runs."""
    values = runs[column].dropna()
    if values.empty:
        return None
    if len(values) == 1:
        return run_interval(runs.loc[values.index[0]], column)
    col = COLUMNS_BY_NAME[column]
    summarise = median_interval if col.aggregate == "median" else mean_interval
    interval = summarise(values.astype(float).tolist())
    if col.limits is not None:  # a t interval of percentages can pass 100%: it ends where the figure does
        low, high = col.limits
        interval = dataclasses.replace(interval, lo=max(interval.lo, low), hi=min(interval.hi, high))
    return interval


def aggregate(frame: pd.DataFrame, columns: tuple[str, ...] = COMPARED_COLUMNS) -> pd.DataFrame:
    """One row per configuration of the ok runs: its first run's identifying columns, `replicates` and
    `seeds`, and for each figure the summary value with `<figure>_lo`, `_hi`, `_n`, `_std`, `_interval`."""
    ok = with_config(frame[frame["status"] == "ok"])
    held = {c for c in columns if c in ok and ok[c].notna().any()}  # a column no run holds has no interval
    rows = []
    for _, runs in ok.groupby("config", sort=False):
        first = runs.iloc[0]
        row = first.to_dict()
        row["setting"] = {k: v for k, v in first["setting"].items() if k != REPLICATE_AXIS}
        row.update(replicates=len(runs), seeds=sorted(runs[REPLICATE_AXIS].dropna().astype(int).tolist())
                   if REPLICATE_AXIS in runs else [], run_ids=runs["run_id"].tolist())
        for column in columns:
            if column not in runs:
                continue
            interval = figure_interval(runs, column) if column in held else None
            row[column] = None if interval is None else interval.value
            for suffix in SUFFIXES:
                row[f"{column}_{suffix}"] = None
            if interval is not None:
                row.update({f"{column}_lo": interval.lo, f"{column}_hi": interval.hi, f"{column}_n": interval.n,
                            f"{column}_std": interval.std, f"{column}_interval": interval.method})
        rows.append(row)
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    for column in ("params",):  # integer figures stay integers
        if column in out:
            out[column] = out[column].astype("Int64")
    return out.reset_index(drop=True)


def interval_of(row: pd.Series, column: str) -> Interval | None:
    """The Interval an aggregated row holds for `column`."""
    value = row.get(column)
    if value is None or pd.isna(value):
        return None
    method = row.get(f"{column}_interval")
    if not isinstance(method, str) or method == "none":  # a run's row, or a figure without an interval
        n = row.get(f"{column}_n")
        return Interval(float(value), float(value), float(value), 1 if n is None or pd.isna(n) else int(n), None,
                        "none")
    std = row.get(f"{column}_std")
    return Interval(float(value), float(row[f"{column}_lo"]), float(row[f"{column}_hi"]), int(row[f"{column}_n"]),
                    None if std is None or pd.isna(std) else float(std), method)


def _significant(value: float, digits: int = 4) -> str:
    """`digits` significant digits in fixed notation ('82.00', '10.02', '199.6', '1234')."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    return f"{value:.{decimals}f}"


def interval_text(row: pd.Series, column: str) -> str:
    """'85.10 [82.03, 88.17] n=3', '12.41 [12.20, 12.63] within-run', or the bare value with no interval."""
    interval = interval_of(row, column)
    if interval is None:
        return ""
    fmt = _significant
    if not interval.has_interval:
        return fmt(interval.value) + (" (n=1)" if COLUMNS_BY_NAME[column].noise in ("seed", "single") else "")
    where = "within-run" if interval.method == "within-run bootstrap" else f"n={interval.n}"
    return f"{fmt(interval.value)} [{fmt(interval.lo)}, {fmt(interval.hi)}] {where}"


# What names a configuration in an export: the run's columns less its seed.
IDENTITY_COLUMNS = ("model", "family", "arch", "model_args", "dataset", "dataset_args",
                    *(a.name for a in AXES if a.name != REPLICATE_AXIS))


def export_aggregate(configs: pd.DataFrame) -> pd.DataFrame:
    """One row per configuration for `vidbench results --aggregate`: what it is, its replicates and seeds,
    and for every measured figure its summary value, std, n, 95% interval and how that was obtained."""
    if configs.empty:
        return pd.DataFrame(columns=[*IDENTITY_COLUMNS, "replicates", "seeds"])
    seeds = pd.Series([" ".join(map(str, s)) for s in configs["seeds"]], index=configs.index, name="seeds")
    figures = [name for column in COMPARED_COLUMNS if column in configs and configs[column].notna().any()
               for name in (column, *(f"{column}_{s}" for s in ("std", "n", "lo", "hi", "interval")))]
    # joined at once: a column at a time fragments the frame (pandas' PerformanceWarning on every call)
    out = pd.concat([configs[[*IDENTITY_COLUMNS, "replicates"]], seeds, configs[figures]], axis=1)
    return out.reset_index(drop=True)


def aggregate_rows(configs: pd.DataFrame) -> pd.DataFrame:
    """Configurations as people read them: model, dataset, every axis that tells two apart (the seed is
    folded), runs, and each measured noisy figure with its interval as text (the terminal and Markdown form
    of `results --aggregate`)."""
    shown = [c for c in UNCERTAIN_COLUMNS if c in configs and configs[c].notna().any()]
    axes = [a for a in varying_axes(configs) if a != REPLICATE_AXIS] if len(configs) else list(SHOWN_AXES)
    rows = [{"model": r["variant"], "dataset": r["dataset"], **{a: r[a] for a in axes}, "replicates": r["replicates"],
             **{c: interval_text(r, c) for c in shown}} for _, r in configs.iterrows()]
    return pd.DataFrame(rows, columns=["model", "dataset", *axes, "replicates", *shown])
