"""DNS: how many queries one lookup costs, and how often the application's cache misses."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.models import dns_stalls
from analysis.models.search_list import in_cluster, names_queried

#: the SERVER of a lookup timed through the system resolver (collector/collect.py): search
#: list expansion included, so it measures a whole lookup, not one query
SYSTEM_RESOLVER = "getaddrinfo"


def names_tried(name: str, search: list[str], ndots: int) -> int:
    """Names glibc queries for one uncached lookup of `name`: the search-list walk up to the
    first name that answers (search_list.names_queried). glibc sends A and AAAA in parallel,
    so each name costs one resolver round trip."""
    return len(names_queried(name, search, ndots))


def miss_rate(rate_per_s: float, cache_ttl_s: float) -> float:
    """Share of requests that find the application's DNS cache expired.

    With Poisson arrivals at `rate_per_s` and an entry kept `cache_ttl_s` after the miss that
    filled it, each cache period serves 1 + rate * ttl requests, one of which misses.
    """
    if cache_ttl_s <= 0:
        return 1.0
    return 1.0 / (1.0 + rate_per_s * cache_ttl_s)


def lookup_costs(dig: pd.DataFrame, env: str) -> pd.Series:
    """What each dig lookup of one name in `env` cost (ms), its `total_ms`, stalls left out:
    a lookup that waited out a resolver timeout is counted by analysis/models/dns_stalls.py at
    its own rate, not folded into the per-query cost. Lookups timed through getaddrinfo
    (latency-gap collect) are whole lookups, search list included, not queries of one name:
    left out."""
    mine = dig[dig["env"] == env]
    if "server" in mine:
        mine = mine[mine["server"] != SYSTEM_RESOLVER]
    mine = mine[mine["total_ms"].notna()]
    return mine.loc[~dns_stalls.stalled(mine), "total_ms"]


@dataclass(frozen=True)
class DnsEstimate:
    env: str
    query_ms: np.ndarray          # what each dig lookup of one name cost (lookup_costs)
    names_tried: dict[str, int]   # per configured host name
    lookups_per_request: float
    miss_rate: float
    timed_out: int = 0            # of those lookups, how many got no answer

    @property
    def queries_per_request(self) -> float:
        per_miss = sum(self.names_tried.values())
        lookups = self.lookups_per_request if self.miss_rate == 1.0 else 1.0
        return per_miss * lookups * self.miss_rate


def dns_estimate(env: str, dig: pd.DataFrame, resolv: pd.DataFrame, names: tuple[str, ...],
                 lookups_per_request: float, cache_ttl_s: float,
                 rate_per_s: float) -> DnsEstimate | None:
    """The DNS cost model for one environment, or None without dig evidence."""
    cost = lookup_costs(dig, env)
    if cost.empty:
        return None
    conf = resolv[resolv["env"] == env] if not resolv.empty else resolv
    if conf.empty:
        search, ndots = [], 1  # no resolv.conf: glibc defaults, no search list
    else:
        search, ndots = conf.iloc[0]["search"].split(), int(conf.iloc[0]["ndots"])
    return DnsEstimate(
        env=env,
        query_ms=cost.to_numpy(dtype=float),
        names_tried={n: names_tried(n, search, ndots) for n in names},
        lookups_per_request=lookups_per_request,
        miss_rate=miss_rate(rate_per_s, cache_ttl_s),
        timed_out=int((dig.loc[cost.index, "status"] == "TIMEOUT").sum()),
    )


def sample_overhead(est: DnsEstimate, rng: np.random.Generator, n: int) -> np.ndarray:
    """Per-request DNS time (ms) for n simulated requests."""
    total = np.zeros(n)
    lookups = int(round(est.lookups_per_request)) if est.miss_rate == 1.0 else 1
    for tried in est.names_tried.values():
        misses = rng.random(n) < est.miss_rate
        queries = tried * lookups
        total += misses * rng.choice(est.query_ms, size=(n, queries)).sum(axis=1)
    return total


def lookup_table(estimates: dict[str, DnsEstimate | None], resolv: pd.DataFrame,
                 dig: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per environment and host name: what one uncached lookup costs and how often it happens;
    with lookups timed through getaddrinfo, their measured median beside the prediction."""
    rows = []
    measured = dig[dig["server"] == SYSTEM_RESOLVER].groupby(["env", "name"])["query_time_ms"] \
        .median() if dig is not None and not dig.empty else pd.Series(dtype=float)
    for env, est in estimates.items():
        if est is None:
            continue
        conf = resolv[resolv["env"] == env] if not resolv.empty else resolv
        ndots = int(conf.iloc[0]["ndots"]) if not conf.empty else 1
        search = conf.iloc[0]["search"].split() if not conf.empty else []
        for name, tried in est.names_tried.items():
            rows.append({
                "environment": env, "name": name, "ndots": ndots,
                "search domains": len(search),
                "resolves": "in cluster" if in_cluster(name, search) else "outside",
                "queries per uncached lookup": tried,
                "median query (ms)": round(float(np.median(est.query_ms)), 1),
                "cache miss rate": round(est.miss_rate, 3),
                "queries per request": round(tried * est.queries_per_request
                                             / max(sum(est.names_tried.values()), 1), 2),
                "predicted lookup (ms)": round(tried * float(np.median(est.query_ms)), 1),
                "measured lookup (ms)": round(float(measured[(env, name)]), 1)
                if (env, name) in measured.index else None,
            })
    return pd.DataFrame(rows)
