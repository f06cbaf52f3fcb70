"""The report's plots, in one visual language: a colour per family, a marker per model.

Each function takes the tidy frame and returns a matplotlib Figure, or None when the runs hold no
data for it; rendering to SVG/PNG is the caller's business.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from vidbench.report.frame import UNITS, resolution_side  # noqa: E402

FAMILY_COLORS = {"cnn": "#1f77b4", "cnn_rnn": "#2ca02c", "transformer": "#d62728"}
MARKERS = "osD^v<>PXh*p"
LINESTYLES = ("-", "--", ":", "-.")
plt.rcParams.update({"font.size": 9, "svg.fonttype": "none", "axes.spines.top": False,
                     "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3})


def model_styles(frame: pd.DataFrame) -> dict[str, dict]:
    """model → colour (by family) and marker (by model), stable across every plot of a report."""
    models = frame.drop_duplicates("model").sort_values(["family", "model"])
    return {
        m: {"color": FAMILY_COLORS.get(f, "#7f7f7f"), "marker": MARKERS[i % len(MARKERS)]}
        for i, (m, f) in enumerate(zip(models["model"], models["family"]))
    }


def _ok(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    ok = frame[frame["status"] == "ok"]
    return ok.dropna(subset=list(columns)) if len(ok) else ok


def _facets(n: int, title: str, width: float = 4.2):
    fig, axes = plt.subplots(1, n, figsize=(width * n + 1.6, 3.4), squeeze=False)
    fig.suptitle(title, fontsize=10)
    return fig, axes[0]


def accuracy_vs_gmacs(frame: pd.DataFrame):
    data = _ok(frame, "top1", "gmacs")
    if data.empty:
        return None
    styles = model_styles(frame)
    datasets = sorted(data["dataset"].unique())
    fig, axes = _facets(len(datasets), "Top-1 accuracy vs compute (one point per run)")
    for ax, ds in zip(axes, datasets):
        for model, grp in data[data["dataset"] == ds].groupby("model"):
            ax.scatter(grp["gmacs"], grp["top1"], label=model, s=28, alpha=0.85, **styles[model])
        ax.set_xscale("log")
        ax.set_title(ds)
        ax.set_xlabel(UNITS["gmacs"])
        ax.set_ylabel(UNITS["top1"])
    _legend(fig, axes)
    return fig


def _cost_curve(frame: pd.DataFrame, metric: str, axis: str, axis_label: str, series: str, title: str):
    data = _ok(frame, metric)
    if data.empty:
        return None
    data = data.assign(side=data["resolution"].map(resolution_side))
    x = "side" if axis == "resolution" else axis
    if data[x].nunique() < 2:
        return None
    styles = model_styles(frame)
    devices = sorted(data["device"].unique())
    fig, axes = _facets(len(devices), title)
    other = "clip_length" if axis == "resolution" else "side"
    for ax, dev in zip(axes, devices):
        sub = data[data["device"] == dev]
        # One line per model and value of the other shape axis; the median over remaining axes
        # (datasets, batch sizes) so repeated settings do not draw several lines.
        dashes = {o: LINESTYLES[i % len(LINESTYLES)] for i, o in enumerate(sorted(sub[other].unique()))}
        for (model, o), grp in sub.groupby(["model", other]):
            pts = grp.groupby(x)[metric].median().sort_index()
            label = f"{model} ({series}={o})"
            ax.plot(pts.index, pts.values, label=label, linewidth=1.2, markersize=4, linestyle=dashes[o],
                    **styles[model])
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ticks = sorted(sub[x].unique())
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        ax.set_title(dev)
        ax.set_xlabel(axis_label)
        ax.set_ylabel(UNITS[metric])
    _legend(fig, axes)
    return fig


def throughput_vs_resolution(frame: pd.DataFrame):
    return _cost_curve(frame, "throughput_clips_s", "resolution", "resolution (short side, px)", "T",
                       "Inference throughput vs resolution")


def throughput_vs_clip_length(frame: pd.DataFrame):
    return _cost_curve(frame, "throughput_clips_s", "clip_length", "clip length (frames)", "px",
                       "Inference throughput vs clip length")


def _legend(fig, axes) -> None:
    handles, labels = {}, []
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in handles:
                handles[lab] = h
                labels.append(lab)
    if handles:
        fig.legend([handles[lab] for lab in labels], labels, loc="center left", bbox_to_anchor=(1.0, 0.5),
                   fontsize=7, frameon=False)
    fig.tight_layout()


@dataclass(frozen=True)
class PlotSpec:
    name: str
    title: str
    make: Callable[[pd.DataFrame], object]


PLOTS = (
    PlotSpec("accuracy_vs_gmacs", "Top-1 vs GMACs", accuracy_vs_gmacs),
    PlotSpec("throughput_vs_resolution", "Throughput vs resolution", throughput_vs_resolution),
    PlotSpec("throughput_vs_clip_length", "Throughput vs clip length", throughput_vs_clip_length),
)
