"""Preflight's DNS check: the p50 and p99 DNS adds per request, each judged against its budget.

A lookup that finds the application's cache fresh costs nothing; one that misses pays its
search-list walk, name by name (models/dns_cost.py). Misses are a tail effect: with a cache the
share of requests that miss (models/dns.py miss_rate, from the cache TTL and the request rate)
is often under half, so the p50 pays nothing and the p99 pays a whole walk. The prediction
samples requests with the same function the report attributes DNS with (dns.sample_overhead).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.finding import Finding
from analysis.ingest.resolv import ResolvConf
from analysis.models import dns as dns_model
from analysis.models import search_list
from analysis.models.dns_cost import WalkCost, sources, walk_cost

#: requests sampled for the prediction, and the seed (deterministic: same input, same figures)
SAMPLES, SEED = 100_000, 15
QUANTILES = {"p50": 0.5, "p99": 0.99}


@dataclass(frozen=True)
class DnsPrediction:
    """What DNS adds per request in the pod, at p50 and p99, against the budgets."""

    walks: dict[str, WalkCost]
    miss_rate: float
    lookups_per_request: float
    predicted_ms: dict[str, float]   # p50, p99 (and mean)
    budget_ms: dict[str, float]      # p50, p99

    @property
    def source(self) -> str:
        return sources(self.walks)

    @property
    def failed(self) -> list[str]:
        """The quantiles whose prediction is over its budget: [], ['p99'], ['p50', 'p99']."""
        return [q for q in QUANTILES if self.predicted_ms[q] > self.budget_ms[q]]

    def verdicts(self) -> dict[str, dict]:
        return {q: {"predicted_ms": round(self.predicted_ms[q], 1),
                    "budget_ms": self.budget_ms[q],
                    "verdict": "over budget" if q in self.failed else "within budget"}
                for q in QUANTILES}

    def sentence(self) -> str:
        """`p50 0.0 ms (budget 10 ms: within); p99 63.0 ms (budget 50 ms: OVER)`."""
        return "; ".join(f"{q} {v['predicted_ms']:.1f} ms (budget {v['budget_ms']:g} ms: "
                         f"{'OVER' if q in self.failed else 'within'})"
                         for q, v in self.verdicts().items())

    def failure(self) -> str:
        """Which budget failed, in words ('' when none did)."""
        if not self.failed:
            return ""
        return "DNS is over the " + " and ".join(
            f"{q} budget ({self.predicted_ms[q]:.1f} ms > {self.budget_ms[q]:g} ms)"
            for q in self.failed)

    def as_json(self) -> dict:
        return {**self.verdicts(), "failed_budgets": self.failed, "source": self.source,
                "mean_ms": round(self.predicted_ms["mean"], 1),
                "miss_rate": round(self.miss_rate, 4),
                "names": {n: {"queried": list(w.queried), "cost_ms": [round(x, 2)
                                                                     for x in w.name_ms],
                              "answered_by_coredns": list(w.local), "source": w.source}
                          for n, w in self.walks.items()}}


def predict(walks: dict[str, WalkCost], rate_per_s: float, cache_ttl_s: float,
            lookups_per_request: float, budget_p50_ms: float,
            budget_p99_ms: float) -> DnsPrediction:
    """p50, p99 and mean of the DNS time per request, sampled as the report attributes it."""
    miss = dns_model.miss_rate(rate_per_s, cache_ttl_s)
    est = dns_model.DnsEstimate("pod", np.zeros(1), {n: len(w.queried) for n, w in walks.items()},
                                lookups_per_request, miss, walks=walks)
    sample = dns_model.sample_overhead(est, np.random.default_rng(SEED), SAMPLES)
    predicted = {q: float(np.quantile(sample, p)) for q, p in QUANTILES.items()}
    predicted["mean"] = est.mean_ms
    return DnsPrediction(walks, miss, lookups_per_request, predicted,
                         {"p50": budget_p50_ms, "p99": budget_p99_ms})


def walks_for(conf: ResolvConf, names: Sequence[str], dig: pd.DataFrame | None,
              forwarded_ms: float, local_ms: float | None = None) -> dict[str, WalkCost]:
    """Each name's walk cost from the pod's dig evidence (may be None), `forwarded_ms` for
    forwarded names the evidence does not time."""
    dig = dig if dig is not None else pd.DataFrame(columns=["name", "server", "total_ms"])
    return {n: walk_cost(n, list(conf.search), conf.ndots, dig, forwarded_ms, local_ms)
            for n in names}


def dns_findings(conf: ResolvConf, prediction: DnsPrediction, rate_per_s: float,
                 cache_ttl_s: float, query_source: str) -> list[Finding]:
    """One finding per name whose lookup queries more than one name, and one for a resolver
    that is over budget on its own; a blocker when a budget fails."""
    found, search = [], list(conf.search)
    over = prediction.failure()
    budget = f"; {over}" if over else f"; DNS adds {prediction.sentence()}"
    severity = "blocker" if over else "warning"
    lookups = prediction.lookups_per_request if prediction.miss_rate == 1.0 else 1.0
    cache = f"{prediction.miss_rate:.0%} of requests miss a {cache_ttl_s:g} s cache at " \
            f"{rate_per_s:g} req/s"
    for name, walk in prediction.walks.items():
        if len(walk.queried) <= 1:
            continue
        local = search_list.in_cluster(name, search)
        found.append(Finding(
            "dns-in-cluster-walk" if local else "dns-search-expansion", severity,
            round(prediction.miss_rate * lookups * walk.mean_ms, 1),
            evidence=f"{name} ({name.count('.')} dots, ndots:{conf.ndots}) resolves "
                        f"{'in' if local else 'outside'} the cluster: each uncached lookup "
                        f"queries {len(walk.queried)} names: {walk.describe()}; forwarded "
                        f"query time {query_source}; {cache}{budget}.",
            fix=search_list.fix(name, search, conf.ndots),
        ))
    if over and not found:
        each = "; ".join(w.describe() for w in prediction.walks.values())
        found.append(Finding(
            "dns-slow-resolver", "blocker", round(prediction.predicted_ms["mean"], 1),
            evidence=f"{each}; {cache}; {over}.",
            fix="Run NodeLocal DNSCache, or keep (raise) the application's DNS cache TTL.",
        ))
    return found
