"""What a run is doing now (converting to a runtime, warming up and timing, training epoch k/n), for the driver's
progress bar: a worker sends each phase to the driver as it starts; in the driver's own process (or under Ray)
nothing listens and a report costs a function call."""

from __future__ import annotations

from typing import Callable

_SINK: list[Callable[[str], None] | None] = [None]


def listen(sink: Callable[[str], None] | None) -> None:
    """Send every phase reported in this process to `sink` (None: to nobody)."""
    _SINK[0] = sink


def report(text: str) -> None:
    """The phase the current run enters ('training epoch 3/20'); never fails the run."""
    sink = _SINK[0]
    if sink is not None:
        try:
            sink(text)
        except (OSError, ValueError):  # the driver's pipe is gone: the run's result will say so, not this
            pass
