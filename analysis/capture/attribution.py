"""Which request each outbound exchange (a DNS query, a metadata call) belongs to.

Packets do not say which thread made a call. The rule: an exchange belongs to a request when
exactly one request's window [first byte in, last byte out] contains it. When several do
(concurrent requests), it is *ambiguous*: counted, assigned to none, and each of those
requests is flagged `ambiguous` (its measured DNS and metadata time is then a lower bound).
An exchange no request window contains (a background refresh, a health check) is *outside*.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _containing(requests: pd.DataFrame, table: pd.DataFrame) -> list[list[int]]:
    """For each exchange, the requests (sorted by start) whose window contains it."""
    starts, ends = requests["start_s"].to_numpy(), requests["end_s"].to_numpy()
    # the latest end among the requests started so far: walking back from an exchange, once
    # it falls below the exchange's end no earlier request can contain it
    reach = np.maximum.accumulate(ends) if len(ends) else ends
    inside = []
    for start, end in zip(table["start_s"].to_numpy(),
                          table["end_s"].fillna(table["start_s"]).to_numpy(), strict=True):
        found, j = [], int(np.searchsorted(starts, start, side="right")) - 1
        while j >= 0 and reach[j] >= end:
            if ends[j] >= end:
                found.append(j)
            j -= 1
        inside.append(found)
    return inside


def _union_ms(intervals: list[tuple[float, float]]) -> float:
    total, reach = 0.0, -np.inf
    for start, end in sorted(intervals):
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total * 1000


def attribute(requests: pd.DataFrame, dns: pd.DataFrame, metadata: pd.DataFrame) -> dict:
    """Add the attribution columns; the counts of each outcome."""
    ambiguous = np.zeros(len(requests), dtype=bool)
    counts = {}
    for name, table in (("dns", dns), ("metadata", metadata)):
        inside = _containing(requests, table)
        table["request"] = [w[0] if len(w) == 1 else -1 for w in inside]
        table["attribution"] = ["request" if len(w) == 1 else "ambiguous" if w else "outside"
                                for w in inside]
        lists: list[list] = [[] for _ in range(len(requests))]
        starts, ends = table["start_s"].to_numpy(), table["end_s"].to_numpy()
        for row, windows in enumerate(inside):
            if len(windows) == 1:
                lists[windows[0]].append((starts[row], ends[row]))
            elif windows:
                ambiguous[windows] = True
        requests[f"{name}_ms"] = [_union_ms([(s, s if pd.isna(e) else e) for s, e in x])
                                  for x in lists]  # NaN or None: a query never answered
        requests["dns_queries" if name == "dns" else "metadata_calls"] = [len(x) for x in lists]
        outcome = table["attribution"].value_counts()
        counts.update({f"{name} {k}": int(outcome.get(k, 0))
                       for k in ("request", "ambiguous", "outside")})
    requests["ambiguous"] = ambiguous
    counts["requests ambiguous"] = int(ambiguous.sum())
    return counts
