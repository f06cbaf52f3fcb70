"""Column headers the sections share: a figure under its short header with its unit."""

from __future__ import annotations

from vidbench.report.frame import SHORT_UNITS, UNITS
from vidbench.report.tables import Column

SHORT_HEADERS = {"variant": "model"}


def header(column: str) -> str:
    """A column's header with its unit (the CLI's `vidbench results` table uses it too)."""
    return UNITS.get(column, SHORT_HEADERS.get(column, column))


def filled(columns: list[Column], rows) -> list[Column]:
    """The columns some row of `rows` has a value in (a figure no run measured would be an empty column)."""
    return [c for c in columns if c.key in rows and (rows[c.key].astype(str) != "").any() and rows[c.key].notna().any()]


def figure(key: str) -> Column:
    """A figure's column under its short header."""
    return Column(key, SHORT_UNITS.get(key, header(key)))
