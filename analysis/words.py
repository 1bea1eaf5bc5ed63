"""Names as a reader says them: verdict causes and finding ids in words, one table for the
report, the fleet index and the command line (ids stay as they are in summary.json and
fleet.json)."""

from __future__ import annotations

#: verdict.cause (DESIGN.md) in words
CAUSES = {
    "credential_refresh": "credential refresh", "dns": "DNS resolution",
    "both": "credential refresh and DNS", "none": "no gap beyond budget",
    "unexplained": "unexplained", "inconclusive": "inconclusive",
}

#: finding ids in words; an id not here is spelled out from its parts (see finding)
FINDINGS = {
    "credential-refresh-every-request": "credential refresh on every request",
    "credential-refresh-storms": "credential refresh storms",
    "credential-refresh-periodic": "periodic credential refresh",
    "credential-refresh-not-seen": "credential refresh predicted but not seen",
    "credential-lock-saturated": "saturated credential lock",
    "credential-fetch-failures": "failed credential fetches",
    "credential-role-listing": "role listing instead of credentials",
    "imds-hop-limit": "IMDSv2 hop limit",
    "java-v2-expired-credentials": "SDK release that hands out expired credentials",
    "dns-search-expansion": "DNS search-list expansion",
    "dns-slow-resolver": "slow DNS resolver",
    "dns-timeout-stalls": "DNS timeout stalls",
    "credential-calls-measured": "metadata calls on the request path (packet capture)",
    "dns-queries-measured": "DNS queries on the request path (packet capture)",
    "too-few-requests": "too few requests",
    "undecided-gap-p50": "p50 gap not decided",
    "undecided-gap-p99": "p99 gap not decided",
    "rejected-lines": "rejected input lines",
    "no-time-overlap": "logs from different hours",
    "unexplained-gap": "unexplained gap",
    "no-backend-answer": "requests no backend answered",
    "check-every-request-pays": "check: every request pays a refresh",
    "check-load": "check: latency against load",
    "check-periodic-refresh": "check: requests after a predicted refresh",
}

#: the kinds of evidence a `missing-<kind>-<env>` finding names (findings.evidence_findings)
_KINDS = {"latency": "latency logs", "dig": "dig timings",
          "credentials": "credential documents", "metadata": "timed metadata calls",
          "resolv-conf": "resolv.conf"}
_ACRONYMS = {"dns": "DNS", "imds": "IMDS", "imdsv2": "IMDSv2", "aws": "AWS", "jvm": "JVM",
             "sdk": "SDK", "irsa": "IRSA", "ttl": "TTL"}


def cause(name: str | None) -> str:
    """verdict.cause as a reader says it ("credential refresh", not credential_refresh)."""
    if name is None:
        return ""
    return CAUSES.get(name) or spelled(name)


def finding(finding_id: str) -> str:
    """A finding's name in words ("DNS search-list expansion")."""
    for kind, evidence in _KINDS.items():
        if finding_id.startswith(f"missing-{kind}-"):
            return f"no {evidence} from {finding_id[len(kind) + 9:]}"
    return FINDINGS.get(finding_id) or spelled(finding_id)


def spelled(name: str) -> str:
    """An identifier's parts as words, acronyms in capitals."""
    parts = name.replace("_", " ").replace("-", " ").split()
    return " ".join(_ACRONYMS.get(p.lower(), p) for p in parts)


def signed(value: float) -> str:
    """A whole number with its sign and none on a zero: '+3', '-1', '0' (the report's HTML
    writes a real minus sign over it: view_findings.signed)."""
    return "0" if round(value) == 0 else f"{value:+.0f}"


def plural(count: int, word: str, many: str | None = None) -> str:
    """'1 credential', '7 credentials'; `many` for a word whose plural is not word + s."""
    return f"{count} {word if count == 1 else many or word + 's'}"
