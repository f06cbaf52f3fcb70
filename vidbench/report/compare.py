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

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from vidbench.axes import AXES, AXIS_NAMES
from vidbench.measure.uncertainty import ALPHA, Difference, replicates_difference, samples_difference
from vidbench.metrics import COLUMNS_BY_NAME, COMPARED_COLUMNS, HIGHER_IS_BETTER, LOWER_IS_BETTER  # noqa: F401
from vidbench.report.aggregate import with_config
from vidbench.report.frame import load_run_folder
from vidbench.store.record import FAILED_STATUSES

# Directions and the compared columns (every stored figure with a direction, in report order) come from
# the metric table; a column without one is never compared, for the reason the table gives.
COMPARED = COMPARED_COLUMNS
KEY_COLUMNS = ("run_id", "model", "model_args", "dataset", *AXIS_NAMES)
FAILED = tuple(sorted(FAILED_STATUSES))
# Environment fields that change speed: a difference in any of them makes speed changes incomparable.
ENV_KEYS = ("cpu", "device_name", "cpu_count", "threads", "torch", "cuda", "cudnn")
NODES_APART = "some configurations ran on Ray nodes of different hardware in the two folders"
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
    only_in_a: pd.DataFrame | None = None  # the runs stored in A alone (KEY_COLUMNS and status)
    only_in_b: pd.DataFrame | None = None

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


def _value_text(value) -> str:
    return str(value) if not isinstance(value, dict | list) else repr(value)


def hardware(runs: pd.DataFrame) -> dict[str, dict[str, set[str]]]:
    """Per device, the values each speed-relevant environment field took among the runs (every run's own
    environment: on a cluster the nodes of a device may differ)."""
    out: dict[str, dict[str, set[str]]] = {}
    for device, env in zip(runs["device"], runs["env"] if "env" in runs else [None] * len(runs)):
        if isinstance(env, dict) and env:
            fields = out.setdefault(str(device), {})
            for key in ENV_KEYS:
                if key in env:
                    fields.setdefault(key, set()).add(_value_text(env[key]))
    return out


def env_differences(runs_a: pd.DataFrame, runs_b: pd.DataFrame) -> list[str]:
    """What differs between the environments two sets of runs ran in, device by device ('cpu: A → B'); where
    runs of a device ran on several nodes, their values are listed together ('A / B')."""
    hw_a, hw_b = hardware(runs_a), hardware(runs_b)
    out, seen = [], set()
    for device in sorted(set(hw_a) & set(hw_b)):
        for key in ENV_KEYS:
            a, b = hw_a[device].get(key), hw_b[device].get(key)
            if a and b and a != b and (device, *sorted(a), "→", *sorted(b)) not in seen:
                seen.add((device, *sorted(a), "→", *sorted(b)))  # a CPU's device_name is its cpu: said once
                out.append(f"{key}: {' / '.join(sorted(a))} → {' / '.join(sorted(b))} ({device} runs)")
    return out


def _ran_apart(runs_a: pd.DataFrame, runs_b: pd.DataFrame, differences: list[str]) -> bool:
    """Whether one configuration's runs ran on different hardware or software in the two folders: judged on
    their own environments (two Ray nodes of different hardware are different environments), on the
    folders' when the runs kept none."""
    hw_a, hw_b = hardware(runs_a), hardware(runs_b)
    if not hw_a or not hw_b:
        return bool(differences)
    return bool(env_differences(runs_a, runs_b))


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


def _consistent(diff: Difference | None) -> Difference | None:
    """The test's own point estimate, inside its own interval: the change and its interval are one statistic
    (a percentile bootstrap may leave the point just outside on skewed samples: the interval then reaches it)."""
    if diff is None or diff.lo_pct is None or diff.hi_pct is None:
        return diff
    lo, hi = min(diff.lo_pct, diff.change_pct), max(diff.hi_pct, diff.change_pct)
    return dataclasses.replace(diff, lo_pct=lo, hi_pct=hi)


def _metric_record(metric: str, runs_a: pd.DataFrame, runs_b: pd.DataFrame, result: Comparison,
                   speed_incomparable: bool) -> dict:
    """One figure of one configuration in both folders: the change (the test's statistic where a test ran,
    else the figures' relative change), its interval and p-value, and whether it regressed."""
    va = _summary(runs_a[metric].dropna().tolist(), metric)
    vb = _summary(runs_b[metric].dropna().tolist(), metric)
    diff, note = _difference(metric, runs_a, runs_b) if result.stats else (None, "threshold only (--no-stats)")
    diff = _consistent(diff)
    change = relative_change(va, vb) if diff is None else diff.change_pct
    worse = (-change if higher_is_better(metric) else change) > result.threshold_pct
    noise = COLUMNS_BY_NAME[metric].noise
    significant = (not result.stats) or noise == "exact" or (diff is not None and diff.significant(ALPHA))
    regression = worse and significant
    if speed_incomparable and noise in SPEED_NOISE:  # every speed row, as the environment notice says
        regression, note = False, "hardware or software difference (environments differ)"
    elif worse and not significant and diff is not None:
        note = f"not significant (p = {diff.p_value:.2g})"
    return {"replicates_a": len(runs_a), "replicates_b": len(runs_b), "metric": metric,
            "better": "higher" if higher_is_better(metric) else "lower", "a": va, "b": vb, "change_pct": change,
            "lo_pct": None if diff is None else diff.lo_pct, "hi_pct": None if diff is None else diff.hi_pct,
            "p_value": None if diff is None else diff.p_value, "method": "" if diff is None else diff.method,
            "note": note, "regression": regression}


ROW_COLUMNS = [*KEY_COLUMNS, "replicates_a", "replicates_b", "metric", "better", "a", "b", "change_pct", "lo_pct",
               "hi_pct", "p_value", "method", "note", "regression"]


def _sorted_rows(records: list[dict]) -> pd.DataFrame:
    """Runs together (in axis order), metrics in report order within a run."""
    rows = pd.DataFrame(records, columns=ROW_COLUMNS)
    if not len(rows):
        return rows
    order = {m: i for i, m in enumerate(COMPARED)}
    keys = {f"_{a.name}": rows[a.name].map(a.order_key) if a.order_key else rows[a.name] for a in AXES}
    rows = rows.assign(_m=rows["metric"].map(order), **keys).sort_values(
        ["model", "model_args", "dataset", "_device", *keys, "run_id", "_m"], kind="stable")
    return rows.drop(columns=["_m", *keys]).reset_index(drop=True)


def _one_side(frame: pd.DataFrame, ids: set[str]) -> pd.DataFrame:
    """The runs of `frame` whose id is in `ids`, as the lists of runs in one folder only show them."""
    return frame[frame["run_id"].isin(ids)][[*KEY_COLUMNS, "status"]].reset_index(drop=True)


def compare_folders(folder_a: str | Path, folder_b: str | Path, threshold_pct: float = 5.0, stats: bool = True,
                    same_env: bool = False) -> Comparison:
    """Match configurations (runs less their seed) among `ok` runs; B relative to A, in percent."""
    run_a = load_run_folder(folder_a, details=stats)
    run_b = load_run_folder(folder_b, details=stats)
    all_a, all_b = run_a.frame, run_b.frame
    differences = env_differences(all_a, all_b) if stats else []
    ids_a, ids_b = set(all_a["run_id"]), set(all_b["run_id"])
    broke = all_b[all_b["status"].isin(FAILED) & all_b["run_id"].isin(set(all_a.loc[all_a["status"] == "ok",
                                                                                        "run_id"]))]
    result = Comparison(pd.DataFrame(columns=ROW_COLUMNS), broke[[*KEY_COLUMNS, "status", "error"]].reset_index(
        drop=True), only_a=len(ids_a - ids_b), only_b=len(ids_b - ids_a), threshold_pct=threshold_pct, stats=stats,
        env_differences=differences, same_env=same_env, only_in_a=_one_side(all_a, ids_a - ids_b),
        only_in_b=_one_side(all_b, ids_b - ids_a))
    a = with_config(all_a[all_a["status"] == "ok"])
    by_b = dict(list(with_config(all_b[all_b["status"] == "ok"]).groupby("config", sort=False)))
    records = []
    for config, runs_a in a.groupby("config", sort=False):
        runs_b = by_b.get(config)
        if runs_b is None:
            continue
        keys = {k: runs_a.iloc[0][k] for k in KEY_COLUMNS}
        incomparable = not same_env and _ran_apart(runs_a, runs_b, differences)
        if incomparable and not result.env_differences:  # alike as folders, apart run by run (nodes swapped)
            result.env_differences.append(NODES_APART)
        records += [{**keys, **_metric_record(metric, runs_a, runs_b, result, incomparable)}
                    for metric in COMPARED if metric in runs_a and runs_a[metric].notna().any()
                    and runs_b[metric].notna().any()]
    result.rows = _sorted_rows(records)
    return result
