"""The tidy table of a run folder, read from the store alone (so any old folder can be re-rendered)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from vidbench.errors import UsageError
from vidbench.store.record import RESULT_COLUMNS
from vidbench.store.sqlite import STORE_NAME, ResultStore

UNITS = {
    "params": "params", "gmacs": "GMACs (1 clip, multiply-accumulates)", "gflops": "GFLOPs (= 2 × GMACs)",
    "peak_mem_mb": "peak mem (MiB, inference)", "latency_ms_p50": "latency p50 (ms/batch)",
    "latency_ms_p90": "latency p90 (ms/batch)", "throughput_clips_s": "throughput (clips/s)",
    "train_throughput_clips_s": "train throughput (clips/s)", "train_peak_mem_mb": "peak mem (MiB, train step)",
    "top1": "top-1 (%)", "top5": "top-5 (%)", "duration_s": "duration (s)",
}


@dataclass
class RunFolder:
    folder: Path
    frame: pd.DataFrame  # one row per run, the contract's columns first
    suite_name: str
    suite_yaml: str
    environments: dict[str, dict]  # device → environment of its latest run


def resolution_side(label: str) -> int:
    """The short side of a resolution label ('112' or '112x160')."""
    return min(int(p) for p in str(label).split("x"))


def load_run_folder(folder: str | Path) -> RunFolder:
    folder = Path(folder)
    if not (folder / STORE_NAME).is_file():
        raise UsageError(f"{folder} is not a vidbench run folder (no {STORE_NAME})")
    with ResultStore.open_existing(folder) as store:
        rows = store.rows()
        suite_name = store.get_meta("suite_name") or folder.name
        suite_yaml = store.get_meta("suite_yaml") or ""
    envs = {row["device"]: row["env"] for row in rows if row["env"]}
    frame = pd.DataFrame(rows, columns=[*RESULT_COLUMNS, "suite", "finished_at", "spec", "detail", "env"])
    frame["params"] = frame["params"].astype("Int64")
    return RunFolder(folder, frame, suite_name, suite_yaml, envs)


def export_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The contract's columns only, for CSV/JSON/Markdown export."""
    return frame[list(RESULT_COLUMNS)]


def to_json_records(frame: pd.DataFrame) -> str:
    records = export_frame(frame).astype(object).where(export_frame(frame).notna(), None).to_dict("records")
    return json.dumps(records, indent=2, default=str)
