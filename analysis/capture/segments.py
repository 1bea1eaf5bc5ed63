"""Measured requests as segments: what one request waited for, in order, from its packets.

A tidy table a waterfall can draw and the attribution can sum (issue 19, "into the analysis"):

    env, request, which, segment, kind, start_ms, ms, source

one row per DNS query and metadata call attributed to the request (`kind` dns or metadata),
and one `app` row for each stretch of the request's window in which it waited on neither (the
service's own work, and whatever packets cannot see). `start_ms` is from the request's first
byte; the rows of one request cover [0, total_ms] (DNS and metadata rows may overlap each
other: an A and AAAA query in parallel). `source` is `pcap`: measured, not modelled.
Ambiguous requests (analysis/capture/attribution.py) are never chosen: their own exchanges
are not all known.
"""

from __future__ import annotations

import pandas as pd

SEGMENT_COLUMNS = ["env", "request", "which", "segment", "kind", "start_ms", "ms", "source"]


def chosen_requests(requests: pd.DataFrame) -> pd.DataFrame:
    """Per environment, the typical request (the unambiguous one closest to the median total)
    and the slowest unambiguous one: `env`, `request` (row in `requests`), `which`."""
    rows = []
    clear = requests[~requests["ambiguous"].astype(bool) & requests["total_ms"].notna()]
    for env, group in clear.groupby("env", sort=True):
        median = group["total_ms"].median()
        typical = (group["total_ms"] - median).abs().idxmin()
        rows += [{"env": env, "request": int(typical), "which": "typical"},
                 {"env": env, "request": int(group["total_ms"].idxmax()), "which": "slowest"}]
    return pd.DataFrame(rows, columns=["env", "request", "which"])


def request_segments(requests: pd.DataFrame, dns: pd.DataFrame, metadata: pd.DataFrame,
                     request: int, which: str = "") -> pd.DataFrame:
    """The segments of one request (its row number in `requests`)."""
    row = requests.loc[request]
    start, total = row["start"], float(row["total_ms"])
    waits = []
    for table, kind in ((dns, "dns"), (metadata, "metadata")):
        own = table[(table["request"] == request) & (table["env"] == row["env"])]
        for call in own.itertuples():
            label = f"DNS {call.type} {call.name}" if kind == "dns" else \
                f"{call.endpoint} {call.method or '?'} {call.path or ''}".rstrip()
            offset = (call.time - start).total_seconds() * 1000
            ms = float(call.ms) if pd.notna(call.ms) else total - offset
            waits.append((offset, ms, label, kind))
    waits.sort()
    rows, reach = [], 0.0
    for offset, ms, label, kind in waits:
        if offset > reach:
            rows.append((reach, offset - reach, "app", "app"))
        rows.append((offset, ms, label, kind))
        reach = max(reach, offset + ms)
    if total > reach:
        rows.append((reach, total - reach, "app", "app"))
    return pd.DataFrame(
        [{"env": row["env"], "request": request, "which": which, "segment": label, "kind": kind,
          "start_ms": offset, "ms": ms, "source": "pcap"} for offset, ms, label, kind in rows],
        columns=SEGMENT_COLUMNS)


def measured_segments(requests: pd.DataFrame, dns: pd.DataFrame,
                      metadata: pd.DataFrame) -> pd.DataFrame:
    """The segments of each environment's typical and slowest measured request."""
    chosen = chosen_requests(requests)
    parts = [request_segments(requests, dns, metadata, c.request, c.which)
             for c in chosen.itertuples()]
    return pd.concat(parts, ignore_index=True) if parts else \
        pd.DataFrame(columns=SEGMENT_COLUMNS)


def measured_waits(requests: pd.DataFrame) -> pd.DataFrame:
    """Per environment, what the unambiguous requests waited for, as findings can cite it:
    `requests`, `unambiguous`, `dns_ms_p50`, `metadata_ms_p50`, `with_metadata` (requests
    that made a metadata call), `metadata_calls_mode` and `with_mode` (how many made that
    many: "312 of 320 requests made 2 metadata calls")."""
    rows = []
    for env, group in requests.groupby("env", sort=True):
        clear = group[~group["ambiguous"].astype(bool)]
        calls = clear["metadata_calls"]
        mode = int(calls.mode().iloc[0]) if len(calls) else None
        rows.append({"env": env, "requests": len(group), "unambiguous": len(clear),
                     "dns_ms_p50": float(clear["dns_ms"].median()) if len(clear) else None,
                     "metadata_ms_p50": float(clear["metadata_ms"].median())
                     if len(clear) else None,
                     "with_metadata": int((calls > 0).sum()), "metadata_calls_mode": mode,
                     "with_mode": int((calls == mode).sum()) if mode is not None else 0})
    return pd.DataFrame(rows, columns=["env", "requests", "unambiguous", "dns_ms_p50",
                                       "metadata_ms_p50", "with_metadata",
                                       "metadata_calls_mode", "with_mode"])
