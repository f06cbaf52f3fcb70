"""Number formatting and GitHub-flavoured Markdown tables shared by the reports and the CLI."""

from __future__ import annotations

import math
from typing import Any, Sequence

import pandas as pd


def format_value(value: Any) -> str:
    """Empty for missing, thousands separators for ints, 3–4 significant digits for floats."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value == 0:
            return "0"
        mag = abs(value)
        if mag >= 1000:
            return f"{value:,.0f}"
        if mag >= 100:
            return f"{value:.1f}"
        if mag >= 1:
            return f"{value:.2f}"
        return f"{value:.3g}"
    return str(value)


def markdown_table(frame: pd.DataFrame, columns: Sequence[str], headers: Sequence[str] | None = None) -> str:
    headers = list(headers or columns)
    esc = lambda s: str(s).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = ["| " + " | ".join(esc(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    for _, row in frame.iterrows():
        lines.append("| " + " | ".join(esc(format_value(_py(row[c]))) for c in columns) + " |")
    return "\n".join(lines)


def _py(value: Any) -> Any:
    """numpy/pandas scalars → Python ones, so formatting sees int vs float correctly."""
    if value is pd.NA:
        return None
    return value.item() if hasattr(value, "item") else value
