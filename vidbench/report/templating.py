"""The one jinja2 environment for the report's HTML templates (vidbench/report/templates)."""

from __future__ import annotations

import functools

import jinja2


@functools.cache
def templates() -> jinja2.Environment:
    """The environment loading vidbench.report's templates, built once."""
    return jinja2.Environment(loader=jinja2.PackageLoader("vidbench.report", "templates"),
                              autoescape=jinja2.select_autoescape(["html", "j2"]), trim_blocks=True,
                              lstrip_blocks=True)
