"""Intervals and tests, computed in one place from stored values and samples (see README, "Uncertainty").

- Over replicate runs (seeds), a figure summarised by its mean gets a Student-t interval; one summarised
  by its median (timings) gets a bootstrap percentile interval of the median.
- A single run's timing gets the *within-run* interval of its statistic: a bootstrap over the per-call
  samples stored in the run's detail. It says how precisely that run measured, not how much another run
  would differ: labelled apart.
- Two runs' timings are compared by a Mann-Whitney U test on their samples, with a bootstrap interval of
  the ratio of their statistics; replicate figures by Welch's t-test.

scipy provides the distributions and the tests (exact, tie-corrected, and maintained); it is imported only
when a test or an interval is computed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

LEVEL = 0.95  # confidence of every interval
ALPHA = 0.01  # significance of a difference in `compare`
RESAMPLES = 2000  # bootstrap resamples: the interval's ends move by well under 1% of the median between seeds


@dataclass(frozen=True)
class Interval:
    """A point estimate with its 95% interval, over `n` values, and how it was obtained."""

    value: float
    lo: float
    hi: float
    n: int
    std: float | None
    method: str  # "t", "bootstrap", "within-run bootstrap", or "none" (one value: no interval)

    @property
    def has_interval(self) -> bool:
        return self.method != "none"

    def overlaps(self, other: "Interval") -> bool:
        return self.lo <= other.hi and other.lo <= self.hi


def _clean(values: Sequence[float]) -> np.ndarray:
    a = np.asarray([v for v in values if v is not None], dtype=float)
    return a[np.isfinite(a)]


def mean_interval(values: Sequence[float]) -> Interval:
    """Mean and Student-t 95% interval of replicate values (exact for normal data at any n)."""
    a = _clean(values)
    if a.size == 0:
        raise ValueError("no values")
    mean = float(a.mean())
    if a.size < 2:
        return Interval(mean, mean, mean, int(a.size), None, "none")
    from scipy import stats

    std = float(a.std(ddof=1))
    half = float(stats.t.ppf(0.5 + LEVEL / 2, a.size - 1)) * std / math.sqrt(a.size)
    return Interval(mean, mean - half, mean + half, int(a.size), std, "t")


def _bootstrap_quantile(a: np.ndarray, q: float, seed: int = 0) -> tuple[float, float]:
    """Percentile-bootstrap 95% interval of the q-th percentile of `a` (a fixed seed: the same report twice)."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, a.size, size=(RESAMPLES, a.size))
    stats_ = np.percentile(a[idx], q, axis=1)
    tail = (1 - LEVEL) / 2 * 100
    lo, hi = np.percentile(stats_, [tail, 100 - tail])
    return float(lo), float(hi)


def median_interval(values: Sequence[float]) -> Interval:
    """Median of replicate values and the bootstrap 95% interval of the median."""
    a = _clean(values)
    if a.size == 0:
        raise ValueError("no values")
    median = float(np.median(a))
    if a.size < 2:
        return Interval(median, median, median, int(a.size), None, "none")
    lo, hi = _bootstrap_quantile(a, 50.0)
    return Interval(median, lo, hi, int(a.size), float(a.std(ddof=1)), "bootstrap")


def quantile_interval(samples: Sequence[float], quantile: float) -> tuple[float, float, float] | None:
    """(the samples' `quantile`, and its bootstrap 95% interval), or None with fewer than two samples. The
    runner stores it with every timing (over all its samples, not only the stored ones)."""
    a = _clean(samples)
    if a.size < 2:
        return None
    return (float(np.percentile(a, quantile)), *_bootstrap_quantile(a, quantile))


def within_run_interval(value: float, quantile_ci: tuple[float, float, float] | None, inverse: bool) -> Interval:
    """The interval of a run's timing figure from its samples' quantile interval (`quantile_interval`),
    carried to the figure (a rate ∝ 1 / the statistic when `inverse`). `value` is the stored figure, so the
    interval is in its unit whatever the batch or frame count."""
    if quantile_ci is None:
        return Interval(value, value, value, 1, None, "none")
    point, lo, hi = quantile_ci
    if point <= 0 or lo <= 0:
        return Interval(value, value, value, 1, None, "none")
    ends = (value * point / hi, value * point / lo) if inverse else (value * lo / point, value * hi / point)
    return Interval(value, *ends, 1, None, "within-run bootstrap")


@dataclass(frozen=True)
class Difference:
    """B against A: the change in percent with its 95% interval, and the test's p-value."""

    change_pct: float
    lo_pct: float | None
    hi_pct: float | None
    p_value: float | None
    method: str

    def significant(self, alpha: float = ALPHA) -> bool:
        return self.p_value is not None and self.p_value < alpha


def samples_difference(a: Sequence[float], b: Sequence[float], quantile: float, inverse: bool,
                       seed: int = 0) -> Difference:
    """Timing samples of two runs: Mann-Whitney U (two-sided) for significance, and the bootstrap interval
    of the ratio of their `quantile`s for the size, as a change of the figure (inverted for rates)."""
    from scipy import stats

    xa, xb = _clean(a), _clean(b)
    if xa.size < 2 or xb.size < 2:
        raise ValueError("a test needs at least two samples on each side")
    p = float(stats.mannwhitneyu(xa, xb, alternative="two-sided").pvalue)
    rng = np.random.default_rng(seed)
    ra = np.percentile(xa[rng.integers(0, xa.size, (RESAMPLES, xa.size))], quantile, axis=1)
    rb = np.percentile(xb[rng.integers(0, xb.size, (RESAMPLES, xb.size))], quantile, axis=1)
    ratios = (ra / rb) if inverse else (rb / ra)  # figure B / figure A
    tail = (1 - LEVEL) / 2 * 100
    lo, hi = np.percentile(ratios, [tail, 100 - tail])
    qa, qb = float(np.percentile(xa, quantile)), float(np.percentile(xb, quantile))
    point = (qa / qb) if inverse else (qb / qa)
    return Difference((point - 1) * 100, (float(lo) - 1) * 100, (float(hi) - 1) * 100, p,
                      "Mann-Whitney U on per-call samples; bootstrap interval of the ratio")


def replicates_difference(a: Sequence[float], b: Sequence[float]) -> Difference:
    """Replicate values of two configurations (seeds): Welch's t-test and its 95% interval of the
    difference of means, as a percentage of A's mean."""
    from scipy import stats

    xa, xb = _clean(a), _clean(b)
    if xa.size < 2 or xb.size < 2:
        raise ValueError("Welch's test needs at least two replicates on each side")
    mean_a = float(xa.mean())
    change = (float(xb.mean()) - mean_a) / abs(mean_a) * 100 if mean_a else math.inf
    if np.ptp(xa) == 0 and np.ptp(xb) == 0:  # no spread at all: the difference is exact
        p = 0.0 if xa[0] != xb[0] else 1.0
        return Difference(change, change, change, p, "Welch's t-test over seeds (no spread)")
    result = stats.ttest_ind(xb, xa, equal_var=False)
    ci = result.confidence_interval(LEVEL)
    scale = 100 / abs(mean_a) if mean_a else math.nan
    return Difference(change, float(ci.low) * scale, float(ci.high) * scale, float(result.pvalue),
                      "Welch's t-test over seeds")
