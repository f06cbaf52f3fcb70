"""Published accuracy beside measured cost: full-size runs joined at report time with their models' published
top-1 (vidbench.models.published), the budget table, the chart, and measured top-1 kept apart."""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import pytest

from tests.report.full_size import MEASURED_TOP1, RUNS, write_full_size
from tests.report.synthetic import write_store
from vidbench.models.published import primary_result, published_results
from vidbench.report import analysis
from vidbench.report.aggregate import aggregate
from vidbench.report.frame import load_run_folder
from vidbench.report.labels import overlapping_pairs
from vidbench.report.plots import model_styles, pareto_plots
from vidbench.report.published_chart import published_plots
from vidbench.report.published_join import published_view
from vidbench.report.render import render_reports

TITLE = "Published accuracy × measured cost"


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("published") / "run"
    write_full_size(folder, devices=("cpu", "cuda"), tiny=True)
    return folder


@pytest.fixture(scope="module")
def view(folder):
    return published_view(aggregate(load_run_folder(folder).frame))


@pytest.fixture(scope="module")
def rendered(folder):
    render_reports(folder)
    return (folder / "report.md").read_text(), (folder / "report.html").read_text()


def test_published_top1_comes_from_published_py_never_from_the_run(view):
    runs = view.runs
    assert set(runs["model"]) == {"x3d_m", "r3d_18", "videomae_vit_b"}  # tsn_tiny publishes nothing
    assert len(runs) == 2 * len(RUNS)
    for _, r in runs.iterrows():
        primary = primary_result(r["model"])
        assert r["published_top1"] == primary.top1 and r["published_top1"] != MEASURED_TOP1
        protocol = f"{primary.frames}×{primary.size}², {primary.clips}×{primary.crops}"
        assert r["published"] == f"{primary.top1:g} @ {protocol}"
        assert r["top1"] == MEASURED_TOP1  # the run's own top-1 stays in its own column
        assert r["source"] == primary.source
    x3d = runs[(runs["model"] == "x3d_m") & (runs["device"] == "cuda")].set_index("views")
    assert x3d.loc[30, "published"].startswith("76.2 @ 16×256², 10×3")


def test_a_run_at_other_views_is_flagged_not_at_the_published_protocol(view):
    runs = view.runs.set_index(["device", "model", "views"])
    one_view = runs.loc[("cuda", "x3d_m", 1)]
    assert not one_view["at_protocol"]
    assert one_view["protocol"] == ("NOT measured at the published protocol: 1 view, not 10×3 = 30; "
                                    "input 16×224², not 16×256²")
    for key in [("cuda", "x3d_m", 30), ("cuda", "r3d_18", 5), ("cuda", "videomae_vit_b", 15)]:
        assert runs.loc[key, "at_protocol"] and runs.loc[key, "protocol"].startswith("yes: ")
    assert one_view["name"] == "x3d_m (16×224², 1 view)"  # two runs of one model: named apart


def test_a_run_matching_another_published_protocol_is_read_against_that_one(tmp_path):
    # X3D-M's 10-view row (10 clips x 1 crop at 224) is a published protocol too
    write_full_size(tmp_path, runs=(("x3d_m", 16, 224, 10, 1),))
    (row,) = published_view(aggregate(load_run_folder(tmp_path).frame)).runs.to_dict("records")
    ten_view = next(r for r in published_results("x3d_m") if r.views == 10)
    assert row["published_top1"] == ten_view.top1 == 75.1 and row["at_protocol"]


def test_budgets_pick_the_most_accurate_published_model_within_each_latency(view):
    for device, budgets in view.devices():
        runs = view.runs[view.runs["device"] == device]
        latencies = runs["latency_ms_per_video"].astype(float)
        expected = sorted({analysis.nearest_rank(latencies, p) for p in analysis.PERCENTILES})
        assert len(budgets) == len(expected)
        for (_, pick), budget in zip(budgets.iterrows(), expected):
            within = runs[latencies <= budget + 1e-9]
            assert pick["published_top1"] == within["published_top1"].max()
            assert pick["latency_ms_per_video"] <= budget + 1e-9
        assert budgets["budget"].iloc[-1].endswith("(max)")
        assert budgets["name"].iloc[-1] == "videomae_vit_b"  # no budget: the highest published top-1
        # the cheapest budget holds only the one-view x3d_m, and says it was not measured at the protocol
        assert budgets["protocol"].iloc[0].startswith("NOT measured at the published protocol")


def test_the_section_is_first_in_both_reports_and_keeps_measured_top1_apart(rendered):
    md, html = rendered
    assert md.index(f"## {TITLE}") < md.index("## Recommendations") < md.index("## Runs")
    assert html.index('id="published"') < html.index('id="recommendations"') < html.index('id="runs-section"')
    section = md[md.index(f"## {TITLE}"):md.index("## Recommendations")]
    assert "![Published accuracy × measured cost: cpu](plots/published-cpu.png)" in section
    assert "### The most accurate published model within each latency budget on cuda" in section
    assert "NOT measured at the published protocol" in section
    for table in re.findall(r"(\| latency budget \|.*?)(?:\n\n)", section, flags=re.S):
        lines = table.splitlines()
        header = [c.strip() for c in lines[0].strip("|").split("|")]
        published, measured = header.index("published top-1 (%, protocol)"), header.index(
            "measured top-1 (%)")
        for line in lines[2:]:
            cells = [c.strip() for c in line.strip("|").split("|")]
            assert re.fullmatch(r"\d+(\.\d+)? @ \d+×\d+², \d+×\d+", cells[published])
            assert not cells[published].startswith(f"{MEASURED_TOP1}")
            assert cells[measured] == f"{MEASURED_TOP1}"
    assert TITLE in html and 'id="plot-published-cuda"' in html


def test_the_chart_plots_published_top1_and_labels_the_front_without_overlap(folder, view):
    frame = load_run_folder(folder).frame
    plots = published_plots(view.runs, model_styles(frame))
    try:
        assert [p.name for p in plots] == ["published-cpu", "published-cuda"]
        published = {primary_result(m).top1 for m in ("x3d_m", "r3d_18", "videomae_vit_b")}
        for plot in plots:
            for ax in plot.fig.axes:
                ys = {round(float(y), 6) for c in ax.collections for _, y in c.get_offsets()}
                assert ys and ys <= published and MEASURED_TOP1 not in ys
                assert ax.get_ylabel() == "published top-1 (%, Kinetics-400)"
                assert ax.texts and overlapping_pairs(ax.texts) == 0
                assert {t.get_text() for t in ax.texts} <= set(view.runs["name"])
    finally:
        for plot in plots:
            plt.close(plot.fig)


def test_pareto_plots_label_their_fronts_without_overlap(tmp_path):
    write_store(tmp_path, datasets=("synthetic-motion",), sides=(32, 48, 64), clip_lengths=(4, 8, 16),
                problems=False)
    frame = load_run_folder(tmp_path).frame
    plots = pareto_plots(frame, model_styles(frame))
    try:
        for plot in plots:
            for ax in plot.fig.axes:
                assert ax.texts and overlapping_pairs(ax.texts) == 0
    finally:
        for plot in plots:
            plt.close(plot.fig)


def test_no_section_without_full_size_runs_with_a_per_video_cost(tmp_path):
    tiny = tmp_path / "tiny"
    write_store(tiny, variants=("tsn_tiny", "c3d_tiny"), problems=False)
    assert published_view(load_run_folder(tiny).frame) is None
    only_tiny = tmp_path / "only-tiny"
    write_full_size(only_tiny, runs=(), tiny=True)  # a per-video cost, but no published result
    assert published_view(load_run_folder(only_tiny).frame) is None
    unknown = tmp_path / "unknown"
    write_full_size(unknown, runs=(("not_a_registered_model", 16, 224, 1, 1),))
    assert published_view(load_run_folder(unknown).frame) is None
    render_reports(tiny)
    assert TITLE not in (tiny / "report.md").read_text() and 'id="published"' not in (tiny / "report.html").read_text()


# -- the whole protocol ---------------------------------------------------------------------------------------
def test_at_the_published_protocol_means_the_whole_protocol():
    from vidbench.report.published_join import protocol_check

    x3d = primary_result("x3d_m")
    assert protocol_check(x3d, 30, 16, "256", 5) == (True, "yes: 10×3 views at 16×256², stride 5")
    assert protocol_check(x3d, 30, 16, "256", 1) == (
        False, "NOT measured at the published protocol: frame stride 1, not 5")
    assert protocol_check(x3d, 30, 16, "256", 5, {"test_clips": 30, "test_crops": 1}) == (
        False, "NOT measured at the published protocol: 30×1 views, not 10×3 = 30")
    tsn = primary_result("tsn_resnet50")  # 25 single frames x 10 crops: no stride to compare
    assert protocol_check(tsn, 250, 1, "224", 1) == (True, "yes: 25×10 views at 1×224²")
    assert protocol_check(tsn, 250, 8, "224", 1)[1] == ("NOT measured at the published protocol: "
                                                        "input 8×224², not 1×224²")
    assert protocol_check(tsn, 250, 1, "224", 1, {"test_clips": 25, "test_crops": 10}, "video-folder") == (
        False, "NOT measured at the published protocol: dense sampling, not segments")
    r3d = primary_result("r3d_18")  # torchvision states a frame rate, not a stride
    assert protocol_check(r3d, 5, 16, "112", 1) == (
        True, "yes: 5×1 views at 16×112² (frame stride not stated by the source)")
