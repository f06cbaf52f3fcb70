"""The suite's `serving` block (issue 29): validated with the suite, part of a serving run's identity only (no
stored id changes), one run per pipeline, and refused before any run where it cannot be honoured."""

from __future__ import annotations

import importlib.util

import pytest

from vidbench.admission import admit_suite
from vidbench.errors import SuiteError
from vidbench.suite import expand_suite, parse_suite

BASE = {"name": "t", "models": ["c3d_tiny"]}


def test_the_serving_block_is_part_of_a_serving_runs_identity_only():
    (speed,) = expand_suite(parse_suite({**BASE, "metrics": ["latency"]}))
    (configured,) = expand_suite(parse_suite({**BASE, "metrics": ["latency"], "serving": {"slo_ms": 50}}))
    assert speed.run_id == configured.run_id and configured.serving == {}  # a speed run keeps its id
    (served,) = expand_suite(parse_suite({**BASE, "metrics": ["serving"]}))
    (tighter,) = expand_suite(parse_suite({**BASE, "metrics": ["serving"], "serving": {"slo_ms": 50}}))
    assert served.run_id != tighter.run_id and tighter.serving["slo_ms"] == 50.0
    assert served.serving["scenarios"] == ["single_stream", "multi_stream", "server", "offline"]


def test_a_list_of_pipelines_is_one_run_each():
    specs = expand_suite(parse_suite({**BASE, "metrics": ["serving"], "serving": {"pipeline": ["model", "end_to_end"]}}))
    assert [s.serving["pipeline"] for s in specs] == ["model", "end_to_end"] and len({s.run_id for s in specs}) == 2


@pytest.mark.parametrize("bad", [{"scenarios": []}, {"scenarios": ["cloud"]}, {"percentile": 100}, {"slo_ms": 0},
                                 {"max_batch": 0}, {"pipeline": "video"}, {"min_duration": 3}])
def test_a_malformed_serving_block_is_a_suite_error(bad):
    with pytest.raises(SuiteError, match="serving"):
        parse_suite({**BASE, "metrics": ["serving"], "serving": bad})


def test_end_to_end_needs_video_files():
    with pytest.raises(SuiteError, match="decodes video files inside each query, and dataset 'random' has none"):
        admit_suite(parse_suite({**BASE, "metrics": ["serving"], "serving": {"pipeline": "end_to_end"}}))


def test_serving_without_loadgen_is_refused_before_any_run(monkeypatch):
    import vidbench.suite.serving_check as check

    real = importlib.util.find_spec
    monkeypatch.setattr(check.importlib.util, "find_spec",
                        lambda name, *a: None if name == "mlperf_loadgen" else real(name, *a))
    with pytest.raises(SuiteError, match=r"LoadGen, which is not installed \(package mlcommons-loadgen\)"):
        admit_suite(parse_suite({**BASE, "metrics": ["serving"]}))
