"""What one request is made of, segment by segment: app time, each metadata call, each DNS name
tried; measured where the evidence timed it, modelled otherwise.

The table has one row per segment of one request, in the order the request pays them:

- `request`: which request (e.g. "k8s: typical request"); rows of one request are contiguous
- `env`: the environment it ran in
- `segment`: what it is, in words ("metadata call 1 (role name)", "DNS elastic.example.com.")
- `kind`: app | metadata | dns
- `ms`: its duration (ms)
- `source`: measured | modelled | pcap (measured from a packet capture: one real request)
- `share`: the share of the environment's requests that pay it (1: every request)

A typical request pays what at least half the requests pay; when a cost only some requests pay
(a DNS cache miss) has a price, one more request shows the candidate paying it. Other sources
(packet captures, issue 19) add their requests with `extend()`: rows in the same shape;
analysis/measured_waterfall.py puts captured requests (source "pcap") in place of the model's
for an environment with captures. `validate()` says what a malformed table lacks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.attribution import Analysis
from analysis.models import imds
from analysis.models.credentials import RefreshEstimate
from analysis.models.dns import DnsEstimate
from analysis.models.dns_cost import MODEL

COLUMNS = ["request", "env", "segment", "kind", "ms", "source", "share"]
KINDS = ("app", "metadata", "dns")
MEASURED, MODELLED, PCAP = "measured", "modelled", "pcap"
SOURCES = (MEASURED, MODELLED, PCAP)
#: a source in words, as the figure's note says it
SOURCE_WORDS = {MEASURED: "measured", MODELLED: "modelled", PCAP: "measured (pcap)"}
#: a segment kind in words: several, one
KIND_WORDS = {"app": "app", "metadata": "metadata calls", "dns": "DNS names tried"}
KIND_WORD = {"app": "app", "metadata": "metadata call", "dns": "DNS name tried"}
#: a captured request's DNS segments are queries (an A and an AAAA of one name apart)
PCAP_KIND_WORDS = {**KIND_WORDS, "dns": "DNS queries"}
PCAP_KIND_WORD = {**KIND_WORD, "dns": "DNS query"}


def kind_words(kind: str, count: int, sources: set[str]) -> str:
    """A kind of segment in words, for `count` of them from `sources`."""
    several, one = (PCAP_KIND_WORDS, PCAP_KIND_WORD) if sources == {PCAP} else \
        (KIND_WORDS, KIND_WORD)
    return several[kind] if count > 1 else one[kind]


#: at least this share of requests pays a cost for a typical request to pay it
TYPICAL = 0.5


def typical(env: str) -> str:
    return f"{env}: typical request"


def miss_request(env: str, share: float) -> str:
    return f"{env}: on a DNS cache miss ({share:.0%} of requests)"


def _row(request: str, env: str, segment: str, kind: str, ms: float, source: str,
         share: float) -> dict:
    return {"request": request, "env": env, "segment": segment, "kind": kind,
            "ms": float(ms), "source": source, "share": float(share)}


def _call_names(calls: int, word: str) -> list[str]:
    """Java v1, botocore and the agents read two paths per refresh: the role, its document."""
    if calls == 2 and word == "metadata call":
        return [f"{word} 1 (role name)", f"{word} 2 (credentials)"]
    return [f"{word} {i + 1}" for i in range(calls)]


def metadata_segments(est: RefreshEstimate, metadata: pd.DataFrame | None) -> list[tuple]:
    """(segment, ms, source) of one refresh: answered token PUTs, PUTs that timed out, and the
    credential calls; a call's ms is the median of the timed calls when there are some."""
    out = []
    if est.token_puts:
        answered = _timed_puts(metadata, est.env)
        source = MEASURED if len(answered) else MODELLED
        out += [(f"token PUT {i + 1}", est.put_ms, source) for i in range(est.token_puts)]
    if est.hop_ms:
        source = MEASURED if len(imds.timed_out_puts(metadata, est.env)) else MODELLED
        out.append(("token PUT without an answer (hop limit)", est.hop_ms, source))
    if len(est.call_ms):
        each, source = float(np.median(est.call_ms)), MEASURED
    else:
        fixed = est.token_puts * est.put_ms + est.hop_ms
        each, source = (est.cost_ms - fixed) / max(est.calls_per_refresh, 1), MODELLED
    out += [(name, each, source) for name in _call_names(est.calls_per_refresh, est.call_word)]
    return out


def _timed_puts(metadata: pd.DataFrame | None, env: str) -> pd.Series:
    if metadata is None or metadata.empty or "path" not in metadata:
        return pd.Series(dtype=float)
    mine = metadata[(metadata["env"] == env) & metadata["status"].between(200, 399)]
    return mine.loc[mine["path"].astype(str).str.contains(imds.TOKEN_PATH, regex=False),
                    "duration_ms"]


def dns_segments(est: DnsEstimate) -> list[tuple]:
    """(segment, ms, source) of one cache miss: every name each host's walk tries, for each
    lookup a miss pays; a whole lookup timed through getaddrinfo is one segment."""
    out = []
    for name, walk in est.walk_costs().items():
        source = MODELLED if walk.source == MODEL else MEASURED
        if len(walk.parts) == 1 and len(walk.queried) > 1:  # a whole lookup, timed as one
            tried = [(f"DNS {name} ({len(walk.queried)} names, getaddrinfo)", walk.lookup_ms)]
        else:
            tried = [(f"DNS {q}", ms) for q, ms in zip(walk.queried, walk.name_ms, strict=True)]
        for _ in range(est.lookups_per_miss):
            out += [(segment, ms, source) for segment, ms in tried]
    return out


def _overheads(analysis: Analysis, env: str, metadata: pd.DataFrame | None,
               with_miss: bool = False) -> list[tuple]:
    """(segment, kind, ms, source, share) an env's request pays beyond the app."""
    out = []
    refresh: RefreshEstimate | None = analysis.refresh.get(env)
    if refresh is not None and refresh.share_of_requests >= TYPICAL:
        refreshes = max(1, int(round(refresh.aws_calls))) if refresh.storm >= TYPICAL else 1
        out += [(s, "metadata", ms, src, refresh.share_of_requests)
                for _ in range(refreshes) for s, ms, src in metadata_segments(refresh, metadata)]
    dns: DnsEstimate | None = analysis.dns.get(env)
    if dns is not None and (with_miss or dns.miss_rate >= TYPICAL):
        out += [(s, "dns", ms, src, dns.miss_rate) for s, ms, src in dns_segments(dns)]
    return out


def miss_extra_ms(analysis: Analysis) -> float:
    """What a candidate's DNS cache miss costs beyond one of the baseline's (ms)."""
    cost = {env: sum(ms for _, ms, _ in dns_segments(est)) if est else 0.0
            for env, est in ((e, analysis.dns.get(e)) for e in (analysis.baseline,
                                                                 analysis.candidate))}
    return cost[analysis.candidate] - cost[analysis.baseline]


def dns_tail(analysis: Analysis) -> tuple[float, float] | None:
    """(share of candidate requests that miss the DNS cache, what a miss costs beyond the
    baseline's, ms) when fewer than a typical share miss and a miss costs a millisecond or
    more: the tail of the candidate's latency they make; else None."""
    est = analysis.dns.get(analysis.candidate)
    if est is None or not 0 < est.miss_rate < TYPICAL:
        return None
    extra = miss_extra_ms(analysis)
    return (est.miss_rate, extra) if extra >= 1.0 else None


def segments(analysis: Analysis, metadata: pd.DataFrame | None = None) -> pd.DataFrame:
    """One typical request per environment (baseline first) and, when a DNS cache miss that
    only some candidate requests pay costs something, one such request: the table above.

    App time is the baseline's median less what its typical request pays beyond the app
    (measured); the candidate is assumed to do the same work. `metadata`: the timed metadata
    calls (Evidence.metadata), to tell measured token PUTs from modelled ones."""
    base, cand = analysis.baseline, analysis.candidate
    median = analysis.latency_ms.get(base, {}).get("p50")
    if median is None or (isinstance(median, float) and np.isnan(median)):
        return pd.DataFrame(columns=COLUMNS)
    app = max(median - sum(o[2] for o in _overheads(analysis, base, metadata)), 0.0)
    requests = [(typical(base), base, False), (typical(cand), cand, False)]
    if dns_tail(analysis):
        requests.append((miss_request(cand, analysis.dns[cand].miss_rate), cand, True))
    rows = []
    for request, env, miss in requests:
        rows.append(_row(request, env, f"app ({base} median)", "app", app, MEASURED, 1.0))
        rows += [_row(request, env, *overhead)
                 for overhead in _overheads(analysis, env, metadata, with_miss=miss)]
    return pd.DataFrame(rows, columns=COLUMNS)


def validate(table: pd.DataFrame, where: str = "waterfall table") -> pd.DataFrame:
    """The table with its columns in order, or a ValueError naming what is wrong: a missing
    column, an unknown kind or source, a negative or missing duration."""
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"{where}: missing column(s) {', '.join(missing)}; expected "
                         f"{', '.join(COLUMNS)}")
    checks = [("kind", ~table["kind"].isin(KINDS), f"one of {', '.join(KINDS)}"),
              ("source", ~table["source"].isin(SOURCES),
               f"{MEASURED} or {MODELLED} (or {PCAP}: from a packet capture)"),
              ("ms", ~(pd.to_numeric(table["ms"], errors="coerce") >= 0), "a duration >= 0")]
    for column, bad, expected in checks:
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            value = table[column].iloc[row]
            raise ValueError(f"{where}, row {row}: {column} "
                             f"{value if column == 'ms' else repr(value)}; "
                             f"expected {expected}")
    return table[COLUMNS].reset_index(drop=True)


def extend(table: pd.DataFrame, measured: pd.DataFrame, where: str = "measured requests"
           ) -> pd.DataFrame:
    """The table with more requests appended (a packet capture's, say): rows in the same
    shape, each request named apart from the ones already there."""
    measured = validate(measured, where)
    clash = sorted(set(measured["request"]) & set(table["request"]))
    if clash:
        raise ValueError(f"{where}: request {clash[0]!r} is already in the table; name "
                         "captured requests apart (e.g. 'k8s: captured request 1')")
    return pd.concat([validate(table), measured], ignore_index=True)


def totals(table: pd.DataFrame) -> pd.Series:
    """Each request's total (ms), in the table's order."""
    return table.groupby("request", sort=False)["ms"].sum()


def named_segments(table: pd.DataFrame) -> list[str]:
    """Per kind beyond the app, one line naming each segment of the request that has the most
    of them, in order, with its ms and source: what a figure's bars cannot label."""
    lines = []
    for kind in KINDS[1:]:
        mine = table[table["kind"] == kind]
        if mine.empty:
            continue
        request = mine.groupby("request", sort=False).size().idxmax()
        rows = mine[mine["request"] == request]
        names = ", ".join(f"{segment.removeprefix('DNS ')} {ms:.1f} ms"
                          for segment, ms in zip(rows["segment"], rows["ms"], strict=True))
        sources = " and ".join(sorted(SOURCE_WORDS[s] for s in set(rows["source"])))
        words = kind_words(kind, len(rows), set(rows["source"]))
        lines.append(f"{words[:1].upper()}{words[1:]} ({request}): {names} ({sources})")
    return lines
