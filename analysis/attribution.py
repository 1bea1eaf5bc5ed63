"""Gap decomposition and verdict: how much of the gap each cause explains, and what to do.

Method (docs/method.md): predict the candidate's latency as the baseline's plus each cause's
per-request overhead (seeded Monte Carlo), attribute the observed gap at each quantile among
the causes with Shapley values (quantiles do not add), and call the rest unexplained. Where an
environment has packet captures, its per-request DNS and credential time is drawn from its
captured requests instead of the models (analysis/capture/measured.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from itertools import permutations

import numpy as np
import pandas as pd

from analysis.capture import measured as captured
from analysis.decision import FLOOR_REQUESTS, OVER, WITHIN, decide
from analysis.ingest import Evidence
from analysis.models import credentials as cred_model
from analysis.models import dns as dns_model
from analysis.models import dns_stalls, lock_queue, refresh_check
from analysis.service import ServiceConfig
from analysis.stats import QUANTILES, SEED, gap_intervals, quantiles
from analysis.words import signed

CAUSES = ("credential_refresh", "dns")
MONTE_CARLO_N = 40_000


@dataclass
class Analysis:
    service: str
    baseline: str
    candidate: str
    latency_ms: dict
    gap_ms: dict
    attribution_ms: dict
    predicted_ms: dict
    rate_per_s: dict
    refresh: dict = field(default_factory=dict)   # env -> RefreshEstimate | None
    dns: dict = field(default_factory=dict)       # env -> DnsEstimate | None
    stalls: dict = field(default_factory=dict)    # env -> dns_stalls.StallRate | None
    #: env -> its captured requests (capture.measured.Measured), only for environments with
    #: packet captures: their DNS and credential time is drawn from these, not the models
    measured: dict = field(default_factory=dict)
    verdict: dict = field(default_factory=dict)
    findings: list = field(default_factory=list)


def request_rate(latency: pd.DataFrame, env: str) -> float:
    """Requests per second over the span the environment's log covers."""
    times = latency.loc[latency["env"] == env, "time"]
    span = (times.max() - times.min()).total_seconds() if len(times) > 1 else 0.0
    return len(times) / span if span > 0 else float(len(times))


def _overheads(analysis: Analysis, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Per-request extra time of each cause in the candidate, beyond the baseline's."""
    base, cand = analysis.baseline, analysis.candidate
    out = {}
    measured_c, measured_b = analysis.measured.get(cand), analysis.measured.get(base)
    if measured_c is not None:  # measured beats modelled: both causes from the packets
        dns_ms, metadata_ms = measured_c.sample(rng, n)
        out["credential_refresh"] = metadata_ms - _baseline_mean(analysis, "credential_refresh")
        out["dns"] = dns_ms - _baseline_mean(analysis, "dns")
        return out
    refresh_c = analysis.refresh.get(cand)
    if refresh_c is not None:
        drawn = rng.random(n)
        paid = drawn < refresh_c.share_of_requests
        base_mean = _baseline_mean(analysis, "credential_refresh")
        fetch = cred_model.sample_cost(refresh_c, rng, n)
        extra = paid * fetch
        in_storm = drawn < refresh_c.storm
        calls = None
        if refresh_c.aws_calls != 1.0 and refresh_c.storm > 0:
            # in a storm every AWS call refreshes: k calls, k fetches (none without a call)
            calls = cred_model.aws_calls(refresh_c.aws_calls, rng, n)
            extra = np.where(in_storm & (calls == 0), 0.0, extra)
            for k in range(2, int(calls.max()) + 1):
                extra = extra + (in_storm & (calls >= k)) * cred_model.sample_cost(
                    refresh_c, rng, n)
        queue = lock_queue.storm_queue(refresh_c, analysis.rate_per_s[cand])
        if queue is not None:  # in a storm each AWS call waits for the lock, then fetches
            horizon = analysis.latency_ms[cand]["n"] if queue.saturated else None
            waits = lock_queue.sample_wait(queue.rate_per_s, fetch, rng, horizon)
            extra = extra + in_storm * waits * (1.0 if calls is None else calls)
        out["credential_refresh"] = extra - base_mean
    dns_c, dns_b = analysis.dns.get(cand), analysis.dns.get(base)
    if dns_c is not None:
        base_mean = dns_model.sample_overhead(dns_b, rng, n).mean() if dns_b else 0.0
        if measured_b is not None:
            base_mean = float(measured_b.dns_ms.mean())
        out["dns"] = dns_model.sample_overhead(dns_c, rng, n) - base_mean
        stall = analysis.stalls.get(cand)
        if stall is not None and stall.stalls:  # timeout stalls, at their own rate
            base_stall = 0.0 if measured_b is not None else \
                dns_stalls.mean_stall_ms(dns_b, analysis.stalls.get(base))
            out["dns"] = out["dns"] + dns_stalls.sample_stalls(dns_c, stall, rng, n) - base_stall
    return out


def _baseline_mean(analysis: Analysis, cause: str) -> float:
    """The baseline's mean per-request time of a cause (ms), for a measured candidate: its own
    captured requests when it has a capture, else the model's mean (stalls included)."""
    base = analysis.baseline
    measured_b = analysis.measured.get(base)
    if measured_b is not None:
        return float((measured_b.metadata_ms if cause == "credential_refresh"
                      else measured_b.dns_ms).mean())
    if cause == "credential_refresh":
        est = analysis.refresh.get(base)
        return est.share_of_requests * est.cost_ms if est else 0.0
    est = analysis.dns.get(base)
    if est is None:
        return 0.0
    return est.mean_ms + dns_stalls.mean_stall_ms(est, analysis.stalls.get(base))


def sources(analysis: Analysis) -> dict[str, dict[str, str]]:
    """Per environment and cause, where its per-request time comes from: 'measured from
    packet capture: N requests' or 'model' (summary.json `overhead_source`, the report)."""
    return {env: dict.fromkeys(CAUSES, captured.source(analysis.measured.get(env)))
            for env in (analysis.baseline, analysis.candidate)}


def shapley(value, players: tuple[str, ...]) -> dict[str, float]:
    """Shapley value of each player for a set function value(frozenset) -> float."""
    totals = dict.fromkeys(players, 0.0)
    orders = list(permutations(players))
    for order in orders:
        seen: frozenset = frozenset()
        for player in order:
            totals[player] += value(seen | {player}) - value(seen)
            seen = seen | {player}
    return {p: t / len(orders) for p, t in totals.items()}


def attribute(baseline_ms: np.ndarray, overheads: dict[str, np.ndarray], gap: dict,
              rng: np.random.Generator) -> tuple[dict, dict]:
    """Shapley attribution of each quantile's gap; the rest of the observed gap is unexplained."""
    n = len(next(iter(overheads.values()))) if overheads else MONTE_CARLO_N
    base = rng.choice(baseline_ms, size=n, replace=True)
    causes = tuple(overheads)
    attribution, predicted = {}, {}
    for name, q in QUANTILES.items():
        q0, memo = float(np.quantile(base, q)), {}

        def value(subset: frozenset, q=q, q0=q0, memo=memo) -> float:
            if subset not in memo:
                extra = sum((overheads[c] for c in subset), np.zeros(n))
                memo[subset] = float(np.quantile(base + extra, q)) - q0
            return memo[subset]

        shares = shapley(value, causes) if causes else {}
        row = {c: round(shares.get(c, 0.0), 1) + 0.0 for c in CAUSES}  # + 0.0: no "-0.0"
        row["unexplained"] = round(gap[name]["value"] - sum(shares.values()), 1) + 0.0
        attribution[name] = row
        predicted[name] = round(q0 + sum(shares.values()), 1)
    return attribution, predicted


def analyse(evidence: Evidence, config: ServiceConfig) -> Analysis:
    """Measure the gap between baseline and candidate and attribute it to its causes."""
    base, cand = config.baseline, config.candidate
    values = evidence.latency["latency_ms"].to_numpy(float)
    answered = ~np.isnan(values)
    samples = {env: values[answered & (evidence.latency["env"] == env).to_numpy(bool)]
               for env in (base, cand)}
    rates = {env: request_rate(evidence.latency, env) for env in (base, cand)}
    enough = all(len(v) >= FLOOR_REQUESTS for v in samples.values())
    gap = gap_intervals(samples[base], samples[cand]) if enough else {}
    analysis = Analysis(
        service=config.name, baseline=base, candidate=cand,
        latency_ms={env: {"n": int(len(v)), **{k: round(x, 1) for k, x in
                                               (quantiles(v) if len(v) else {}).items()}}
                    for env, v in samples.items()},
        gap_ms=gap, attribution_ms={}, predicted_ms={}, rate_per_s=rates,
    )
    providers = {base: "instance-profile", cand: config.credential_provider}
    # the refresh policy depends on (sdk, provider): IMDS on EC2, the pod's own mechanism
    policies = {env: cred_model.policy(config.sdk, providers[env]) for env in (base, cand)}
    for env in (base, cand):
        analysis.refresh[env] = cred_model.refresh_estimate(
            env, evidence.credentials, policies[env], rates[env], providers[env],
            evidence.metadata, config.sdk_version,
            config.provider_settings if env == cand else None) if policies[env] else None
        analysis.dns[env] = dns_model.dns_estimate(
            env, evidence.dig, evidence.resolv, config.dns.names,
            config.dns.lookups_per_request, config.dns.cache_ttl_s, rates[env])
        analysis.stalls[env] = dns_stalls.stall_rate(evidence.dig, env,
                                                     dns_model.SYSTEM_RESOLVER)
        found = captured.measured(evidence.capture_requests, env)
        if found is not None:
            analysis.measured[env] = found
    if config.aws_calls_per_request:  # 0 is handled by _checked: nothing on the path
        analysis.refresh = {env: est and replace(est, aws_calls=config.aws_calls_per_request)
                            for env, est in analysis.refresh.items()}
    if policies[cand]:
        analysis.refresh[cand] = _checked(analysis.refresh[cand], evidence, config,
                                          policies[cand])
    if enough:
        rng = np.random.default_rng(SEED)
        overheads = _overheads(analysis, rng, MONTE_CARLO_N)
        analysis.attribution_ms, analysis.predicted_ms = attribute(
            samples[base], overheads, gap, rng)
    analysis.verdict = verdict(analysis, config, evidence)
    return analysis


def _checked(est, evidence: Evidence, config: ServiceConfig, policy):
    """The candidate's refresh estimate as the evidence allows: none when service.yaml says no
    AWS call is on the request path, none when the latency does not show the predicted cost
    (the finding then names the contradiction)."""
    if est is None or est.share_of_requests == 0:
        return est
    why = "service.yaml says no AWS call is on the request path (aws_calls_per_request: 0)" \
        if config.aws_calls_per_request == 0 else refresh_check.not_shown(
            est, evidence.latency, evidence.credentials, config.baseline, config.candidate,
            policy.refresh_before_expiry_s)
    if not why:
        return est
    return replace(est, share_of_requests=0.0, storm=0.0, overruled=why,
                   predicted_ms=est.mean_ms())


def _explains(cause: str, share: float, gap: float) -> str:
    """'credential refresh explains 80 ms', or, when the model puts the cause a little above
    the measured gap (the unexplained rest is then negative), that it explains all of it."""
    if round(share) <= round(gap):
        return f"{cause} explains {share:.0f} ms"
    return (f"{cause} explains all of it (the model puts it at {share:.0f} ms, "
            f"{share - gap:.0f} ms above what was measured)")


def verdict(analysis: Analysis, config: ServiceConfig, evidence: Evidence) -> dict:
    """The cause of the gap and whether the candidate is ready (the summary.json
    contract: README.md, "What you get").

    Each quantile with a budget is first decided over, within or undecided from its 95%
    interval (analysis/decision.py). Ready when p50 and p99 are both decided within; otherwise
    the cause is judged at p50 when p50 is decided over, else at p99 when p99 is (so a tail
    effect is not called `unexplained` because p50 has no gap to attribute); with neither
    decided over and one undecided, the verdict is inconclusive.
    """
    cand = analysis.candidate
    counts = {env: values["n"] for env, values in analysis.latency_ms.items()}
    decided = decide(analysis.gap_ms, counts, config.budget)
    by_quantile = {"by_quantile": {q: d.as_dict() for q, d in decided.items()}}
    over = [q for q, d in decided.items() if d.decision == OVER]
    if not analysis.gap_ms:
        listed = ", ".join(f"{env}: {n}" for env, n in counts.items())
        return {"cause": "inconclusive", "ready": False,
                "summary": f"Too few requests to measure a gap ({listed}; at least "
                           f"{FLOOR_REQUESTS} in each environment are needed).", **by_quantile}
    if all(d.decision == WITHIN for d in decided.values()):
        gap50, gap99 = analysis.gap_ms["p50"]["value"], analysis.gap_ms["p99"]["value"]
        return {"cause": "none", "ready": True,
                "summary": f"{cand} is within budget: p50 {signed(gap50)} ms (budget "
                           f"{config.budget.p50_ms:g} ms), p99 {signed(gap99)} ms (budget "
                           f"{config.budget.p99_ms:g} ms).", **by_quantile}
    if not over:
        undecided = "; ".join(f"{q}: {d.why}" for q, d in decided.items()
                              if d.decision != WITHIN)
        return {"cause": "inconclusive", "ready": False,
                "summary": f"Not enough evidence to decide against the budget ({undecided}).",
                **by_quantile}
    at = over[0]
    parts = analysis.attribution_ms[at]
    gap = analysis.gap_ms[at]["value"]
    cred, dns, rest = parts["credential_refresh"], parts["dns"], parts["unexplained"]
    if cred >= gap / 4 and dns >= gap / 4:
        cause = "both"
    elif rest > max(cred, dns):
        missing = [kind for env, kind in evidence.missing() if kind in ("credentials", "dig")]
        cause = "inconclusive" if missing or config.sdk is None else "unexplained"
    else:
        cause = "credential_refresh" if cred >= dns else "dns"
    words = {
        "credential_refresh": _explains("credential refresh", cred, gap),
        "dns": _explains("DNS resolution", dns, gap),
        "both": f"credential refresh ({cred:.0f} ms) and DNS ({dns:.0f} ms) explain it"
                + (f" (the model puts them {cred + dns - gap:.0f} ms above what was measured)"
                   if round(cred + dns) > round(gap) else ""),
        "unexplained": f"neither credential refresh ({cred:.0f} ms) nor DNS ({dns:.0f} ms) "
                       f"explains it",
        "inconclusive": "the evidence is not enough to attribute it (no SDK named, or "
                        "credential or dig evidence missing)",
    }[cause]
    return {"cause": cause, "ready": False,
            "summary": f"{cand} is {gap:.0f} ms slower than {analysis.baseline} at {at}; "
                       f"{words}.", **by_quantile}
