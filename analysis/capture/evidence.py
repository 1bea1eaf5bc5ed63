"""Captures as evidence: `data/<service>/<env>/pcap/*` read into three tidy tables per service
(requests, DNS queries, metadata calls), and what `latency-gap inspect` says of one capture."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis import stats
from analysis.capture.reader import LINK_NAMES, PCAP_MAGIC, PCAPNG_SHB, open_capture
from analysis.capture.reconstruct import (
    DNS_COLUMNS,
    METADATA_ADDRESSES,
    METADATA_COLUMNS,
    REQUEST_COLUMNS,
    CaptureOptions,
    Reconstruction,
    reconstruct,
)
from analysis.errors import EvidenceError
from analysis.ingest.rows import redact_table

KIND = "pcap"
TABLES = {"capture_requests": REQUEST_COLUMNS, "capture_dns": DNS_COLUMNS,
          "capture_metadata": METADATA_COLUMNS}


def capture_format(path: Path) -> str | None:
    """'pcap' or 'pcapng' when the file (gzipped or not) is a capture, else None."""
    try:
        with open_capture(path) as stream:
            head = stream.read(4)
    except OSError:
        return None
    return "pcap" if head in PCAP_MAGIC else "pcapng" if head == PCAPNG_SHB else None


def options_of(settings) -> CaptureOptions:
    """CaptureOptions from a service.yaml's `capture:` (analysis.service.CaptureSettings)."""
    if settings is None:
        return CaptureOptions()
    return CaptureOptions(service_port=settings.service_port,
                          dns_ports=tuple(settings.dns_ports),
                          metadata={**METADATA_ADDRESSES, **dict(settings.metadata)})


def empty_tables() -> dict[str, pd.DataFrame]:
    return {name: pd.DataFrame(columns=columns) for name, columns in TABLES.items()}


def read_captures(files: list[Path], env: str, settings=None) -> tuple[dict, dict]:
    """The tables of one environment's captures, and its row of the inputs table."""
    options = options_of(settings)
    parts: dict[str, list[pd.DataFrame]] = {name: [] for name in TABLES}
    formats, packets = set(), 0
    for path in files:
        fmt = capture_format(path)
        if fmt is None:
            raise EvidenceError(path, "not a packet capture: expected pcap or pcapng (as "
                                "tcpdump -w or Wireshark write them), gzipped or not")
        built = _reconstructed(path, env, options)
        formats.add(fmt)
        packets += built.counts["packets"]
        offset = sum(len(t) for t in parts["capture_requests"])  # `request`: the row, all files
        for table in (built.dns, built.metadata):
            table.loc[table["request"] >= 0, "request"] += offset
        for name, table in zip(TABLES, (built.requests, built.dns, built.metadata),
                               strict=True):
            parts[name].append(table.assign(source_file=path.name))
    tables = {name: pd.concat(frames, ignore_index=True) if frames else empty_tables()[name]
              for name, frames in parts.items()}
    row = {"env": env, "kind": KIND, "files": len(files), "lines": packets, "rejected": 0,
           "skipped": 0, "formats": ",".join(sorted(formats)), "latency_from": ""}
    return tables, row


def _reconstructed(path: Path, env: str, options: CaptureOptions) -> Reconstruction:
    """reconstruct(), with anything but the tool's own errors named as the file's fault (a
    bug's message without the payload it choked on: only the exception's kind). The tables'
    texts (paths, DNS names, methods) leave here redacted, as every parser's do: a path can
    carry a token as surely as a query string."""
    try:
        built = reconstruct(path, env, options)
        for table in (built.requests, built.dns, built.metadata):
            redact_table(table)
        return built
    except EvidenceError:
        raise
    except MemoryError:
        raise EvidenceError(path, "ran out of memory reading this capture; split it "
                            "(editcap -c 1000000)") from None
    except Exception as exc:  # noqa: BLE001 - a damaged capture: name it, no traceback
        raise EvidenceError(path, f"cannot be read as a packet capture "
                            f"({type(exc).__name__})") from None


def _ms(values: pd.Series) -> dict:
    values = values.dropna()
    if values.empty:
        return {}
    return {name: round(value, 2) for name, value in
            stats.quantiles(values.to_numpy(float)).items()} | \
        {"max": round(float(values.max()), 2)}


def summarise(built: Reconstruction) -> dict:
    """What inspect prints of one capture: counts and times, never a payload."""
    requests, dns, calls = built.requests, built.dns, built.metadata
    counts = built.counts
    return {
        "service_port": counts["service_port"],
        "service_port_from": counts["service_port_from"],
        "link_types": [LINK_NAMES.get(link, str(link)) for link in counts["link_types"]],
        "packets": counts["packets"],
        "requests": len(requests),
        "requests_ambiguous": int(requests["ambiguous"].sum()),
        "request_ms": _ms(requests["total_ms"]),
        "statuses": {str(k): int(v) for k, v in
                     requests["status"].value_counts(dropna=False).items()},
        "dns_queries": len(dns),
        "dns_rcodes": {str(k): int(v) for k, v in dns["rcode"].value_counts().items()},
        "dns_retransmissions": int(dns["retransmissions"].sum()),
        "dns_ms": _ms(dns["ms"]),
        "dns_names": int(dns["name"].nunique()),
        "metadata_calls": len(calls),
        "metadata_endpoints": {str(k): int(v) for k, v in
                               calls["endpoint"].value_counts().items()},
        "metadata_ms": _ms(calls["ms"]),
        "attribution": {k: v for k, v in counts.items()
                        if k.startswith(("dns ", "metadata ", "requests "))},
        "unreadable": {k.removeprefix("unreadable: "): v for k, v in counts.items()
                       if k.startswith("unreadable: ")},
        "not_read": {k: counts[k] for k in ("not_ip", "other_protocols", "fragments",
                                            "truncated_headers") if counts[k]},
    }


def inspect_capture(path: Path, settings=None) -> dict:
    """inspect's entry for one capture file (analysis/inspection.py)."""
    result: dict = {"path": str(path), "kind": KIND, "format": capture_format(path)}
    try:
        built = _reconstructed(path, "", options_of(settings))
    except EvidenceError as exc:
        return {**result, "error": str(exc)}
    times = built.requests["start"]
    return {**result, "lines": built.counts["packets"], "parsed": len(built.requests),
            "rejected": 0,
            "time_range": [times.min().isoformat(), times.max().isoformat()]
            if len(times) else None, **summarise(built)}
