"""When the run in this worker must be done: the executor's `limits.timeout_s`, set as the run starts, so a
timing loop whose single call is slow (an emulated precision, say) can take fewer samples and finish with
its figures, flagged, instead of being killed at the timeout with none."""

from __future__ import annotations

import time

_deadline: float | None = None


def start(timeout_s: float | None) -> None:
    """The run starting now must end within `timeout_s` (None: no bound, as in a test calling execute)."""
    global _deadline
    _deadline = None if timeout_s is None else time.monotonic() + float(timeout_s)


def remaining_s() -> float | None:
    """Seconds left before the run's timeout, or None when it has none."""
    return None if _deadline is None else max(0.0, _deadline - time.monotonic())
