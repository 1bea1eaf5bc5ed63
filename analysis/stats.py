"""Quantiles and their confidence intervals, seeded so the same evidence gives the same numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd

QUANTILES = {"p50": 0.50, "p90": 0.90, "p99": 0.99}
SEED = 20261124
BOOTSTRAP_RESAMPLES = 400
#: Up to this many requests in an environment the bootstrap resamples the requests themselves.
#: Above it, it resamples the counts of the sample's distinct latencies (a multinomial draw,
#: the same distribution as resampling the requests), so its cost grows with the distinct
#: values, not the requests: a busy service's millions of requests cost what thousands do.
BOOTSTRAP_MAX_N = 50_000
#: More distinct latencies than this (microsecond timings) are binned first: each value moves
#: to the mean of its bin, bins BIN_WIDTH wide on a log(1 + ms) scale (0.1% of the latency;
#: ~10,000 bins from 0 ms to 20 s). docs/method.md, section 1.
MAX_DISTINCT = 8_192
BIN_WIDTH = 1e-3


def quantiles(values: np.ndarray) -> dict[str, float]:
    """p50, p90 and p99 of a sample (NaN-free)."""
    return {name: float(np.quantile(values, q)) for name, q in QUANTILES.items()}


def _row_quantiles(values: np.ndarray, qs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap quantiles by resampling the requests: shape (quantiles, resamples)."""
    draws = rng.choice(values, size=(BOOTSTRAP_RESAMPLES, len(values)), replace=True)
    return np.quantile(draws, qs, axis=1)


def distinct_counts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sample as sorted distinct latencies and their counts; binned (BIN_WIDTH) when it has
    more than MAX_DISTINCT distinct values."""
    distinct, counts = np.unique(values, return_counts=True)
    if len(distinct) <= MAX_DISTINCT:
        return distinct, counts
    keys = np.floor(np.log1p(np.maximum(distinct, 0.0)) / BIN_WIDTH)
    bins, inverse = np.unique(keys, return_inverse=True)
    binned = np.bincount(inverse, weights=counts, minlength=len(bins))
    means = np.bincount(inverse, weights=distinct * counts, minlength=len(bins)) / binned
    return means, binned.astype(np.int64)


def _count_quantiles(values: np.ndarray, qs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap quantiles by drawing the counts of the distinct latencies (multinomial), with
    numpy's default (linear) quantile on each resample: shape (quantiles, resamples)."""
    distinct, counts = distinct_counts(values)
    n, resamples = int(counts.sum()), BOOTSTRAP_RESAMPLES
    cumulative = rng.multinomial(n, counts / n, size=resamples).cumsum(axis=1)
    rows = np.arange(resamples)
    # one sorted array for all resamples: row r holds r*n + its cumulative counts
    flat = (cumulative + rows[:, None] * n).ravel()
    out = np.empty((len(qs), resamples))
    for i, q in enumerate(qs):
        rank = (n - 1) * q
        low, frac = int(np.floor(rank)), rank - np.floor(rank)

        def value(k: int) -> np.ndarray:  # the k-th smallest (0-based) of each resample
            at = np.searchsorted(flat, rows * n + k, side="right") - rows * len(distinct)
            return distinct[at]

        below = value(low)
        out[i] = below + frac * (value(min(low + 1, n - 1)) - below)
    return out


def gap_intervals(baseline: np.ndarray, candidate: np.ndarray,
                  seed: int = SEED) -> dict[str, dict]:
    """Quantile gap (candidate - baseline) with a 95% percentile-bootstrap interval."""
    rng = np.random.default_rng(seed)
    qs = np.array(list(QUANTILES.values()))

    def resampled_quantiles(values: np.ndarray) -> np.ndarray:
        method = _row_quantiles if len(values) <= BOOTSTRAP_MAX_N else _count_quantiles
        return method(values, qs, rng)

    diffs = resampled_quantiles(candidate) - resampled_quantiles(baseline)
    point = np.quantile(candidate, qs) - np.quantile(baseline, qs)
    low, high = np.quantile(diffs, [0.025, 0.975], axis=1)
    return {
        name: {"value": round(float(point[i]), 1),
               "ci95": [round(float(low[i]), 1), round(float(high[i]), 1)]}
        for i, name in enumerate(QUANTILES)
    }


def per_minute(latency: pd.DataFrame) -> pd.DataFrame:
    """Requests, median and p99 latency of each minute that has requests (`minute`, `count`,
    `median`, `p99`). Grouped by the minutes present, never resampled over the span: a stray
    timestamp decades away costs one row, not millions of empty minutes."""
    minutes = latency["time"].dt.floor("1min").rename("minute")
    grouped = latency["latency_ms"].groupby(minutes)
    frame = pd.DataFrame({"count": grouped.count(), "median": grouped.median(),
                          "p99": grouped.quantile(0.99)})
    return frame[frame["count"] > 0].reset_index()
