"""Suite: the suite file the runs were made from, as the store holds it."""

from __future__ import annotations

from vidbench.report.sections.base import Section, register
from vidbench.report.sections.blocks import Code


def build(report):
    return [Code(report.run.suite_yaml, "yaml")] if report.run.suite_yaml else None


SECTION = register(Section(order=130, anchor="suite", title="Suite", build=build))
