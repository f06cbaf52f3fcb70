"""Environment: per device (and per Ray node on a cluster), what the runs ran on (versions, hardware, threads,
the node and the resources a run held), as the store holds it, with how many runs ran there."""

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
    runs = report.run.frame["placement"].value_counts() if "placement" in report.run.frame else {}
    return [Pairs(where, {"runs": str(int(runs.get(where, 0))), **{k: _text(v) for k, v in env.items()}})
            for where, env in sorted(envs.items())]


SECTION = register(Section(order=120, anchor="environment", title="Environment", build=build))
