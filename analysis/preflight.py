"""`latency-gap preflight`: the pathological combinations of defaults, before a migration.

Works from configuration alone (SDK, credential provider, credential lifetime, resolv.conf,
host names): no latency logs needed. Each finding says what it expects to add per request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from analysis import durations
from analysis.errors import ConfigError
from analysis.finding import Finding
from analysis.models import imds, providers
from analysis.models import refresh_timing as cred_model
from analysis.models.lock_queue import LockQueue
from analysis.provider_findings import credential_fix
from analysis.service import DEFAULT_CACHE_TTL_S, Budget, ProviderSettings, load_config

# The flags alone (--sdk, --provider, ...) are arithmetic: this module imports no pandas or
# numpy. Reading evidence (folder mode) and sampling DNS (a resolv.conf and names) import
# them where they run.
if TYPE_CHECKING:
    import pandas as pd

    from analysis.ingest.resolv import ResolvConf
    from analysis.models.resolver_options import ResolverOptions
    from analysis.preflight_dns import DnsPrediction

#: One query to the cluster resolver when there is no dig evidence: CoreDNS through kube-proxy
#: on the same network is a millisecond or two; flagged as an estimate wherever it is used.
DEFAULT_QUERY_MS = 2.0
QUERY_SOURCES = {"assumed": "assumed: no dig evidence; give --dns-ms",
                 "dig": "measured: median of the dig lookups", "given": "given with --dns-ms",
                 "dig, not --dns-ms": "measured: median of the dig lookups; --dns-ms not "
                 "used, the evidence decides"}


@dataclass
class Preflight:
    sdk: str | None
    provider: str | None
    lifetime_s: float | None
    rate_per_s: float
    findings: list[Finding] = field(default_factory=list)
    #: per host name, the names one uncached lookup queries (search_list.names_queried)
    names_queried: dict[str, list[str]] = field(default_factory=dict)
    query_ms: float = DEFAULT_QUERY_MS
    query_source: str = "assumed"   # assumed | dig | given (--dns-ms)
    #: what resolv.conf's options make of a lost packet (models/resolver_options.py)
    resolver: ResolverOptions | None = None
    #: the p50 and p99 DNS adds per request, judged against the budgets
    dns: DnsPrediction | None = None
    rate_source: str = "given"      # given | logs (folder mode: requests in the latency logs)
    #: the `--set` overrides of service.yaml keys this run used (folder mode)
    what_if: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        """What `preflight --json` prints."""
        return {"sdk": self.sdk, "provider": self.provider, "lifetime_s": self.lifetime_s,
                "blocked": self.blocked, "rate_per_s": self.rate_per_s,
                "rate_source": self.rate_source, "added_ms_per_request": round(self.added_ms, 1),
                "dns_query_ms": self.query_ms, "dns_query_time": self.query_source,
                "names_queried": self.names_queried,
                "dns": self.dns.as_json() if self.dns else None,
                "findings": [f.as_dict() for f in self.findings], "what_if": self.what_if}

    @property
    def blocked(self) -> bool:
        return any(f.blocker for f in self.findings)

    @property
    def added_ms(self) -> float:
        return sum(f.added_ms_per_request for f in self.findings)


def credential_check(sdk: str, provider: str | None, lifetime_s: float, rate_per_s: float,
                     sdk_version: str | None = None, budget_ms: float = 10.0,
                     settings: ProviderSettings | None = None,
                     floor: tuple[float, str] | None = None,
                     call_ms: float | None = None,
                     timed_out_puts: tuple[pd.Series, int] | None = None,
                     aws_calls: float | None = None) -> list[Finding]:
    """`floor`: the least time left on served credentials and where that was read (the
    documents, in folder mode); without it the provider's configuration says. `call_ms`: one
    metadata call as the evidence timed it; without it the provider's estimate.
    `timed_out_puts`: (waits of timed token PUTs that got no answer, fetches recorded as
    timing out on the PUT), folder mode: the hop-limit symptom seen, whatever
    `settings.hop_limit` says (analysis/models/imds.py hop_limit_cost). `aws_calls`: AWS calls
    per request (None: 1); 0 means no request waits for a refresh, in a storm each call does."""
    policy = cred_model.policy(sdk, provider)
    if aws_calls == 0:
        return [Finding("credential-refresh-off-path", "info", 0.0,
                        evidence="no AWS call on the request path (aws_calls_per_request 0): "
                                 f"{sdk}'s refreshes cost no request anything.",
                        fix="None needed; give the number of AWS calls a request makes if a "
                            "request does make one.")]
    calls_per_request = 1.0 if aws_calls is None else aws_calls
    timed = call_ms is not None
    call_ms = call_ms if timed else providers.call_ms(provider)
    gets, puts = policy.calls_per_refresh, 0
    if policy.provider == "imds":
        gets, puts = imds.calls_per_refresh(sdk, getattr(settings, "imds_v2", None),
                                            policy.calls_per_refresh)
    hop = None
    if policy.provider == "imds" and (timed_out_puts is not None or imds.hop_limit_blocks(
            provider, getattr(settings, "hop_limit", None))):
        hop, puts = imds.hop_limit_cost(sdk, *(timed_out_puts or (None, 0))), 0
    cost = gets * call_ms + puts * imds.TOKEN_PUT_MS
    floor_s, source = floor or (cred_model.min_served_remaining_s(provider, lifetime_s, settings),
                                cred_model.configured_floor(provider, settings))
    storm, interval, share = cred_model.refresh_share(policy, lifetime_s, provider, rate_per_s,
                                                      deferral=False, floor_s=floor_s)
    found = expired_check(sdk, sdk_version, provider) + hop_check(hop, share, budget_ms)
    threshold_min = policy.refresh_before_expiry_s / 60
    calls = f"{gets} {providers.call_word(provider)}{'s' if gets != 1 else ''}" + \
        (f" + {puts} token PUT{'s' if puts != 1 else ''}" if puts else "")
    if storm > 0 and policy.defers_short_expiry(sdk_version):
        said = f"{sdk} {sdk_version}" if sdk_version else f"{sdk} (version not given)"
        low, high = (e / 60 for e in policy.extension_s())
        _, cycle, deferred = cred_model.refresh_share(policy, lifetime_s, provider, rate_per_s,
                                                      sdk_version, floor_s=floor_s)
        first = ".".join(map(str, policy.defers_short_expiry_from))
        why = policy.short_expiry_source or policy.source
        return found + [Finding(
            f"{sdk}-short-expiry", "warning", round(deferred * cost, 1),
            evidence=f"{provider or 'the provider'} hands out credentials with less than "
                        f"{sdk}'s {durations.minutes(policy.refresh_before_expiry_s)} refresh "
                        f"window left; {said} (>= {first}, {why}) moves such an expiry "
                        f"{low:.0f}-{high:.0f} min ahead instead of refreshing on every call (a "
                        f"refresh every ~{cycle / 60:.0f} min), so requests may be signed with "
                        "expired credentials (403 ExpiredToken, then a retry).",
            fix=f"Serve credentials with more than {high:.0f} min left, or move to IRSA / "
                f"Pod Identity; before {first} the same setup refreshes on every call.",
        )]
    added = share * cost
    if storm == 0 and added < 1.0:
        return found
    what = "every request refreshes" if storm >= 1 else \
        f"every request refreshes {storm:.0%} of the time" if storm > 0 else \
        f"a refresh every ~{interval / 60:.0f} min, {share:.2%} of requests wait for it"
    queue = LockQueue(rate_per_s * calls_per_request, cost) \
        if policy.serialises_refreshes and storm > 0 else None
    waited = f"; {queue.sentence()}" if queue else ""
    if calls_per_request != 1.0:  # in a storm each AWS call refreshes
        added += storm * (calls_per_request - 1.0) * cost
        waited = f"; {calls_per_request:g} AWS calls per request, each refreshing in a " \
                 f"storm{waited}"
    if queue is not None:  # in a storm each AWS call waits for the lock, then fetches
        added += storm * calls_per_request * queue.mean_wait_ms()
    found.append(Finding(
        "credential-refresh-every-request" if storm >= 1 else
        "credential-refresh-storms" if storm > 0 else "credential-refresh-periodic",
        "blocker" if added >= budget_ms else "warning", round(added, 1),
        evidence=f"{provider or 'the provider'} credentials live {lifetime_s / 60:.0f} min "
                    f"and keep at least {durations.minutes(floor_s)} when served ({source}); "
                    f"{sdk} refreshes when less than {threshold_min:.0f} min are left "
                    f"({policy.source.split(' (')[0]}): {what} ({calls}, ~{cost:.0f} ms, "
                    f"{'measured: the timed metadata calls' if timed else 'estimated'})"
                    f"{waited}.",
        fix=credential_fix(provider, sdk, policy.refresh_before_expiry_s),
    ))
    if queue is not None and queue.saturated:
        found[-1].severity = "blocker"
        found[-1].id = "credential-lock-saturated"
    return found


def hop_check(hop: imds.HopLimitCost | None, share: float, budget_ms: float) -> list[Finding]:
    """The hop-limit finding: what token PUTs without an answer add per request."""
    if hop is None:
        return []
    added = share * hop.per_refresh_ms
    once = f"; ~{hop.one_time_ms / 1000:g} s once" if hop.one_time_ms else ""
    return [Finding(
        "imds-hop-limit", "blocker" if added >= budget_ms else "warning", round(added, 1),
        evidence=f"the pod's IMDSv2 token PUTs to the node's IMDS get no answer (a hop limit "
                    f"of 1; {hop.source}); ~{hop.per_refresh_ms:.0f} ms per refresh, "
                    f"{share:.2%} of requests refresh{once}.",
        fix=imds.HOP_LIMIT_FIX,
    )]


def expired_check(sdk: str, version: str | None, provider: str | None) -> list[Finding]:
    """aws-sdk-java-v2 2.17.159-2.17.163 hand out expired IMDS credentials."""
    if not providers.java_v2_returns_expired(sdk, version, provider):
        return []
    evidence, fix = providers.java_v2_finding(version or "")
    return [Finding("java-v2-expired-credentials", "warning", 0.0, evidence=evidence, fix=fix)]


def preflight_folder(folder: Path, rate_per_s: float = 1.0, dns_ms: float | None = None,
                     budget_p50: float | None = None, budget_p99: float | None = None,
                     local_ms: float | None = None, aws_calls: float | None = None,
                     overrides: dict[str, object] | None = None) -> Preflight:
    """Preflight from a service folder: service.yaml, the candidate's resolv.conf, and its
    credential documents, dig samples, timed metadata calls and latency logs when present
    (none is needed). Evidence beats configuration: dig samples beat `dns_ms`, the logs'
    request rate beats `rate_per_s`, timed metadata calls beat the provider's estimate;
    `budget_p50`/`budget_p99` (the command line) beat service.yaml's; `overrides` (`--set`)
    set service.yaml keys for this run only."""
    import numpy as np

    from analysis.ingest import load_evidence
    from analysis.ingest.resolv import env_resolv_conf
    from analysis.models import credentials as evidence_model
    from analysis.models import dns as dns_model

    config = load_config(folder, overrides)
    env = folder / config.candidate
    lifetime, floor, dig, call_ms, rate_source, timed_out = None, None, None, None, "given", None
    query_ms, source = (DEFAULT_QUERY_MS, "assumed") if dns_ms is None else (dns_ms, "given")
    if any((env / kind).is_dir() for kind in ("latency", "credentials", "dig", "metadata")):
        try:
            evidence = load_evidence(folder, config)
        except Exception:  # noqa: BLE001 - preflight must work without complete evidence
            evidence = None
        if evidence is not None:
            docs = evidence_model.served(evidence.credentials, config.candidate)
            if docs["lifetime_s"].notna().any():  # failed fetches, container documents: none
                lifetime = float(docs["lifetime_s"].median())
                floor = evidence_model.served_floor(docs)  # the documents beat the settings
            dig = evidence.dig[evidence.dig["env"] == config.candidate]
            failed = evidence_model.failed_fetches(evidence.credentials, config.candidate)
            puts = imds.timed_out_puts(evidence.metadata, config.candidate)
            recorded = int((failed["code"] == imds.TOKEN_PUT_TIMEOUT).sum())
            if len(puts) or recorded:  # the hop-limit symptom: evidence beats hop_limit
                timed_out = (puts, recorded)
            times = dns_model.lookup_costs(evidence.dig, config.candidate)
            if not times.empty:  # as the DNS model counts them: a timeout costs its total
                query_ms, source = float(np.median(times)), \
                    "dig" if dns_ms is None else "dig, not --dns-ms"
            rate_per_s, rate_source = _logged_rate(evidence.latency, config, rate_per_s)
            call_ms = _timed_call_ms(evidence.metadata, config.candidate)
    budget = _budget(config.budget, budget_p50, budget_p99)
    return check(config.sdk, config.credential_provider, lifetime,
                 env_resolv_conf(env, folder), list(config.dns.names),
                 rate_per_s, config.dns.cache_ttl_s, config.dns.lookups_per_request,
                 config.sdk_version, query_ms, source, budget.p50_ms,
                 config.provider_settings, floor, budget_p99_ms=budget.p99_ms, dig=dig,
                 local_ms=local_ms, call_ms=call_ms, rate_source=rate_source,
                 timed_out_puts=timed_out,
                 aws_calls=config.aws_calls_per_request if aws_calls is None else aws_calls)


def _logged_rate(latency, config, rate_per_s: float) -> tuple[float, str]:
    """Requests per second in the logs (the candidate's, else the baseline's), or the rate
    given when there are no logs."""
    from analysis.attribution import request_rate

    for env in (config.candidate, config.baseline):
        if not latency.empty and (latency["env"] == env).sum() > 1:
            return round(request_rate(latency, env), 3), f"logs ({env})"
    return rate_per_s, "given"


def _timed_call_ms(metadata, env: str) -> float | None:
    """The mean answered metadata call of `env` (ms), or None when none was timed."""
    if metadata is None or metadata.empty:
        return None
    mine = metadata[(metadata["env"] == env) & metadata["status"].between(200, 399)]
    return float(mine["duration_ms"].mean()) if len(mine) else None


def check(sdk: str | None, provider: str | None, lifetime_s: float | None,
          resolv: ResolvConf | None, names: list[str], rate_per_s: float = 1.0,
          cache_ttl_s: float = DEFAULT_CACHE_TTL_S, lookups_per_request: float = 1.0,
          sdk_version: str | None = None, query_ms: float = DEFAULT_QUERY_MS,
          query_source: str = "assumed", budget_ms: float = Budget.p50_ms,
          settings: ProviderSettings | None = None,
          floor: tuple[float, str] | None = None, *, budget_p99_ms: float = Budget.p99_ms,
          dig=None, local_ms: float | None = None, call_ms: float | None = None,
          rate_source: str = "given",
          timed_out_puts: tuple[pd.Series, int] | None = None,
          aws_calls: float | None = None) -> Preflight:
    """Every check that the configuration given allows. `budget_ms` is the p50 budget."""
    lifetime = lifetime_s or cred_model.served_lifetime_s(provider, settings)
    result = Preflight(sdk, provider, lifetime, rate_per_s, query_ms=query_ms,
                       query_source=query_source, rate_source=rate_source)
    if sdk and lifetime:
        result.findings += credential_check(sdk, provider, lifetime, rate_per_s, sdk_version,
                                            budget_ms, settings, floor, call_ms, timed_out_puts,
                                            aws_calls)
    if resolv is not None and names:
        from analysis.models.resolver_options import ResolverOptions
        from analysis.preflight_dns import dns_findings, predict, walks_for

        walks = walks_for(resolv, names, dig, query_ms, local_ms)
        result.dns = predict(walks, rate_per_s, cache_ttl_s, lookups_per_request, budget_ms,
                             budget_p99_ms)
        result.findings += dns_findings(resolv, result.dns, rate_per_s, cache_ttl_s,
                                        QUERY_SOURCES[query_source])
        result.names_queried = {n: list(w.queried) for n, w in walks.items()}
        result.resolver = ResolverOptions.of(resolv)
    return result


def render(result: Preflight) -> str:
    head = (f"preflight: sdk {result.sdk or '?'}, provider {result.provider or '?'}, "
            f"credential lifetime {result.lifetime_s / 60:.0f} min, {result.rate_per_s:g} req/s"
            if result.lifetime_s else f"preflight: sdk {result.sdk or '?'}, provider "
            f"{result.provider or '?'}, lifetime unknown")
    lines = [head]
    if result.rate_source != "given":
        lines.append(f"  request rate: {result.rate_per_s:.2f} req/s, from the "
                     f"{result.rate_source}")
    if result.names_queried:
        how = QUERY_SOURCES[result.query_source]
        lines.append(f"  DNS query time: {result.query_ms:.1f} ms per forwarded query ({how}); "
                     "names one uncached lookup queries:")
        lines += [f"    {name}: {len(queried)} ({', '.join(queried)})"
                  for name, queried in result.names_queried.items()]
        if result.resolver is not None:
            lines.append(f"  resolver: {result.resolver.describe()}")
    if result.dns is not None:
        lines.append(f"  per-name cost ({result.dns.source}):")
        lines += [f"    {walk.describe()}" for walk in result.dns.walks.values()]
        lines.append(f"  DNS added latency: {result.dns.sentence()}; "
                     f"{result.dns.miss_rate:.1%} of requests miss the cache")
    for f in result.findings:
        lines += [f"  [{f.severity}] {f.id}: +{f.added_ms_per_request:.1f} ms per request",
                  f"      {f.evidence}", f"      fix: {f.fix}"]
    if not result.findings:
        lines.append("  no pathological combination found")
    lines.append(f"expected added latency: {result.added_ms:.1f} ms per request; "
                 f"{'BLOCKED' if result.blocked else 'no blocker'}"
                 f"{f'; {result.dns.failure()}' if result.dns and result.dns.failed else ''}")
    return "\n".join(lines)


def _budget(default: Budget, p50_ms: float | None, p99_ms: float | None) -> Budget:
    """The budgets given on the command line, each one not given from `default`."""
    return Budget(default.p50_ms if p50_ms is None else p50_ms,
                  default.p99_ms if p99_ms is None else p99_ms)


def preflight(path: Path | None = None, *, sdk: str | None = None, provider: str | None = None,
              lifetime_s: float | None = None, resolv: Path | None = None,
              names: list[str] | tuple[str, ...] = (), rate_per_s: float = 1.0,
              cache_ttl_s: float = DEFAULT_CACHE_TTL_S, lookups_per_request: float = 1.0,
              sdk_version: str | None = None, settings: ProviderSettings | None = None,
              dns_ms: float | None = None, dns_local_ms: float | None = None,
              budget_p50: float | None = None, budget_p99: float | None = None,
              aws_calls: float | None = None,
              overrides: dict[str, object] | None = None) -> Preflight:
    """`latency-gap preflight`: from a service folder (`path`: service.yaml, resolv.conf and
    any evidence, with `overrides` of service.yaml keys), or from the options alone. Budgets
    not given come from service.yaml in folder mode, else the defaults."""
    from analysis.service import check_provider_settings

    problem = check_provider_settings(settings) if settings is not None else None
    if problem:
        raise ConfigError(f"preflight: {problem}")
    if overrides and path is None:
        raise ConfigError("preflight: --set overrides service.yaml keys; give the service "
                          "folder (preflight data/<service> --set KEY=VALUE), or use the "
                          "options (--sdk, --cache-ttl, ...) without one")
    if path is not None:
        result = preflight_folder(path, rate_per_s, dns_ms, budget_p50, budget_p99,
                                  dns_local_ms, aws_calls, overrides)
        result.what_if = dict(overrides or {})
        return result
    budget = _budget(Budget(), budget_p50, budget_p99)
    if resolv:
        from analysis.ingest.resolv import parse_resolv_conf  # reads with the ingest engine
    return check(sdk, provider, lifetime_s, parse_resolv_conf(resolv) if resolv else None,
                 list(names), rate_per_s, cache_ttl_s, lookups_per_request, sdk_version,
                 settings=settings, budget_ms=budget.p50_ms, budget_p99_ms=budget.p99_ms,
                 local_ms=dns_local_ms, aws_calls=aws_calls,
                 **({"query_ms": dns_ms, "query_source": "given"} if dns_ms else {}))
