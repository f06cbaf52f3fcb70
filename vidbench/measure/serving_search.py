"""The highest Poisson arrival rate a system serves within its latency bound: a LoadGen Server test at a target
rate is within the bound when the latency LoadGen reports at the configured percentile is at most the bound
(its minimum duration and query count met); the search brackets the boundary by doubling (or halving) from a
starting rate, then bisects geometrically until the highest rate within and the lowest rate over are within
`tolerance` of each other. Every test is kept, with LoadGen's own verdict (VALID also needs its early
stopping, which over a few hundred queries judges a rate near the bound conservatively)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

GROW_STEPS = 8  # doublings or halvings before the bracket is given up
BISECT_STEPS = 6


@dataclass(frozen=True)
class ServerTest:
    """One LoadGen Server test: the target rate, its verdict and the figures it reported."""

    target_qps: float
    valid: bool  # within the bound: the percentile latency at most the bound
    latency_ms: float | None  # at the configured percentile
    achieved_qps: float | None  # LoadGen's scheduled samples per second
    validity: str | None = None  # LoadGen's verdict, VALID or INVALID


@dataclass
class Search:
    tests: list[ServerTest] = field(default_factory=list)

    @property
    def best(self) -> ServerTest | None:
        """The test within the bound at the highest rate."""
        valid = [t for t in self.tests if t.valid]
        return max(valid, key=lambda t: t.target_qps) if valid else None

    @property
    def first_invalid(self) -> ServerTest | None:
        """The test over the bound at the lowest rate above the best one."""
        best = self.best
        floor = best.target_qps if best else 0.0
        above = [t for t in self.tests if not t.valid and t.target_qps > floor]
        return min(above, key=lambda t: t.target_qps) if above else None


def max_qps(run: Callable[[float], ServerTest], start_qps: float, tolerance: float = 0.05) -> Search:
    """Bracket and bisect the rate at which `run` (a Server test at a target rate) turns INVALID."""
    search = Search()

    def test(qps: float) -> ServerTest:
        result = run(qps)
        search.tests.append(result)
        return result

    qps = max(start_qps, 1e-3)
    first = test(qps)
    factor = 2.0 if first.valid else 0.5
    for _ in range(GROW_STEPS):
        if search.best is not None and search.first_invalid is not None:
            break
        qps *= factor
        test(qps)
    for _ in range(BISECT_STEPS):
        low, high = search.best, search.first_invalid
        if low is None or high is None or high.target_qps <= low.target_qps * (1 + tolerance):
            break
        test(math.sqrt(low.target_qps * high.target_qps))
    return search
