"""Scenarios: the runner is the registered scenarios in their declared order; every figure a scenario
stores is a declared column; and a scenario added in one file (here, in this test) with its metric
(`metrics.register_measure`) is measured when a run asks for it, end to end."""

from __future__ import annotations

import pytest

from tests.conftest import make_spec
from vidbench import metrics
from vidbench.run.runner import execute
from vidbench.scenarios import SCENARIOS, RunContext, Scenario, in_order, register_scenario, served

TABLES = ("MEASURES", "MEASURE_NAMES", "OPT_IN", "TIMED_MEASURES", "COLUMNS", "EXTRA_COLUMNS", "COMPARED_COLUMNS",
          "HIGHER_IS_BETTER", "LOWER_IS_BETTER")


@pytest.fixture
def clip_pixels(monkeypatch):
    """A test-only metric and the one-file scenario that measures it, forgotten afterwards."""
    for name in TABLES:
        monkeypatch.setattr(metrics, name, getattr(metrics, name))  # restored after the test
    by_name, scenarios = dict(metrics.COLUMNS_BY_NAME), dict(SCENARIOS)
    metrics.register_measure(metrics.Measure("clip_pixels", "input values of one clip"),
                             (metrics.Column("pixels_per_clip", "clip_pixels", "pixels per clip", "lower",
                                             kind="int", short="pixels"),))

    @register_scenario
    class ClipPixels(Scenario):
        name = "clip_pixels"
        order = 65  # after accuracy, before the data record
        serves = frozenset({"clip_pixels"})

        def run(self, ctx: RunContext) -> None:
            s = ctx.spec
            ctx.put("pixels_per_clip", 3 * s.clip_length * s.resolution[0] * s.resolution[1])

    yield ClipPixels
    metrics.COLUMNS_BY_NAME.clear()
    metrics.COLUMNS_BY_NAME.update(by_name)
    SCENARIOS.clear()
    SCENARIOS.update(scenarios)


def test_the_scenarios_run_in_the_runners_order_and_serve_every_metric():
    assert [s.name for s in in_order()] == ["precision_support", "cost", "auto_batch", "inference", "training_step",
                                            "data_pipeline", "serving", "accuracy", "knn", "data_record", "rss_peak"]
    assert served() == set(metrics.MEASURE_NAMES)


def test_a_figure_that_is_not_a_declared_column_is_refused():
    with pytest.raises(KeyError, match="'latency_ms_p95' is not a declared column"):
        metrics.column("latency_ms_p95")


def test_latency_percentiles_are_the_columns_declared_quantiles():
    assert [(c.name, c.quantile) for c in metrics.quantile_columns("latency", "inference_s")] == \
        [("latency_ms_p50", 50.0), ("latency_ms_p90", 90.0), ("latency_ms_p99", 99.0)]


def test_a_scenario_in_one_file_measures_its_metric_when_asked(clip_pixels):
    assert "clip_pixels" in metrics.MEASURE_NAMES and "clip_pixels" in metrics.OPT_IN  # opt-in: ids stay
    assert metrics.columns_of("clip_pixels") == ("pixels_per_clip",)
    result = execute(make_spec("tsn_tiny", metrics=("params", "clip_pixels")))
    assert result.status == "ok", result.error
    assert result.metrics == {"params": result.metrics["params"], "pixels_per_clip": 3 * 4 * 16 * 16}
    assert "pixels_per_clip" not in execute(make_spec("tsn_tiny", metrics=("params",))).metrics


def test_a_registered_metric_goes_from_the_suite_to_the_store_and_the_report(clip_pixels, tmp_path):
    from vidbench.admission import admit_suite
    from vidbench.report.render import render_reports
    from vidbench.store import STORE_NAME, ResultStore
    from vidbench.suite.schema import parse_suite

    suite = parse_suite({"name": "t", "models": ["tsn_tiny"], "metrics": ["params", "clip_pixels"],
                         "resolutions": [16], "clip_lengths": [4]})
    (spec,) = admit_suite(suite)
    store = ResultStore(tmp_path / STORE_NAME)
    store.write(spec, execute(spec), suite="t")
    assert store.rows()[0]["pixels_per_clip"] == 3 * 4 * 16 * 16
    store.close()
    (html,) = render_reports(tmp_path, formats=("html",))
    assert "<th>pixels per clip</th>" in html.read_text()  # a column of the runs table
    from vidbench.report.frame import load_run_folder

    assert load_run_folder(tmp_path).frame["pixels_per_clip"].tolist() == [3 * 4 * 16 * 16]
