"""The tidy table of a run folder, read from the store alone (so any old folder can be re-rendered)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from vidbench.errors import UsageError
from vidbench.store.record import RESULT_COLUMNS
from vidbench.store.sqlite import STORE_NAME, ResultStore
from vidbench.suite.spec import NEUTRAL_TRAIN

UNITS = {
    "params": "params", "gmacs": "GMACs (1 clip, multiply-accumulates)", "gflops": "GFLOPs (= 2 × GMACs)",
    "peak_mem_mb": "peak mem (MiB, inference)", "latency_ms_p50": "latency p50 (ms/batch)",
    "latency_ms_p90": "latency p90 (ms/batch)", "throughput_clips_s": "throughput (clips/s)",
    "train_throughput_clips_s": "train throughput (clips/s)", "train_peak_mem_mb": "peak mem (MiB, train step)",
    "top1": "top-1 (%)", "top5": "top-5 (%)", "duration_s": "duration (s)",
    "resolution": "px (crop)", "clip_length": "T (frames)", "frame_stride": "stride (frames)",
    "batch_size": "batch (clips)",
    # Columns beyond the contract, where the store has them.
    "latency_ms_p99": "latency p99 (ms/batch)", "throughput_frames_s": "throughput (frames/s)",
    "train_throughput_frames_s": "train throughput (frames/s)", "train_gmacs": "train GMACs (fwd + bwd, 1 clip)",
    "peak_mem_reserved_mb": "reserved mem (MiB, CUDA)", "rss_peak_mb": "RSS peak (MiB, worker process)",
    "tflops_achieved": "TFLOP/s achieved", "mfu": "MFU", "train_tflops_achieved": "train TFLOP/s achieved",
    "train_mfu": "train MFU", "compile_s": "compile (s)", "unstable": "unstable timing",
}
# Short names of the same quantities, for plot axes and table headers where space is tight.
SHORT_UNITS = {
    "gmacs": "GMACs", "gflops": "GFLOPs", "peak_mem_mb": "peak mem (MiB)", "latency_ms_p50": "latency p50 (ms)",
    "latency_ms_p90": "latency p90 (ms)", "throughput_clips_s": "throughput (clips/s)",
    "train_throughput_clips_s": "train throughput (clips/s)", "train_peak_mem_mb": "train peak mem (MiB)",
    "top1": "top-1 (%)", "top5": "top-5 (%)", "params": "params",
}
# Spec fields that name what was run rather than a setting of it (they are columns of their own).
_NOT_SETTINGS = {"model", "model_args", "dataset", "device", "family", "arch", "metrics"}


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


def load_run_folder(folder: str | Path, details: bool = True) -> RunFolder:
    """The folder's runs. details=False leaves each run's detail and environment unread (empty), which
    is most of the JSON a store holds: for readers of the figures alone (results, compare)."""
    folder = Path(folder)
    if not (folder / STORE_NAME).is_file():
        raise UsageError(f"{folder} is not a vidbench run folder (no {STORE_NAME})")
    with ResultStore.open_existing(folder) as store:
        rows = store.rows() if details else store.rows(parse=("spec",))
        suite_name = store.get_meta("suite_name") or folder.name
        suite_yaml = store.get_meta("suite_yaml") or ""
    envs = {row["device"]: row["env"] for row in rows if row.get("env")}
    frame = pd.DataFrame(rows, columns=[*RESULT_COLUMNS, "suite", "finished_at", "spec", "detail", "env"])
    frame["params"] = frame["params"].astype("Int64")
    frame["variant"] = [variant_label(m, a) for m, a in zip(frame["model"], frame["model_args"])]
    frame["side"] = frame["resolution"].map(resolution_side).astype("Int64")
    frame["setting"] = [_setting(spec, res, bs) for spec, res, bs in
                        zip(frame["spec"], frame["resolution"], frame["batch_size"])]
    return RunFolder(folder, frame, suite_name, suite_yaml, envs)


def variant_label(model: str, model_args: str | dict | None) -> str:
    """A model and its constructor args, as one name: 'timesformer_tiny[attention=joint]'."""
    args = json.loads(model_args) if isinstance(model_args, str) and model_args else (model_args or {})
    if not args:
        return str(model)
    return f"{model}[{','.join(f'{k}={_plain(v)}' for k, v in sorted(args.items()))}]"


def _plain(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def _setting(spec: dict | None, resolution: str, batch_size) -> dict:
    """Every setting of a run besides model, dataset and device, flattened ('train.lr'): what the
    scaling fits hold fixed, what device comparisons match on, what labels a run among its peers."""
    flat: dict = {}
    for key, value in (spec or {}).items():
        if key in _NOT_SETTINGS:
            continue
        if key == "train":  # runs stored before a train key existed trained at its neutral value
            value = {**NEUTRAL_TRAIN, **value}
        if isinstance(value, dict):
            flat.update({f"{key}.{k}": _plain(v) for k, v in value.items()})
        else:
            flat[key] = _plain(value) if isinstance(value, list) else value
    # The stored figures belong to the resolution label and the batch size that actually ran.
    flat["resolution"] = resolution
    flat["batch_size"] = None if batch_size is None or batch_size != batch_size else int(batch_size)
    return flat


def export_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The contract's columns only, for CSV/JSON/Markdown export."""
    return frame[list(RESULT_COLUMNS)]


def to_json_records(frame: pd.DataFrame) -> str:
    records = export_frame(frame).astype(object).where(export_frame(frame).notna(), None).to_dict("records")
    return json.dumps(records, indent=2, default=str)


def write_parquet(frame: pd.DataFrame, path: str | Path) -> None:
    """The contract's columns as a Parquet file (needs pyarrow)."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise UsageError("--format parquet needs pyarrow, which is not installed: pip install pyarrow") from None
    export_frame(frame).to_parquet(path, index=False, engine="pyarrow")
