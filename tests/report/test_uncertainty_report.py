"""Replicates folded into configurations with intervals, tie-aware recommendations, error bars, and the
report's uncertainty section (issue: numbers with their uncertainty)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.conftest import make_spec
from vidbench.report import analysis
from vidbench.report.aggregate import aggregate, interval_of, interval_text
from vidbench.report.frame import load_run_folder
from vidbench.report.render import render_reports
from vidbench.store import STORE_NAME, ResultStore, RunResult

METRICS = ("latency", "throughput", "accuracy")


def write_seeds(folder, top1: dict[str, list[float]], latency_s: dict[str, float] | None = None, spread=0.02):
    """One run per (model, seed) with the given top-1, and per-call samples around the model's latency."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    with ResultStore(folder / STORE_NAME) as store:
        for model, tops in top1.items():
            for seed, acc in enumerate(tops):
                spec = make_spec(model, seed=seed, metrics=METRICS, batch_size=2)
                lat = (latency_s or {}).get(model, 0.01)
                samples = list(rng.lognormal(np.log(lat), spread, 50))
                med = float(np.median(samples))
                store.write(spec, RunResult(spec.run_id, "ok", metrics={
                    "top1": acc, "latency_ms_p50": med * 1e3, "throughput_clips_s": 2 / med},
                    detail={"inference_s": {"samples": samples}}))


def test_seeds_fold_into_one_configuration_with_a_t_interval(tmp_path):
    write_seeds(tmp_path, {"c3d_tiny": [80.0, 84.0, 82.0], "tsn_tiny": [40.0]})
    configs = aggregate(load_run_folder(tmp_path).frame).set_index("model")
    c3d, tsn = configs.loc["c3d_tiny"], configs.loc["tsn_tiny"]
    assert c3d["replicates"] == 3 and c3d["seeds"] == [0, 1, 2] and len(c3d["run_ids"]) == 3
    top1 = interval_of(c3d, "top1")
    assert (top1.value, top1.n, top1.method) == (pytest.approx(82.0), 3, "t")
    assert top1.lo == pytest.approx(82 - 4.302653 * 2 / 3 ** 0.5, rel=1e-5)
    assert c3d["latency_ms_p50_interval"] == "bootstrap"  # a timing over replicates: their median
    assert not interval_of(tsn, "top1").has_interval  # one seed: no interval for accuracy…
    within = interval_of(tsn, "latency_ms_p50")  # …but its timing has the within-run one
    assert within.method == "within-run bootstrap" and within.lo < within.value < within.hi
    assert "within-run" in interval_text(tsn, "latency_ms_p50") and interval_text(tsn, "top1") == "40.00 (n=1)"
    assert interval_text(c3d, "top1").startswith("82.00 [") and interval_text(c3d, "top1").endswith("n=3")


def _latency_budget_verdicts(folder) -> pd.Series:
    recs = analysis.recommendations(aggregate(load_run_folder(folder).frame))
    return recs[recs["kind"] == "latency budget"]["verdict"]


def test_five_seeds_that_differ_by_chance_are_tied(tmp_path):
    rng = np.random.default_rng(5)
    top1 = {"c3d_tiny": list(rng.normal(80, 3, 5)), "tsn_tiny": list(rng.normal(80, 3, 5))}
    write_seeds(tmp_path, top1)
    verdicts = [v for v in _latency_budget_verdicts(tmp_path) if v != "the only candidate"]
    assert verdicts and all(v.startswith("tied with") and "within noise" in v for v in verdicts)


def test_a_clear_difference_over_seeds_is_a_winner_and_a_single_seed_is_untested(tmp_path):
    write_seeds(tmp_path / "clear", {"c3d_tiny": [90.0, 91.0, 89.5], "tsn_tiny": [60.0, 61.5, 59.0]})
    assert any(v.startswith("winner") for v in _latency_budget_verdicts(tmp_path / "clear"))
    write_seeds(tmp_path / "one", {"c3d_tiny": [90.0], "tsn_tiny": [60.0]})
    assert any("one seed: no interval" in v for v in _latency_budget_verdicts(tmp_path / "one"))


def test_the_fastest_pick_is_tied_when_within_run_intervals_overlap(tmp_path):
    write_seeds(tmp_path / "same", {"c3d_tiny": [80.0], "tsn_tiny": [80.0]}, {"c3d_tiny": 0.01, "tsn_tiny": 0.0101},
                spread=0.2)
    recs = analysis.recommendations(aggregate(load_run_folder(tmp_path / "same").frame))
    floor = recs[recs["kind"] == "accuracy floor"]["verdict"]
    assert all(v.startswith("tied with") for v in floor)
    write_seeds(tmp_path / "apart", {"c3d_tiny": [80.0], "tsn_tiny": [80.0]}, {"c3d_tiny": 0.01, "tsn_tiny": 0.02})
    recs = analysis.recommendations(aggregate(load_run_folder(tmp_path / "apart").frame))
    assert all(v.startswith("winner") for v in recs[recs["kind"] == "accuracy floor"]["verdict"])


def test_the_report_shows_intervals_and_draws_error_bars(tmp_path):
    write_seeds(tmp_path, {"c3d_tiny": [80.0, 84.0, 82.0], "tsn_tiny": [60.0, 61.0, 59.5]})
    render_reports(tmp_path)
    md = (tmp_path / "report.md").read_text()
    assert "## Figures with their uncertainty" in md and "n=3" in md
    assert "against the runner-up" in md and "winner" in md
    html = (tmp_path / "report.html").read_text()
    assert 'id="uncertainty"' in html and "Student-t" in html
    from vidbench.report.plots import pareto_plots, model_styles
    configs = aggregate(load_run_folder(tmp_path).frame)
    (plot,) = pareto_plots(configs, model_styles(configs))
    bars = [c for ax in plot.fig.axes for c in ax.containers if type(c).__name__ == "ErrorbarContainer"]
    assert bars and all(c.has_yerr for c in bars)


def test_results_aggregate_prints_every_figure_with_its_interval(tmp_path):
    import csv
    import io
    import json

    from typer.testing import CliRunner

    from vidbench.cli import app

    write_seeds(tmp_path, {"c3d_tiny": [80.0, 84.0, 82.0], "tsn_tiny": [40.0]})
    runner = CliRunner()
    rows = list(csv.DictReader(io.StringIO(runner.invoke(app, ["results", str(tmp_path), "--aggregate", "--format",
                                                                "csv"]).stdout)))
    c3d = next(r for r in rows if r["model"] == "c3d_tiny")
    assert (c3d["replicates"], c3d["seeds"], c3d["top1_n"], c3d["top1_interval"]) == ("3", "0 1 2", "3", "t")
    assert float(c3d["top1"]) == pytest.approx(82.0) and float(c3d["top1_std"]) == pytest.approx(2.0)
    assert float(c3d["top1_lo"]) < 82 < float(c3d["top1_hi"])
    records = json.loads(runner.invoke(app, ["results", str(tmp_path), "--aggregate", "--format", "json"]).stdout)
    assert {r["model"] for r in records} == {"c3d_tiny", "tsn_tiny"} and "seed" not in records[0]
    md = runner.invoke(app, ["results", str(tmp_path), "--aggregate", "--format", "md"]).stdout
    assert "82.00 [" in md and "within-run" in md
    table = runner.invoke(app, ["results", str(tmp_path), "--aggregate"])
    assert table.exit_code == 0 and "2 configurations" in table.stdout
