"""What one uncached lookup costs, name by name: measured per name, a whole lookup, or a model.

CoreDNS answers names under the cluster domain itself: its `kubernetes` plugin serves the
cluster zone from its in-memory view of the API (NXDOMAIN included, authoritatively) and its
`cache` plugin keeps answers (coredns.io/plugins/kubernetes, coredns.io/plugins/cache). Every
other name in a search-list walk (the node's search domains, the name as written) is
forwarded upstream (coredns.io/plugins/forward). So the names of one walk do not cost the same,
and the sources, in the order the evidence allows:

1. `measured per name`: the collector queried each name glibc would try (collector/collect.py
   writes one dig answer per name, SERVER the resolver); each name's own times.
2. `whole lookup`: getaddrinfo timed by the collector (SERVER `getaddrinfo`): search list,
   A and AAAA and all, as the application pays it.
3. `model`: cluster-local names cost what the dig evidence shows for names under the cluster
   domain, else LOCAL_QUERY_MS (assumed); forwarded names cost the other dig lookups (a grep'd
   `;; Query time` line names nothing and counts as forwarded: it is what `dig <external
   name>` from the pod measures).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.models import dns_stalls
from analysis.models.search_list import cluster_of, names_queried

PER_NAME, WHOLE_LOOKUP, MODEL = "measured per name", "whole lookup", "model"
#: the SERVER of a lookup timed through the system resolver (collector/collect.py)
SYSTEM_RESOLVER = "getaddrinfo"
#: one name CoreDNS answers itself: the pod -> CoreDNS round trip and no upstream; an estimate
#: (a round trip on the cluster network), used only when no dig lookup timed such a name, and
#: never more than a forwarded query costs (a forwarded query pays the same round trip first)
LOCAL_QUERY_MS = 1.0


def _bare(name: object) -> str | None:
    return str(name).rstrip(".").lower() if isinstance(name, str) and name else None


def answered_locally(queried: str, search: Sequence[str]) -> bool:
    """Whether CoreDNS answers `queried` (a fully qualified name) itself: it lies under the
    cluster domain read from the search list."""
    domain = cluster_of(search)[1]
    bare = _bare(queried) or ""
    return domain is not None and (bare == domain or bare.endswith("." + domain))


@dataclass(frozen=True)
class WalkCost:
    """What one uncached lookup of `name` costs: one draw from each of `parts` (ms), summed."""

    name: str
    queried: tuple[str, ...]       # the names the walk queries (search_list.names_queried)
    local: tuple[bool, ...]        # per name queried: answered by CoreDNS itself
    source: str                    # PER_NAME | WHOLE_LOOKUP | MODEL
    parts: tuple[np.ndarray, ...]  # per name queried; WHOLE_LOOKUP: one, the whole lookup
    local_source: str = "dig"      # MODEL: "dig" (timed) or "assumed" (LOCAL_QUERY_MS)

    @property
    def name_ms(self) -> tuple[float, ...]:
        """Median cost of each name queried (one value for a whole lookup)."""
        return tuple(float(np.median(p)) for p in self.parts)

    @property
    def lookup_ms(self) -> float:
        """Median cost of one uncached lookup: the sum of each name's median."""
        return float(sum(self.name_ms))

    @property
    def mean_ms(self) -> float:
        return float(sum(np.mean(p) for p in self.parts))

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """`size` uncached lookups (ms)."""
        total = np.zeros(size)
        for part in self.parts:
            total += part[rng.integers(0, len(part), size)] if len(part) > 1 else part[0]
        return total

    def describe(self) -> str:
        """One sentence: the names, what each costs and where the figure comes from."""
        if self.source == WHOLE_LOOKUP:
            return (f"{self.name}: a whole lookup (getaddrinfo, {len(self.parts[0])} timed) "
                    f"costs a median {self.lookup_ms:.1f} ms ({WHOLE_LOOKUP})")
        each = ", ".join(f"{q.rstrip('.')} {ms:.1f} ms {'local' if lo else 'forwarded'}"
                         for q, ms, lo in zip(self.queried, self.name_ms, self.local,
                                              strict=True))
        how = self.source if self.source == PER_NAME else \
            f"model: CoreDNS answers cluster-local names itself ({self.local_source}), " \
            "forwarded names cost a forwarded query"
        return f"{self.name}: {each} = {self.lookup_ms:.1f} ms ({how})"


def model_costs(queries: pd.DataFrame, search: Sequence[str],
                forwarded_ms: float | None = None,
                local_ms: float | None = None) -> tuple[np.ndarray, np.ndarray, str]:
    """(local, forwarded, local source) per-query costs (ms) for the model: from the dig
    lookups in `queries` (one environment, getaddrinfo left out), split by where each name
    resolves; `forwarded_ms`/`local_ms` stand in where there is no such lookup."""
    names = queries["name"] if "name" in queries else pd.Series(None, index=queries.index)
    local_rows = names.map(lambda n: bool(_bare(n)) and answered_locally(n, search))
    costs = queries["total_ms"]
    local, forwarded = costs[local_rows].dropna().to_numpy(float), \
        costs[~local_rows].dropna().to_numpy(float)
    if not len(forwarded):
        forwarded = np.array([forwarded_ms]) if forwarded_ms is not None else local
    source = "dig"
    if not len(local):
        source = "given" if local_ms is not None else "assumed"
        guess = local_ms if local_ms is not None else LOCAL_QUERY_MS
        cap = float(np.median(forwarded)) if len(forwarded) else guess
        local = np.array([guess if local_ms is not None else min(guess, cap)])
    return local, forwarded, source


def walk_cost(name: str, search: Sequence[str], ndots: int, dig: pd.DataFrame,
              forwarded_ms: float | None = None, local_ms: float | None = None) -> WalkCost:
    """The cost of one uncached lookup of `name` from one environment's dig evidence (columns
    name, server, total_ms; may be empty), in the order per name > whole lookup > model.
    Lookups that waited out a timeout are left out: dns_stalls.py counts them at their rate."""
    if "total_ms" in dig and not dig.empty:
        dig = dig[~dns_stalls.stalled(dig)]
    queried = tuple(names_queried(name, search, ndots))
    local = tuple(answered_locally(q, search) for q in queried)
    servers = dig["server"] if "server" in dig else pd.Series("", index=dig.index)
    by_name = dig["name"].map(_bare) if "name" in dig else pd.Series(None, index=dig.index)
    queries = dig[servers != SYSTEM_RESOLVER]
    per_name = [queries.loc[by_name[queries.index] == _bare(q), "total_ms"].dropna()
                for q in queried]
    if all(len(p) for p in per_name):
        return WalkCost(name, queried, local, PER_NAME,
                        tuple(p.to_numpy(float) for p in per_name))
    whole = dig.loc[(servers == SYSTEM_RESOLVER) & (by_name == _bare(name)), "total_ms"].dropna()
    if len(whole):
        return WalkCost(name, queried, local, WHOLE_LOOKUP, (whole.to_numpy(float),))
    local_ms_, forwarded_ms_, source = model_costs(queries, search, forwarded_ms, local_ms)
    if not len(forwarded_ms_):
        raise ValueError("walk_cost: no dig lookup and no forwarded_ms to model the cost")
    return WalkCost(name, queried, local, MODEL,
                    tuple(local_ms_ if lo else forwarded_ms_ for lo in local), source)


def sources(walks: dict[str, WalkCost]) -> str:
    """The sources the walks used, in the order of preference: `measured per name`,
    `whole lookup`, `model`, joined with ' + ' when names differ."""
    used = {w.source for w in walks.values()}
    return " + ".join(s for s in (PER_NAME, WHOLE_LOOKUP, MODEL) if s in used) or MODEL
