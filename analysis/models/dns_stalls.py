"""Resolver timeout stalls: how often a lookup waits out a timeout, and what that costs.

A stall is a tail event, not a slow query: one lookup in a hundred waiting 5 s leaves the median
query untouched and moves the p99 by 5 s. So stalls are counted apart from the per-query cost
(analysis/models/dns.py leaves them out of it) and added to the DNS overhead per request by
their rate: expected added latency = rate x stall length x names queried per request; the p99
carries a stall once a request meets one more often than 1 time in 100.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.models.resolver_options import ResolverOptions

#: a lookup that took this share of a 5 s timeout or more waited out a timeout: the query time
#: sits near a multiple of it (5 s, 10 s...), far above any answer
STALL_SHARE = 0.8
#: glibc's default timeout (resolv/resolv.h RES_TIMEOUT) and dig's (BIND 9 bin/dig/dighost.c
#: UDP_TIMEOUT). A stall dig saw as a timed-out try is found by that, whatever the pod's
#: timeout; one behind the server (CoreDNS waiting on its upstream) runs on the server's timers,
#: not on the pod's resolv.conf, so the share is taken of this one
DEFAULT_STALL_MS = 5000.0
#: the quantile a stall reaches once requests meet one more often than this
P99 = 0.99


def stalled(rows: pd.DataFrame, timeout_ms: float = DEFAULT_STALL_MS) -> pd.Series:
    """Which dig lookups stalled: a try timed out (dig printed a timeout, or got no answer
    after timed-out tries), or the lookup took STALL_SHARE of `timeout_ms` or more (a query
    time of ~5000 msec: the stall happened behind the server dig asked)."""
    timed_out = rows["timeout_ms"].notna() if "timeout_ms" in rows else False
    slow = rows["total_ms"] >= STALL_SHARE * timeout_ms
    return (timed_out | slow) & rows["total_ms"].notna()


@dataclass(frozen=True)
class StallRate:
    """Stalls among one environment's dig lookups of one name each."""

    env: str
    stalls: int
    lookups: int
    stall_ms: float      # median added time of a stalled lookup over an answered one

    @property
    def rate(self) -> float:
        return self.stalls / self.lookups if self.lookups else 0.0

    def describe(self) -> str:
        length = f", ~{self.stall_ms / 1000:.1f} s each" if self.stalls else ""
        return f"{self.env}: {self.stalls} of {self.lookups} dig lookups ({self.rate:.1%}" \
               f"{length})"


def stall_rate(dig: pd.DataFrame, env: str, system_resolver: str) -> StallRate | None:
    """Stalls among `env`'s dig lookups of one name (whole getaddrinfo lookups left out, as
    for the per-query cost); None without any."""
    if dig.empty:
        return None
    mine = dig[(dig["env"] == env) & dig["total_ms"].notna()]
    if "server" in mine:
        mine = mine[mine["server"] != system_resolver]
    if mine.empty:
        return None
    stall = stalled(mine)  # as dns.lookup_costs leaves them out
    answered = float(np.median(mine.loc[~stall, "total_ms"])) if (~stall).any() else 0.0
    length = float(np.median(mine.loc[stall, "total_ms"])) - answered if stall.any() else 0.0
    return StallRate(env, int(stall.sum()), len(mine), max(length, 0.0))


@dataclass(frozen=True)
class StallPrediction:
    """What stalls add to one request."""

    stall_per_name: float          # probability that one name's lookup waits a timeout
    stall_per_request: float       # probability that a request meets at least one stall
    stall_ms: float                # what one stall costs
    expected_ms: float             # mean added time per request
    p99_ms: float                  # what stalls put on the p99 (0 below 1 in 100 requests)
    queries_per_name: int          # A and AAAA, or A only (no-aaaa)
    round_trips_per_name: int      # 1 in parallel, 2 serial or over TCP


def stall_per_name(options: ResolverOptions, loss_per_query: float,
                   race_per_name: float = 0.0) -> float:
    """Probability that one name waits a timeout: any of its queries lost, or (A and AAAA in
    parallel through DNAT) the conntrack race dropping one of the pair."""
    kept = (1.0 - loss_per_query) ** options.queries_per_name
    if options.race:
        kept *= 1.0 - race_per_name
    return 1.0 - kept


def predict(options: ResolverOptions, names_per_request: float, loss_per_query: float = 0.0,
            race_per_name: float = 0.0, stall_rate: float | None = None,
            stall_ms: float | None = None) -> StallPrediction:
    """Stall cost per request for `names_per_request` names queried (search-list walk x
    lookups x cache miss rate), from a loss probability per query (and a race probability per
    parallel A/AAAA pair) or from a measured stall rate per name (dig: `stall_rate`)."""
    per_name = stall_per_name(options, loss_per_query, race_per_name) \
        if stall_rate is None else stall_rate
    length = options.stall_s * 1000 if stall_ms is None else stall_ms
    mean_stalls = per_name * names_per_request
    return StallPrediction(
        stall_per_name=per_name,
        stall_per_request=1.0 - (1.0 - per_name) ** names_per_request,
        stall_ms=length,
        expected_ms=mean_stalls * length,
        p99_ms=_poisson_quantile(mean_stalls, P99) * length,
        queries_per_name=options.queries_per_name,
        round_trips_per_name=options.round_trips_per_name)


def _poisson_quantile(mean: float, q: float) -> int:
    """Smallest k with P(N <= k) >= q for N ~ Poisson(mean): stalls are rare and independent."""
    k, term = 0, math.exp(-mean)
    total = term
    while total < q and k < 1000:
        k += 1
        term *= mean / k
        total += term
    return k


def sample_stalls(est, stall: StallRate, rng: np.random.Generator, n: int) -> np.ndarray:
    """Stall time (ms) of n simulated requests: each name a request queries (a cache miss pays
    the search-list walk, as dns.sample_overhead counts it) stalls at the measured rate."""
    lookups = int(round(est.lookups_per_request)) if est.miss_rate == 1.0 else 1
    names = np.zeros(n, dtype=np.int64)
    for tried in est.names_tried.values():
        names += (rng.random(n) < est.miss_rate) * tried * lookups
    return rng.binomial(names, stall.rate) * stall.stall_ms


def mean_stall_ms(est, stall: StallRate | None) -> float:
    """Mean stall time per request (rate x stall length x names queried per request)."""
    if est is None or stall is None:
        return 0.0
    return stall.rate * stall.stall_ms * est.queries_per_request


def severity(cand: StallRate | None, base: StallRate | None, prediction: StallPrediction,
             budget_p99_ms: float, p99_within: bool, measured: bool) -> str:
    """A blocker when the candidate stalls more often than the baseline and its stalls alone
    put the p99 over budget (a request meets one more often than 1 in 100 and one costs more
    than the budget), unless the measured p99 gap is decided within budget or there is no
    measured gap (then at most a warning); a warning when the candidate stalls more often;
    info when it does not."""
    worse = cand is not None and cand.rate > (base.rate if base else 0.0)
    if not worse:
        return "info"
    if prediction.p99_ms > budget_p99_ms and measured and not p99_within:
        return "blocker"
    return "warning"
