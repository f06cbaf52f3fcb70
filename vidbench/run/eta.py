"""The time a sweep has left, from the wall times of the runs it has finished: the mean of those times × the
runs still to come. Runs on an absent device are known at once and took no time: they count as done, never as
a sample (a progress bar's rate would read them as instant work and promise minutes that are hours)."""

from __future__ import annotations

import statistics


class Eta:
    def __init__(self, total: int):
        self.left = total
        self.spent: list[float] = []

    def finished(self, status: str, seconds: float | None) -> None:
        self.left -= 1
        if status != "skipped" and seconds:
            self.spent.append(seconds)

    def seconds(self) -> float | None:
        """None until a run has finished: nothing to estimate from."""
        return statistics.fmean(self.spent) * max(self.left, 0) if self.spent else None

    def text(self) -> str:
        """'ETA 12 min', 'ETA 40 s', or '' before any estimate (and once nothing is left)."""
        left = self.seconds()
        if not left:
            return ""
        return f"ETA {left:.0f} s" if left < 90 else f"ETA {left / 60:.0f} min" if left < 5400 else (
            f"ETA {left / 3600:.1f} h")
