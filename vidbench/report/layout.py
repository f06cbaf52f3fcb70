"""The runs table laid out for choosing: model and input first, then the figures the suite asked for, then
the settings that differ between runs; the settings every run shares move to one "held fixed" line.

So top-1 and throughput stand in the first screen however many settings a suite has, and no column
repeats one value down the whole table.
"""

from __future__ import annotations

import pandas as pd

from vidbench.axes import AXIS_NAMES
from vidbench import metrics
from vidbench.report.frame import UNITS, varying_axes
from vidbench.report.tables import Column, counted

LEAD = ("model", "args", "resolution", "clip_length")  # what was run: the model and its input…
INPUT_SETTINGS = ("views",)  # …and, where runs differ in it, the test views of one video
# The figures people choose by, in this order, where any run holds them; every other figure follows the settings.
HEADLINE = ("top1", "latency_ms_p50", "throughput_clips_s", "energy_j_per_clip", "latency_ms_per_video", "videos_s",
            "peak_mem_mb", "gmacs", "params")
# Settings: a column when they differ between runs, else on the held-fixed line.
SETTINGS = (*INPUT_SETTINGS, "dataset", *(a for a in AXIS_NAMES if a not in LEAD))
TAIL = ("family", "arch", "status", "duration_s", "run_id")
COMPACT_TAIL = ("train_throughput_clips_s", "family", "status")  # the Markdown table's last columns
NOT_SHOWN = {"model_args", "dataset_args", "error", "suite", "finished_at", "spec", "detail", "env", "variant",
             "side", "setting", "placement"}
SHORT_HEADERS = {"variant": "model", "gmacs": "GMACs (1 clip)", "gflops": "GFLOPs (1 clip)"}
# How the held-fixed line writes each setting's value.
FIXED_TEXT = {
    "dataset": "dataset {}".format, "views": lambda v: f"{counted(v, 'view')} per video",
    "frame_stride": "stride {}".format, "batch_size": "batch {}".format,
    "compile": lambda v: "compiled" if v else "eager",
    "channels_last": lambda v: f"channels_last {'on' if v else 'off'}", "seed": "seed {}".format,
}


# The figures of the CLI's `vidbench results` table, after what tells its rows apart.
RESULT_FIGURES = ("params", "gmacs", "peak_mem_mb", "latency_ms_p50", "throughput_clips_s",
                  "train_throughput_clips_s", "top1")


def result_columns(frame: pd.DataFrame) -> list[str]:
    """The `vidbench results` table's columns: model, family, dataset, every axis that tells two rows apart
    (`frame.varying_axes`), the status and the headline figures."""
    return ["variant", "family", "dataset", *varying_axes(frame), "status", *RESULT_FIGURES]


def header(column: str) -> str:
    return SHORT_HEADERS.get(column) or UNITS.get(column, column)


def held_fixed(frame: pd.DataFrame) -> dict:
    """Each setting that every run of the table holds, at one value: setting → that value."""
    if frame.empty:
        return {}
    order = list(SETTINGS)
    if "runtime" in frame.columns and frame["runtime"].notna().all():
        # compile is the inductor runtime's alias: the runtime says it, in compile's place
        order.remove("runtime")
        order[order.index("compile")] = "runtime"
    return {c: frame[c].iloc[0] for c in order
            if c in frame.columns and frame[c].notna().all() and frame[c].nunique() == 1}


def held_fixed_text(fixed: dict) -> str:
    """'dataset synthetic-motion · batch 8 · cpu · fp32 · eager'; empty when nothing is held fixed."""
    return " · ".join(FIXED_TEXT.get(c, str)(_plain(v)) for c, v in fixed.items())


def _plain(value):
    return value.item() if hasattr(value, "item") else value


def run_columns(frame: pd.DataFrame, compact: bool = False) -> list[Column]:
    """The runs table's columns: LEAD, HEADLINE, the settings that vary, then the rest (every other figure
    any run holds, and the run's bookkeeping); `compact` (Markdown) ends with COMPACT_TAIL instead."""
    def has(c: str) -> bool:
        return c in frame.columns and frame[c].notna().any()

    fixed = held_fixed(frame)
    lead = [c for c in LEAD if c != "args" or (has(c) and frame[c].astype(bool).any())]
    # compile is the inductor runtime's alias: where runs carry a runtime, that column says it
    aliased = {"compile"} if has("runtime") and frame["runtime"].notna().all() else set()
    varying = [c for c in SETTINGS if has(c) and c not in fixed and c not in aliased]
    lead += [c for c in varying if c in INPUT_SETTINGS]
    shown = [*lead, *(c for c in HEADLINE if has(c)), *(c for c in varying if c not in INPUT_SETTINGS)]
    if compact:
        rest = [c for c in COMPACT_TAIL if has(c)]
    else:
        figures = [c.name for c in metrics.COLUMNS if c.name not in {*shown, *SETTINGS} and has(c.name)]
        placed = {*LEAD, *shown, *figures, *TAIL, *NOT_SHOWN, *SETTINGS}
        stored = [c for c in frame.columns if c not in placed and has(c)]
        rest = [*figures, *stored, *(c for c in TAIL if c in frame.columns)]
    return [Column(c, header(c), sort="side" if c == "resolution" else None) for c in [*shown, *rest]]
