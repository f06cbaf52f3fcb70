"""What a sweep does when runs fail: out-of-memory retries with a smaller batch, and stopping a device
that keeps failing. Shared by every executor."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

from vidbench.store.record import FAILED_STATUSES, RunResult
from vidbench.suite.spec import RunSpec


def run_with_oom_retries(run: Callable[[RunSpec], RunResult], restart: Callable[[], None], spec: RunSpec,
                         retries: int) -> RunResult:
    """Run the spec; after an out-of-memory, run it again in a fresh worker with half the batch, up to
    `retries` times. The result keeps the spec's run_id and records the batch size that ran."""
    attempt, tried = spec, []
    while True:
        result = run(attempt)
        tried.append(attempt.batch_size)
        if result.status != "oom" or len(tried) > retries or attempt.batch_size == 1:
            break
        restart()
        attempt = replace(attempt, batch_size=max(1, attempt.batch_size // 2))
    result.run_id = spec.run_id
    if len(tried) > 1:
        result.detail["oom_batch_sizes"] = tried[:-1] if result.status == "ok" else tried
        result.detail["batch_size_run"] = attempt.batch_size
    return result


@dataclass
class FailureGuard:
    """Stops a device after `limit` consecutive failed runs on it (None: never)."""

    limit: int | None
    streaks: dict[str, int] = field(default_factory=dict)

    def record(self, device: str, status: str) -> None:
        self.streaks[device] = self.streaks.get(device, 0) + 1 if status in FAILED_STATUSES else 0

    def stopped(self, device: str) -> bool:
        return self.limit is not None and self.streaks.get(device, 0) >= self.limit

    def stopped_devices(self) -> list[str]:
        return sorted(d for d in self.streaks if self.stopped(d))
