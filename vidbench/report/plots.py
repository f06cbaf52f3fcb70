"""The report's plots, in one visual language: a colour per family, a marker per model (variant).

Colours are the Okabe–Ito palette (distinct for colour-blind readers); markers and line styles carry
the same information in black-and-white print. Each builder takes the tidy frame (and the analysis
it draws) and returns matplotlib Figures; rendering to SVG/PNG is the caller's business.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from vidbench.report.analysis import (  # noqa: E402
    PARETO_COSTS, SCALING_AXES, SCALING_METRICS, baseline_device, family_label, groups, ok_runs, pareto_mask,
    run_labels, scaling_statement,
)
from vidbench.report.frame import SHORT_UNITS  # noqa: E402
from vidbench.report.hover import add_hover, point_label  # noqa: E402
from vidbench.report.labels import place_labels  # noqa: E402

FAMILY_COLORS = {"cnn": "#0072B2", "cnn_rnn": "#009E73", "transformer": "#D55E00"}
OTHER_COLOR = "#666666"
MARKERS = "osD^v<>PXhp*d"
LINESTYLES = ("-", "--", ":", "-.", (0, (6, 1.5, 1, 1.5, 1, 1.5)), (0, (9, 2.5)), (0, (1, 3)), (0, (3, 1, 1, 1)))
DEVICE_HATCHES = ("", "///", "...", "xxx", "\\\\\\")
AXIS_LABELS = {"clip_length": "clip length T (frames)", "side": "resolution (short side, px)"}
plt.rcParams.update({
    "font.size": 8.5, "svg.fonttype": "none", "svg.hashsalt": "vidbench", "axes.spines.top": False,
    "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3, "grid.linewidth": 0.6,
    "legend.fontsize": 7, "figure.dpi": 100, "path.simplify": True,
})


@dataclass(frozen=True)
class Plot:
    name: str  # file-safe; plots/<name>.png and id="plot-<name>"
    title: str
    section: str  # published-<device> | pareto | curves | scaling | families | devices
    fig: object


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", str(text)).strip("-").lower() or "x"


def model_styles(frame: pd.DataFrame) -> dict[str, dict]:
    """variant → colour (by family) and marker (by variant), the same in every plot of a report."""
    if frame.empty:
        return {}
    variants = frame.drop_duplicates("variant").sort_values(["family", "variant"])
    return {v: {"color": FAMILY_COLORS.get(f, OTHER_COLOR), "marker": MARKERS[i % len(MARKERS)]}
            for i, (v, f) in enumerate(zip(variants["variant"], variants["family"]))}


def _variant_handles(styles: dict, variants, families: dict, extra: dict | None = None) -> list:
    extra = extra or {}
    return [Line2D([], [], linestyle="-" if v in extra else "", linewidth=1.2, markersize=5,
                   label=extra.get(v, f"{v} ({family_label(families[v])})"), **styles[v])
            for v in sorted(variants, key=lambda v: (families[v], v))]


def build_figures(frame: pd.DataFrame, exponents: pd.DataFrame, configs: pd.DataFrame | None = None) -> list[Plot]:
    """The report's figures; the Pareto fronts are drawn over `configs` (replicates folded, with intervals)
    when given."""
    styles = model_styles(frame)
    plots: list[Plot] = []
    plots += pareto_plots(configs if configs is not None and len(configs) else frame, styles)
    plots += scaling_plots(frame, exponents, styles)
    plots += [p for p in (family_plot(frame, styles), device_plot(frame, styles)) if p is not None]
    if "detail" in frame:
        from vidbench.report.curves import curve_figures

        plots += [Plot(slug(name), title, "curves", fig) for name, title, fig in curve_figures(frame)]
    return plots


# -- Pareto fronts ------------------------------------------------------------------------------------
def pareto_plots(frame: pd.DataFrame, styles: dict) -> list[Plot]:
    """Per dataset and device: top-1 against GMACs, throughput and peak memory; the non-dominated runs
    ringed in black, labelled and joined."""
    out = []
    data = ok_runs(frame, "top1")
    for (dataset, device), sub in groups(data):
        costs = [(c, hib) for c, hib in PARETO_COSTS if sub[c].notna().any()]
        if not costs:
            continue
        labels = run_labels(sub)
        variant_names = labels.index.map(lambda i: sub.at[i, "variant"])
        short = pd.Series([lab[len(v):].strip() or v for lab, v in zip(labels, variant_names)], index=sub.index)
        fig, axes = plt.subplots(1, len(costs), figsize=(3.6 * len(costs) + 0.4, 3.3), squeeze=False)
        fig.suptitle(f"Top-1 against cost — {dataset} on {device} (ringed and joined: the Pareto front)",
                     fontsize=9.5)
        pending = []
        for ax, (cost, more_is_better) in zip(axes[0], costs):
            pts = sub.dropna(subset=[cost])
            for variant, grp in pts.groupby("variant"):
                ax.scatter(grp[cost], grp["top1"], s=22, alpha=0.8, linewidths=0, zorder=2, **styles[variant])
                _error_bars(ax, grp, cost, styles[variant]["color"])
                add_hover(ax, grp[cost], grp["top1"], [point_label(labels[i], {cost: grp.at[i, cost],
                                                                               "top1": grp.at[i, "top1"]})
                                                       for i in grp.index])
            front = draw_front(ax, pts, cost, "top1", more_is_better, styles)
            pending.append((ax, front[cost], front["top1"], short[front.index], labels[front.index],
                            pts[[cost, "top1"]]))
            _log_x(ax, pts[cost])
            ax.set_xlabel(SHORT_UNITS[cost] + (" →  better" if more_is_better else " ←  better"))
            ax.set_ylabel(SHORT_UNITS["top1"])
        families = dict(zip(sub["variant"], sub["family"]))
        handles = _variant_handles(styles, families, families) + [FRONT_HANDLE]
        _legend_right(fig, handles, wspace=0.28, bottom=0.16)
        label_fronts(fig, pending)
        out.append(Plot(f"pareto-{slug(dataset)}-{slug(device)}", f"Pareto fronts: {dataset} on {device}", "pareto",
                        fig))
    return out


FRONT_HANDLE = Line2D([], [], color="black", linestyle="--", marker="o", markerfacecolor="none",
                      markeredgecolor="black", label="Pareto front")
MAX_LABELS = 12  # a longer front is numbered, with a key


def draw_front(ax, points: pd.DataFrame, x: str, y: str, more_is_better: bool, styles: dict) -> pd.DataFrame:
    """Ring the points no other point beats on `y` and `x` in black and join them; returns them by `x`."""
    front = points[pareto_mask(points[y], points[x], more_is_better)].sort_values(x)
    ax.plot(front[x], front[y], color="black", linewidth=0.9, linestyle="--", zorder=3)
    for variant, grp in front.groupby("variant"):
        ax.scatter(grp[x], grp[y], s=46, facecolors="none", edgecolors="black", linewidths=1.0,
                   marker=styles[variant]["marker"], zorder=4)
    return front


def label_fronts(fig, pending) -> None:
    """Label the fronts' points once the figure's layout is final. `pending` holds, per axes, (axes, xs, ys,
    labels, names, every point drawn as an (n, 2) frame). Where every label finds a place that covers no
    other label, no point and no line, the labels stay; otherwise each run on a front gets a number, placed
    the same way, and a key below the panels names it."""
    pending = [p for p in pending if len(p[3])]
    placed, clean = [], all(len(p[3]) <= MAX_LABELS for p in pending)
    for ax, xs, ys, labels, _, drawn in pending if clean else ():
        annotations, fits = place_labels(ax, list(xs), list(ys), list(labels), drawn.to_numpy(dtype=float),
                                         joined=True)
        placed += annotations
        clean = clean and fits
    if clean:
        return
    for annotation in placed:
        annotation.remove()
    numbers: dict[str, int] = {}
    for ax, xs, ys, _, names, drawn in pending:
        marks = [str(numbers.setdefault(name, len(numbers) + 1)) for name in names]
        place_labels(ax, list(xs), list(ys), marks, drawn.to_numpy(dtype=float), fontsize=6.5, color="black",
                     joined=True)
    key = [Line2D([], [], linestyle="", label=f"{n}  {name}") for name, n in numbers.items()]
    fig.legend(handles=key, loc="upper left", bbox_to_anchor=(0.02, 0.0), ncol=min(3, -(-len(key) // 4)),
               frameon=False, handlelength=0, handletextpad=0, fontsize=6.5, title="on the fronts",
               title_fontsize=7, alignment="left")


def _error_bars(ax, points: pd.DataFrame, cost: str, color) -> None:
    """The 95% intervals of top-1 (over seeds) and of the cost (over seeds, or within the run for a timing)
    as error bars, where the points have them."""
    def spans(column: str):
        if f"{column}_lo" not in points:
            return None
        value = points[column].astype(float)
        lo, hi = points[f"{column}_lo"].astype(float), points[f"{column}_hi"].astype(float)
        span = np.vstack([(value - lo).fillna(0).clip(lower=0), (hi - value).fillna(0).clip(lower=0)])
        return span if span.any() else None

    xerr, yerr = spans(cost), spans("top1")
    if xerr is not None or yerr is not None:
        ax.errorbar(points[cost].astype(float), points["top1"].astype(float), xerr=xerr, yerr=yerr, fmt="none",
                    ecolor=color, elinewidth=0.7, alpha=0.6, capsize=1.5, zorder=1)


def _log_x(ax, values: pd.Series) -> None:
    v = values.astype(float)
    if len(v) and v.min() > 0 and v.max() / v.min() > 3:
        _log(ax.xaxis, v)


def _number(x: float, _pos=None) -> str:
    """Tick labels as plain numbers ('0.01', '300', '2k'): no mathtext, which is slow to lay out."""
    if x == 0:
        return "0"
    if abs(x) >= 10_000:
        return f"{x / 1000:g}k"
    return f"{x:g}"


def _log(axis, values=None, base: float = 10) -> None:
    """A log scale with plain-number labels on the major ticks only (1-2-5 steps over a short range)."""
    set_scale = axis.axes.set_xscale if axis.axis_name == "x" else axis.axes.set_yscale
    set_scale("log", base=base)
    if base == 10 and values is not None:
        v = np.asarray(values, dtype=float)
        v = v[np.isfinite(v) & (v > 0)]
        if len(v) and np.log10(v.max() / v.min()) <= 2.5:
            axis.set_major_locator(matplotlib.ticker.LogLocator(10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(matplotlib.ticker.FuncFormatter(_number))
    axis.set_minor_formatter(matplotlib.ticker.NullFormatter())


def _margins(fig, top_in: float = 0.5, **kwargs) -> None:
    """Fixed spacing instead of tight_layout (which draws the figure once more); savefig's
    bbox_inches="tight" trims the outside."""
    fig.subplots_adjust(top=1 - top_in / fig.get_figheight(), **kwargs)


# -- how cost grows -----------------------------------------------------------------------------------
def scaling_plots(frame: pd.DataFrame, exponents: pd.DataFrame, styles: dict) -> list[Plot]:
    """Per metric and axis: log-log lines per variant (one per value of the other shape axis, by line
    style), one panel per device, the fitted exponent in each variant's legend entry."""
    out = []
    data = ok_runs(frame)
    for axis, symbol in SCALING_AXES.items():
        other = "side" if axis == "clip_length" else "clip_length"
        other_fmt = "{}px" if other == "side" else "T={}"
        for metric in SCALING_METRICS:
            sub_all = data.dropna(subset=[metric])
            sub_all = sub_all[sub_all[metric].astype(float) > 0]
            if sub_all.empty or sub_all[axis].nunique() < 2:
                continue
            devices = sorted(sub_all["device"].unique())
            if metric == "gmacs":  # counted, not timed: the same on every device, so one panel
                devices = [baseline_device(devices)]
            fig, axes = plt.subplots(len(devices), 1, figsize=(8.4, 0.4 + 2.9 * len(devices)), squeeze=False)
            name = SHORT_UNITS[metric].split(" (")[0]
            fig.suptitle(f"{name} vs {AXIS_LABELS[axis].split(' (')[0]} (log-log; b in {name} ∝ {symbol}^b is the "
                         "least-squares slope, other settings held fixed)", fontsize=9, x=0.02, ha="left")
            for ax, device in zip(axes[:, 0], devices):
                sub = sub_all[sub_all["device"] == device]
                dashes = {o: LINESTYLES[i % len(LINESTYLES)] for i, o in enumerate(sorted(sub[other].unique()))}
                for (variant, o), grp in sub.groupby(["variant", other]):
                    pts = grp.groupby(axis)[metric].median().sort_index()
                    ax.plot(pts.index.astype(float), pts.values.astype(float), linewidth=1.1, markersize=3.5,
                            linestyle=dashes[o], **styles[variant])
                ex = exponents[(exponents["device"] == device) & (exponents["metric"] == metric)
                               & (exponents["axis"] == axis)].set_index("variant")["exponent"]
                families = dict(zip(sub["variant"], sub["family"]))
                statements = {v: (scaling_statement(v, metric, symbol, ex[v]) if v in ex.index else f"{v}: (no fit)")
                              for v in families}
                handles = _variant_handles(styles, families, families, statements)
                if len(dashes) > 1:
                    handles += [Line2D([], [], color=OTHER_COLOR, linestyle=ls, label=other_fmt.format(o))
                                for o, ls in dashes.items()]
                ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
                _log(ax.xaxis, base=2)
                _log(ax.yaxis, sub[metric])
                ticks = sorted(sub[axis].dropna().astype(int).unique())
                ax.set_xticks(ticks, [str(t) for t in ticks])
                ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
                ax.set_title(device if metric != "gmacs" else "any device", fontsize=8.5, loc="left")
                ax.set_xlabel(AXIS_LABELS[axis])
                ax.set_ylabel(SHORT_UNITS[metric])
            _margins(fig, 0.55, left=0.09, right=0.5, hspace=0.45, bottom=0.5 / fig.get_figheight())
            out.append(Plot(f"cost-{slug(metric)}-vs-{slug(axis)}", f"{name} vs {AXIS_LABELS[axis].split(' (')[0]}",
                            "scaling", fig))
    return out


# -- families and devices -----------------------------------------------------------------------------
def _jitter(key: str, width: float = 0.28) -> float:
    return (zlib.crc32(key.encode()) % 1000 / 999 - 0.5) * width


def family_plot(frame: pd.DataFrame, styles: dict) -> Plot | None:
    """Top-1 and throughput of every run by family, one column per dataset and device; bars at medians."""
    data = ok_runs(frame)
    if data["family"].nunique() < 2:
        return None
    metrics = [m for m in ("top1", "throughput_clips_s") if data[m].notna().any()]
    cells = groups(data)
    if not metrics or not cells:
        return None
    fams = sorted(data["family"].unique())
    fig, axes = plt.subplots(len(metrics), len(cells), figsize=(max(3.2 * len(cells), 4.5) + 1.6,
                                                                2.8 * len(metrics)), squeeze=False)
    fig.suptitle("Families side by side (one point per run; bar: the median)", fontsize=9.5)
    for col, ((dataset, device), sub) in enumerate(cells):
        for row, metric in enumerate(metrics):
            ax = axes[row, col]
            for x, fam in enumerate(fams):
                grp = sub[sub["family"] == fam].dropna(subset=[metric])
                for variant, g in grp.groupby("variant"):
                    xs = [x + _jitter(rid) for rid in g["run_id"]]
                    ax.scatter(xs, g[metric].astype(float), s=16, alpha=0.8, linewidths=0, **styles[variant])
                if len(grp):
                    med = float(grp[metric].astype(float).median())
                    ax.plot([x - 0.3, x + 0.3], [med, med], color=FAMILY_COLORS.get(fam, OTHER_COLOR), linewidth=2)
            ax.set_xticks(range(len(fams)), [family_label(f) for f in fams])
            ax.set_xlim(-0.6, len(fams) - 0.4)
            if metric == "throughput_clips_s":
                _log(ax.yaxis, sub[metric])
            ax.set_ylabel(SHORT_UNITS[metric])
            if row == 0:
                ax.set_title(f"{dataset} · {device}", fontsize=8.5)
    families = dict(zip(data["variant"], data["family"]))
    _legend_right(fig, _variant_handles(styles, families, families), wspace=0.35, hspace=0.3)
    return Plot("families", "Families side by side", "families", fig)


def device_plot(frame: pd.DataFrame, styles: dict) -> Plot | None:
    """Median throughput of each variant on each device (log scale), when there are several devices."""
    data = ok_runs(frame, "throughput_clips_s")
    devices = sorted(data["device"].unique()) if len(data) else []
    if len(devices) < 2:
        return None
    base = baseline_device(devices)
    devices = [base] + [d for d in devices if d != base]
    variants = data.drop_duplicates("variant").sort_values(["family", "variant"])["variant"].tolist()
    med = data.groupby(["variant", "device"])["throughput_clips_s"].median()
    fig, ax = plt.subplots(figsize=(6.4, 0.32 * len(variants) * len(devices) + 1.2))
    height = 0.8 / len(devices)
    for j, device in enumerate(devices):
        ys = [i + j * height for i in range(len(variants))]
        vals = [float(med.get((v, device), np.nan)) for v in variants]
        ax.barh(ys, vals, height=height * 0.9, color=[styles[v]["color"] for v in variants], alpha=0.85,
                hatch=DEVICE_HATCHES[j % len(DEVICE_HATCHES)], edgecolor="white", label=device)
    ax.set_yticks([i + 0.4 - height / 2 for i in range(len(variants))], variants)
    ax.invert_yaxis()
    _log(ax.xaxis, med)
    ax.set_xlabel("median " + SHORT_UNITS["throughput_clips_s"])
    handles = [plt.Rectangle((0, 0), 1, 1, facecolor="#bbbbbb", hatch=DEVICE_HATCHES[j % len(DEVICE_HATCHES)],
                             edgecolor="white", label=d) for j, d in enumerate(devices)]
    ax.legend(handles=handles, loc="lower right", frameon=False)
    ax.set_title("Throughput by device (bar colour: family; hatching: device)", fontsize=9.5)
    return Plot("devices", "Throughput by device", "devices", fig)


def _legend_right(fig, handles, **margins) -> None:
    if handles:
        fig.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    _margins(fig, **{"right": 0.98, **margins})
