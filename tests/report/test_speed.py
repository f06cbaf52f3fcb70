"""Rendering stays fast: a 1,000-run store renders both reports in under 30 s."""

from __future__ import annotations

import time

import pytest

from tests.report.synthetic import write_store
from vidbench.report import load_run_folder, render_reports

LIMIT_S = 30.0


@pytest.mark.slow  # ~15-25 s on 2 shared CPU cores: run with `pytest -m slow`
def test_a_thousand_runs_render_in_under_30_s(tmp_path):
    folder = tmp_path / "big"
    # 5 variants x 2 datasets x 5 resolutions x 5 clip lengths x 2 devices x 2 learning rates, + 3 not ok
    n = write_store(folder, datasets=("synthetic-motion", "synthetic-appearance"), sides=(32, 48, 64, 96, 112),
                    clip_lengths=(4, 8, 16, 24, 32), devices=("cpu", "cuda"), lrs=(1e-3, 3e-3))
    assert n == 1003
    start = time.perf_counter()
    paths = render_reports(folder)
    elapsed = time.perf_counter() - start
    assert elapsed < LIMIT_S, f"rendering {n} runs took {elapsed:.1f} s"
    html = (folder / "report.html").read_text()
    assert html.count('<tr class="status-') == n
    assert len(load_run_folder(folder).frame) == n and len(paths) == 2
