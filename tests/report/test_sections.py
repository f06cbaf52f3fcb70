"""A report section is one file: a section registered from this module alone appears in both the Markdown
and the HTML report, at its order, with its title, note and table, and is left out of both when its view is
None. The registration is undone after each test (monkeypatch on the registry)."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.conftest import make_spec
from vidbench.report.render import render_reports
from vidbench.report.sections import REGISTRY, Section, register, sections
from vidbench.report.sections.blocks import Table
from vidbench.report.tables import Column
from vidbench.store import STORE_NAME, ResultStore, RunResult

BUILT_IN = ["published", "recommendations", "frozen", "runtimes", "int8", "serving", "runs-section", "uncertainty", "pareto", "curves", "scaling",
            "families", "devices", "problems", "environment", "suite"]
TITLE = "Models by parameter count"
NOTE = "A test-only section: the parameters of each model, largest first."
COLUMNS = [Column("variant", "model"), Column("params", "parameters"), Column("marker", "marker")]


def build(report):
    """The test section's view: each model's parameters, or None when the report's runs have none."""
    runs = report.runs[report.runs["params"].notna()] if SHOW["on"] else report.runs.iloc[:0]
    if not len(runs):
        return None
    table = runs.sort_values("params", ascending=False).assign(marker="test-section-cell")
    return [Table(table, COLUMNS, id="params-table")]


SHOW = {"on": True}
TEST_SECTION = Section(order=45, anchor="params", title=TITLE, note=NOTE, toc="Parameters", build=build)


@pytest.fixture
def registered(monkeypatch):
    """The test section in the registry for one test, removed afterwards."""
    monkeypatch.setitem(REGISTRY, TEST_SECTION.anchor, TEST_SECTION)
    monkeypatch.setitem(SHOW, "on", True)
    return TEST_SECTION


@pytest.fixture
def folder(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    with ResultStore(folder / STORE_NAME) as store:
        store.set_meta("suite_name", "sections-test")
        for i, model in enumerate(("tsn_tiny", "c3d_tiny")):
            spec = make_spec(model, family="cnn", arch=model.split("_")[0])
            result = RunResult(spec.run_id, "ok", metrics={"params": 1000 * (i + 1), "top1": 50.0 + i,
                                                           "latency_ms_p50": 2.0, "throughput_clips_s": 9.0},
                               env={"torch": "t"}, duration_s=1.0)
            store.write(spec, result, "sections-test")
    return folder


def test_the_built_in_sections_stand_in_report_order():
    assert [s.anchor for s in sections()] == BUILT_IN


def test_a_section_registered_in_one_file_appears_in_both_reports(registered, folder):
    render_reports(folder)
    md, html = (folder / "report.md").read_text(), (folder / "report.html").read_text()
    assert md.index("## Runs") < md.index(f"## {TITLE}\n\n{NOTE}\n") < md.index("## Environment")
    table = md[md.index(f"## {TITLE}"):].split("\n\n")[2].splitlines()
    assert table[0] == "| model | parameters | marker |"
    assert table[2:] == ["| c3d_tiny | 2,000 | test-section-cell |", "| tsn_tiny | 1,000 | test-section-cell |"]
    assert '<a href="#params">Parameters</a>' in html
    assert html.index('id="runs-section"') < html.index(f'<h2 id="params">{TITLE}</h2>') < html.index(
        'id="environment"')
    assert f'<p class="note">{NOTE}</p>' in html and '<table class="sortable" id="params-table">' in html
    assert html.count(">test-section-cell</td>") == 2


def test_a_section_whose_view_is_none_is_left_out_of_both_reports(registered, folder, monkeypatch):
    monkeypatch.setitem(SHOW, "on", False)
    render_reports(folder)
    md, html = (folder / "report.md").read_text(), (folder / "report.html").read_text()
    assert TITLE not in md and NOTE not in md and "test-section-cell" not in md
    assert TITLE not in html and 'href="#params"' not in html and 'id="params' not in html


def test_the_test_section_is_registered_only_inside_its_fixture():
    assert TEST_SECTION.anchor not in REGISTRY


@pytest.mark.parametrize("clash", [dict(anchor="runs-section", order=999), dict(anchor="other", order=40)])
def test_a_section_cannot_take_another_sections_anchor_or_order(clash):
    with pytest.raises(ValueError, match="registered twice|is taken"):
        register(Section(title="clash", build=lambda report: None, **clash))
    assert "other" not in REGISTRY


def test_view_puts_the_note_first():
    frame = pd.DataFrame({"variant": ["m"], "params": [1]})
    section = Section(order=1, anchor="x", title="x", note="why", build=lambda report: [Table(frame, COLUMNS[:2])])
    blocks = section.view(None)
    assert [b.kind for b in blocks] == ["note", "table"] and blocks[0].text == "why"
