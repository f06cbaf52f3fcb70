"""The report's runtimes section, when one setting was run under several runtimes: per model, throughput by
runtime side by side (grouped bars), the speed-up over eager PyTorch, parity with eager, conversion time,
artifact size and resident memory; and per model, the fastest runtime that keeps eager's answers.

A runtime that could not take the model (`unsupported`) or that changed its answers (`mismatch`) is a
finding: it stays in the table with its reason and is never recommended.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from vidbench.axes import RUNTIMES
from vidbench.measure.uncertainty import samples_difference
from vidbench.report.aggregate import run_interval
from vidbench.report.plots import Plot, slug
from vidbench.report.tables import Column, formatted

SECTION = "runtimes"
TITLE = "Runtimes"
NOTE = ("The same model and setting under each runtime, timed by the same harness (warm-up until stable, "
        "repeats, medians; the run's thread count given to the runtime). Speed-up: throughput over eager "
        "PyTorch's in the same setting. Parity: the runtime's logits against eager's on the same clips (the "
        "validation clips of an accuracy run, else seeded clips); a run whose top-1 agrees on fewer clips than "
        "the floor is a mismatch. Export: conversion and compilation, apart from the timings (Inductor: its "
        "first call). RSS: the process's resident high-water over a few inference calls, measured alike for "
        "every runtime (what a conversion leaves resident in the process counts too: a deployment loading the "
        "artifact in a fresh process holds less). Unsupported: the converter's own reason. A runtime is "
        "recommended only with its parity checked and kept.")
# What tells two runs apart besides the runtime: one comparison per model and setting.
SETTING = ("variant", "family", "dataset", "dataset_args", "device", "resolution", "clip_length", "frame_stride",
           "batch_size", "precision", "seed")
SHOWN = ("ok", "mismatch", "unsupported")


def _rss(value) -> str:
    """Resident memory added; under half a MiB (the baseline's own noise, either sign) reads '< 1'."""
    return "< 1" if abs(value) < 0.5 else f"{value:.0f}"


COLUMNS = [Column("variant", "model"), Column("runtime", "runtime"), Column("status", "status"),
           Column("throughput_clips_s", "throughput (clips/s)"),
           Column("latency_ms_p50", "latency p50 (ms)"),
           Column("speedup_text", "speed-up over eager [95% interval]"),
           Column("parity_top1_agree", "parity: top-1 agree (%)", formatted(".1f")),
           Column("parity_max_abs", "parity: max |Δ logit|", formatted(".1e")),
           Column("export", "export (s)", formatted(".1f")),
           Column("artifact_mb", "artifact (MiB)", formatted(".1f")),
           Column("infer_rss_mb", "RSS added (MiB)", _rss), Column("reason", "reason")]
PICK_COLUMNS = [Column("variant", "model"), Column("setting", "setting"), Column("fastest", "fastest runtime keeping parity"),
                Column("throughput_clips_s", "throughput (clips/s)"),
                Column("speedup_text", "speed-up over eager [95% interval]"),
                Column("margin", "over the next fastest"), Column("not_kept", "runtimes that did not keep it")]


@dataclass
class RuntimeView:
    table: pd.DataFrame  # one row per run, grouped by model and setting, runtimes in the axis's order
    picks: pd.DataFrame  # one row per model and setting


def _setting_text(row: pd.Series) -> str:
    res = row["resolution"]
    return f"{row['dataset']} · {row['device']} · {res}px · T={row['clip_length']} · b={row['batch_size']} · " \
           f"{row['precision']}"


def inference_samples(row: pd.Series) -> list[float]:
    """A stored run's per-call inference times (its detail's `inference_s` samples; none where it kept none)."""
    detail = row.get("detail")
    return list(((detail if isinstance(detail, dict) else {}).get("inference_s") or {}).get("samples") or [])


def _speedup(row: pd.Series, eager: pd.Series | None) -> tuple[float | None, str]:
    """Throughput over eager's (the number: the ratio of the runs' throughputs; the text: the ratio of the
    medians of their stored per-call samples, with its bootstrap interval, so the two agree)."""
    if eager is None or pd.isna(row.get("throughput_clips_s")) or row["status"] != "ok":
        return None, "-"
    point = row["throughput_clips_s"] / eager["throughput_clips_s"]
    if row["run_id"] == eager["run_id"]:
        return point, "1.00x (reference)"
    try:
        d = samples_difference(inference_samples(eager), inference_samples(row), 50.0, inverse=True)
    except ValueError:  # too few samples kept for an interval
        return point, f"{point:.2f}x"
    # the ratio of the stored samples' medians, with its interval from the same samples
    return point, f"{1 + d.change_pct / 100:.2f}x [{1 + d.lo_pct / 100:.2f}, {1 + d.hi_pct / 100:.2f}]"


def _margin(best: pd.Series, runner_up: pd.Series | None) -> str:
    """Whether the fastest beats the next fastest beyond noise: "faster" only when the test is significant
    (Mann-Whitney U on their per-call samples) and the interval as printed excludes no difference."""
    if runner_up is None:
        return "the only one"
    try:
        d = samples_difference(inference_samples(runner_up), inference_samples(best), 50.0, inverse=True)
    except ValueError:
        return f"{runner_up['runtime']}: not tested (too few samples)"
    lo, hi = min(d.lo_pct, d.change_pct), max(d.hi_pct, d.change_pct)  # the point inside its interval
    shown = f"{d.change_pct:+.0f}% [{lo:+.0f}, {hi:+.0f}]"
    if d.significant() and round(lo) > 0:
        return f"faster than {runner_up['runtime']} by {d.change_pct:.0f}% [{lo:.0f}, {hi:.0f}]"
    return f"tied with {runner_up['runtime']} (difference within noise: {shown}, p={d.p_value:.2g})"


def runtime_view(frame: pd.DataFrame) -> RuntimeView | None:
    """The runtimes comparison, or None when no setting was run under more than one runtime."""
    if "runtime" not in frame or frame.empty:
        return None
    runs = frame[frame["status"].isin(SHOWN)].copy()
    keys = [k for k in SETTING if k in runs]
    if runs.empty or runs.groupby(keys, dropna=False)["runtime"].nunique().max() < 2:
        return None
    order = {r: i for i, r in enumerate(RUNTIMES)}
    runs["export"] = runs["export_s"].where(runs["export_s"].notna(), runs.get("compile_s"))
    runs["reason"] = runs["error"].where(runs["status"] != "ok", "").fillna("")
    runs["setting"] = runs.apply(_setting_text, axis=1)
    if "seed" in runs and runs["seed"].nunique() > 1:  # one comparison (and one chart) per seed
        runs["setting"] = runs["setting"] + " · seed " + runs["seed"].astype(str)
    runs["_order"] = runs["runtime"].map(order)
    table = runs.sort_values([*keys, "_order"], kind="stable").reset_index(drop=True)
    picks, speedups = [], {}
    for _, group in table.groupby(keys, dropna=False, sort=False):
        checked = (group["runtime"] == "eager") | group["parity_top1_agree"].notna()
        kept = group[(group["status"] == "ok") & group["throughput_clips_s"].notna() & checked]
        eagers = kept[kept["runtime"] == "eager"]
        eager = eagers.iloc[0] if len(eagers) else None
        for i, row in group.iterrows():
            speedups[i] = _speedup(row, eager)
        ranked = kept.sort_values("throughput_clips_s", ascending=False)
        best = ranked.iloc[0] if len(ranked) else None
        lost = group[(group["status"] != "ok") | ~checked]
        picks.append({"variant": group["variant"].iloc[0], "setting": group["setting"].iloc[0],
                      "fastest": best["runtime"] if best is not None else "none",
                      "throughput_clips_s": best["throughput_clips_s"] if best is not None else None,
                      "speedup_text": speedups[best.name][1] if best is not None else "-",
                      "margin": _margin(best, ranked.iloc[1] if len(ranked) > 1 else None) if best is not None
                      else "-",
                      "not_kept": ", ".join(f"{r} ({s if s != 'ok' else 'parity not checked'})"
                                            for r, s in zip(lost["runtime"], lost["status"])) or "-"})
    table["speedup"] = [speedups[i][0] for i in table.index]
    table["speedup_text"] = [speedups[i][1] for i in table.index]
    return RuntimeView(table.drop(columns="_order"), pd.DataFrame(picks))


def runtime_plots(view: RuntimeView) -> list[Plot]:
    """Per setting: each model's throughput under each runtime, bars side by side with their within-run 95%
    intervals (log scale, since models differ by orders of magnitude); unsupported and mismatched runtimes
    marked where their bar would stand."""
    import matplotlib.pyplot as plt

    out = []
    table = view.table
    runtimes = [r for r in RUNTIMES if r in set(table["runtime"])]
    colours = dict(zip(runtimes, plt.get_cmap("tab10").colors))
    for setting, sub in table.groupby("setting", sort=False):
        if not sub["throughput_clips_s"].notna().any():  # latency alone was asked: no bars to draw
            continue
        models = list(dict.fromkeys(sub["variant"]))
        width = 0.8 / len(runtimes)
        fig, ax = plt.subplots(figsize=(max(6.4, 0.9 * len(models) * len(runtimes) * 0.35 + 2.4), 3.6))
        for i, runtime in enumerate(runtimes):
            rows = sub[sub["runtime"] == runtime].set_index("variant")
            xs = [m + (i - (len(runtimes) - 1) / 2) * width for m in range(len(models))]
            shown = [(x, rows.loc[v]) for x, v in zip(xs, models)
                     if v in rows.index and rows.loc[v, "status"] == "ok" and pd.notna(rows.loc[v, "throughput_clips_s"])]
            intervals = [run_interval(r, "throughput_clips_s") for _, r in shown]
            values = [r["throughput_clips_s"] for _, r in shown]
            errors = [[v - (iv.lo if iv else v) for v, iv in zip(values, intervals)],
                      [(iv.hi if iv else v) - v for v, iv in zip(values, intervals)]]
            ax.bar([x for x, _ in shown], values, width, label=runtime, color=colours[runtime],
                   yerr=errors if shown else None, ecolor="#333333", capsize=2, error_kw={"lw": 0.8})
            for x, v in zip(xs, models):
                if v in rows.index and rows.loc[v, "status"] != "ok":
                    ax.annotate("×" if rows.loc[v, "status"] == "unsupported" else "≠", (x, 0), xycoords=("data", "axes fraction"),
                                ha="center", va="bottom", color=colours[runtime], fontsize=11, fontweight="bold")
        ax.set_xticks(range(len(models)), models, rotation=30, ha="right", fontsize=8)
        ax.set_yscale("log")
        ax.set_ylabel("throughput (clips/s, log)")
        ax.set_title(f"Throughput by runtime · {setting}\n× unsupported, ≠ mismatch", fontsize=9)
        ax.legend(fontsize=7, ncols=min(len(runtimes), 6), loc="upper center", bbox_to_anchor=(0.5, -0.32),
                  frameon=False)
        ax.grid(axis="y", alpha=0.3)
        fig.tight_layout()
        out.append(Plot(f"runtimes-{slug(setting)}", f"Throughput by runtime · {setting}", SECTION, fig))
    return out
