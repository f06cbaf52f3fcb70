"""Environment: per device, what the runs ran on (versions, hardware, threads), as the store holds it."""

from __future__ import annotations

import json

from vidbench.report.sections.base import Section, register
from vidbench.report.sections.blocks import Note, Pairs

NONE = "No environment stored (no run has finished)."


def _text(v) -> str:
    return json.dumps(v) if isinstance(v, dict | list) else ("" if v is None else str(v))


def build(report):
    envs = report.run.environments
    if not envs:
        return [Note(NONE)]
    return [Pairs(device, {k: _text(v) for k, v in env.items()}) for device, env in sorted(envs.items())]


SECTION = register(Section(order=120, anchor="environment", title="Environment", build=build))
