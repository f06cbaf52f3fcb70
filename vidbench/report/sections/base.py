"""The registry of report sections: each declares where it stands, its title and note, and how it builds
its blocks from the analysed report, so both renderers show the same sections in the same order by looping
over this registry (a new section is one file under `vidbench/report/sections/`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from vidbench.report.sections.blocks import Block, Note

if TYPE_CHECKING:
    from vidbench.report.analysed import Report


@dataclass(frozen=True)
class Section:
    order: int  # where it stands in both reports (ascending); unique
    anchor: str  # its HTML id and its key in the registry; unique
    title: str
    build: Callable[[Report], list[Block] | None]  # its blocks after the note, or None: the section is left out
    note: str = ""  # shown first, under the title
    toc: str = ""  # its label in the HTML contents (default: the title)
    # Whether it is this report's answer (then it moves ahead of every section that is not): for a section whose
    # place depends on what the suite asked, e.g. the frozen evaluations when every trained run was a probe.
    leads: Callable[[Report], bool] | None = None

    def view(self, report: Report) -> list[Block] | None:
        """The note and the built blocks, or None when the section has nothing to show."""
        blocks = self.build(report)
        if blocks is None:
            return None
        return ([Note(self.note)] if self.note else []) + list(blocks)


REGISTRY: dict[str, Section] = {}


def register(section: Section) -> Section:
    """Adds a section; a second section with the same anchor or order is a programming error."""
    if section.anchor in REGISTRY:
        raise ValueError(f"report section {section.anchor!r} is registered twice")
    if any(s.order == section.order for s in REGISTRY.values()):
        raise ValueError(f"report section {section.anchor!r}: order {section.order} is taken")
    REGISTRY[section.anchor] = section
    return section


def sections() -> list[Section]:
    """Every registered section, in report order."""
    return sorted(REGISTRY.values(), key=lambda s: s.order)


def shown(report: Report) -> list[tuple[Section, list[Block]]]:
    """The sections with something to show for this report, each with its blocks, in report order: those that
    lead for this report first."""
    views = [(s, blocks) for s in sections() if (blocks := s.view(report)) is not None]
    return sorted(views, key=lambda view: not (view[0].leads and view[0].leads(report)))
