"""The report's waterfall with measured requests: where an environment has packet captures,
its typical and its slowest captured request (analysis/capture/segments.py) stand in the
waterfall table (analysis/waterfall.py) instead of the model's request, with source `pcap`;
an environment without captures keeps the model's.

A captured request's segments are laid one after another from its first byte: the app's
stretches between waits, and each wait; waits that overlapped (glibc's A and AAAA queries in
parallel, say) are one segment as long as their union ("DNS A+AAAA elastic.example.com."), so
the segments add up to the request's measured total. `share` is the share of the
environment's unambiguous captured requests that waited on that kind at all (1 for app).
"""

from __future__ import annotations

import pandas as pd

from analysis import waterfall
from analysis.attribution import Analysis
from analysis.capture.segments import measured_segments

#: the words a request's `which` (segments.chosen_requests) takes in its name
WHICH = {"typical": "typical request", "slowest": "slowest request"}


def request_name(env: str, which: str) -> str:
    """'k8s: typical request (pcap)'."""
    return f"{env}: {WHICH.get(which, which)} ({waterfall.PCAP})"


def _label(labels: list[str]) -> str:
    """One segment's name for waits that overlapped: the DNS pair of one name as
    'DNS A+AAAA name', anything else joined with ' + '."""
    words = [label.split(" ", 2) for label in labels]
    if len(labels) > 1 and all(len(w) == 3 and w[0] == "DNS" for w in words) and \
            len({w[2] for w in words}) == 1:
        return f"DNS {'+'.join(w[1] for w in words)} {words[0][2]}"
    return " + ".join(labels)


def _laid_out(parts: pd.DataFrame) -> list[tuple[str, str, float]]:
    """(segment, kind, ms) one after another: overlapping waits merged into their union."""
    out: list[list] = []   # [start, end, kind, labels]
    for seg in parts.sort_values("start_ms", kind="stable").itertuples():
        start, end = float(seg.start_ms), float(seg.start_ms) + float(seg.ms)
        last = out[-1] if out else None
        if last is not None and seg.kind != "app" and last[2] != "app" and start < last[1]:
            last[1] = max(last[1], end)
            last[3].append(seg.segment)
        else:
            out.append([start, end, seg.kind, [seg.segment]])
    return [(_label(labels), kind, end - start) for start, end, kind, labels in out]


def _shares(requests: pd.DataFrame) -> dict[tuple[str, str], float]:
    """(env, kind) -> share of its unambiguous captured requests that waited on that kind."""
    clear = requests[~requests["ambiguous"].astype(bool)]
    shares = {}
    for env, group in clear.groupby("env"):
        shares[(env, "dns")] = float((group["dns_queries"] > 0).mean())
        shares[(env, "metadata")] = float((group["metadata_calls"] > 0).mean())
    return shares


def captured_rows(requests: pd.DataFrame, dns: pd.DataFrame,
                  metadata: pd.DataFrame) -> pd.DataFrame:
    """The waterfall rows (waterfall.COLUMNS, source `pcap`) of each environment's typical
    and slowest unambiguous captured request (Evidence.capture_* tables)."""
    rows = []
    shares = _shares(requests) if len(requests) else {}
    for env in dict.fromkeys(requests["env"]):
        # `request` in the DNS and metadata tables is the row in the environment's own table
        mine = requests[requests["env"] == env].reset_index(drop=True)
        parts = measured_segments(mine, dns[dns["env"] == env],
                                  metadata[metadata["env"] == env])
        for which, segments in parts.groupby("which", sort=False):
            name = request_name(env, which)
            rows += [{"request": name, "env": env, "segment": segment, "kind": kind,
                      "ms": ms, "source": waterfall.PCAP,
                      "share": shares.get((env, kind), 1.0)}
                     for segment, kind, ms in _laid_out(segments)]
    return pd.DataFrame(rows, columns=waterfall.COLUMNS)


def report_table(analysis: Analysis, evidence=None) -> pd.DataFrame:
    """The report's waterfall: per environment (baseline first), its captured typical and
    slowest requests when it has captures, else the model's (waterfall.segments)."""
    metadata = evidence.metadata if evidence is not None else None
    modelled = waterfall.segments(analysis, metadata)
    requests = getattr(evidence, "capture_requests", None)
    if requests is None or requests.empty:
        return modelled
    captured = captured_rows(requests, evidence.capture_dns, evidence.capture_metadata)
    parts = []
    for env in (analysis.baseline, analysis.candidate):
        mine = captured[captured["env"] == env]
        parts.append(mine if len(mine) else modelled[modelled["env"] == env])
    return waterfall.validate(pd.concat(parts, ignore_index=True))
