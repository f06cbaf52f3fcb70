"""What a report section is made of: blocks that write themselves as Markdown lines and as the fields of
their HTML partial (`templates/_block_<kind>.html.j2`). A section made of these needs no renderer or
template edit; a new kind of block is a class here (or in its section's file) and one partial."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol

import pandas as pd

from vidbench.report.tables import Column, cells, markdown_columns


class Output(Protocol):
    """The renderer a block writes into: it turns a plot section's figures into Markdown image lines (the
    PNGs written beside the report) or into inline SVG figures."""

    def plots(self, section: str) -> list: ...


class Block(Protocol):
    kind: ClassVar[str]  # names the HTML partial

    def markdown(self, out: Output) -> list[str]: ...

    def html(self, out: Output) -> dict: ...


def html_table(frame: pd.DataFrame, columns: list[Column]) -> dict:
    """A table's headers and HTML cells, as `_table.html.j2`'s `table` macro takes them."""
    return {"headers": [c.header for c in columns], "rows": cells(frame, columns)}


@dataclass(frozen=True)
class Note:
    """A paragraph of explanation."""

    text: str
    kind: ClassVar[str] = "note"

    def markdown(self, out: Output) -> list[str]:
        return [self.text, ""]

    def html(self, out: Output) -> dict:
        return {"text": self.text}


@dataclass(frozen=True, eq=False)
class Table:
    """A table under an optional sub-heading; `fold` puts it in HTML inside a <details> with that summary
    (the sub-heading is then not repeated; Markdown has no folding and shows the sub-heading, if any)."""

    frame: pd.DataFrame
    columns: list[Column]
    title: str = ""
    fold: str = ""
    id: str = ""  # the HTML table's id
    wrap_last: bool = False  # HTML: the last column's cells wrap
    kind: ClassVar[str] = "table"

    def markdown(self, out: Output) -> list[str]:
        return ([f"### {self.title}", ""] if self.title else []) + [markdown_columns(self.frame, self.columns), ""]

    def html(self, out: Output) -> dict:
        return {"title": self.title, "fold": self.fold, "id": self.id or None, "wrap_last": self.wrap_last,
                "table": html_table(self.frame, self.columns)}


@dataclass(frozen=True)
class Figures:
    """The plots drawn for a plot section (`Plot.section`), in the order they were drawn."""

    section: str
    kind: ClassVar[str] = "figures"

    def markdown(self, out: Output) -> list[str]:
        return out.plots(self.section)

    def html(self, out: Output) -> dict:
        return {"plots": out.plots(self.section)}


@dataclass(frozen=True)
class Pairs:
    """Keys and their values under a sub-heading (a device's environment)."""

    title: str
    items: dict[str, str]
    kind: ClassVar[str] = "pairs"

    def markdown(self, out: Output) -> list[str]:
        frame = pd.DataFrame({"key": list(self.items), "value": list(self.items.values())})
        return [f"### {self.title}", "", markdown_columns(frame, [Column("key", "key"), Column("value", "value")]), ""]

    def html(self, out: Output) -> dict:
        return {"title": self.title, "pairs": self.items}


@dataclass(frozen=True)
class Code:
    """Verbatim text (the suite file)."""

    text: str
    language: str = ""
    kind: ClassVar[str] = "code"

    def markdown(self, out: Output) -> list[str]:
        return [f"```{self.language}", self.text.rstrip(), "```", ""]

    def html(self, out: Output) -> dict:
        return {"text": self.text}
