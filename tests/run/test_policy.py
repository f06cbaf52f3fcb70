"""The out-of-memory retry policy and the failure guard, without processes (the end-to-end retry through
real workers is tests/run/test_reliability.py)."""

from __future__ import annotations

from tests.conftest import make_spec
from vidbench.run.policy import FailureGuard, run_with_oom_retries
from vidbench.store.record import RunResult


def fits_up_to(largest: int, ran: list[int]):
    """A run function that records each batch tried and runs out of memory above `largest`."""
    def run(spec):
        ran.append(spec.batch_size)
        return RunResult(spec.run_id, "ok" if spec.batch_size <= largest else "oom", None)
    return run


def test_each_retry_halves_the_batch_in_a_fresh_worker_and_the_figures_are_the_batch_that_ran():
    spec, ran, restarts = make_spec("c3d_tiny", batch_size=8), [], []
    result = run_with_oom_retries(fits_up_to(2, ran), lambda: restarts.append(1), spec, retries=2)
    assert (result.status, result.run_id, ran, len(restarts)) == ("ok", spec.run_id, [8, 4, 2], 2)
    assert result.detail == {"oom_batch_sizes": [8, 4], "batch_size_run": 2}


def test_too_few_retries_leave_the_run_out_of_memory_with_every_batch_tried():
    spec, ran = make_spec("c3d_tiny", batch_size=8), []
    result = run_with_oom_retries(fits_up_to(2, ran), lambda: None, spec, retries=1)
    assert (result.status, ran) == ("oom", [8, 4])
    assert result.detail["oom_batch_sizes"] == [8, 4] and result.detail["batch_size_run"] == 4


def test_batch_one_is_the_last_try_and_a_run_that_fits_is_run_once():
    ran = []
    assert run_with_oom_retries(fits_up_to(0, ran), lambda: None, make_spec("c3d_tiny", batch_size=2),
                                retries=5).status == "oom"
    assert ran == [2, 1]
    ran.clear()
    fine = run_with_oom_retries(fits_up_to(8, ran), lambda: None, make_spec("c3d_tiny", batch_size=8), retries=3)
    assert (fine.status, ran, "oom_batch_sizes" in fine.detail) == ("ok", [8], False)


def test_the_guard_stops_a_device_after_consecutive_failures_only():
    guard = FailureGuard(2)
    for status in ("failed", "ok", "failed"):
        guard.record("cpu", status)
    assert not guard.stopped("cpu")
    guard.record("cpu", "crashed")
    guard.record("cuda", "failed")
    assert guard.stopped("cpu") and not guard.stopped("cuda") and guard.stopped_devices() == ["cpu"]
    assert not FailureGuard(None).stopped("cpu")
