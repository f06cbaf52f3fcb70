"""`vidbench compare` says one thing per change: the printed point estimate lies inside its printed interval
(one statistic for both), over stored samples of many shapes (skewed, heavy-tailed, bimodal, few calls) and
over seed replicates whose mean and median differ; unchanged counted figures take one line, and the runs
stored in one folder only are listed (issue 25)."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from tests.report.synthetic import write_timed
from vidbench.cli import app
from vidbench.report.compare import compare_folders, relative_change
from vidbench.report.compare_view import counted_line, display_rows, one_side_tables

SHAPES = {
    "lognormal": lambda rng, n: rng.lognormal(-6, 0.8, n),
    "heavy tail": lambda rng, n: 1e-3 * (1 + rng.pareto(1.5, n)),
    "bimodal": lambda rng, n: np.where(rng.random(n) < 0.3, 3e-3, 1e-3) * rng.uniform(0.98, 1.02, n),
    "few calls": lambda rng, n: rng.lognormal(-6, 1.0, 5),
    "ties": lambda rng, n: rng.choice([1e-3, 1.2e-3, 5e-3], n),
}


def _inside(rows) -> None:
    tested = rows[rows["lo_pct"].notna()]
    assert len(tested)
    for _, r in tested.iterrows():
        assert r["lo_pct"] <= r["change_pct"] <= r["hi_pct"], (r["metric"], r["change_pct"], r["lo_pct"], r["hi_pct"])


@pytest.mark.parametrize("shape", SHAPES)
def test_each_change_lies_inside_its_interval_over_skewed_samples(tmp_path, shape):
    rng = np.random.default_rng(list(SHAPES).index(shape))
    make = SHAPES[shape]
    runs_a, runs_b = [], []
    for i in range(6):  # six configurations, B slower, faster or the same by a random factor
        shape_args = {"resolution": (16 + 8 * i, 16 + 8 * i)}
        runs_a.append((shape_args, make(rng, 60).tolist(), {}))
        runs_b.append((shape_args, (make(rng, 60) * rng.choice([0.6, 1.0, 1.7])).tolist(), {}))
    write_timed(tmp_path / "a", runs_a)
    write_timed(tmp_path / "b", runs_b)
    rows = compare_folders(tmp_path / "a", tmp_path / "b").rows
    _inside(rows)
    for _, r in rows.iterrows():  # one run a side, every sample stored: the point is the figures' own change
        assert r["change_pct"] == pytest.approx(relative_change(r["a"], r["b"]), rel=1e-6, abs=1e-9)


def test_over_seed_replicates_the_change_is_the_tests_own(tmp_path):
    """Top-1 over three seeds, skewed so that mean and median disagree: the change is of the means, which
    Welch's interval is about; timings pooled over the replicates' samples likewise."""
    rng = np.random.default_rng(3)
    for name, top1 in (("a", [10.0, 11.0, 80.0]), ("b", [30.0, 31.0, 33.0])):
        write_timed(tmp_path / name, [({"seed": s}, rng.lognormal(-6, 0.5, 40).tolist(), {"top1": t})
                                      for s, t in enumerate(top1)])
    rows = compare_folders(tmp_path / "a", tmp_path / "b").rows
    _inside(rows)
    top1 = rows.set_index("metric").loc["top1"]
    assert top1["change_pct"] == pytest.approx((31.333 - 33.667) / 33.667 * 100, abs=0.01)


def test_unchanged_counted_figures_take_one_line_and_one_folder_runs_are_listed(tmp_path):
    write_timed(tmp_path / "a", [({}, [1e-3] * 10, {"params": 100}), ({"clip_length": 8}, [1e-3] * 10, {})])
    write_timed(tmp_path / "b", [({}, [1e-3] * 10, {"params": 100}), ({"clip_length": 16}, [1e-3] * 10, {})])
    result = compare_folders(tmp_path / "a", tmp_path / "b")
    assert "params" not in set(display_rows(result)["metric"])
    assert counted_line(result).startswith("counted figures unchanged in every matched run")
    sides = dict(one_side_tables(result))
    assert sides["runs only in A"]["clip_length"].tolist() == [8]
    assert sides["runs only in B"]["clip_length"].tolist() == [16]
    out = CliRunner().invoke(app, ["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--format", "md"]).stdout
    assert "Runs only in A:" in out and "Runs only in B:" in out and "counted figures unchanged" in out


def test_speed_rows_say_hardware_or_software_when_the_environments_differ(tmp_path):
    write_timed(tmp_path / "a", [({}, [1e-3] * 20, {})], env={"cpu": "CPU A", "threads": 1, "torch": "2.x"})
    write_timed(tmp_path / "b", [({}, [1.01e-3] * 20, {})], env={"cpu": "CPU B", "threads": 1, "torch": "2.x"})
    rows = compare_folders(tmp_path / "a", tmp_path / "b").rows.set_index("metric")
    assert rows.loc["latency_ms_p50", "note"].startswith("hardware or software difference")
