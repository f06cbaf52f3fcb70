"""Compare two run folders: the same runs side by side, relative change of every metric, regressions marked."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from vidbench.report.frame import load_run_folder
from vidbench.store.record import METRIC_COLUMNS

HIGHER_IS_BETTER = {"throughput_clips_s", "train_throughput_clips_s", "top1", "top5"}
KEY_COLUMNS = ("run_id", "model", "dataset", "resolution", "clip_length", "batch_size", "device", "precision")


@dataclass
class Comparison:
    rows: pd.DataFrame  # one row per (run, metric) present in both folders
    only_a: int
    only_b: int
    threshold_pct: float

    @property
    def regressions(self) -> pd.DataFrame:
        return self.rows[self.rows["regression"]]


def compare_folders(folder_a: str | Path, folder_b: str | Path, threshold_pct: float = 5.0) -> Comparison:
    """Match runs by run_id (the same spec) among `ok` runs; B relative to A, in percent."""
    a = load_run_folder(folder_a).frame
    b = load_run_folder(folder_b).frame
    a, b = a[a["status"] == "ok"], b[b["status"] == "ok"]
    merged = a.merge(b, on="run_id", suffixes=("_a", "_b"))
    records = []
    for _, row in merged.iterrows():
        for metric in METRIC_COLUMNS:
            va, vb = row[f"{metric}_a"], row[f"{metric}_b"]
            if pd.isna(va) or pd.isna(vb):
                continue
            va, vb = float(va), float(vb)
            change = (vb - va) / abs(va) * 100 if va else (0.0 if vb == va else float("inf"))
            worse = -change if metric in HIGHER_IS_BETTER else change
            records.append({**{k: row[k if k == "run_id" else f"{k}_a"] for k in KEY_COLUMNS}, "metric": metric,
                            "a": va, "b": vb, "change_pct": change, "regression": worse > threshold_pct})
    columns = [*KEY_COLUMNS, "metric", "a", "b", "change_pct", "regression"]
    return Comparison(pd.DataFrame(records, columns=columns), only_a=len(set(a["run_id"]) - set(b["run_id"])),
                      only_b=len(set(b["run_id"]) - set(a["run_id"])), threshold_pct=threshold_pct)
