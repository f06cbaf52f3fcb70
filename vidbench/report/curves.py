"""Accuracy curves (`train.eval_every`): top-1 against epoch and against training PFLOPs, one line per
run, so that a reader sees which backbone gets there fastest and at what training cost."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from vidbench.report.analysis import groups, ok_runs, run_labels  # noqa: E402


def curve_points(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per evaluation of every ok run that kept a curve: run label, epoch, top-1, PFLOPs, seconds."""
    rows = []
    data = ok_runs(frame)
    if data.empty or "detail" not in data:
        return pd.DataFrame(columns=["dataset", "device", "run", "epoch", "top1", "pflops", "seconds"])
    labels = run_labels(data)
    for i, r in data.iterrows():
        for point in (r["detail"] or {}).get("curve") or []:
            if point.get("top1") is not None:
                rows.append({"dataset": r["dataset"], "device": r["device"], "run": labels[i],
                             "epoch": point["epoch"], "top1": point["top1"], "pflops": point["pflops"],
                             "seconds": point["seconds"]})
    return pd.DataFrame(rows, columns=["dataset", "device", "run", "epoch", "top1", "pflops", "seconds"])


def curve_figures(frame: pd.DataFrame) -> list[tuple[str, str, object]]:
    """(name, title, figure) per dataset and device with curves: top-1 against epoch and against PFLOPs."""
    points = curve_points(frame)
    out = []
    for (dataset, device), sub in groups(points):
        fig, (by_epoch, by_flops) = plt.subplots(1, 2, figsize=(9.2, 3.4))
        for run, line in sub.groupby("run", sort=True):
            line = line.sort_values("epoch")
            by_epoch.plot(line["epoch"], line["top1"], marker="o", markersize=3, linewidth=1.2, label=run)
            by_flops.plot(line["pflops"], line["top1"], marker="o", markersize=3, linewidth=1.2, label=run)
        by_epoch.set_xlabel("epoch")
        by_flops.set_xlabel("training PFLOPs (2 x train GMACs x clips seen)")
        for ax in (by_epoch, by_flops):
            ax.set_ylabel("top-1 (%)")
            ax.grid(alpha=0.3)
        by_flops.legend(fontsize=6, loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
        fig.suptitle(f"Top-1 while training — {dataset} on {device}", fontsize=9.5)
        fig.subplots_adjust(right=0.7, wspace=0.28, bottom=0.16)
        out.append((f"curves-{dataset}-{device}".replace(":", ""), f"Accuracy curves: {dataset} on {device}", fig))
    return out
