"""Statistics of raw timing samples, computed in one place from the samples alone."""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass


def percentile(sorted_samples: list[float], q: float) -> float:
    """Linear-interpolated percentile (q in [0, 100]) of already sorted samples."""
    if not sorted_samples:
        raise ValueError("no samples")
    pos = (len(sorted_samples) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(sorted_samples) - 1)
    return sorted_samples[lo] + (sorted_samples[hi] - sorted_samples[lo]) * (pos - lo)


@dataclass(frozen=True)
class Stats:
    n: int
    min: float
    median: float
    p90: float
    mean: float
    std: float
    iqr: float
    total: float

    @classmethod
    def from_samples(cls, samples: list[float]) -> "Stats":
        s = sorted(samples)
        return cls(
            n=len(s),
            min=s[0],
            median=percentile(s, 50),
            p90=percentile(s, 90),
            mean=statistics.fmean(s),
            std=statistics.stdev(s) if len(s) > 1 else 0.0,
            iqr=percentile(s, 75) - percentile(s, 25),
            total=sum(s),
        )

    def as_dict(self) -> dict:
        return asdict(self)
