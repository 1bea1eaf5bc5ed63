"""Quantiles, bootstrap intervals of the gap, and per-minute tables on known data."""

import numpy as np
import pandas as pd
import pytest

from analysis import stats


def test_quantiles_of_one_to_a_hundred():
    assert stats.quantiles(np.arange(1.0, 101.0)) == pytest.approx(
        {"p50": 50.5, "p90": 90.1, "p99": 99.01})


def test_a_constant_shift_is_the_gap_at_every_quantile_inside_its_interval():
    base = np.random.default_rng(1).lognormal(np.log(20), 0.3, 2000)
    gaps = stats.gap_intervals(base, base + 30.0)
    assert set(gaps) == {"p50", "p90", "p99"}
    for gap in gaps.values():
        low, high = gap["ci95"]
        assert gap["value"] == 30.0 and low <= 30.0 <= high


def test_no_gap_has_an_interval_around_zero_that_narrows_with_more_requests():
    rng = np.random.default_rng(2)
    few = stats.gap_intervals(rng.normal(20, 3, 100), rng.normal(20, 3, 100))["p50"]["ci95"]
    many = stats.gap_intervals(rng.normal(20, 3, 10_000),
                               rng.normal(20, 3, 10_000))["p50"]["ci95"]
    assert few[0] <= 0 <= few[1] and many[0] <= 0 <= many[1]
    assert many[1] - many[0] < (few[1] - few[0]) / 3


def test_the_same_evidence_gives_the_same_interval():
    rng = np.random.default_rng(3)
    base, cand = rng.normal(20, 3, 500), rng.normal(25, 3, 500)
    assert stats.gap_intervals(base, cand) == stats.gap_intervals(base, cand)


def test_per_minute_groups_the_minutes_present_only():
    times = pd.to_datetime(["2026-11-24T10:00:05Z", "2026-11-24T10:00:50Z",
                            "2026-11-24T10:01:10Z", "1990-01-01T00:00:00Z"])
    frame = stats.per_minute(pd.DataFrame({"time": times, "latency_ms": [10.0, 30.0, 5.0, 7.0]}))
    assert list(frame.columns) == ["minute", "count", "median", "p99"]
    assert len(frame) == 3  # a stray timestamp decades away is one row, not millions
    row = frame[frame["minute"] == pd.Timestamp("2026-11-24T10:00:00Z")].iloc[0]
    assert row["count"] == 2 and row["median"] == 20.0


@pytest.mark.parametrize("resolution_ms", [1.0, None])  # log timings in ms; float timings
def test_counting_distinct_latencies_gives_the_interval_resampling_requests_gives(
        resolution_ms):
    """Above BOOTSTRAP_MAX_N the bootstrap draws counts of distinct (or binned) latencies:
    on the same sample its interval ends agree with resampling the requests to within the
    bootstrap's own noise (docs/method.md, section 1: 10% of the interval's width)."""
    rng = np.random.default_rng(4)
    sample = rng.lognormal(np.log(20), 0.4, 20_000)
    if resolution_ms:
        sample = np.maximum(np.round(sample / resolution_ms) * resolution_ms, 1.0)
    qs = np.array(list(stats.QUANTILES.values()))
    rows = stats._row_quantiles(sample, qs, np.random.default_rng(5))
    counts = stats._count_quantiles(sample, qs, np.random.default_rng(6))
    for i in range(len(qs)):
        exact, counted = (np.quantile(r[i], [0.025, 0.975]) for r in (rows, counts))
        width = exact[1] - exact[0]
        assert counted == pytest.approx(exact, abs=0.1 * width + 0.05)


def test_binning_moves_no_latency_by_more_than_a_thousandth():
    values = np.random.default_rng(7).lognormal(np.log(20), 1.0, 50_000)
    distinct, counts = stats.distinct_counts(values)
    assert len(distinct) <= 12_000 and counts.sum() == len(values)
    assert np.all(np.diff(distinct) > 0)
    cumulative = np.repeat(distinct, counts)
    assert np.max(np.abs(cumulative - np.sort(values)) / (1 + np.sort(values))) < 1.1e-3


def test_a_busy_sample_costs_its_distinct_latencies_not_its_requests():
    rng = np.random.default_rng(8)
    base = np.round(rng.lognormal(np.log(20), 0.2, 2_000_000))
    gaps = stats.gap_intervals(base, base + 30.0)
    for gap in gaps.values():
        low, high = gap["ci95"]
        assert gap["value"] == 30.0 and low <= 30.0 <= high and high - low < 2
