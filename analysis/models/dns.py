"""DNS: how many queries one lookup costs, and how often the application's cache misses."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.models import dns_stalls
from analysis.models.dns_cost import MODEL, SYSTEM_RESOLVER, WalkCost, sources, walk_cost
from analysis.models.search_list import in_cluster, names_queried

__all__ = ["SYSTEM_RESOLVER", "DnsEstimate", "dns_estimate", "lookup_costs", "lookup_table",
           "miss_rate", "names_tried", "sample_overhead"]


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
    #: per host name, what one uncached lookup costs name by name (dns_cost.walk_cost); None:
    #: every name queried costs a draw from query_ms
    walks: dict[str, WalkCost] | None = None

    def walk_costs(self) -> dict[str, WalkCost]:
        if self.walks is not None:
            return self.walks
        return {n: WalkCost(n, (n,) * k, (False,) * k, MODEL, (self.query_ms,) * k)
                for n, k in self.names_tried.items()}

    @property
    def source(self) -> str:
        """Where the per-name costs come from: measured per name, whole lookup, model."""
        return sources(self.walk_costs())

    @property
    def lookups_per_miss(self) -> int:
        """Lookups of each name a missing request pays: all of them without a cache, else
        one (the first refills the cache for the rest)."""
        return int(round(self.lookups_per_request)) if self.miss_rate == 1.0 else 1

    @property
    def mean_ms(self) -> float:
        """Mean DNS time per request (ms)."""
        per_miss = sum(w.mean_ms for w in self.walk_costs().values())
        return per_miss * self.lookups_per_miss * self.miss_rate

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
    mine = dig[dig["env"] == env]
    return DnsEstimate(
        env=env,
        query_ms=cost.to_numpy(dtype=float),
        names_tried={n: names_tried(n, search, ndots) for n in names},
        lookups_per_request=lookups_per_request,
        miss_rate=miss_rate(rate_per_s, cache_ttl_s),
        walks={n: walk_cost(n, search, ndots, mine) for n in names},
    )


def sample_overhead(est: DnsEstimate, rng: np.random.Generator, n: int) -> np.ndarray:
    """Per-request DNS time (ms) for n simulated requests: each host name's cache misses with
    est.miss_rate, and a miss pays its walk (per name, dns_cost.WalkCost) per lookup."""
    total = np.zeros(n)
    for walk in est.walk_costs().values():
        misses = rng.random(n) < est.miss_rate
        for _ in range(est.lookups_per_miss):
            total += misses * walk.sample(rng, n)
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
        walks = est.walk_costs()
        for name, tried in est.names_tried.items():
            walk = walks[name]
            rows.append({
                "environment": env, "name": name, "ndots": ndots,
                "search domains": len(search),
                "resolves": "in cluster" if in_cluster(name, search) else "outside",
                "queries per uncached lookup": tried,
                "median query (ms)": round(float(np.median(est.query_ms)), 1),
                "cache miss rate": round(est.miss_rate, 3),
                "queries per request": round(tried * est.queries_per_request
                                             / max(sum(est.names_tried.values()), 1), 2),
                "cost per name (ms)": ", ".join(f"{ms:.1f}" for ms in walk.name_ms),
                "cost source": walk.source,
                "predicted lookup (ms)": round(walk.lookup_ms, 1),
                "measured lookup (ms)": round(float(measured[(env, name)]), 1)
                if (env, name) in measured.index else None,
            })
    return pd.DataFrame(rows)
