"""The timeout-stall finding: lookups that waited out a resolver timeout, with their rate per
environment (docs/method.md, Timeout stalls)."""

from __future__ import annotations

from analysis.attribution import Analysis
from analysis.decision import WITHIN
from analysis.finding import Finding
from analysis.ingest import Evidence
from analysis.models import dns_stalls, resolver_options
from analysis.models.resolver_options import ResolverOptions
from analysis.service import ServiceConfig


def dns_stall_findings(analysis: Analysis, config: ServiceConfig,
                       evidence: Evidence) -> list[Finding]:
    """Lookups that waited out a resolver timeout, with their rate per environment: a tail
    cause of their own, never folded into the median query (analysis/models/dns_stalls.py)."""
    base, cand = analysis.baseline, analysis.candidate
    rates = {env: analysis.stalls.get(env) for env in (base, cand)}
    if not any(r is not None and r.stalls for r in rates.values()):
        return []
    conf = evidence.resolv[evidence.resolv["env"] == cand] if not evidence.resolv.empty \
        else evidence.resolv
    options = ResolverOptions.from_row(conf.iloc[0]) if not conf.empty else ResolverOptions()
    est, stall = analysis.dns.get(cand), rates[cand]
    names = est.queries_per_request if est else config.dns.lookups_per_request
    seen = stall if stall is not None and stall.stalls else None
    predicted = dns_stalls.predict(options, names, stall_rate=seen.rate if seen else 0.0,
                                   stall_ms=seen.stall_ms if seen else None)
    decided = analysis.verdict.get("by_quantile", {}).get("p99", {})
    level = dns_stalls.severity(stall, rates[base], predicted, config.budget.p99_ms,
                                decided.get("decision") == WITHIN, bool(analysis.gap_ms))
    said = "; ".join(r.describe() for r in (rates[cand], rates[base]) if r is not None)
    how = "A and AAAA go out in parallel from one socket through DNAT, so the conntrack race " \
        "can drop one" if options.race else "A and AAAA do not race here"
    evidence = (
        f"dig lookups that waited out a resolver timeout (timeout:{options.timeout_s} "
        f"attempts:{options.attempts}): {said}. With {names:.2f} names queried per request, "
        f"{predicted.stall_per_request:.1%} of {cand} requests meet a stall: "
        f"+{predicted.expected_ms:.1f} ms per request on average, +{predicted.p99_ms:.0f} ms "
        f"at p99 (budget {config.budget.p99_ms:g}); {how}. Stalls are left out of the median "
        "query and added at their rate.")
    rates_seen = {r.env: {"stalls": r.stalls, "lookups": r.lookups, "rate": round(r.rate, 4),
                          "stall_ms": round(r.stall_ms, 0)}
                  for r in rates.values() if r is not None}
    # gain and gap after the fix stay with the DNS cause's finding: the attribution of `dns`
    # holds the stalls with the search-list walk
    return [Finding("dns-timeout-stalls", level, evidence=evidence,
                    fix=resolver_options.fix(options),
                    fix_code=resolver_options.fix_code(options) or None,
                    gain_ms=0.0, gap_after_fix_ms={},
                    rates=rates_seen)]
