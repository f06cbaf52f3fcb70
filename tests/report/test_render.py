"""Reports are rendered from the store alone: a self-contained report.html and report.md with plots/*.png."""

from __future__ import annotations

import re
import shutil

import pytest

from tests.conftest import make_spec
from vidbench.errors import UsageError
from vidbench.metrics import COLUMNS_BY_NAME
from vidbench.report import load_run_folder, render_reports
from vidbench.report.layout import header as run_header
from vidbench.report.tables import format_value, markdown_table
from vidbench.store import STORE_NAME, ResultStore, RunResult

MODELS = {"tsn_tiny": ("cnn", "tsn"), "lrcn_tiny": ("cnn_rnn", "lrcn"), "timesformer_tiny": ("transformer",
                                                                                             "timesformer")}
FIGURE_HEADERS = {run_header(c) for c in COLUMNS_BY_NAME}  # the runs table's figure columns
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
EVIL = "<script>alert('x')</script>"
# Plots the rows below hold data for: a Pareto front (top-1 and costs on one dataset and device), cost
# against 2 resolutions and 2 clip lengths, and three families side by side.
KNOWN_PLOTS = ("pareto-synthetic-motion-cpu", "cost-throughput-clips-s-vs-side", "cost-throughput-clips-s-vs-clip-length",
               "cost-gmacs-vs-clip-length", "cost-latency-ms-p50-vs-side", "cost-peak-mem-mb-vs-side", "families")


def ok_metrics(i: int) -> dict:
    return {"params": 1000 + i, "gmacs": 0.01 * (i + 1), "gflops": 0.02 * (i + 1), "peak_mem_mb": 1.5,
            "latency_ms_p50": 5.0 + i, "latency_ms_p90": 6.0 + i, "throughput_clips_s": 100.0 / (i + 1),
            "train_throughput_clips_s": 30.0 / (i + 1), "train_peak_mem_mb": 3.0, "top1": 25.0 + i}


def write_rows(folder) -> list[tuple]:
    """Ok runs over 3 models x 2 resolutions x 2 clip lengths, plus one failed and one skipped run."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with ResultStore(folder / STORE_NAME) as store:
        store.set_meta("suite_name", "report-test")
        store.set_meta("suite_yaml", "name: report-test\n")
        i = 0
        for model, (family, arch) in MODELS.items():
            for side in (32, 48):
                for t in (4, 8):
                    spec = make_spec(model, family=family, arch=arch, resolution=(side, side), clip_length=t,
                                     dataset="synthetic-motion")
                    store.write(spec, RunResult(spec.run_id, "ok", metrics=ok_metrics(i), env={"torch": "t"},
                                                duration_s=1.0), "report-test")
                    written.append((spec, "ok"))
                    i += 1
        failed = make_spec("tsn_tiny", family="cnn", arch="tsn", batch_size=64, model_args={"width": 3})
        store.write(failed, RunResult(failed.run_id, "failed", f"RuntimeError: {EVIL}"), "report-test")
        skipped = make_spec("tsn_tiny", family="cnn", arch="tsn", device="cuda")
        store.write(skipped, RunResult(skipped.run_id, "skipped", "CUDA is not available on this machine"),
                    "report-test")
        written += [(failed, "failed"), (skipped, "skipped")]
    return written


@pytest.fixture
def run_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "run"
    rows = write_rows(folder)
    return folder, rows


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """One folder rendered once, for the tests that only read its reports (rendering takes seconds)."""
    folder = tmp_path_factory.mktemp("rendered") / "run"
    rows = write_rows(folder)
    return folder, rows, render_reports(folder)


def test_render_writes_both_reports(rendered):
    folder, _, paths = rendered
    assert sorted(p.name for p in paths) == ["report.html", "report.md"]
    assert all(p.is_file() and p.parent == folder for p in paths)


def test_html_is_self_contained_with_inline_svg_plots_and_every_run(rendered):
    folder, rows, _ = rendered
    html = (folder / "report.html").read_text()
    external = re.findall(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, flags=re.I)
    assert external == [], "report.html must not load anything from the network"
    assert not re.search(r"<link\b[^>]*stylesheet", html, flags=re.I)
    assert not re.search(r"<script\b[^>]*\bsrc=", html, flags=re.I)
    assert not re.search(r"<img\b", html, flags=re.I)  # plots are inline SVG, not files
    for plot in KNOWN_PLOTS:
        assert f'id="plot-{plot}"' in html
    assert html.count("<svg") == html.count('<figure id="plot-') >= len(KNOWN_PLOTS)
    runs_table = html[html.index('<table id="runs"'):]
    runs_table = runs_table[:runs_table.index("</table>")]
    assert runs_table.count("<tr class=\"status-") == len(rows)
    assert runs_table.count('class="status-ok"') == len(rows) - 2
    assert 'class="status-failed"' in runs_table and 'class="status-skipped"' in runs_table
    for model in MODELS:
        assert f">{model}<" in runs_table
    assert "CUDA is not available on this machine" in html
    assert ">nan<" not in html.lower() and ">none<" not in html.lower()


def test_html_escapes_what_the_store_holds(rendered):
    folder, _, _ = rendered
    html = (folder / "report.html").read_text()
    assert EVIL not in html
    assert "&lt;script&gt;" in html


def test_markdown_has_every_run_and_its_plots_exist(rendered):
    folder, rows, _ = rendered
    md = (folder / "report.md").read_text()
    assert md.startswith("# vidbench report: report-test")
    table = section(md, "Runs")
    data_lines = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| model")]
    assert len(data_lines) == len(rows)
    links = re.findall(r"!\[[^\]]*\]\((plots/[^)]+\.png)\)", md)
    assert {f"plots/{p}.png" for p in KNOWN_PLOTS} <= set(links)
    for link in links:
        assert (folder / link).read_bytes().startswith(PNG_MAGIC)
    assert sorted(p.name for p in (folder / "plots").glob("*.png")) == sorted(link.split("/")[1] for link in links)
    assert "## Failed and skipped runs" in md
    assert "CUDA is not available on this machine" in md


def section(md: str, title: str) -> str:
    """One `## title` section of a Markdown report, up to the next `## `."""
    start = md.index(f"\n## {title}\n")
    end = md.find("\n## ", start + 1)
    return md[start:end if end >= 0 else None]


def md_cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def test_missing_figures_are_empty_cells_never_zero_or_nan(rendered):
    folder, _, _ = rendered
    md = (folder / "report.md").read_text()
    lines = section(md, "Runs").splitlines()  # the runs table only
    header = md_cells(next(line for line in lines if line.startswith("| model |")))
    rows = [dict(zip(header, md_cells(line), strict=True)) for line in lines if line.startswith("| tsn_tiny |")]
    skipped = next(r for r in rows if r["status"] == "skipped")
    figures = [h for h in header if h in FIGURE_HEADERS]
    assert len(figures) >= 5
    assert all(skipped[c] == "" for c in figures), skipped
    ok = next(r for r in rows if r["status"] == "ok")
    assert all(ok[c] not in ("", "0", "nan") for c in figures), ok


def test_reports_re_render_from_the_store_alone(rendered, tmp_path):
    folder, rows, _ = rendered
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(folder / STORE_NAME, copy / STORE_NAME)
    render_reports(copy)
    assert (copy / "report.md").read_text() == (folder / "report.md").read_text()
    assert sorted(p.name for p in (copy / "plots").glob("*.png")) == sorted(
        p.name for p in (folder / "plots").glob("*.png"))
    html = (copy / "report.html").read_text()
    original = (folder / "report.html").read_text()
    assert html.count("<svg") == original.count("<svg") >= len(KNOWN_PLOTS)
    assert html.count('<tr class="status-') == len(rows)


def test_render_only_the_asked_formats(run_folder):
    folder, _ = run_folder
    assert [p.name for p in render_reports(folder, ("md",))] == ["report.md"]
    assert not (folder / "report.html").exists()


def test_plots_without_data_are_left_out(tmp_path):
    folder = tmp_path / "one"
    folder.mkdir()
    with ResultStore(folder / STORE_NAME) as store:
        spec = make_spec(metrics=("params", "throughput"))
        store.write(spec, RunResult(spec.run_id, "ok", metrics={"params": 5, "throughput_clips_s": 9.0}))
    render_reports(folder)
    assert "<svg" not in (folder / "report.html").read_text()
    assert not list((folder / "plots").glob("*.png"))
    assert "![" not in (folder / "report.md").read_text()


@pytest.mark.parametrize("rows", ["none", "only-skipped"])
def test_a_store_without_ok_runs_still_renders(tmp_path, rows):
    folder = tmp_path / rows
    folder.mkdir()
    with ResultStore(folder / STORE_NAME) as store:
        if rows == "only-skipped":
            spec = make_spec(device="cuda")
            store.write(spec, RunResult(spec.run_id, "skipped", "CUDA is not available on this machine"))
    assert sorted(p.name for p in render_reports(folder)) == ["report.html", "report.md"]
    html = (folder / "report.html").read_text()
    assert html.count('<tr class="status-') == (1 if rows == "only-skipped" else 0)
    assert "<svg" not in html


def test_a_folder_without_a_store_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match=STORE_NAME):
        load_run_folder(tmp_path)
    assert not (tmp_path / STORE_NAME).exists()


def test_run_folder_frame_holds_the_contract_columns(rendered):
    folder, rows, _ = rendered
    run = load_run_folder(folder)
    assert run.suite_name == "report-test" and run.suite_yaml == "name: report-test\n"
    assert len(run.frame) == len(rows)
    assert set(run.frame["status"]) == {"ok", "failed", "skipped"}
    assert str(run.frame["params"].dtype) == "Int64"
    assert run.frame.loc[run.frame["status"] == "skipped", "params"].isna().all()


@pytest.mark.parametrize(("value", "text"), [
    (None, ""), (float("nan"), ""), (True, "yes"), (1234567, "1,234,567"), (0.0, "0"), (12345.6, "12,346"),
    (123.456, "123.5"), (12.345, "12.35"), (0.0012345, "0.00123"), ("tsn", "tsn"),
])
def test_format_value(value, text):
    assert format_value(value) == text


def test_markdown_table_escapes_pipes():
    import pandas as pd

    table = markdown_table(pd.DataFrame([{"a": "x|y", "b": 2}]), ["a", "b"])
    assert table.splitlines() == ["| a | b |", "|---|---|", "| x\\|y | 2 |"]
