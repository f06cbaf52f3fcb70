"""The sweep driver: resume semantics and the order of execution and storage."""

from __future__ import annotations

import pytest

from tests.conftest import make_spec
from vidbench.run import sweep
from vidbench.run.executors import Event
from vidbench.run.sweep import FAILED_STATUSES, plan_runs, run_planned
from vidbench.store import STORE_NAME, ResultStore, RunResult

CPU_SPECS = {status: make_spec(clip_length=4 + i) for i, status in
             enumerate(["ok", "failed", "oom", "timeout", "crashed", "new"])}
CUDA_SKIPPED = make_spec(device="cuda")


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(sweep, "device_unavailable",
                        lambda d: None if d == "cpu" else f"{d} is not available on this machine")


@pytest.fixture
def with_cuda(monkeypatch):
    monkeypatch.setattr(sweep, "device_unavailable", lambda d: None)


def stored():
    out = {s.run_id: status for status, s in CPU_SPECS.items() if status != "new"}
    out[CUDA_SKIPPED.run_id] = "skipped"
    return out


def actions(plan):
    return {p.spec.run_id: p.action for p in plan}


def all_specs():
    return [*CPU_SPECS.values(), CUDA_SKIPPED]


def test_resume_is_the_default(no_cuda):
    plan = plan_runs(all_specs(), stored())
    got = actions(plan)
    assert got[CPU_SPECS["ok"].run_id] == "done"
    for status in FAILED_STATUSES:
        assert got[CPU_SPECS[status].run_id] == "done", f"a stored {status} is kept without --rerun-failed"
    assert got[CPU_SPECS["new"].run_id] == "run"
    assert got[CUDA_SKIPPED.run_id] == "done", "skipped stays skipped while the device is still missing"
    assert [p.spec for p in plan] == all_specs()  # the plan keeps the suite's order
    by_id = {p.spec.run_id: p for p in plan}
    assert by_id[CPU_SPECS["timeout"].run_id].stored_status == "timeout"
    assert by_id[CPU_SPECS["new"].run_id].stored_status is None
    assert "not available" in by_id[CUDA_SKIPPED.run_id].reason
    assert by_id[CPU_SPECS["ok"].run_id].reason is None


def test_rerun_failed_reruns_every_failure_but_not_ok(no_cuda):
    got = actions(plan_runs(all_specs(), stored(), rerun_failed=True))
    assert got[CPU_SPECS["ok"].run_id] == "done"
    assert all(got[CPU_SPECS[s].run_id] == "run" for s in FAILED_STATUSES)
    assert got[CUDA_SKIPPED.run_id] == "done"


def test_force_reruns_everything(no_cuda):
    assert set(actions(plan_runs(all_specs(), stored(), force=True)).values()) == {"run"}


def test_a_skipped_run_is_retried_once_its_device_is_here(with_cuda):
    plan = plan_runs(all_specs(), stored())
    by_id = {p.spec.run_id: p for p in plan}
    assert by_id[CUDA_SKIPPED.run_id].action == "run"
    assert by_id[CUDA_SKIPPED.run_id].reason is None
    assert by_id[CPU_SPECS["ok"].run_id].action == "done"


def test_the_real_device_check_knows_cpu_and_rejects_a_missing_cuda_index():
    from vidbench.run.env import device_unavailable

    assert device_unavailable("cpu") is None
    assert device_unavailable("cuda:99") is not None


class RecordingExecutor:
    """Stands in for a real executor: yields a start and an end event per spec, in order."""

    def __init__(self):
        self.ran = []

    def run(self, spec):
        self.ran.append(spec.run_id)
        return RunResult(spec.run_id, "ok", metrics={"params": 42}, duration_s=0.1)

    def execute(self, specs):
        for spec in specs:
            yield Event("start", spec)
            yield Event("end", spec, self.run(spec))


def test_run_planned_executes_what_is_planned_and_stores_each_result(tmp_path, no_cuda):
    specs = [make_spec(clip_length=4), make_spec(clip_length=8), make_spec(device="cuda")]
    done_before = {specs[0].run_id: "ok"}
    plan = plan_runs(specs, done_before)
    executor = RecordingExecutor()
    events = []
    with ResultStore(tmp_path / STORE_NAME) as store:
        run_planned(plan, store, executor, "suite-x", on_start=lambda s: events.append(("start", s.run_id)),
                    on_end=lambda s, r: events.append(("end", s.run_id, r.status)))
        rows = {r["run_id"]: r for r in store.rows()}
    assert executor.ran == [specs[1].run_id], "done runs and unavailable devices never reach the executor"
    assert set(rows) == {specs[1].run_id, specs[2].run_id}
    assert rows[specs[1].run_id]["status"] == "ok" and rows[specs[1].run_id]["params"] == 42
    skipped = rows[specs[2].run_id]
    assert skipped["status"] == "skipped" and "not available" in skipped["error"]
    assert skipped["params"] is None
    assert skipped["suite"] == "suite-x"
    assert sorted(events) == sorted([("start", specs[1].run_id), ("end", specs[1].run_id, "ok"),
                                     ("start", specs[2].run_id), ("end", specs[2].run_id, "skipped")])
    for run_id in (specs[1].run_id, specs[2].run_id):
        assert events.index(("start", run_id)) < events.index(next(e for e in events if e[:2] == ("end", run_id)))
