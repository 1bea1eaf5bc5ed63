"""From packets to what each request waited for: inbound HTTP/1.1 requests, DNS queries and
metadata calls, each outbound exchange attributed to the request that was open when it ran.

Times come from the TCP segments: a request starts at its first byte, its response at the
first byte back and ends at the last byte back; several requests share a kept-alive
connection. A metadata call on a new connection starts at its SYN (what the caller waits for
includes the handshake); a DNS query lasts from its first send to its answer, retransmissions
counted. Payloads are read only by analysis.capture.protocols.

Each exchange is then attributed to a request, or counted as ambiguous or outside
(analysis/capture/attribution.py says the rule).
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.capture import protocols
from analysis.capture.attribution import attribute
from analysis.capture.reader import ACK, FIN, RST, SYN, TCP, UDP, Packet, ReadCounts, packets

#: the metadata endpoints by address (or address:port): EC2's IMDS and EKS Pod Identity's
#: agent, IPv4 and IPv6 (docs.aws.amazon.com: instancedata-data-retrieval, pod-id-how-it-works)
METADATA_ADDRESSES = {"169.254.169.254": "IMDS", "fd00:ec2::254": "IMDS",
                      "169.254.170.23": "Pod Identity", "fd00:ec2::23": "Pod Identity"}
#: IRSA's AssumeRoleWithWebIdentity goes to STS over TLS: recognised by the ClientHello's SNI
STS_NAME = re.compile(r"^sts(-fips)?(\.[a-z0-9-]+)?\.amazonaws\.com(\.cn)?$")
#: a DNS query unanswered this long is written out as unanswered (resolvers give up by 30 s)
DNS_GIVE_UP_S = 30.0

REQUEST_COLUMNS = ["env", "start", "method", "path", "status", "total_ms", "first_byte_ms",
                   "dns_ms", "dns_queries", "metadata_ms", "metadata_calls", "ambiguous",
                   "unreadable"]
DNS_COLUMNS = ["env", "time", "name", "type", "rcode", "ms", "retransmissions", "paired",
               "transport", "request", "attribution"]
METADATA_COLUMNS = ["env", "time", "endpoint", "method", "path", "status", "ms",
                    "new_connection", "request", "attribution"]


@dataclass
class CaptureOptions:
    """What the packets cannot say: the service's port, the DNS ports, the metadata addresses."""

    service_port: int | None = None      # None: the port that received the most HTTP requests
    dns_ports: tuple[int, ...] = (53,)
    metadata: dict[str, str] = field(default_factory=lambda: dict(METADATA_ADDRESSES))


@dataclass
class Reconstruction:
    """Tables of one capture (columns above; times UTC, durations in ms) and its counts."""

    requests: pd.DataFrame
    dns: pd.DataFrame
    metadata: pd.DataFrame
    counts: dict


class _Connection:
    __slots__ = ("client", "cport", "role", "syn", "last", "seq", "exchanges", "current",
                 "closing")

    def __init__(self, client: bytes, cport: int, role: str):
        self.client, self.cport, self.role = client, cport, role
        self.syn: float | None = None
        self.last = 0.0
        self.seq: dict[bool, int] = {}
        self.exchanges = 0
        self.current: list | None = None   # [start, first_back, last_back, method, path,
        self.closing = 0                   #  status, unreadable]


class _Rebuilder:
    def __init__(self, options: CaptureOptions, service_port: int):
        self.options, self.port = options, service_port
        self.metadata = {}
        for key, name in options.metadata.items():
            host, _, port = key.rpartition(":") if key.count(":") == 1 else (key, "", "")
            self.metadata[(ipaddress.ip_address(host).packed, int(port) if port else None)] = name
        self.dns_ports = set(options.dns_ports)
        self.connections: dict[tuple, _Connection] = {}
        self.requests: list[tuple] = []
        self.calls: list[tuple] = []
        self.queries: list[tuple] = []
        self.outstanding: dict[tuple, list] = {}
        self.counts: Counter = Counter()

    def _endpoint(self, address: bytes, port: int) -> str | None:
        return self.metadata.get((address, port)) or self.metadata.get((address, None))

    def feed(self, p: Packet) -> None:
        if p.proto == UDP:
            if p.dport in self.dns_ports or p.sport in self.dns_ports:
                self._dns(p, p.payload, "udp")
            return
        if p.dport in self.dns_ports or p.sport in self.dns_ports:
            if p.length > 2:  # DNS over TCP: a 2-byte length, then the message (one segment)
                self._dns(p, p.payload[2:], "tcp")
            return
        key = (p.src, p.sport, p.dst, p.dport)
        connection = self.connections.get(key)
        if connection is not None and p.flags & SYN and not p.flags & ACK and (
                connection.exchanges or connection.current is not None):
            self._close(connection, p)  # the same ports again: a new connection
            connection = None
        if connection is None:
            connection = self._open(p)
            if connection is None:
                return
        self._segment(connection, p, p.src == connection.client and p.sport == connection.cport)

    def _open(self, p: Packet) -> _Connection | None:
        if p.dport == self.port:
            client, cport, role = p.src, p.sport, "inbound"
        elif p.sport == self.port:
            client, cport, role = p.dst, p.dport, "inbound"
        elif (name := self._endpoint(p.dst, p.dport)) is not None:
            client, cport, role = p.src, p.sport, name
        elif (name := self._endpoint(p.src, p.sport)) is not None:
            client, cport, role = p.dst, p.dport, name
        elif p.flags & SYN and not p.flags & ACK:
            client, cport, role = p.src, p.sport, "other"
        elif p.length and (sni := protocols.server_name(p.payload)) is not None:
            client, cport, role = p.src, p.sport, "STS" if STS_NAME.match(sni) else "ignored"
        else:
            return None  # another connection, joined mid-way: nothing of ours
        connection = _Connection(client, cport, role)
        self.connections[(p.src, p.sport, p.dst, p.dport)] = connection
        self.connections[(p.dst, p.dport, p.src, p.sport)] = connection
        return connection

    def _segment(self, c: _Connection, p: Packet, from_client: bool) -> None:
        c.last = p.time
        if p.flags & SYN:
            if from_client and c.syn is None:
                c.syn = p.time
        if p.length:
            end = (p.seq + p.length) & 0xFFFFFFFF
            seen = c.seq.get(from_client)
            if seen is not None and (seen - end) & 0xFFFFFFFF < 0x80000000:
                self.counts["tcp retransmissions"] += 1
            else:
                c.seq[from_client] = end
                if from_client:
                    self._request_bytes(c, p)
                else:
                    self._response_bytes(c, p)
        if p.flags & (FIN | RST):
            c.closing += 2 if p.flags & RST else 1
            if c.closing >= 2:
                self._close(c, p)

    def _response_bytes(self, c: _Connection, p: Packet) -> None:
        if c.current is None and c.role not in ("inbound", "ignored", "inbound tls") and \
                c.exchanges == 0 and c.syn is not None:
            # the capture lost the request (a full buffer drops packets): the call still
            # started at its SYN
            self.counts["unreadable: request not captured"] += 1
            c.current = [c.syn, None, None, None, None, None, "request not captured"]
        if c.current is None:
            if c.role == "inbound":
                self.counts["responses without a request"] += 1
            return
        if c.current[1] is None:
            c.current[1] = p.time
            c.current[5] = protocols.status_code(p.payload)
        c.current[2] = p.time

    def _request_bytes(self, c: _Connection, p: Packet) -> None:
        if c.role == "other":  # the first bytes decide: a ClientHello to STS, or not ours
            sni = protocols.server_name(p.payload)
            c.role = "STS" if sni and STS_NAME.match(sni) else "ignored"
        if c.role == "ignored" or c.role == "inbound tls":
            return
        if c.current is not None and (c.current[1] is None or c.role == "STS"):
            return  # more of the same request (or, over TLS, of the same connection)
        self._finish(c)
        start = c.syn if c.exchanges == 0 and c.syn is not None and c.role != "inbound" \
            else p.time
        if c.role == "STS":
            c.current = [start, None, None, "TLS", "", None, None]
            return
        line = protocols.request_line(p.payload, len(p.payload) < p.length)
        if line == "tls" and c.role == "inbound":
            c.role = "inbound tls"
            self.counts["unreadable: tls connections"] += 1
            return
        method, path, why = (*line, None) if isinstance(line, tuple) else (None, None, line)
        if why:
            self.counts[f"unreadable: {why}"] += 1
        c.current = [start, None, None, method, path, None, why]

    def _finish(self, c: _Connection) -> None:
        if c.current is None:
            return
        start, first, last, method, path, status, why = c.current
        end = last if last is not None else c.last
        if c.role == "inbound":
            self.requests.append((start, first, end, method, path, status, why))
        else:
            self.calls.append((start, end, c.role, method, path, status, c.exchanges == 0))
        c.exchanges += 1
        c.current = None

    def _close(self, c: _Connection, p: Packet) -> None:
        self._finish(c)
        self.connections.pop((p.src, p.sport, p.dst, p.dport), None)
        self.connections.pop((p.dst, p.dport, p.src, p.sport), None)

    def _dns(self, p: Packet, payload: bytes, transport: str) -> None:
        message = protocols.dns_message(payload)
        if message is None:
            self.counts["unreadable: dns"] += 1
            return
        qid, response, rcode, name, qtype = message
        if response:
            key = (p.dst, p.dport, qid, name, qtype)
            query = self.outstanding.pop(key, None)
            if query is None:
                self.counts["dns answers without a query"] += 1
                return
            self.queries.append((query[0], p.time, name, qtype, protocols.rcode_name(rcode),
                                 query[1], transport, p.dst, p.dport))
            return
        key = (p.src, p.sport, qid, name, qtype)
        if key in self.outstanding:
            self.outstanding[key][1] += 1
        else:
            self.outstanding[key] = [p.time, 0]

    def finish(self) -> None:
        for connection in {id(c): c for c in self.connections.values()}.values():
            self._finish(connection)
        for (client, port, _qid, name, qtype), (sent, retries) in self.outstanding.items():
            self.queries.append((sent, None, name, qtype, "no answer", retries, "udp", client,
                                 port))
        self.outstanding.clear()


def detect_service_port(path: Path, options: CaptureOptions) -> int | None:
    """The TCP port that received the most HTTP requests (not a metadata endpoint's)."""
    rebuilder = _Rebuilder(options, -1)
    ports: Counter = Counter()
    for p in packets(path):
        if p.proto == TCP and p.length and p.payload.startswith(protocols.METHODS) and \
                rebuilder._endpoint(p.dst, p.dport) is None:
            ports[p.dport] += 1
    return ports.most_common(1)[0][0] if ports else None


def reconstruct(path: Path, env: str = "", options: CaptureOptions | None = None) \
        -> Reconstruction:
    """Requests, DNS queries and metadata calls of one capture, attributed."""
    options = options or CaptureOptions()
    port = options.service_port
    counts: dict = {"service_port": port, "service_port_from": "given"}
    if port is None:
        port = detect_service_port(path, options)
        counts.update(service_port=port, service_port_from="detected")
    rebuilder = _Rebuilder(options, port if port is not None else -1)
    read = ReadCounts()
    for number, packet in enumerate(packets(path, read)):
        rebuilder.feed(packet)
        if number % 100_000 == 99_999:
            _give_up(rebuilder, packet.time)
    rebuilder.finish()
    requests = _requests(rebuilder.requests, env)
    dns = _dns_table(rebuilder.queries, env)
    metadata = _metadata_table(rebuilder.calls, env)
    attribution = attribute(requests, dns, metadata)
    requests, dns, metadata = (requests[REQUEST_COLUMNS], dns[DNS_COLUMNS],
                               metadata[METADATA_COLUMNS])
    counts.update(frames=read.frames, packets=read.packets, not_ip=read.not_ip,
                  other_protocols=read.other_protocols, fragments=read.fragments,
                  truncated_headers=read.truncated_headers,
                  link_types=sorted(read.link_types or ()), **attribution,
                  **dict(sorted(rebuilder.counts.items())))
    return Reconstruction(requests, dns, metadata, counts)


def _give_up(rebuilder: _Rebuilder, now: float) -> None:
    """Write out queries unanswered for DNS_GIVE_UP_S: memory stays bounded."""
    stale = [k for k, (sent, _) in rebuilder.outstanding.items() if now - sent > DNS_GIVE_UP_S]
    for key in stale:
        sent, retries = rebuilder.outstanding.pop(key)
        rebuilder.queries.append((sent, None, key[3], key[4], "no answer", retries, "udp",
                                  key[0], key[1]))


def _times(seconds) -> pd.Series:
    return pd.to_datetime(pd.Series(seconds, dtype="float64") * 1e9, utc=True)


def _requests(rows: list[tuple], env: str) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=["start_s", "first_s", "end_s", "method", "path",
                                        "status", "unreadable"])
    table = table.sort_values("start_s", kind="stable").reset_index(drop=True)
    table["total_ms"] = (table["end_s"] - table["start_s"]) * 1000
    table["first_byte_ms"] = (table["first_s"] - table["start_s"]) * 1000
    table["status"] = table["status"].astype("Int64")
    table.insert(0, "env", env)
    table["start"] = _times(table["start_s"])
    return table


def _dns_table(rows: list[tuple], env: str) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=["start_s", "end_s", "name", "type", "rcode",
                                        "retransmissions", "transport", "client", "port"])
    table = table.sort_values("start_s", kind="stable").reset_index(drop=True)
    table["ms"] = (table["end_s"] - table["start_s"]) * 1000
    # the A/AAAA pair: both asked for one name from one socket (glibc, musl, Java)
    asked = table.assign(a=table["type"] == "A", aaaa=table["type"] == "AAAA").groupby(
        ["client", "port", "name"])[["a", "aaaa"]].transform("any")
    table["paired"] = (asked["a"] & asked["aaaa"]).astype(bool)
    table["time"] = _times(table["start_s"])
    table.insert(0, "env", env)
    return table.drop(columns=["client", "port"])


def _metadata_table(rows: list[tuple], env: str) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=["start_s", "end_s", "endpoint", "method", "path",
                                        "status", "new_connection"])
    table = table.sort_values("start_s", kind="stable").reset_index(drop=True)
    table["ms"] = (table["end_s"] - table["start_s"]) * 1000
    table["status"] = table["status"].astype("Int64")
    table["time"] = _times(table["start_s"])
    table.insert(0, "env", env)
    return table
