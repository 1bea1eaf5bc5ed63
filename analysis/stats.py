"""Quantiles and their confidence intervals, seeded so the same evidence gives the same numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd

QUANTILES = {"p50": 0.50, "p90": 0.90, "p99": 0.99}
SEED = 20261124
BOOTSTRAP_RESAMPLES = 400
#: Resample at most this many values per environment to bound time and memory. For larger
#: samples the interval is then conservative (wider than the full sample's would be).
BOOTSTRAP_MAX_N = 50_000


def quantiles(values: np.ndarray) -> dict[str, float]:
    """p50, p90 and p99 of a sample (NaN-free)."""
    return {name: float(np.quantile(values, q)) for name, q in QUANTILES.items()}


def gap_intervals(baseline: np.ndarray, candidate: np.ndarray,
                  seed: int = SEED) -> dict[str, dict]:
    """Quantile gap (candidate - baseline) with a 95% percentile-bootstrap interval."""
    rng = np.random.default_rng(seed)
    qs = np.array(list(QUANTILES.values()))

    def resampled_quantiles(values: np.ndarray) -> np.ndarray:
        n = min(len(values), BOOTSTRAP_MAX_N)
        draws = rng.choice(values, size=(BOOTSTRAP_RESAMPLES, n), replace=True)
        return np.quantile(draws, qs, axis=1)  # shape (quantiles, resamples)

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
