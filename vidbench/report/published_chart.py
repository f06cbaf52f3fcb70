"""The report's first chart when full-size models were measured: published top-1 against measured
videos/s and latency per video, one figure per device, the Pareto front ringed, joined and labelled.

Runs measured at other views or another input than the published protocol are drawn hollow and left off
the front (their cost is not the cost of the published accuracy), unless no run on the device was
measured at it.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.lines import Line2D

from vidbench.report.frame import SHORT_UNITS
from vidbench.report.hover import add_hover, point_label
from vidbench.report.plots import (
    FRONT_HANDLE, Plot, _legend_right, _log_x, _variant_handles, draw_front, label_fronts, slug,
)
from vidbench.report.published_join import DATASET, TITLE

# Cost axes against published top-1: (column, True when more is better).
COSTS = (("videos_s", True), ("latency_ms_per_video", False))
Y = "published_top1"
Y_LABEL = f"published top-1 (%, {DATASET})"
OFF_PROTOCOL = Line2D([], [], linestyle="", marker="o", markerfacecolor="none", markeredgecolor="#666666",
                      label="hollow: not at the published protocol")


def section(device: str) -> str:
    """The report section a device's chart belongs to (its budget table follows it)."""
    return f"published {device}"


def published_plots(runs: pd.DataFrame, styles: dict) -> list[Plot]:
    out = []
    for device, sub in runs.groupby("device", sort=True):
        costs = [(c, hib) for c, hib in COSTS if sub[c].notna().any()]
        if not costs:
            continue
        fig, axes = plt.subplots(1, len(costs), figsize=(4.2 * len(costs) + 0.4, 3.5), squeeze=False)
        fig.suptitle(f"{TITLE} on {device} (top-1 as published; cost as measured here)", fontsize=9.5)
        pending = []
        for ax, (cost, more_is_better) in zip(axes[0], costs):
            pts = sub.dropna(subset=[cost])
            for (variant, at_protocol), grp in pts.groupby(["variant", "at_protocol"]):
                style = styles[variant]
                face = {} if at_protocol else {"facecolors": "none", "edgecolors": style["color"]}
                ax.scatter(grp[cost].astype(float), grp[Y], s=30, alpha=0.85, linewidths=0 if at_protocol else 1.0,
                           zorder=2, marker=style["marker"], **({"color": style["color"]} if at_protocol else face))
                add_hover(ax, grp[cost].astype(float), grp[Y], [
                    point_label(f"{r['name']} · {r['device']}", {cost: r[cost]},
                                f"published top-1 {r['published']}") for _, r in grp.iterrows()])
            pool = pts[pts["at_protocol"]] if pts["at_protocol"].any() else pts
            front = draw_front(ax, pool.astype({cost: float}), cost, Y, more_is_better, styles)
            pending.append((ax, front[cost], front[Y], front["name"], front["name"], pts[[cost, Y]]))
            _log_x(ax, pts[cost])
            ax.set_xlabel(f"measured {SHORT_UNITS[cost]}" + (" →  better" if more_is_better else " ←  better"))
            ax.set_ylabel(Y_LABEL)
        families = dict(zip(sub["variant"], sub["family"]))
        handles = _variant_handles(styles, families, families) + [FRONT_HANDLE]
        if not sub["at_protocol"].all():
            handles.append(OFF_PROTOCOL)
        _legend_right(fig, handles, wspace=0.3, bottom=0.16)
        label_fronts(fig, pending)
        out.append(Plot(f"published-{slug(device)}", f"{TITLE}: {device}", section(device), fig))
    return out

