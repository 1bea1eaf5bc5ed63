"""What the report shows of the latency table, computed once in the library.

The ECDF at fixed probabilities, per-minute counts and quantiles, a summary and the time
ranges per environment: a few thousand rows whatever the traffic, so the notebooks and their
kernel never hold a busy service's millions of requests (Result.latency; docs/method.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis import stats

#: An environment with at most this many requests is drawn request by request; above it the
#: ECDF is drawn through its quantiles at this many evenly spaced probabilities, plus TAIL.
ECDF_POINTS = 2_000
#: the slowest 1% at finer steps (down to one request in a million): the tail is the story
TAIL = 1.0 - np.logspace(-2, -6, 41)
SUMMARY_PERCENTILES = [0.5, 0.9, 0.99]


@dataclass
class LatencyDigest:
    """The latency table as the report presents it."""

    #: env, latency_ms, share: the share of the environment's requests at most that fast
    ecdf: pd.DataFrame
    #: env, minute, count, median, p99 (stats.per_minute of each environment)
    minutes: pd.DataFrame
    #: per environment (index): count, mean, std, min, 50%, 90%, 99%, max of latency_ms
    summary: pd.DataFrame
    #: Evidence.time_ranges() and Evidence.overlap(baseline, candidate)
    ranges: pd.DataFrame
    overlap: pd.Timedelta | None

    @property
    def envs(self) -> list[str]:
        return list(dict.fromkeys(self.minutes["env"]))


def ecdf_points(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(latency, share) points of the empirical CDF: every request when there are few, else
    the observed latencies at fixed probabilities (numpy's inverted-CDF quantiles)."""
    values = np.sort(values)
    n = len(values)
    if n <= ECDF_POINTS:
        return values, np.arange(1, n + 1) / n
    shares = np.unique(np.concatenate([np.linspace(0, 1, ECDF_POINTS + 1)[1:], TAIL]))
    return np.quantile(values, shares, method="inverted_cdf"), shares


def digest(latency: pd.DataFrame, baseline: str | None = None,
           candidate: str | None = None, ranges: pd.DataFrame | None = None,
           overlap: pd.Timedelta | None = None) -> LatencyDigest:
    """The digest of a latency table (env, time, latency_ms); `ranges` and `overlap` as
    Evidence computes them (empty and None when not given)."""
    envs = list(dict.fromkeys(str(e) for e in latency["env"].unique())) if len(latency) else []
    order = [e for e in (baseline, candidate) if e in envs] + \
        sorted(e for e in envs if e not in (baseline, candidate))
    values = latency["latency_ms"].to_numpy(float)
    answered = ~np.isnan(values)
    timed = answered & latency["time"].notna().to_numpy(bool)
    ecdf, minutes = [], []
    for env in order:
        mine = (latency["env"] == env).to_numpy(bool)
        x, share = ecdf_points(values[mine & answered])
        ecdf.append(pd.DataFrame({"env": env, "latency_ms": x, "share": share}))
        minutes.append(stats.per_minute(latency.loc[mine & timed, ["time", "latency_ms"]])
                       .assign(env=env))
    summary = latency["latency_ms"].groupby(latency["env"], observed=True) \
        .describe(percentiles=SUMMARY_PERCENTILES) if len(latency) else pd.DataFrame()
    summary.index = pd.Index([str(e) for e in summary.index], name="env")
    return LatencyDigest(
        ecdf=pd.concat(ecdf, ignore_index=True) if ecdf else
        pd.DataFrame(columns=["env", "latency_ms", "share"]),
        minutes=pd.concat(minutes, ignore_index=True)[["env", "minute", "count", "median",
                                                        "p99"]] if minutes else
        pd.DataFrame(columns=["env", "minute", "count", "median", "p99"]),
        summary=summary, ranges=ranges if ranges is not None else pd.DataFrame(),
        overlap=overlap)


def of(latency: pd.DataFrame | LatencyDigest) -> LatencyDigest:
    """A digest as it is, or a latency table's (figures accept either)."""
    return latency if isinstance(latency, LatencyDigest) else digest(latency)
