"""Intervals and tests of vidbench.measure.uncertainty, checked against scipy's own computations and
against known answers on simulated samples."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from vidbench.measure.uncertainty import (ALPHA, mean_interval, median_interval, quantile_interval,
                                          replicates_difference, samples_difference, within_run_interval)


def test_mean_interval_is_students_t():
    values = [81.0, 84.5, 79.2, 88.1, 83.3]
    got = mean_interval(values)
    lo, hi = stats.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=stats.sem(values))
    assert got.value == pytest.approx(np.mean(values)) and got.std == pytest.approx(np.std(values, ddof=1))
    assert (got.lo, got.hi, got.n, got.method) == (pytest.approx(lo), pytest.approx(hi), 5, "t")
    one = mean_interval([70.0])
    assert (one.value, one.lo, one.hi, one.has_interval) == (70.0, 70.0, 70.0, False)


def test_the_t_interval_covers_the_true_mean_95_percent_of_the_time():
    rng = np.random.default_rng(0)
    draws = [rng.normal(50, 5, 4) for _ in range(2000)]
    hits = sum(i.lo <= 50 <= i.hi for i in map(mean_interval, draws))
    assert 0.93 <= hits / 2000 <= 0.97


def test_bootstrap_intervals_bracket_the_median_and_are_reproducible():
    rng = np.random.default_rng(1)
    samples = rng.lognormal(np.log(0.01), 0.05, 500)
    point, lo, hi = quantile_interval(samples, 50)
    assert point == pytest.approx(np.median(samples)) and lo < point < hi
    assert hi - lo < 0.02 * point  # 500 samples with 5% spread pin the median well within 1%
    assert quantile_interval(samples, 50) == (point, lo, hi)
    p90 = quantile_interval(samples, 90)
    assert p90[0] > point and p90[2] - p90[1] > hi - lo  # a tail statistic is less precise
    assert median_interval([3.0, 1.0, 2.0, 10.0]).value == 2.5
    assert quantile_interval([1.0], 50) is None


def test_within_run_interval_carries_the_statistic_to_the_figure():
    ci = (0.010, 0.009, 0.012)  # seconds per batch: median and its interval
    latency = within_run_interval(10.0, ci, inverse=False)  # ms
    assert (latency.lo, latency.hi, latency.method) == (pytest.approx(9.0), pytest.approx(12.0), "within-run bootstrap")
    rate = within_run_interval(800.0, ci, inverse=True)  # clips/s = batch / median
    assert (rate.lo, rate.hi) == (pytest.approx(800 * 0.010 / 0.012), pytest.approx(800 * 0.010 / 0.009))
    assert not within_run_interval(5.0, None, inverse=False).has_interval


def test_a_20_percent_slowdown_is_significant_and_its_interval_holds_it():
    rng = np.random.default_rng(2)
    a = rng.lognormal(np.log(0.010), 0.05, 200)
    b = rng.lognormal(np.log(0.012), 0.05, 200)
    latency = samples_difference(a, b, 50, inverse=False)
    assert latency.significant() and latency.p_value < 1e-10
    assert latency.lo_pct < 20 < latency.hi_pct and latency.change_pct == pytest.approx(20, abs=3)
    throughput = samples_difference(a, b, 50, inverse=True)
    assert throughput.change_pct == pytest.approx(100 / 1.2 - 100, abs=3) and throughput.hi_pct < 0
    assert throughput.p_value == latency.p_value == pytest.approx(stats.mannwhitneyu(a, b).pvalue)


def test_same_distribution_is_rarely_significant():
    """The false-positive rate of the samples test is at most its alpha: 100 A/A pairs, at most 2 flagged."""
    rng = np.random.default_rng(3)
    flagged = sum(samples_difference(rng.lognormal(0, 0.1, 60), rng.lognormal(0, 0.1, 60), 50, False).significant()
                  for _ in range(100))
    assert flagged <= 2


def test_replicates_difference_is_welchs_test():
    a, b = [80.1, 82.3, 79.9, 81.0], [70.2, 71.9, 70.8]
    got = replicates_difference(a, b)
    ref = stats.ttest_ind(b, a, equal_var=False)
    assert got.p_value == pytest.approx(ref.pvalue) and got.significant(ALPHA)
    ci = ref.confidence_interval(0.95)
    assert (got.lo_pct, got.hi_pct) == (pytest.approx(ci.low / np.mean(a) * 100), pytest.approx(ci.high / np.mean(a) * 100))
    assert not replicates_difference([80.1, 82.3, 79.9], [81.0, 80.5, 82.0]).significant()
    with pytest.raises(ValueError):
        replicates_difference([80.0], [70.0, 71.0])
