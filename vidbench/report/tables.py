"""Number formatting and GitHub-flavoured Markdown tables shared by the reports and the CLI."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import pandas as pd

from vidbench.measure.stats import UNSTABLE_IQR_OVER_MEDIAN


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


def counted(n: int, word: str) -> str:
    """'1 view', '30 views'."""
    return f"{n} {word}{'' if n == 1 else 's'}"


UNSTABLE_MARK = " (unstable)"  # after a timed figure whose calls spread more than 10% of their median (IQR/median)
UNSTABLE_NOTE = (f"{UNSTABLE_MARK.strip()}: the timed calls spread more than {UNSTABLE_IQR_OVER_MEDIAN:.0%} of their "
                 "median (IQR/median): measure again on a quiet machine before trusting that figure")
EMULATED_MARK = " (emulated)"
EMULATED_NOTE = (f"{EMULATED_MARK.strip()}: bf16/fp16 on a CPU without native support for it (no AVX-512 BF16/FP16 "
                 "or AMX): PyTorch emulates the type, often many times slower than fp32; not what the precision "
                 "costs on a CPU that has it")
BOUNDED_MARK = " (few samples)"
BOUNDED_NOTE = (f"{BOUNDED_MARK.strip()}: one call was so slow that the timing loop took fewer calls than the "
                "benchmark block asks, to finish inside the run's timeout (the run's detail says how many)")
# The flags a run stores about its timings, each with the mark its timed figures carry and what the mark means
TIMING_FLAGS = (("unstable", UNSTABLE_MARK, UNSTABLE_NOTE), ("emulated", EMULATED_MARK, EMULATED_NOTE),
                ("bounded", BOUNDED_MARK, BOUNDED_NOTE))


@functools.cache
def _timed_columns() -> frozenset[str]:
    from vidbench.metrics import COLUMNS

    return frozenset(c.name for c in COLUMNS if c.noise == "timing")


def is_set(flag: Any) -> bool:
    """A stored boolean flag (`unstable`) as a bool: missing or NaN is not set."""
    return _py(flag) is True


def unstable_marks(frame: pd.DataFrame, column: str) -> list[str]:
    """Per row, the marks a timed figure carries ('' elsewhere): an unstable timing, an emulated precision, a
    loop cut short — what a reader must see beside the number."""
    marks = [""] * len(frame)
    if column not in _timed_columns():
        return marks
    for flag, mark, _ in TIMING_FLAGS:
        if flag in frame.columns:
            marks = [m + mark if is_set(value) else m for m, value in zip(marks, frame[flag].tolist())]
    return marks


def flag_notes(frame: pd.DataFrame) -> list[str]:
    """What each mark means, for the flags some run of `frame` has set."""
    return [note for flag, _, note in TIMING_FLAGS
            if flag in frame.columns and any(is_set(value) for value in frame[flag].tolist())]


def markdown_table(frame: pd.DataFrame, columns: Sequence[str], headers: Sequence[str] | None = None) -> str:
    headers = list(headers or columns)
    esc = lambda s: str(s).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = ["| " + " | ".join(esc(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    marks = {c: unstable_marks(frame, c) for c in columns}
    for i, (_, row) in enumerate(frame.iterrows()):
        lines.append("| " + " | ".join(esc(marked(format_value(_py(row[c])), marks[c][i])) for c in columns) + " |")
    return "\n".join(lines)


def marked(text: str, mark: str) -> str:
    """A cell's text with its mark; an empty cell (a missing figure) stays empty."""
    return text + mark if text else text


def _py(value: Any) -> Any:
    """numpy/pandas scalars → Python ones, so formatting sees int vs float correctly."""
    if value is pd.NA:
        return None
    return value.item() if hasattr(value, "item") else value


Formatter = Callable[[Any], str]


def formatted(spec: str) -> Formatter:
    """A cell formatter by format spec ('.1f', '.1e'); missing values never reach one (`cell`)."""
    return lambda v: format(v, spec)


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    fmt: Formatter | None = None  # default: format_value
    sort: str | None = None  # another column to sort by ("112x160" sorts by its short side)


def cells(frame: pd.DataFrame, columns: Sequence[Column]) -> list[list[dict]]:
    """Rows of HTML cells: the text shown, the raw value to sort by, and whether it is a number."""
    if not len(frame):
        return []
    shown = [frame[c.key].tolist() for c in columns]
    keys = [frame[c.sort].tolist() if c.sort else None for c in columns]
    marks = [unstable_marks(frame, c.key) for c in columns]
    out = []
    for i in range(len(frame)):
        row = []
        for j, c in enumerate(columns):
            x = cell(shown[j][i], c.fmt)
            x["text"] = marked(x["text"], marks[j][i])
            if keys[j] is not None:
                x["sort"] = cell(keys[j][i])["sort"]
            row.append(x)
        out.append(row)
    return out


def cell(value: Any, fmt: Formatter | None = None) -> dict:
    value = _py(value)
    missing = value is None or (isinstance(value, float) and math.isnan(value))
    numeric = isinstance(value, int | float) and not isinstance(value, bool) and not missing
    return {"text": "" if missing else (fmt or format_value)(value), "sort": "" if missing else
            (repr(value) if numeric else str(value)), "numeric": numeric}


def markdown_columns(frame: pd.DataFrame, columns: Sequence[Column]) -> str:
    """markdown_table with each column's own formatter and header."""
    shown = pd.DataFrame({c.header: [marked(cell(v, c.fmt)["text"], mark) for v, mark in
                                     zip(frame[c.key].tolist(), unstable_marks(frame, c.key))] for c in columns},
                         columns=[c.header for c in columns])
    return markdown_table(shown, [c.header for c in columns])
