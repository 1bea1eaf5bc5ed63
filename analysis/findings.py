"""Findings: what the evidence shows, how bad it is, and what to change."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis import durations, fixes, packet_findings, provider_findings, stats
from analysis.attribution import Analysis
from analysis.decision import FLOOR_REQUESTS, OVER, UNDECIDED, WITHIN
from analysis.finding import Finding, blockers_first, snippet
from analysis.ingest import Evidence
from analysis.ingest.curl_transcript import LISTING, TIMEOUT
from analysis.ingest.other_lines import UPSTREAM_TIMEOUT
from analysis.models import dns_cost, search_list
from analysis.models.credentials import (
    RefreshPolicy,
    distinct_credentials,
    failed_fetches,
    refresh_moments,
)
from analysis.models.credentials import policy as cred_policy
from analysis.models.imds import HOP_LIMIT_FIX
from analysis.models.lock_queue import LockQueue, storm_queue
from analysis.service import ServiceConfig
from analysis.stall_findings import dns_stall_findings
from analysis.words import plural


def _finding(id_: str, severity: str, evidence: str, fix: str, analysis: Analysis | None = None,
             cause: str | None = None, code: list[dict] | None = None) -> Finding:
    """A finding; for a cause, the p50 time it accounts for and the gap predicted without it
    (fixes.gap_after); `code`: the fix as snippets to paste."""
    attr = (analysis.attribution_ms if analysis else None) or {}
    gain = attr.get("p50", {}).get(cause, 0.0) if cause else 0.0
    after = fixes.gap_after(analysis, [cause]) if cause and attr else {}
    return Finding(id_, severity, evidence=evidence, fix=fix, fix_code=code or None,
                   gain_ms=round(float(gain), 1) + 0.0, gap_after_fix_ms=after,
                   cause=cause if after else None)


def _severity(p50_ms: float, p99_ms: float, config: ServiceConfig, analysis: Analysis) -> str:
    """A blocker when a cause alone is over budget at a quantile whose measured gap is not
    decided within budget: there the evidence beats the model, and `ready` stays true.
    Without a measured gap (too few requests) the cause's predicted mean cost per request is
    passed instead: predicted, not measured, it is at most a warning."""
    if not analysis.attribution_ms:
        return "warning" if max(p50_ms, p99_ms) >= 1.0 else "info"
    decided = analysis.verdict.get("by_quantile", {})
    within = {q for q, d in decided.items() if d["decision"] == WITHIN}
    if (p50_ms > config.budget.p50_ms and "p50" not in within) or \
            (p99_ms > config.budget.p99_ms and "p99" not in within):
        return "blocker"
    return "warning" if max(p50_ms, p99_ms) >= 1.0 else "info"


def _documents(count: int, credentials: pd.DataFrame | None, env: str) -> str:
    """'31 credential documents, 7 distinct credentials': the one count of documents the
    report uses (a provider serves one credential in many documents)."""
    distinct = distinct_credentials(credentials, env) if credentials is not None else 0
    return plural(count, "credential document") + (
        f", {plural(distinct, 'distinct credential')}" if distinct else "")


def _threshold(seconds: float) -> str:
    """When the SDK refreshes, for a sentence: 'when less than 15 min remain'."""
    return "when they expire" if seconds < 1 else \
        f"when less than {durations.minutes(seconds)} remain{'s' if seconds == 1 else ''}"


def credential_findings(analysis: Analysis, config: ServiceConfig,
                        evidence: Evidence | None = None) -> list[Finding]:
    est = analysis.refresh.get(analysis.candidate)
    if est is not None and est.overruled:
        return [_finding(
            "credential-refresh-not-seen", "warning" if config.aws_calls_per_request != 0
            else "info",
            f"the configuration ({config.sdk}, {config.credential_provider or 'the provider'}, "
            f"{analysis.candidate} credentials living {est.lifetime_s:.0f} s) predicts "
            f"~{est.predicted_ms:.0f} ms of credential refresh per request, but "
            f"{est.overruled}: nothing is attributed to it (the evidence decides).",
            "Check sdk, credential_provider and aws_calls_per_request in service.yaml; if the "
            "service does call AWS on each request, collect the candidate's credential "
            "documents again (latency-gap collect).")]
    if est is None or est.share_of_requests == 0:
        return []
    policy = cred_policy(config.sdk, config.credential_provider)
    attr = analysis.attribution_ms
    p50, p99 = (attr["p50"]["credential_refresh"], attr["p99"]["credential_refresh"]) if attr \
        else (est.mean_ms(),) * 2
    cost = provider_findings.cost_words(est)
    documents = _documents(est.documents, evidence.credentials if evidence else None,
                           analysis.candidate)
    lived = f"(median of {documents})" if est.documents else \
        "(configured: no document shows a lifetime)"
    seen = (f"{analysis.candidate} credentials live {est.lifetime_s:.0f} s {lived} and keep "
            f"at least {est.floor_s:.0f} s when served ({est.floor_source}); {config.sdk} "
            f"{provider_findings.how(policy, config.credential_provider)} "
            f"{_threshold(policy.refresh_before_expiry_s)}")
    fix = provider_findings.credential_fix(config.credential_provider, config.sdk,
                                           policy.refresh_before_expiry_s)
    code = provider_findings.credential_fix_code(config.credential_provider,
                                                 policy.refresh_before_expiry_s)
    queue = storm_queue(est, analysis.rate_per_s[analysis.candidate])
    waited = f"; {queue.sentence()}" if queue else ""
    if est.aws_calls != 1.0:
        waited = f"; a request makes {est.aws_calls:g} AWS calls (aws_calls_per_request) and in " \
                 f"a storm each one refreshes{waited}"
    if est.storm >= 1.0:
        return [_finding(
            "credential-refresh-every-request", _severity(p50, p99, config, analysis),
            f"{seen}, so every request waits for a refresh ({cost}){waited}.", fix, analysis,
            "credential_refresh", code)] + saturated_lock_findings(analysis, queue, fix)
    if est.storm > 0:
        return [_finding(
            "credential-refresh-storms", _severity(p50, p99, config, analysis),
            f"{seen}; {config.credential_provider or 'the provider'} hands out credentials with "
            f"less than that left {est.storm:.0%} of the time, and then every request waits "
            f"for a refresh ({cost}){waited}.", fix, analysis, "credential_refresh", code)] \
            + saturated_lock_findings(analysis, queue, fix)
    return [_finding(
        "credential-refresh-periodic", _severity(p50, p99, config, analysis),
        f"{seen}: a refresh every ~{est.refresh_interval_s / 60:.0f} min; "
        f"{est.share_of_requests:.2%} of requests wait for it ({cost}).",
        provider_findings.periodic_fix(policy, est), analysis, "credential_refresh")]


def saturated_lock_findings(analysis: Analysis, queue: LockQueue | None, fix: str) -> list[Finding]:
    """A blocker naming the credential lock when requests arrive faster than it serves them;
    a warning only beside a measured gap within budget (the evidence decides)."""
    if queue is None or not queue.saturated:
        return []
    severity = "blocker" if analysis.attribution_ms and not analysis.verdict.get("ready") \
        else "warning"
    return [_finding("credential-lock-saturated", severity, f"{queue.sentence()}.", fix)]


#: (id, severity, which failed fetches, what they did, why, the fix)
FETCH_FAILURES = [
    ("imds-hop-limit", "warning", lambda codes: codes == TIMEOUT, "timed out on the token PUT",
     "IMDS's answer to the IMDSv2 PUT does not travel the extra hop into the pod.",
     HOP_LIMIT_FIX),
    ("credential-fetch-failures", "warning", lambda codes: ~codes.isin([TIMEOUT, LISTING]),
     "got no credential", "The provider or the role refused them.", "Read the provider's log "
     "for these requests; check the pod's iam.amazonaws.com/role annotation and the namespace's "
     "permitted roles (kube2iam, KIAM) or the service account's role (IRSA, Pod Identity), and "
     "that the role trusts whoever assumes it."),
    ("credential-role-listing", "info", lambda codes: codes == LISTING, "returned the role "
     "listing", "A role name is no credential document.", "Capture "
     ".../security-credentials/<role> (the name the listing gives), not the listing."),
]


def credential_fetch_findings(analysis: Analysis, evidence: Evidence) -> list[Finding]:
    """The candidate's credential fetches that got no credential, by what they show, each
    located by the file and line of the first."""
    if evidence.credentials.empty:
        return []
    fetches = int((evidence.credentials["env"] == analysis.candidate).sum())
    failed = failed_fetches(evidence.credentials, analysis.candidate)
    found = []
    for id_, severity, which, did, why, fix in FETCH_FAILURES:
        these = failed[which(failed["code"])].sort_values(["source_file", "line"])
        if not these.empty:
            codes = ", ".join(f"{n} {code}" for code, n in these["code"].value_counts().items())
            first = these.iloc[0]
            found.append(_finding(id_, severity, f"{len(these)} of {fetches} credential fetches "
                                  f"{did} in {analysis.candidate} ({codes}; the first at "
                                  f"{Path(first['source_file']).name} line {first['line']}). "
                                  f"{why}", fix, code=provider_findings.hop_limit_code()
                                  if fix is HOP_LIMIT_FIX else None))
    return found


def dns_findings(analysis: Analysis, config: ServiceConfig, evidence: Evidence) -> list[Finding]:
    cand, base = analysis.dns.get(analysis.candidate), analysis.dns.get(analysis.baseline)
    if cand is None:
        return []
    attr = analysis.attribution_ms
    p50, p99 = (attr["p50"]["dns"], attr["p99"]["dns"]) if attr \
        else (cand.queries_per_request * float(np.mean(cand.query_ms)),) * 2
    conf = evidence.resolv[evidence.resolv["env"] == analysis.candidate] \
        if not evidence.resolv.empty else evidence.resolv
    expanded = {n: k for n, k in cand.names_tried.items() if k > 1}
    base_ms = f"{np.median(base.query_ms):.0f} ms on {analysis.baseline}" if base else \
        f"no dig evidence from {analysis.baseline}"
    cache = "no application DNS cache" if config.dns.cache_ttl_s == 0 else \
        f"a {config.dns.cache_ttl_s:g} s application cache"
    # with every name timed, the median mixes local and forwarded names: the per-name costs
    # below say what a lookup costs
    answers = (f"dig timed every name tried ({len(cand.query_ms)} lookups, local and forwarded "
               f"together a median {np.median(cand.query_ms):.0f} ms) against {base_ms}"
               if cand.source == dns_cost.PER_NAME else
               f"the resolver answers in a median {np.median(cand.query_ms):.0f} ms "
               f"({len(cand.query_ms)} dig lookups) against {base_ms}")
    timing = (f"{answers}; with {cache} at "
              f"{analysis.rate_per_s[analysis.candidate]:.2f} req/s, {cand.miss_rate:.0%} of "
              f"requests miss; per-name cost ({cand.source}): "
              + "; ".join(w.describe() for w in cand.walk_costs().values()))
    if expanded and not conf.empty:
        row = conf.iloc[0]
        search, ndots = row["search"].split(), int(row["ndots"])
        where = {n: "in cluster" if search_list.in_cluster(n, search) else "outside"
                 for n in expanded}
        names = ", ".join(f"{n} ({n.count('.')} dots, resolves {where[n]}) costs {k} names"
                          for n, k in expanded.items())
        said = " ".join(f"{n}: {search_list.fix(n, search, ndots)}" for n in expanded)
        cached = "Keep an application DNS cache." if config.dns.cache_ttl_s else \
            "Add an application DNS cache (service.yaml says there is none)."
        return [_finding(
            "dns-search-expansion", _severity(p50, p99, config, analysis),
            f"resolv.conf has ndots:{ndots} and {len(search)} search domains: {names} per "
            f"uncached lookup; {timing}.", f"{said} {cached}", analysis, "dns",
            _dns_code(list(expanded), search, ndots, config))]
    if p50 >= 1.0 or p99 >= 1.0:
        return [_finding("dns-slow-resolver", _severity(p50, p99, config, analysis), f"{timing}.",
                         "Run NodeLocal DNSCache, or raise the application's DNS cache TTL.",
                         analysis, "dns")]
    return []


#: the JVM's own DNS cache when service.yaml names none (seconds): what the report suggests
JVM_DNS_CACHE_S = 30


def _dns_code(names: list[str], search: list[str], ndots: int,
              config: ServiceConfig) -> list[dict]:
    """The DNS fix as snippets: the names fully qualified, the pod's dnsConfig ndots that
    makes each tried as written first, and, for a JVM service, its DNS cache TTL."""
    code = [snippet("the host names, fully qualified (trailing dot: one query each), where "
                    "the service configures them", "text",
                    "\n".join(search_list.full_name(n, search) for n in names)),
            snippet("or: the pod's dnsConfig (ndots low enough for these names)", "yaml",
                    search_list.dns_config(min(search_list.fixed_ndots(n, search, ndots)
                                               for n in names)))]
    if (config.sdk or "").startswith("aws-java"):
        ttl = config.dns.cache_ttl_s or JVM_DNS_CACHE_S
        code.append(snippet(
            "and the JVM's DNS cache, in $JAVA_HOME/conf/security/java.security (or "
            "java.security.Security.setProperty at start-up)", "properties",
            f"networkaddress.cache.ttl={ttl:g}"))
    return code


def _collection_time(requests: int, rates: dict[str, float]) -> str:
    """How long the slowest environment takes to serve `requests` at its observed rate."""
    serving = [rate for rate in rates.values() if rate > 0]
    minutes = max(requests / rate for rate in serving) / 60 if serving else 0.0
    return f"{minutes / 60:.1f} h" if minutes >= 90 else f"{max(minutes, 1):.0f} min"


def decision_findings(analysis: Analysis) -> list[Finding]:
    """Quantiles the evidence cannot decide against the budget, and how many requests would.

    A blocker when nothing is decided over budget (then these are why the service is not
    ready); a warning beside a quantile decided over (the verdict stands on that one)."""
    decided = analysis.verdict.get("by_quantile", {})
    undecided = {q: d for q, d in decided.items() if d["decision"] == UNDECIDED}
    if not undecided:
        return []
    severity = "warning" if any(d["decision"] == OVER for d in decided.values()) else "blocker"
    counts = ", ".join(f"{env}: {v['n']}" for env, v in analysis.latency_ms.items())
    if not analysis.gap_ms:
        needed = max(d["requests_needed"] for d in undecided.values())
        return [_finding(
            "too-few-requests", severity,
            f"requests with a backend time: {counts}; below {FLOOR_REQUESTS} in an environment "
            "no gap is measured, so nothing is decided.",
            f"Collect at least {needed} requests in each environment (a p99 needs them; about "
            f"{_collection_time(needed, analysis.rate_per_s)} at the observed rates).")]
    found = []
    for quantile, d in undecided.items():
        needed = d["requests_needed"]
        more = (f"about {needed} requests in each environment (about "
                f"{_collection_time(needed, analysis.rate_per_s)} at the observed rates)"
                if needed else "more requests in each environment")
        found.append(_finding(
            f"undecided-gap-{quantile}", severity,
            f"the {quantile} gap is not decided against its budget: {d['why']} ({counts} "
            "requests).", f"Collect {more}, over the same hours in both, and run the report "
            "again."))
    return found


def evidence_findings(analysis: Analysis, config: ServiceConfig,
                      evidence: Evidence) -> list[Finding]:
    found = []
    for env, kind in evidence.missing():
        if provider_findings.nothing_to_capture(analysis, config, env, kind):
            continue
        found.append(_finding(
            f"missing-{kind.replace('.', '-')}-{env}", "warning",
            f"no {kind} evidence for {env}: the analysis of this cause is incomplete.",
            f"Collect {kind} in {env} (README: evidence layout)."))
    rejected = int(evidence.inputs["rejected"].sum())
    if rejected:
        found.append(_finding(
            "rejected-lines", "info", f"{rejected} input lines could not be parsed; they are "
            "listed in the data-quality section.", "Check the samples shown; fix the collector "
            "or name the format in service.yaml."))
    overlap = evidence.overlap(analysis.baseline, analysis.candidate)
    if overlap is not None and overlap <= pd.Timedelta(0):
        found.append(_finding(
            "no-time-overlap", "warning", f"the {analysis.baseline} and "
            f"{analysis.candidate} logs cover different hours; load and time of day may "
            "explain part of the gap.", "Collect both environments over the same hours."))
    unexplained = (analysis.attribution_ms or {}).get("p50", {}).get("unexplained", 0.0)
    if unexplained > config.budget.p50_ms:
        found.append(_finding(
            "unexplained-gap", "warning", f"{unexplained:.0f} ms of the p50 gap is not explained "
            "by credential refresh or DNS.", "Look for other differences: CPU limits and "
            "throttling, network path, connection reuse, sidecars."))
    return found


def no_answer_findings(analysis: Analysis, evidence: Evidence) -> list[Finding]:
    """Requests no backend answered (ALB -1, nginx `-` or a 502/504 nginx wrote itself, Envoy
    `-`), counted the same way in both environments: the gap is measured on answered requests
    only, so a candidate that fails more often is a finding of its own."""
    base, cand = analysis.baseline, analysis.candidate
    latency = evidence.latency
    if latency.empty:
        return []
    unanswered = latency["latency_ms"].isna().groupby(latency["env"]).agg(["sum", "size"])
    if not {base, cand} <= set(unanswered.index) or not unanswered["sum"].any():
        return []
    rate = {env: unanswered.loc[env, "sum"] / unanswered.loc[env, "size"] for env in (base, cand)}
    timeouts = evidence.skipped[(evidence.skipped["what"] == UPSTREAM_TIMEOUT)
                                & (evidence.skipped["env"] == cand)]
    worse = unanswered.loc[cand, "sum"] >= 5 and rate[cand] > max(2 * rate[base],
                                                                  rate[base] + 0.01)
    said = "; ".join(f"{env}: {int(unanswered.loc[env, 'sum'])} of "
                     f"{int(unanswered.loc[env, 'size'])} requests ({rate[env]:.1%})"
                     for env in (base, cand))
    extra = f"; {len(timeouts)} nginx 'upstream timed out' error-log lines in {cand}" \
        if len(timeouts) else ""
    return [_finding(
        "no-backend-answer", "warning" if worse else "info",
        f"requests no backend answered (ALB -1, nginx 502/504 or `-`, Envoy `-`): {said}{extra}. "
        "The gap is measured on answered requests in both environments.",
        f"Find why {cand}'s backends fail or time out (upstream timeouts, readiness, CPU "
        "limits, connection reuse); fix that before reading the gap." if worse else
        "None needed: both environments fail alike.")]


def _first_after(times: pd.Series, moments: pd.Series) -> np.ndarray:
    """Positions of the first request at or after each moment (times sorted)."""
    at = pd.DatetimeIndex(times).searchsorted(pd.DatetimeIndex(moments))
    return at[at < len(times)]


def periodic_refresh_check(analysis: Analysis, evidence: Evidence, latency: pd.DataFrame,
                           sdk_policy: RefreshPolicy | None) -> list[Finding]:
    """When refreshes are periodic, the first request after each predicted refresh pays it:
    it should be slower than the typical request by most of a refresh."""
    cand = analysis.candidate
    est = analysis.refresh.get(cand)
    if sdk_policy is None or est is None or est.storm > 0 or est.refresh_interval_s <= 0 \
            or est.cost_ms < 10 or evidence.credentials.empty:
        return []
    mine = latency[latency["env"] == cand].sort_values("time")
    due = refresh_moments(evidence.credentials, cand, sdk_policy)
    due = due.loc[~due["every_request"], "refresh_at"].drop_duplicates()
    due = due[(due >= mine["time"].min()) & (due <= mine["time"].max())]
    if len(due) < MIN_REFRESHES_TO_CHECK:
        return []
    values = mine["latency_ms"].to_numpy()
    excess = float(np.median(values[_first_after(mine["time"], due)]) - np.median(values))
    agrees = excess >= 0.5 * est.cost_ms
    return [_finding(
        "check-periodic-refresh", "info" if agrees else "warning",
        f"the first {cand} request after each of {len(due)} predicted credential refreshes is a "
        f"median {excess:.0f} ms slower than the median request; a refresh predicts "
        f"~{est.cost_ms:.0f} ms: the evidence {'supports' if agrees else 'contradicts'} it.",
        "None needed." if agrees else "Check the SDK, its version and the provider in "
        "service.yaml: the requests after the predicted refreshes do not pay one.")]


#: fewer predicted refreshes than this in the log say nothing either way
MIN_REFRESHES_TO_CHECK = 3


def model_checks(analysis: Analysis, evidence: Evidence,
                 sdk_policy: RefreshPolicy | None = None) -> list[Finding]:
    """Evidence for or against the model, beyond the quantiles it was fitted to."""
    found = []
    base, cand = analysis.baseline, analysis.candidate
    latency = evidence.latency.dropna(subset=["latency_ms"])
    est = analysis.refresh.get(cand)
    if est is not None and est.storm >= 1.0 and est.cost_ms >= 10:
        # if every request refreshes, even the fastest requests pay the refresh
        fastest = {env: latency.loc[latency["env"] == env, "latency_ms"].quantile(0.05)
                   for env in (base, cand)}
        shift = fastest[cand] - fastest[base]
        agrees = shift >= 0.7 * est.cost_ms
        found.append(_finding(
            "check-every-request-pays", "info" if agrees else "warning",
            f"the fastest 5% of {cand} requests are {shift:.0f} ms slower than {base}'s; a "
            f"refresh on every request predicts ~{est.cost_ms:.0f} ms: the evidence "
            f"{'supports' if agrees else 'contradicts'} it.",
            "None needed." if agrees else "Check the SDK and provider named in service.yaml: "
            "the fastest requests do not pay a refresh."))
    per_minute = stats.per_minute(latency[latency["env"] == cand])
    if len(per_minute) >= 10 and per_minute["count"].nunique() > 1:
        rho = per_minute["count"].rank().corr(per_minute["median"].rank())
        rises = rho > 0.5
        verdict = "rises with load, which configuration causes do not explain" if rises else \
            "does not depend on load, as the configuration causes predict"
        found.append(_finding(
            "check-load", "warning" if rises else "info",
            f"per minute, {cand} median latency against request count: Spearman rho = "
            f"{rho:.2f} over {len(per_minute)} minutes; latency {verdict}.",
            "Compare both environments at the same load; look for CPU limits and throttling."
            if rises else "None needed."))
    return found + periodic_refresh_check(analysis, evidence, latency, sdk_policy)


def findings(analysis: Analysis, config: ServiceConfig, evidence: Evidence) -> list[dict]:
    """All findings, blockers first, as summary.json carries them (Finding.as_dict())."""
    fetches = credential_fetch_findings(analysis, evidence)
    found = decision_findings(analysis) + credential_findings(analysis, config, evidence) \
        + dns_findings(analysis, config, evidence) \
        + dns_stall_findings(analysis, config, evidence) + fetches \
        + provider_findings.for_candidate(analysis, config, fetches, _finding) \
        + evidence_findings(analysis, config, evidence) \
        + no_answer_findings(analysis, evidence) \
        + model_checks(analysis, evidence, cred_policy(config.sdk, config.credential_provider))
    found = packet_findings.with_packets(
        found, analysis, evidence, _finding,
        lambda p50, p99: _severity(p50, p99, config, analysis))
    return [f.as_dict() for f in blockers_first(found)]
