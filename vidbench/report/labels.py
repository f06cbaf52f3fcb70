"""Point labels that do not overlap: a greedy search over offsets, in display coordinates.

Each label tries offsets around its point, nearest first, and takes the first whose box overlaps no label
already placed, no plotted point and stays inside the axes; failing that, the offset with the least
overlap. Far offsets get a thin leader line. Call it after the figure's layout is final (margins, limits
and scales set): the boxes are measured where the figure will draw them.
"""

from __future__ import annotations

import numpy as np
from matplotlib.text import Text

# Offsets (points) from the point to the label's anchor, nearest first; (dx, dy) with dx > 0 puts the label
# to the right of the point, dx < 0 to its left, dx == 0 centred above or below.
_RINGS = ((6, 5), (6, -5), (-6, 5), (-6, -5), (0, 9), (0, -9), (10, 0), (-10, 0))
OFFSETS = tuple((dx * k, dy * k) for k in (1, 2, 3, 4.5) for dx, dy in _RINGS)
LEADER_PT = 14  # offsets farther than this draw a line back to the point
POINT_RADIUS_PT = 4.0


OFFSET_PT = np.array(OFFSETS, dtype=float)


def _boxes(x: float, y: float, offsets: np.ndarray, w: float, h: float) -> np.ndarray:
    """The label's box (x0, y0, x1, y1) for each anchor offset (dx, dy) px from (x, y): to the right of the
    point for dx > 0, to its left for dx < 0, centred for dx == 0 (and likewise above, below, level)."""
    dx, dy = offsets[:, 0], offsets[:, 1]
    left = np.where(dx > 0, x + dx, np.where(dx < 0, x + dx - w, x - w / 2))
    bottom = np.where(dy > 0, y + dy, np.where(dy < 0, y + dy - h, y - h / 2))
    return np.column_stack([left, bottom, left + w, bottom + h])


def _shared(boxes: np.ndarray, others: np.ndarray) -> np.ndarray:
    """[i, j]: the area box i shares with box j of the others (both (n, 4) arrays of x0, y0, x1, y1)."""
    w = np.minimum(boxes[:, None, 2], others[None, :, 2]) - np.maximum(boxes[:, None, 0], others[None, :, 0])
    h = np.minimum(boxes[:, None, 3], others[None, :, 3]) - np.maximum(boxes[:, None, 1], others[None, :, 1])
    return np.clip(w, 0, None) * np.clip(h, 0, None)


def _overlaps(boxes: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Per box, the summed area it shares with the others."""
    return _shared(boxes, others).sum(axis=1) if len(others) else np.zeros(len(boxes))


def _along(anchors: np.ndarray, step: float) -> np.ndarray:
    """Points every `step` px along the line joining the anchors in their order."""
    out = [anchors[:1]]
    for a, b in zip(anchors[:-1], anchors[1:]):
        n = max(1, int(np.hypot(*(b - a)) // step))
        out.append(a + (b - a) * (np.arange(1, n + 1)[:, None] / n))
    return np.vstack(out)


def _squares(points: np.ndarray, r: float) -> np.ndarray:
    points = points[np.isfinite(points).all(axis=1)]
    return np.column_stack([points - r, points + r])


def place_labels(ax, xs, ys, texts, obstacles=None, fontsize: float = 6.0, color: str = "#333333",
                 joined: bool = False) -> tuple[list, bool]:
    """Annotate each (x, y) with its text where it collides least; `obstacles` are other plotted points
    (data coordinates, an (n, 2) array) that labels should not cover, and with `joined` the line drawn
    through the points in their order is one too. Returns the annotations, and whether every one found a
    place free of collisions inside the axes."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    ax.get_xlim(), ax.get_ylim()  # settle autoscaling before reading the transform
    px = fig.dpi / 72.0
    anchors = ax.transData.transform(np.column_stack([np.asarray(xs, float), np.asarray(ys, float)]))
    points = anchors if obstacles is None or not len(obstacles) else np.vstack(
        [anchors, ax.transData.transform(np.asarray(obstacles, float))])
    taken = _squares(points, POINT_RADIUS_PT * px)
    if joined and len(anchors) > 1:
        taken = np.vstack([taken, _squares(_along(anchors, 2 * px), px)])
    frame = ax.get_window_extent(renderer)
    frame = np.array([[frame.x0, frame.y0, frame.x1, frame.y1]])
    placed = np.zeros((0, 4))
    out, clean = [], True
    for data_xy, (x, y), text in zip(zip(xs, ys), anchors, texts):
        probe = ax.text(0, 0, text, fontsize=fontsize, transform=None)
        extent = probe.get_window_extent(renderer)
        probe.remove()
        w, h = extent.width + 2 * px, extent.height + px
        boxes = _boxes(x, y, OFFSET_PT * px, w, h)
        cost = (10 * _overlaps(boxes, placed) + _overlaps(boxes, taken)
                + 5 * (w * h - _overlaps(boxes, frame)))  # the part outside the axes
        free = np.flatnonzero(cost <= 1e-9)
        k = int(free[0]) if len(free) else int(np.argmin(cost))
        clean = clean and len(free) > 0
        placed = np.vstack([placed, boxes[k]])
        dx, dy = OFFSETS[k]
        far = np.hypot(dx, dy) > LEADER_PT
        out.append(ax.annotate(
            text, data_xy, xytext=(dx, dy), textcoords="offset points",
            ha="left" if dx > 0 else "right" if dx < 0 else "center",
            va="bottom" if dy > 0 else "top" if dy < 0 else "center", fontsize=fontsize, color=color, zorder=5,
            arrowprops={"arrowstyle": "-", "color": "#999999", "linewidth": 0.5, "shrinkA": 0, "shrinkB": 3}
            if far else None))
    return out, clean


def overlapping_pairs(annotations, renderer=None) -> int:
    """How many pairs of the annotations' text boxes (their leader lines left out) overlap as drawn."""
    if not annotations:
        return 0
    renderer = renderer or annotations[0].figure.canvas.get_renderer()
    boxes = []
    for a in annotations:
        a.update_positions(renderer)
        e = Text.get_window_extent(a, renderer)
        boxes.append([e.x0, e.y0, e.x1, e.y1])
    boxes = np.array(boxes)
    return int(np.triu(_shared(boxes, boxes) > 0, k=1).sum())
