"""The runs table reads as a decision page: model and input, then the figures, then what differs; what every
run shares is one "held fixed" line."""

from __future__ import annotations

import pytest

from tests.report.full_size import write_full_size
from tests.report.synthetic import write_store
from vidbench.report.analysed import display_frame
from vidbench.report.frame import load_run_folder
from vidbench.report.layout import held_fixed, held_fixed_text, run_columns
from vidbench.report.render import render_reports


@pytest.fixture(scope="module")
def one_dataset(tmp_path_factory):
    folder = tmp_path_factory.mktemp("layout") / "run"
    write_store(folder, problems=False)  # synthetic-motion, batch 8, cpu, fp32, eager
    return folder


def keys(columns) -> list[str]:
    return [c.key for c in columns]


def test_settings_every_run_shares_are_one_line_and_no_column(one_dataset):
    runs = display_frame(load_run_folder(one_dataset).frame)
    fixed = held_fixed(runs)
    assert held_fixed_text(fixed).startswith("dataset synthetic-motion · stride 1 · batch 8 · cpu · fp32 · eager")
    shown = keys(run_columns(runs))
    assert not set(fixed) & set(shown)
    assert keys(run_columns(runs))[:7] == ["model", "args", "resolution", "clip_length", "top1", "latency_ms_p50",
                                           "throughput_clips_s"]
    md = render_reports(one_dataset, ("md",))[0].read_text()
    runs_section = md[md.index("## Runs"):]
    assert runs_section.splitlines()[2] == f"Held fixed: {held_fixed_text(fixed)}."
    assert "| model | args | px (crop) | T (frames) | top-1 (%) |" in runs_section


def test_settings_that_differ_follow_the_headline_figures(tmp_path):
    write_store(tmp_path, variants=("tsn_tiny", "c3d_tiny"), datasets=("synthetic-motion", "synthetic-appearance"),
                devices=("cpu", "cuda"))  # plus a failed run at batch 64 (width=3), an oom at 128, a skipped one
    runs = display_frame(load_run_folder(tmp_path).frame)
    shown = keys(run_columns(runs))
    assert shown[:4] == ["model", "args", "resolution", "clip_length"]  # the failed run has constructor args
    assert "args" not in keys(run_columns(runs[runs["status"] == "ok"]))  # the ok runs have none
    last_figure = max(shown.index(c) for c in ("top1", "latency_ms_p50", "throughput_clips_s", "peak_mem_mb"))
    assert all(shown.index(s) > last_figure for s in ("dataset", "device", "batch_size"))
    assert shown[-3:] == ["status", "duration_s", "run_id"]
    assert "precision" not in shown and "fp32 · eager" in held_fixed_text(held_fixed(runs))
    compact = keys(run_columns(runs, compact=True))
    assert compact[-1] == "status" and "run_id" not in compact


def test_per_video_views_lead_with_the_input_when_they_differ(tmp_path):
    write_full_size(tmp_path)
    shown = keys(run_columns(display_frame(load_run_folder(tmp_path).frame)))
    assert shown[:4] == ["model", "resolution", "clip_length", "views"]
    assert shown[4:9] == ["top1", "latency_ms_p50", "throughput_clips_s", "latency_ms_per_video", "videos_s"]
