"""What a report concludes, computed from the tidy frame alone: Pareto fronts, scaling exponents,
recommendations, family and device comparisons.

Pure functions of the frame returning DataFrames; plots and rendering only draw what is here, so
every number a reader sees in the text has one source.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from vidbench.axes import AXIS_NAMES, setting_label
from vidbench.measure.stats import UNSTABLE_IQR_OVER_MEDIAN
from vidbench.metrics import COLUMNS_BY_NAME
from vidbench.report.aggregate import interval_of
from vidbench.report.tables import is_set
from vidbench.models.families import FAMILY_LABELS  # noqa: F401 (read by the report's sections)
from vidbench.report.frame import SHORT_UNITS

# Cost axes of the Pareto fronts, each against top-1: (column, True when more is better).
PARETO_COSTS = (("gmacs", False), ("throughput_clips_s", True), ("peak_mem_mb", False),
                ("energy_j_per_clip", False))  # energy where it was measured
SCALING_METRICS = ("gmacs", "peak_mem_mb", "latency_ms_p50", "throughput_clips_s")
SCALING_AXES = {"clip_length": "T", "side": "px"}  # frame column → symbol in "GMACs ∝ T^1.1"
# The spec setting each scaling axis is; the fit holds every other setting fixed.
_AXIS_SETTING = {"clip_length": "clip_length", "side": "resolution"}
# Recommendation budgets and floors: nearest-rank percentiles of the values observed in the group.
PERCENTILES = (25, 50, 75, 100)


def ok_runs(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """The `ok` runs that hold every one of `columns`."""
    ok = frame[frame["status"] == "ok"]
    return ok.dropna(subset=list(columns)) if len(ok) and columns else ok


def family_label(family: str) -> str:
    return FAMILY_LABELS.get(family, family)


# -- labels -------------------------------------------------------------------------------------------
def varying_settings(frame: pd.DataFrame) -> list[str]:
    """The settings that take more than one value among these runs (in a stable order)."""
    values: dict[str, set] = {}
    for setting in frame["setting"]:
        for k, v in setting.items():
            values.setdefault(k, set()).add(json.dumps(v, sort_keys=True, default=str))
    missing = {k for k in values if any(k not in s for s in frame["setting"])}
    order = list(AXIS_NAMES)
    keys = [k for k in values if len(values[k]) > 1 or k in missing]
    return sorted(keys, key=lambda k: (order.index(k) if k in order else len(order), k))


def setting_text(setting: dict, keys: list[str]) -> str:
    return " ".join(setting_label(k, setting.get(k)) for k in keys)


def run_labels(frame: pd.DataFrame) -> pd.Series:
    """'tsn_tiny 32px T8': the variant plus the settings that vary among these runs."""
    keys = varying_settings(frame) if len(frame) else []
    return pd.Series([f"{v} {setting_text(s, keys)}".strip() for v, s in zip(frame["variant"], frame["setting"])],
                     index=frame.index, dtype=object)


# -- Pareto -------------------------------------------------------------------------------------------
def pareto_mask(accuracy, cost, higher_cost_is_better: bool = False) -> np.ndarray:
    """True for the points no other point beats: at least as accurate and as cheap, better in one."""
    acc = np.asarray(accuracy, dtype=float)
    c = -np.asarray(cost, dtype=float) if higher_cost_is_better else np.asarray(cost, dtype=float)
    if acc.size == 0:
        return np.zeros(0, dtype=bool)
    no_worse = (acc[None, :] >= acc[:, None]) & (c[None, :] <= c[:, None])  # [i, j]: j no worse than i
    better = (acc[None, :] > acc[:, None]) | (c[None, :] < c[:, None])
    return ~(no_worse & better).any(axis=1)


def groups(frame: pd.DataFrame, keys=("dataset", "device")):
    """(key tuple, sub-frame) per group, in sorted order."""
    if frame.empty:
        return []
    return [(k if isinstance(k, tuple) else (k,), g) for k, g in frame.groupby(list(keys), sort=True)]


def pareto_fronts(frame: pd.DataFrame) -> pd.DataFrame:
    """The non-dominated runs of each dataset and device, for each cost axis against top-1."""
    rows = []
    for cost, more_is_better in PARETO_COSTS:
        data = ok_runs(frame, "top1", cost)
        for (dataset, device), sub in groups(data):
            on = sub[pareto_mask(sub["top1"], sub[cost], more_is_better)]
            on = on.sort_values(cost, ascending=not more_is_better)
            for label, (_, r) in zip(run_labels(sub).loc[on.index], on.iterrows()):
                rows.append({"dataset": dataset, "device": device, "against": SHORT_UNITS[cost], "run": label,
                             "family": family_label(r["family"]), "top1": r["top1"], "value": float(r[cost]),
                             "cost": cost, "run_id": r["run_id"]})
    return pd.DataFrame(rows, columns=["dataset", "device", "against", "run", "family", "top1", "value", "cost",
                                       "run_id"])


# -- scaling ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Fit:
    exponent: float
    r2: float
    points: int  # runs used
    series: int  # groups of runs that differ only in the axis


def fit_exponent(frame: pd.DataFrame, metric: str, axis: str) -> Fit | None:
    """Least squares slope of log(metric) on log(axis), every other setting held fixed.

    Runs that share every setting but `axis` form a series; each series gets its own intercept and
    all share one slope (the within-series regression), so a series at 32px and one at 48px both
    inform "GMACs ∝ T^b" without the resolution leaking into b. None when no series has two values.
    """
    data = frame.dropna(subset=[metric, axis])
    data = data[(data[metric].astype(float) > 0) & (data[axis].astype(float) > 0)]
    if data.empty:
        return None
    skip = _AXIS_SETTING[axis]
    keys = [json.dumps([d, {k: v for k, v in s.items() if k != skip}], sort_keys=True, default=str)
            for d, s in zip(data["dataset"], data["setting"])]
    x = np.log(data[axis].astype(float).to_numpy())
    y = np.log(data[metric].astype(float).to_numpy())
    table = pd.DataFrame({"key": keys, "x": x, "y": y})
    spread = table.groupby("key")["x"].transform("nunique")
    table = table[spread > 1]
    if table.empty:
        return None
    dx = table["x"] - table.groupby("key")["x"].transform("mean")
    dy = table["y"] - table.groupby("key")["y"].transform("mean")
    sxx = float((dx * dx).sum())
    slope = float((dx * dy).sum()) / sxx
    syy = float((dy * dy).sum())
    r2 = 1.0 - float(((dy - slope * dx) ** 2).sum()) / syy if syy > 1e-18 else 1.0
    return Fit(slope, r2, len(table), table["key"].nunique())


def scaling_exponents(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per variant, device, metric and axis that could be fitted."""
    rows = []
    data = ok_runs(frame)
    for (variant, device), sub in groups(data, ("variant", "device")):
        for axis, symbol in SCALING_AXES.items():
            if axis not in sub or sub[axis].nunique() < 2:  # nothing to fit along it (saves a sweep of 10,000
                continue  # one-run variants 8 fits each)
            for metric in SCALING_METRICS:
                if metric not in sub or sub[metric].count() < 2:
                    continue
                fit = fit_exponent(sub, metric, axis)
                if fit is None:
                    continue
                xs = sorted(sub[axis].dropna().astype(int).unique())
                rows.append({"variant": variant, "family": sub["family"].iloc[0], "device": device, "metric": metric,
                             "axis": axis, "symbol": symbol, "exponent": fit.exponent, "r2": fit.r2,
                             "points": fit.points, "series": fit.series, "range": f"{xs[0]}–{xs[-1]}"})
    return pd.DataFrame(rows, columns=["variant", "family", "device", "metric", "axis", "symbol", "exponent", "r2",
                                       "points", "series", "range"])


def scaling_statement(variant: str, metric: str, symbol: str, exponent: float) -> str:
    return f"{variant}: {SHORT_UNITS[metric].split(' (')[0]} ∝ {symbol}^{exponent:.2f}"


def scaling_table(exponents: pd.DataFrame) -> pd.DataFrame:
    """Wide: one row per variant and device, one column per metric and axis ("GMACs ∝ T^")."""
    if exponents.empty:
        return pd.DataFrame(columns=["variant", "family", "device"])
    exponents = exponents.assign(column=[f"{SHORT_UNITS[m].split(' (')[0]} ∝ {s}^" for m, s in
                                         zip(exponents["metric"], exponents["symbol"])])
    wide = exponents.pivot_table(index=["variant", "family", "device"], columns="column", values="exponent",
                                 aggfunc="first", sort=False)
    order = [f"{SHORT_UNITS[m].split(' (')[0]} ∝ {s}^" for s in SCALING_AXES.values() for m in SCALING_METRICS]
    wide = wide[[c for c in order if c in wide.columns]].reset_index()
    wide["family"] = wide["family"].map(family_label)
    wide.columns.name = None
    return wide.sort_values(["family", "variant", "device"], kind="stable").reset_index(drop=True)


# -- recommendations ----------------------------------------------------------------------------------
REC_COLUMNS = ["dataset", "device", "kind", "criterion", "choice", "family", "top1", "latency_ms_p50",
               "throughput_clips_s", "gmacs", "peak_mem_mb", "verdict", "run_id", "unstable"]
_REC_FIGURES = REC_COLUMNS[6:11]
UNSTABLE_PICK = (f"its timing is unstable (IQR/median above {UNSTABLE_IQR_OVER_MEDIAN:.0%}): measure again before "
                 "relying on this pick")


def nearest_rank(values, percentile: float) -> float:
    """The nearest-rank percentile: always one of the values."""
    v = np.sort(np.asarray(values, dtype=float))
    return float(v[max(0, min(len(v) - 1, math.ceil(percentile / 100 * len(v)) - 1))])


def _percentile_label(ps: list[int], top: str) -> str:
    return "/".join(top if p == 100 else f"p{p}" for p in ps)


def recommendation_groups(frame: pd.DataFrame) -> list[str]:
    """Recommendation group keys: dataset and device, and batch size where one group holds several
    (latency is per batch, so budgets only compare runs of one batch size)."""
    data = ok_runs(frame, "top1", "latency_ms_p50", "throughput_clips_s")
    several = any(sub["batch_size"].nunique() > 1 for _, sub in groups(data))
    return ["dataset", "device", "batch_size"] if several else ["dataset", "device"]


def recommendations(frame: pd.DataFrame) -> pd.DataFrame:
    """Per dataset and device: the most accurate run under each latency budget, the fastest run above
    each accuracy floor, and the Pareto set of top-1 against throughput, with the figures behind each.

    Budgets and floors are nearest-rank percentiles (p25, p50, p75, max) of the p50 latencies and
    top-1 accuracies observed in the group, so each is a value some run reached.
    """
    data = ok_runs(frame, "top1", "latency_ms_p50", "throughput_clips_s")
    keys = recommendation_groups(frame)
    rows = []
    for key, sub in groups(data, keys):
        labels = run_labels(sub)
        device = key[1] if len(key) == 2 else f"{key[1]} (bs {key[2]})"
        lat, acc = sub["latency_ms_p50"].astype(float), sub["top1"].astype(float)

        def add(kind, criterion, ranked, by=None):
            run = ranked.iloc[0]
            verdict = "" if by is None else tie_verdict(run, ranked.iloc[1] if len(ranked) > 1 else None, by,
                                                        labels)
            unstable = is_set(run.get("unstable"))
            if unstable:  # every pick rests on a timing: a budget on latency, a floor's pick on throughput
                verdict = f"{verdict}; {UNSTABLE_PICK}" if verdict else UNSTABLE_PICK
            rows.append({"dataset": key[0], "device": device, "kind": kind, "criterion": criterion,
                         "choice": labels[run.name], "family": family_label(run["family"]),
                         **{c: run[c] for c in _REC_FIGURES}, "verdict": verdict, "run_id": run["run_id"],
                         "unstable": unstable})

        for budget, criterion in latency_budgets(lat):
            fits = sub[lat <= budget + 1e-12]
            ranked = fits.sort_values(["top1", "latency_ms_p50"], ascending=[False, True], kind="stable")
            add("latency budget", criterion, ranked, "top1")
        for floor, ps in _thresholds(acc):
            fits = sub[acc >= floor - 1e-12]
            ranked = fits.sort_values(["throughput_clips_s", "top1"], ascending=[False, False], kind="stable")
            add("accuracy floor", f"top-1 ≥ {_num(floor)}% ({_percentile_label(ps, 'best')})", ranked,
                "throughput_clips_s")
        front = sub[pareto_mask(acc, sub["throughput_clips_s"], True)]
        for i in front.sort_values("throughput_clips_s", ascending=False).index:
            add("Pareto set", "top-1 vs throughput", front.loc[[i]])
    return pd.DataFrame(rows, columns=REC_COLUMNS)


def tie_verdict(pick: pd.Series, runner_up: pd.Series | None, column: str, labels: pd.Series) -> str:
    """Whether the pick beats the runner-up on `column` beyond noise: a winner only when their 95%
    intervals do not overlap."""
    if runner_up is None:
        return "the only candidate"
    other = labels[runner_up.name]
    a, b = interval_of(pick, column), interval_of(runner_up, column)
    if a is None or b is None or not (a.has_interval and b.has_interval):
        what = "one seed" if COLUMNS_BY_NAME[column].noise == "seed" else "one run"
        return f"not tested against {other} ({what}: no interval)"
    if a.overlaps(b):
        return f"tied with {other} (difference within noise)"
    return f"winner: its interval is clear of {other}'s"


def latency_budgets(latencies: pd.Series) -> list[tuple[float, str]]:
    """The latency budgets of a group (nearest-rank p25/p50/p75/max of the latencies observed), each with
    its criterion as the reports write it ('latency ≤ 3.08 ms (p50)')."""
    return [(budget, f"latency ≤ {_num(budget)} ms ({_percentile_label(ps, 'max')})")
            for budget, ps in _thresholds(latencies)]


def _thresholds(values: pd.Series) -> list[tuple[float, list[int]]]:
    """Distinct thresholds with the percentiles that give each."""
    out: dict[float, list[int]] = {}
    for p in PERCENTILES:
        out.setdefault(nearest_rank(values, p), []).append(p)
    return list(out.items())


def _num(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 100 else f"{x:.0f}"


# -- families and devices -----------------------------------------------------------------------------
def family_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per dataset, device and family: how many runs, the best of them, and medians of each figure."""
    rows = []
    data = ok_runs(frame)
    for (dataset, device), sub in groups(data):
        labels = run_labels(sub)
        for family, fam in sub.groupby("family", sort=True):
            with_acc = fam.dropna(subset=["top1"])
            best = with_acc.loc[with_acc["top1"].astype(float).idxmax()] if len(with_acc) else None
            rows.append({
                "dataset": dataset, "device": device, "family": family_label(family), "runs": len(fam),
                "models": fam["variant"].nunique(),
                "best_top1": None if best is None else best["top1"],
                "best_run": "" if best is None else labels[best.name],
                **{f"median_{c}": _median(fam[c]) for c in ("top1", "gmacs", "throughput_clips_s", "latency_ms_p50",
                                                           "peak_mem_mb")},
            })
    return pd.DataFrame(rows, columns=["dataset", "device", "family", "runs", "models", "best_top1", "best_run",
                                       "median_top1", "median_gmacs", "median_throughput_clips_s",
                                       "median_latency_ms_p50", "median_peak_mem_mb"])


def _median(series: pd.Series):
    s = series.dropna().astype(float)
    return float(s.median()) if len(s) else None


def baseline_device(devices) -> str:
    devices = sorted(devices)
    return "cpu" if "cpu" in devices else devices[0]


def device_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per variant and device: medians, and the speed-up over the baseline device (cpu where present)
    as the median ratio of throughputs over runs that match in every other setting. Empty with
    fewer than two devices."""
    data = ok_runs(frame)
    if data["device"].nunique() < 2:
        return pd.DataFrame()
    base = baseline_device(data["device"].unique())
    data = data.assign(match=[json.dumps([v, d, s], sort_keys=True, default=str) for v, d, s in
                              zip(data["variant"], data["dataset"], data["setting"])])
    base_tp = data[data["device"] == base].dropna(subset=["throughput_clips_s"]).groupby("match")[
        "throughput_clips_s"].first()
    rows = []
    for (variant, device), sub in groups(data, ("variant", "device")):
        tp = sub.dropna(subset=["throughput_clips_s"])
        ratios = [float(t) / float(base_tp[m]) for m, t in zip(tp["match"], tp["throughput_clips_s"])
                  if m in base_tp.index and base_tp[m] > 0]
        rows.append({"variant": variant, "family": family_label(sub["family"].iloc[0]), "device": device,
                     "runs": len(sub), "median_throughput_clips_s": _median(sub["throughput_clips_s"]),
                     "median_latency_ms_p50": _median(sub["latency_ms_p50"]),
                     "median_peak_mem_mb": _median(sub["peak_mem_mb"]),
                     "speedup": float(np.median(ratios)) if ratios else None, "matched": len(ratios),
                     "baseline": base})
    return pd.DataFrame(rows)
