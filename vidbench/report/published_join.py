"""Published accuracy beside measured cost: each full-size run joined, at report time, with the top-1 its
model's source publishes (vidbench.models.published), and the most accurate published model within each
latency budget of a device.

The published top-1 is never a measured figure: it is looked up by model name when the report is
rendered, shown with its protocol and source, and kept apart from the run's own (measured) top-1. A run is
"at the published protocol" only when the whole protocol matched (views, clips × crops, frames, crop, frame
stride, sampling); otherwise it is NOT measured at it, with the one-line reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd

from vidbench.report.analysis import groups, latency_budgets, ok_runs
from vidbench.report.tables import Column, counted

NOISE = ("random",)  # datasets generated at the clip's size: no frames are sampled, so sampling does not apply
PER_VIDEO = ("latency_ms_per_video", "videos_s")  # a run with either has a per-video cost to show
DATASET = "Kinetics-400"  # the published results the section joins (the protocol `protocol: published` runs)
TITLE = "Published accuracy × measured cost"
NOTE = (f"Top-1 as each model's source publishes it on {DATASET}, looked up by model name when this report was "
        "rendered (vidbench.models.published; never measured here), against the cost measured in these runs with "
        "all the views of one video in one batch. Runs whose views or input differ from the published protocol "
        "are drawn hollow and marked NOT measured at the published protocol: their cost is not the cost of that "
        "accuracy. The runs' own top-1 (from their own training) stays a separate column and chart.")
BUDGET_NOTE = ("Budgets are the nearest-rank 25th, 50th and 75th percentiles and the maximum of the per-video "
               "latencies observed on the device; the pick is the highest published top-1 within the budget.")
BUDGET_TITLE = "The most accurate published model within each latency budget"
PUBLISHED = "published top-1 (%, protocol)"
MEASURED = "measured top-1 (%)"  # the run's own training: never the published figure
_COST = [Column("latency_ms_per_video", "latency per video (ms)"), Column("videos_s", "videos/s"),
         Column("gmacs_per_video", "GMACs per video")]
_PROTOCOL = Column("protocol", "at the published protocol?")  # last: its cell wraps
BUDGET_COLUMNS = [Column("budget", "latency budget"), Column("name", "model"), Column("published", PUBLISHED),
                  *_COST, Column("top1", MEASURED), _PROTOCOL]
RUN_COLUMNS = [Column("device", "device"), Column("name", "model"), Column("input", "input (T×px²)"),
               Column("views", "views"), Column("published", PUBLISHED), *_COST, Column("top1", MEASURED),
               _PROTOCOL]
SOURCE_COLUMNS = [Column("model", "model"), Column("published", PUBLISHED), Column("pretraining", "pretraining"),
                  Column("source", "source")]


@dataclass
class PublishedView:
    runs: pd.DataFrame  # one row per configuration: its measured cost beside its model's published top-1
    budgets: pd.DataFrame  # per device and budget: the most accurate published model within it
    sources: pd.DataFrame  # per published result shown: where it comes from

    def devices(self) -> list[tuple[str, pd.DataFrame]]:
        """Every device the runs were measured on, with its budget table (empty without per-video latency)."""
        budgets = self.budgets
        return [(device, budgets[budgets["device"] == device]) for device in sorted(set(self.runs["device"]))]


def _published_results(model: str) -> tuple:
    from vidbench.errors import RegistryError
    from vidbench.models.published import published_results

    try:
        return tuple(r for r in published_results(model) if r.dataset == DATASET)
    except RegistryError:  # a model this installation does not know: nothing published to join
        return ()


def _views(value) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _stride(value) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def published_for(model: str, clip_length, resolution: str, views: int | None, cache: dict):
    """The published result a run is read against: the one whose protocol it matches, else the primary."""
    if model not in cache:
        cache[model] = _published_results(model)
    results = cache[model]
    exact = next((r for r in results if (r.views, r.frames, str(r.size)) == (views, clip_length, str(resolution))),
                 None)
    return exact or (results[0] if results else None)


def published_text(result) -> str:
    """'76.2 @ 16×256², 10×3': top-1 to one decimal (as most sources print it: torchvision's 67.463 reads 67.5
    beside the others' 67.5), then frames × crop² and clips × crops of the published protocol."""
    return f"{result.top1:.1f} @ {result.frames}×{result.size}², {result.clips}×{result.crops}"


def input_text(clip_length, resolution: str) -> str:
    side = str(resolution).split("x")
    return f"{clip_length}×{side[0]}²" if len(side) == 1 else f"{clip_length}×{side[0]}×{side[1]}"


def _dataset_args(value) -> dict:
    if isinstance(value, dict):
        return value
    return json.loads(value) if isinstance(value, str) and value else {}


def _differences(result, run: dict) -> list[str]:
    """What of the published protocol the run was not measured at, in plain words (empty: all of it)."""
    views, frames, side = run["views"], run["clip_length"], str(run["resolution"])
    args = _dataset_args(run.get("dataset_args"))
    out = []
    clips_crops = (args.get("test_clips"), args.get("test_crops"))
    if views != result.views or (None not in clips_crops and clips_crops != (result.clips, result.crops)):
        measured = "no views stored" if views is None else counted(views, "view")
        if None not in clips_crops and views == result.views:
            measured = f"{clips_crops[0]}×{clips_crops[1]} views"
        out.append(f"{measured}, not {result.clips}×{result.crops} = {result.views}")
    if (frames, side) != (result.frames, str(result.size)):
        out.append(f"input {input_text(frames, side)}, not {result.frames}×{result.size}²")
    stride = run.get("frame_stride")
    if result.frame_stride is not None and frames > 1 and stride is not None and int(stride) != result.frame_stride:
        out.append(f"frame stride {int(stride)}, not {result.frame_stride}")
    sampling = args.get("sampling", "dense")
    if run.get("dataset") not in NOISE and result.sampling is not None and sampling != result.sampling:
        out.append(f"{sampling} sampling, not {result.sampling}")
    return out


def _unstated(result, frames) -> str:
    """The protocol fields the source leaves unstated (so not compared), as a trailing clause."""
    fields = [f.replace("_", " ") for f in ("frame_stride", "resize")
              if result.unknown(f) and not (f == "frame_stride" and (frames == 1 or result.sampling == "segments"))]
    return f" ({' and '.join(fields)} not stated by the source)" if fields else ""


def protocol_check(result, views: int | None, clip_length, resolution: str, frame_stride=None,
                   dataset_args=None, dataset: str = NOISE[0]) -> tuple[bool, str]:
    """Whether the run was measured at the whole published protocol (views, clips × crops, frames, crop,
    frame stride, sampling where the dataset samples frames), and the plain sentence that says so. Fields
    the source does not state are named, not compared."""
    run = {"views": views, "clip_length": clip_length, "resolution": resolution, "frame_stride": frame_stride,
           "dataset_args": dataset_args, "dataset": dataset}
    differs = _differences(result, run)
    if differs:
        return False, "NOT measured at the published protocol: " + "; ".join(differs)
    stride = f", stride {result.frame_stride}" if result.frame_stride is not None and result.frames > 1 else ""
    return True, (f"yes: {result.clips}×{result.crops} views at {result.frames}×{result.size}²{stride}"
                  f"{_unstated(result, result.frames)}")


def published_view(configs: pd.DataFrame) -> PublishedView | None:
    """The section's tables, or None when no ok run of a model with a published result has a per-video cost."""
    data = ok_runs(configs)
    if data.empty or not any(c in data and data[c].notna().any() for c in PER_VIDEO):
        return None
    data = data[data[[c for c in PER_VIDEO if c in data]].notna().any(axis=1)]
    data = data[~data["model"].str.endswith("_tiny")]  # tiny presets publish nothing (and need no registry)
    rows, cache = [], {}
    for _, r in data.iterrows():
        views, frames = _views(r.get("views")), int(r["clip_length"])
        result = published_for(r["model"], frames, r["resolution"], views, cache)
        if result is None:
            continue
        at_protocol, protocol = protocol_check(result, views, frames, r["resolution"], _stride(r.get("frame_stride")),
                                               r.get("dataset_args"), r["dataset"])
        rows.append({"device": r["device"], "dataset": r["dataset"], "variant": r["variant"], "model": r["model"],
                     "family": r["family"], "input": input_text(frames, r["resolution"]),
                     "views": views, "published_top1": result.top1, "published": published_text(result),
                     "at_protocol": at_protocol, "protocol": protocol,
                     **{c: r.get(c) for c in (*PER_VIDEO, "gmacs_per_video", "top1")},
                     "pretraining": result.pretraining, "source": result.source, "run_id": r["run_id"]})
    if not rows:
        return None
    runs = pd.DataFrame(rows).sort_values(["device", "published_top1", "variant"], ascending=[True, False, True],
                                          kind="stable").reset_index(drop=True)
    runs["name"] = _names(runs)
    sources = runs.drop_duplicates(["model", "published"])[["model", "published", "pretraining", "source"]]
    return PublishedView(runs, _budgets(runs), sources.sort_values("model").reset_index(drop=True))


def _names(runs: pd.DataFrame) -> list[str]:
    """The model, with its input and views where the device holds several runs of it."""
    several = runs.groupby(["device", "variant"])["variant"].transform("size") > 1
    return [f"{r['variant']} ({r['input']}, {counted(r['views'], 'view')})" if many else r["variant"]
            for many, (_, r) in zip(several, runs.iterrows())]


def _budgets(runs: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (device,), sub in groups(runs.dropna(subset=["latency_ms_per_video"]), ("device",)):
        latency = sub["latency_ms_per_video"].astype(float)
        for budget, criterion in latency_budgets(latency):
            fits = sub[latency <= budget + 1e-12]
            pick = fits.sort_values(["published_top1", "at_protocol", "latency_ms_per_video"],
                                    ascending=[False, False, True], kind="stable").iloc[0]
            rows.append({**pick.to_dict(), "budget": criterion.removeprefix("latency ")})
    return pd.DataFrame(rows, columns=[*runs.columns, "budget"])
