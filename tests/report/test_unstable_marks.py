"""Unstable timings are seen where they are read: a run stored `unstable` shows "(unstable)" after each of its
timed figures in the terminal's finished-runs table, report.md and the HTML tables, with the note saying what it
means; counted figures and stable runs carry no mark."""

from __future__ import annotations

import pandas as pd

from vidbench.report.tables import Column, UNSTABLE_MARK, UNSTABLE_NOTE, cells, markdown_columns, markdown_table

FRAME = pd.DataFrame({"model": ["a", "b"], "latency_ms_p50": [170.2, 48.0], "gmacs": [4.0, 4.0],
                      "unstable": [True, False]})


def test_markdown_and_html_cells_mark_the_timed_figures_of_unstable_runs_only():
    table = markdown_table(FRAME, ["model", "latency_ms_p50", "gmacs"]).splitlines()
    assert table[2] == "| a | 170.2 (unstable) | 4.00 |" and table[3] == "| b | 48.00 | 4.00 |"
    columns = [Column("latency_ms_p50", "latency p50 (ms)"), Column("gmacs", "GMACs")]
    assert markdown_columns(FRAME, columns).splitlines()[2] == "| 170.2 (unstable) | 4.00 |"
    html = cells(FRAME, columns)
    assert [c["text"] for c in html[0]] == ["170.2 (unstable)", "4.00"] and html[0][0]["sort"] == "170.2"
    assert [c["text"] for c in html[1]] == ["48.00", "4.00"]
    missing = FRAME.assign(latency_ms_p50=[None, 48.0])
    assert markdown_table(missing, ["latency_ms_p50"]).splitlines()[2] == "|  |"  # no mark on an empty cell


def test_a_folder_with_an_unstable_run_says_so_in_its_reports_and_terminal(tmp_path):
    from tests.conftest import make_spec
    from vidbench.report.render import render_reports
    from vidbench.store import STORE_NAME, ResultStore, RunResult

    spec = make_spec("tsn_tiny", metrics=("latency",))
    steady = make_spec("c3d_tiny", metrics=("latency",))
    with ResultStore(tmp_path / STORE_NAME) as store:
        store.write(spec, RunResult(spec.run_id, "ok", metrics={"latency_ms_p50": 170.2, "unstable": True}))
        store.write(steady, RunResult(steady.run_id, "ok", metrics={"latency_ms_p50": 48.0, "unstable": False}))
    md, html = render_reports(tmp_path)
    text = md.read_text()
    assert UNSTABLE_NOTE in text and f"170.2{UNSTABLE_MARK}" in text and f"48.00{UNSTABLE_MARK}" not in text
    assert f"170.2{UNSTABLE_MARK}" in html.read_text()

    from vidbench.cli import _print_finished, out
    from types import SimpleNamespace

    suite = SimpleNamespace(metrics=["latency"])
    with out.capture() as captured:
        _print_finished(SimpleNamespace(specs=[spec, steady], output=tmp_path, suite=suite))
    shown = captured.get()
    assert f"170.2{UNSTABLE_MARK}" in shown and f"48.00{UNSTABLE_MARK}" not in shown and UNSTABLE_NOTE in shown


def test_a_recommendation_that_rests_on_an_unstable_timing_says_so():
    from tests.conftest import make_spec
    from vidbench.report.analysis import UNSTABLE_PICK, recommendations
    from vidbench.report.frame import load_run_folder
    import tempfile
    from pathlib import Path
    from vidbench.store import STORE_NAME, ResultStore, RunResult

    with tempfile.TemporaryDirectory() as folder:
        with ResultStore(Path(folder) / STORE_NAME) as store:
            for model, top1, latency, unstable in (("tsn_tiny", 60.0, 10.0, True), ("c3d_tiny", 80.0, 40.0, False)):
                spec = make_spec(model, metrics=("accuracy", "latency", "throughput"))
                store.write(spec, RunResult(spec.run_id, "ok", metrics={
                    "top1": top1, "latency_ms_p50": latency, "throughput_clips_s": 2000 / latency,
                    "unstable": unstable}))
        recs = recommendations(load_run_folder(folder).frame)
    fast = recs[recs["choice"].str.startswith("tsn_tiny")]
    steady = recs[recs["choice"].str.startswith("c3d_tiny")]
    assert len(fast) and all(UNSTABLE_PICK in v for v in fast["verdict"]) and fast["unstable"].all()
    assert len(steady) and not any(UNSTABLE_PICK in v for v in steady["verdict"])
