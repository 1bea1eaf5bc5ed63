"""Findings that cite the packets: what the captured requests of each environment waited for,
counted ("312 of 320 requests made 2 metadata calls before responding").

With packet captures (`<env>/pcap/`), the finding of each cause (credential refresh, DNS)
says what the candidate's captured requests did, beside the baseline's when it has captures
too; when the model names no finding for a cause the packets show, one is made from the
packets alone. Only unambiguous requests are counted (analysis/capture/attribution.py); the
ambiguous ones are said to be left out. A service without captures gets no sentence here.
"""

from __future__ import annotations

import pandas as pd

from analysis.attribution import Analysis
from analysis.capture.measured import Measured
from analysis.finding import Finding
from analysis.ingest import Evidence
from analysis.words import plural

#: an attributed cause, the id of the finding made from the packets alone
PACKET_FINDING = {"credential_refresh": "credential-calls-measured",
                  "dns": "dns-queries-measured"}
#: a prediction the latency overruled: "nothing is attributed to it", which the packets decide
NOT_SEEN = "credential-refresh-not-seen"
#: per cause, the model's findings that name it (findings.py)
CAUSE_FINDINGS = {
    "credential_refresh": ("credential-refresh-every-request", "credential-refresh-storms",
                           "credential-refresh-periodic"),
    "dns": ("dns-search-expansion", "dns-slow-resolver"),
}


def _mode(values) -> int:
    return int(pd.Series(values).mode().iloc[0])


def _left_out(found: Measured) -> str:
    return f"; {found.ambiguous} ambiguous left out" if found.ambiguous else ""


def metadata_words(found: Measured, capture_metadata: pd.DataFrame) -> str:
    """'312 of 320 requests made 2 metadata calls before responding (IMDS; waiting a median
    86.0 ms per request)': the requests that made the most common number of calls."""
    calls = found.metadata_calls
    if not (calls > 0).any():
        return f"none of {found.used} requests made a metadata call{_left_out(found)}"
    mode = _mode(calls[calls > 0])
    mine = capture_metadata[(capture_metadata["env"] == found.env)
                            & (capture_metadata["attribution"] == "request")]
    endpoints = ", ".join(str(e) for e in dict.fromkeys(mine["endpoint"])) or "metadata"
    waited = pd.Series(found.metadata_ms[calls > 0]).median()
    return (f"{int((calls == mode).sum())} of {found.used} requests made "
            f"{plural(mode, 'metadata call')} before responding ({endpoints}; waiting a median "
            f"{waited:.1f} ms per request{_left_out(found)})")


def dns_words(found: Measured, capture_dns: pd.DataFrame) -> str:
    """'318 of 320 requests waited on 3 DNS queries (search-list expansion: names
    elastic.example.com.svc.cluster.local. NXDOMAIN, elastic.example.com.; waiting a median
    4.1 ms per request)'."""
    queries = found.dns_queries
    if not (queries > 0).any():
        return f"none of {found.used} requests waited on a DNS query{_left_out(found)}"
    mode = _mode(queries[queries > 0])
    mine = capture_dns[(capture_dns["env"] == found.env)
                       & (capture_dns["attribution"] == "request")]
    names = mine.groupby("name", sort=False)["rcode"].agg(
        lambda codes: "NXDOMAIN" if (codes == "NXDOMAIN").all() else "")
    listed = ", ".join(f"{name} {code}".rstrip() for name, code in names.items())
    expansion = "search-list expansion: names" if (names == "NXDOMAIN").any() else "names"
    waited = pd.Series(found.dns_ms[queries > 0]).median()
    return (f"{int((queries == mode).sum())} of {found.used} requests waited on "
            f"{plural(mode, 'DNS query', 'DNS queries')} ({expansion} "
            f"{listed}; waiting a median {waited:.1f} ms per request{_left_out(found)})")


def cited(analysis: Analysis, evidence: Evidence, cause: str) -> str:
    """The sentence a cause's finding adds: per environment with captures, candidate first,
    what its captured requests waited for; '' without captures."""
    words = metadata_words if cause == "credential_refresh" else dns_words
    table = evidence.capture_metadata if cause == "credential_refresh" else evidence.capture_dns
    said = [f"in {env}, {words(found, table)}" for env in (analysis.candidate, analysis.baseline)
            if (found := analysis.measured.get(env)) is not None]
    return f" Measured from packet capture: {'; '.join(said)}." if said else ""


def _waits(analysis: Analysis, cause: str) -> bool:
    """Whether the candidate's captured requests waited on this cause at all."""
    found = analysis.measured.get(analysis.candidate)
    if found is None:
        return False
    return bool(((found.metadata_calls if cause == "credential_refresh"
                  else found.dns_queries) > 0).any())


FIXES = {
    "credential_refresh": "Find what fetches credentials on the request path: name sdk and "
                          "credential_provider in service.yaml for the exact fix (the SDK's "
                          "refresh threshold against the provider's credential lifetime).",
    "dns": "Fully qualify the host names the service resolves (a trailing dot), or lower the "
           "pod's ndots, and keep an application DNS cache.",
}


def with_packets(found: list[Finding], analysis: Analysis, evidence: Evidence,
                 make, severity) -> list[Finding]:
    """The findings, each cause's citing the packets; a finding from the packets alone for a
    cause the candidate's captured requests wait on and no finding names. `make` is
    findings._finding (id, severity, evidence, fix, analysis, cause); `severity(p50_ms,
    p99_ms)` grades a cause's attributed share (findings._severity)."""
    if not analysis.measured:
        return found
    out = list(found)
    for cause in ("credential_refresh", "dns"):
        sentence = cited(analysis, evidence, cause)
        if not sentence:
            continue
        waits = _waits(analysis, cause)
        if waits and cause == "credential_refresh":  # measured: something is attributed
            out = [f for f in out if f.id != NOT_SEEN]
        mine = [f for f in out if f.id in CAUSE_FINDINGS[cause]
                or (f.id == NOT_SEEN and cause == "credential_refresh")]
        for finding in mine:
            finding.evidence = finding.evidence.rstrip() + sentence
        if not mine and waits:
            attr = analysis.attribution_ms or {}
            graded = severity(attr["p50"][cause], attr["p99"][cause]) if attr else "info"
            out.append(make(PACKET_FINDING[cause], graded, sentence.strip(), FIXES[cause],
                            analysis, cause))
    return out
