"""Statistics of raw timing samples, computed in one place from the samples alone."""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass

P99_MIN_SAMPLES = 100  # below this a 99th percentile is one or two samples: not reported
UNSTABLE_IQR_OVER_MEDIAN = 0.10


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
    p99: float | None = None

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
            p99=percentile(s, 99) if len(s) >= P99_MIN_SAMPLES else None,
        )

    def at(self, quantile: float) -> float | None:
        """The statistic at a figure's declared percentile (`Column.quantile`: 50, 90 or 99); None where the
        samples are too few for it (p99)."""
        return {50.0: self.median, 90.0: self.p90, 99.0: self.p99}[float(quantile)]

    @property
    def iqr_over_median(self) -> float:
        """Spread relative to the typical value: the stability figure of a measurement."""
        return self.iqr / self.median if self.median else 0.0

    @property
    def unstable(self) -> bool:
        return self.iqr_over_median > UNSTABLE_IQR_OVER_MEDIAN

    def as_dict(self) -> dict:
        return {**asdict(self), "iqr_over_median": self.iqr_over_median, "unstable": self.unstable}
