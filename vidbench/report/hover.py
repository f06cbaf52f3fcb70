"""Hover labels of the HTML report's plots: each point of a scatter says what it is (model, input, runtime and
its figures) when the pointer rests on it, with no script: an SVG <title> inside the group of an invisible marker
drawn over the point. The PNGs of report.md do not change (the markers are fully transparent)."""

from __future__ import annotations

from html import escape
from typing import Iterable

_LABELS = "_vidbench_hover"  # the figure's attribute: marker group id → its label


def add_hover(ax, xs: Iterable[float], ys: Iterable[float], texts: Iterable[str]) -> None:
    """An invisible, hoverable marker over each (x, y), labelled `text` in the figure's SVG."""
    labels = ax.figure.__dict__.setdefault(_LABELS, {})
    for x, y, text in zip(xs, ys, texts):
        gid = f"hover-{len(labels)}"
        ax.plot([float(x)], [float(y)], marker="o", markersize=8, alpha=0.0, linestyle="none", gid=gid, zorder=5)
        labels[gid] = text


def with_titles(svg: str, fig) -> str:
    """The figure's SVG with each hover label as the <title> of its marker's group."""
    for gid, text in getattr(fig, _LABELS, {}).items():
        svg = svg.replace(f'<g id="{gid}">', f'<g id="{gid}"><title>{escape(text)}</title>', 1)
    return svg


def point_label(name: str, figures: dict, extra: str = "") -> str:
    """'x3d_m 16×256² · latency per video (ms) 1,080 · published top-1 76.2 @ …': what a point is and shows."""
    from vidbench.report.frame import SHORT_UNITS
    from vidbench.report.tables import _py, format_value

    parts = [name, *(f"{SHORT_UNITS.get(k, k)} {format_value(_py(v))}" for k, v in figures.items())]
    return " · ".join([*parts, extra] if extra else parts)
