"""A running run says what it is doing: a local worker reports each phase (warming up and timing, training
epoch k/n, converting to a runtime) to the driver as an executor event, before the run's result."""

from __future__ import annotations

from tests.conftest import TRAIN, make_spec
from vidbench import phase
from vidbench.run.executors import LocalExecutor


def test_a_workers_run_reports_its_phases_before_its_result():
    spec = make_spec("c3d_tiny", metrics=("latency", "accuracy"), train={**TRAIN, "epochs": 2})
    with LocalExecutor(plugins=[], timeout_s=300) as executor:
        events = list(executor.execute([spec]))
    kinds = [e.kind for e in events]
    phases = [e.text for e in events if e.kind == "phase"]
    assert kinds[0] == "start" and kinds[-1] == "end" and events[-1].result.status == "ok", events[-1].result
    assert "training epoch 1/2" in phases and "training epoch 2/2" in phases, phases
    assert "warming up and timing the inference" in phases, phases
    assert all(e.spec.run_id == spec.run_id for e in events if e.kind == "phase")


def test_without_a_listener_a_phase_costs_nothing_and_never_fails_a_run():
    phase.listen(None)
    phase.report("timing")  # the driver's own process: nobody listens
    heard = []
    phase.listen(heard.append)
    phase.report("training epoch 1/3")

    def gone(text):
        raise OSError("the pipe to the driver is closed")

    phase.listen(gone)
    try:
        phase.report("timing")  # swallowed: the run's result says what happened, not its progress line
    finally:
        phase.listen(None)
    assert heard == ["training epoch 1/3"]
