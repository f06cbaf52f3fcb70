"""Every committed reference report re-renders from its store alone to the tables, headings and figures it shows.

A copy of each committed run folder (store and all) is rendered again and the Markdown report's section
headings (lines starting with `#` outside fenced blocks), table lines (starting with `|`) and figure links
(starting with `![`) are compared with the committed `report.md`. Nothing is normalised: the report holds
no timestamps, plots are linked by fixed names (`plots/<name>.png`, the PNG bytes are not compared) and the
environment is the one the store holds. Prose is not compared, so a reworded note does not fail this test.
Each folder with a store and a report is checked, `reports/transfer-cpu/pretrain` too; `reports/gpu-h200`
holds no store (a CSV and logs only) and is not re-rendered.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from vidbench.report.render import render_reports

ROOT = Path(__file__).resolve().parents[2]
REPORTS = sorted(str(p.parent.relative_to(ROOT / "reports")) for p in (ROOT / "reports").rglob("results.sqlite")
                 if (p.parent / "report.md").exists())


def shown_lines(markdown: str) -> list[str]:
    """The headings, table lines and figure links of a Markdown report, in order (the suite's YAML is fenced
    and skipped: its comments start with `#`)."""
    out, fenced = [], False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and line.startswith(("#", "|", "![")):
            out.append(line)
    return out


def test_every_committed_report_with_a_store_is_checked():
    assert {"ablation-cpu", "ablation-seeds-cpu", "choose-cpu", "deploy-cpu", "transfer-cpu",
            "transfer-cpu/pretrain"} <= set(REPORTS)


@pytest.mark.parametrize("name", REPORTS)
def test_a_committed_report_re_renders_from_its_store_to_the_same_tables(name, tmp_path):
    folder = shutil.copytree(ROOT / "reports" / name, tmp_path / "report",
                             ignore=shutil.ignore_patterns("weights", "*.sqlite-wal", "*.sqlite-shm"))
    committed = (folder / "report.md").read_text()
    render_reports(folder, formats=("md",))
    assert shown_lines((folder / "report.md").read_text()) == shown_lines(committed)
