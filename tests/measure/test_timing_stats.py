"""Timing keeps raw samples; Stats are computed from them alone (checked against statistics and numpy)."""

from __future__ import annotations

import itertools
import statistics
import time

import numpy as np
import pytest
import torch

from vidbench.measure.stats import Stats, percentile
from vidbench.measure.timing import measure_calls

SAMPLES = [
    [0.5],
    [3.0, 1.0],
    [0.012, 0.011, 0.013, 0.5, 0.010],
    [float(x) for x in np.random.default_rng(0).lognormal(size=37)],
    [2.0] * 6,
]


@pytest.mark.parametrize("samples", SAMPLES)
def test_stats_from_samples_match_statistics_and_numpy(samples):
    s = Stats.from_samples(list(samples))
    arr = np.asarray(samples)
    assert s.n == len(samples)
    assert s.min == min(samples)
    assert s.median == pytest.approx(statistics.median(samples))
    assert s.mean == pytest.approx(statistics.fmean(samples))
    assert s.p90 == pytest.approx(np.percentile(arr, 90))
    assert s.iqr == pytest.approx(np.percentile(arr, 75) - np.percentile(arr, 25))
    assert s.std == pytest.approx(np.std(arr, ddof=1) if len(samples) > 1 else 0.0)
    assert s.total == pytest.approx(sum(samples))


def test_stats_do_not_depend_on_sample_order():
    samples = SAMPLES[3]
    assert Stats.from_samples(samples) == Stats.from_samples(sorted(samples, reverse=True))


def test_stats_as_dict_round_trips_and_adds_the_stability_figures():
    s = Stats.from_samples([1.0, 2.0, 4.0])
    d = s.as_dict()
    derived = {"iqr_over_median", "unstable"}
    assert Stats(**{k: v for k, v in d.items() if k not in derived}) == s
    assert d["iqr_over_median"] == pytest.approx(1.5 / 2.0)  # IQR (1.5 → 3.0) over the median 2.0
    assert d["unstable"] is True


def test_p99_only_with_enough_samples_and_stable_flag_at_ten_percent():
    few = Stats.from_samples([1.0] * 99)
    many = Stats.from_samples([float(i) for i in range(1, 101)])
    assert few.p99 is None
    assert many.p99 == pytest.approx(np.percentile(np.arange(1, 101), 99))
    assert not Stats.from_samples([1.0, 1.0, 1.05, 1.05]).unstable  # IQR/median ≈ 0.05/1.025 < 10%
    assert Stats.from_samples([1.0, 1.0, 1.2, 1.2]).unstable  # IQR/median ≈ 0.2/1.1 > 10%


def test_measure_calls_keeps_a_floor_of_samples_and_fills_the_time_budget():
    calls = []
    timing = measure_calls(lambda: calls.append(1), torch.device("cpu"), warmup=2, repeats=5, min_time_s=0.0)
    assert len(timing.samples) == 5 and timing.warmup_calls >= 2 and timing.device_samples is None
    slow = measure_calls(lambda: time.sleep(0.01), torch.device("cpu"), warmup=1, repeats=2, min_time_s=0.1)
    assert len(slow.samples) >= 9 and sum(slow.samples) >= 0.1  # the time budget, not the floor, decided


@pytest.mark.parametrize("q", [0, 10, 25, 50, 75, 90, 100])
def test_percentile_is_numpys_linear_percentile(q):
    samples = sorted(SAMPLES[3])
    assert percentile(samples, q) == pytest.approx(np.percentile(samples, q))


def test_percentile_of_nothing_is_an_error():
    with pytest.raises(ValueError):
        percentile([], 50)


@pytest.mark.parametrize("repeats", [1, 5, 20])
def test_measure_calls_without_warmup_returns_one_sample_per_timed_call(repeats):
    calls = []
    timing = measure_calls(lambda: calls.append(1), torch.device("cpu"), warmup=0, repeats=repeats)
    assert len(calls) == repeats and len(timing.samples) == repeats and timing.warmup_calls == 0
    assert all(isinstance(s, float) and s >= 0 for s in timing.samples)


def test_measure_calls_times_each_call_after_warming_up():
    """Each timed sample covers its whole call: never less than the call took inside, never much more."""
    delays, inside = itertools.cycle([0.02, 0.001, 0.03]), []

    def call():
        start = time.perf_counter()
        time.sleep(next(delays))
        inside.append(time.perf_counter() - start)

    timing = measure_calls(call, torch.device("cpu"), warmup=2, repeats=3)
    assert timing.warmup_calls >= 2 and len(inside) == timing.warmup_calls + len(timing.samples)
    for got, took in zip(timing.samples, inside[timing.warmup_calls:], strict=True):
        assert took <= got < took + 0.5  # the slack is for a busy machine
