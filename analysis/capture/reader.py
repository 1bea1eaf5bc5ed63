"""Read packets from a capture file, one at a time: pcap and pcapng, gzipped or not.

Link types: Ethernet (tcpdump -i eth0, -i lo), Linux cooked capture v1 and v2 (tcpdump -i any),
BSD loopback/null, raw IP. Each packet comes out as a `Packet` with its IP and TCP/UDP header
fields and a view of its payload; nothing else of the frame is kept, and memory does not grow
with the file (bench/pcap.py measures the speed; the reader is our own struct code because it
read a 1M-packet capture faster than dpkt's, see the comparison there).
"""

from __future__ import annotations

import gzip
import io
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from analysis.errors import EvidenceError

PCAP_MAGIC = {b"\xd4\xc3\xb2\xa1": ("<", 1e-6), b"\xa1\xb2\xc3\xd4": (">", 1e-6),
              b"\x4d\x3c\xb2\xa1": ("<", 1e-9), b"\xa1\xb2\x3c\x4d": (">", 1e-9)}
PCAPNG_SHB = b"\x0a\x0d\x0d\x0a"
ETHERNET, NULL, RAW, LOOP, LINUX_SLL, LINUX_SLL2, IPV4, IPV6 = 1, 0, 101, 108, 113, 276, 228, 229
LINK_NAMES = {ETHERNET: "Ethernet", NULL: "BSD loopback", RAW: "raw IP", 12: "raw IP",
              14: "raw IP", LOOP: "OpenBSD loopback", LINUX_SLL: "Linux cooked v1",
              LINUX_SLL2: "Linux cooked v2", IPV4: "raw IPv4", IPV6: "raw IPv6"}
TCP, UDP = 6, 17
#: no capture has records or blocks this large (tcpdump's largest snap length is 256 KB): a
#: larger length is a damaged file, not a reason to allocate gigabytes
MAX_RECORD = 1 << 24
FIN, SYN, RST, ACK = 0x01, 0x02, 0x04, 0x10
_V6_EXTENSIONS = {0, 43, 60}  # hop-by-hop, routing, destination options: skipped to the L4


@dataclass(slots=True)
class Packet:
    """One TCP or UDP packet: times in seconds since the epoch, addresses as bytes."""

    time: float
    proto: int
    src: bytes
    sport: int
    dst: bytes
    dport: int
    flags: int        # TCP flags (0 for UDP)
    seq: int          # TCP sequence number (0 for UDP)
    length: int       # payload length on the wire
    payload: bytes    # the captured part of the payload (shorter when the snap length cut it)


@dataclass
class ReadCounts:
    """What the reader saw besides TCP/UDP packets: nothing is lost silently."""

    frames: int = 0
    packets: int = 0
    not_ip: int = 0
    other_protocols: int = 0
    fragments: int = 0
    truncated_headers: int = 0
    link_types: set | None = None


def open_capture(path: Path) -> io.BufferedReader:
    """The capture's bytes, gunzipped when the file is gzip."""
    raw = open(path, "rb")  # noqa: SIM115 (returned to the caller, who closes it)
    if raw.peek(2)[:2] == b"\x1f\x8b":
        return io.BufferedReader(gzip.GzipFile(fileobj=raw), 1 << 20)
    return raw


def frames(path: Path) -> Iterator[tuple[float, int, bytes, int]]:
    """(time, link type, captured bytes, length on the wire) of every frame in the file."""
    with open_capture(Path(path)) as stream:
        head = stream.read(24)
        if head[:4] in PCAP_MAGIC:
            yield from _pcap_frames(path, stream, head)
        elif head[:4] == PCAPNG_SHB:
            yield from _pcapng_frames(path, stream, head)
        else:
            raise EvidenceError(path, "not a packet capture: expected pcap or pcapng (as "
                                "tcpdump -w or Wireshark write them), gzipped or not")


def _pcap_frames(path: Path, stream, head: bytes):
    order, unit = PCAP_MAGIC[head[:4]]
    if len(head) < 24:
        raise EvidenceError(path, "pcap file header is cut short (24 bytes expected)")
    link = struct.unpack(order + "I", head[20:24])[0] & 0x0FFFFFFF
    record = struct.Struct(order + "IIII")
    read, unpack = stream.read, record.unpack
    while True:
        header = read(16)
        if len(header) < 16:
            return
        seconds, fraction, caplen, wirelen = unpack(header)
        if caplen > MAX_RECORD:
            raise EvidenceError(path, f"a packet record of {caplen} bytes: the file is damaged "
                                "(or not a capture after its header)")
        data = read(caplen)
        if len(data) < caplen:
            return  # the last packet of a capture stopped mid-write: tcpdump killed
        yield seconds + fraction * unit, link, data, wirelen


def _pcapng_frames(path: Path, stream, head: bytes):
    order = "<" if head[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
    if head[8:12] not in (b"\x4d\x3c\x2b\x1a", b"\x1a\x2b\x3c\x4d"):
        raise EvidenceError(path, "pcapng section header has no byte-order magic")
    interfaces: list[tuple[int, float, float]] = []
    pending = head
    while True:
        block_head = pending[:8] if pending else stream.read(8)
        if len(block_head) < 8:
            return
        kind, total = struct.unpack(order + "II", block_head)
        if total < 12 or total > MAX_RECORD:
            raise EvidenceError(path, f"pcapng block of {total} bytes: the file is damaged")
        body = pending[8:] + stream.read(total - len(pending)) if pending else \
            stream.read(total - 8)
        pending = b""
        if len(body) < total - 8:
            return
        if kind == 0x0A0D0D0A:  # a new section: its interfaces start again
            order = "<" if body[0:4] == b"\x4d\x3c\x2b\x1a" else ">"
            interfaces = []
        elif kind == 1:
            interfaces.append(_interface(order, body))
        elif kind == 6:
            iface, high, low, caplen, wirelen = struct.unpack(order + "IIIII", body[:20])
            if iface >= len(interfaces):
                raise EvidenceError(path, f"a packet of interface {iface}, which no interface "
                                    "block declared: the file is damaged")
            link, unit, offset = interfaces[iface]
            yield ((high << 32) | low) * unit + offset, link, body[20:20 + caplen], wirelen


def _interface(order: str, body: bytes) -> tuple[int, float, float]:
    """(link type, seconds per tick, offset) of an Interface Description Block."""
    link = struct.unpack(order + "H", body[:2])[0]
    unit, offset, at = 1e-6, 0.0, 8
    while at + 4 <= len(body) - 4:
        code, size = struct.unpack(order + "HH", body[at:at + 4])
        value = body[at + 4:at + 4 + size]
        if code == 0:
            break
        if code == 9 and value:  # if_tsresol: a power of 10, or of 2 with the top bit
            unit = 2.0 ** -(value[0] & 0x7F) if value[0] & 0x80 else 10.0 ** -value[0]
        elif code == 14 and size == 8:  # if_tsoffset: seconds added to every timestamp
            offset = float(struct.unpack(order + "q", value)[0])
        at += 4 + size + (-size % 4)
    return link, unit, offset


def _ip_offset(link: int, data: bytes) -> int:
    """Where the IP header starts in a frame of this link type; -1 when it is not IP."""
    if link == ETHERNET:
        kind, at = (data[12] << 8) | data[13], 14
        while kind in (0x8100, 0x88A8):  # VLAN tags
            kind, at = (data[at + 2] << 8) | data[at + 3], at + 4
        return at if kind in (0x0800, 0x86DD) else -1
    if link == LINUX_SLL:
        return 16 if data[14:16] in (b"\x08\x00", b"\x86\xdd") else -1
    if link == LINUX_SLL2:
        return 20 if data[0:2] in (b"\x08\x00", b"\x86\xdd") else -1
    if link in (NULL, LOOP):
        return 4 if data[0:4] in _LOOPBACK_FAMILIES else -1
    if link in (RAW, 12, 14, IPV4, IPV6):
        return 0
    raise ValueError(link)


#: AF_INET and AF_INET6 (Linux, BSDs, macOS) in either byte order: the null link type writes
#: the capturing host's order
_LOOPBACK_FAMILIES = {struct.pack(o + "I", f) for o in "<>" for f in (2, 10, 24, 28, 30)}


def packets(path: Path, counts: ReadCounts | None = None) -> Iterator[Packet]:
    """Every TCP and UDP packet of a capture, in file order; `counts` tallies the rest."""
    counts = counts if counts is not None else ReadCounts()
    counts.link_types = counts.link_types or set()
    unpack_from = struct.unpack_from
    for time, link, data, _wirelen in frames(path):
        counts.frames += 1
        if link not in counts.link_types:
            if link not in LINK_NAMES:
                raise EvidenceError(path, f"link type {link} is not read: expected one of "
                                    f"{sorted(set(LINK_NAMES.values()))}")
            counts.link_types.add(link)
        try:
            at = _ip_offset(link, data)
            if at < 0:
                counts.not_ip += 1
                continue
            version = data[at] >> 4
            if version == 4:
                ihl = (data[at] & 0x0F) * 4
                total, frag, proto = unpack_from("!H2xH1xB", data, at + 2)
                if frag & 0x1FFF:
                    counts.fragments += 1
                    continue
                src, dst = data[at + 12:at + 16], data[at + 16:at + 20]
                l4, end = at + ihl, at + total
            elif version == 6:
                size, proto = unpack_from("!HB", data, at + 4)
                src, dst = data[at + 8:at + 24], data[at + 24:at + 40]
                l4, end = at + 40, at + 40 + size
                while proto in _V6_EXTENSIONS:
                    proto, l4 = data[l4], l4 + 8 + data[l4 + 1] * 8
            else:
                counts.not_ip += 1
                continue
            if proto == TCP:
                sport, dport, seq, offset, flags = unpack_from("!HHIxxxxBB", data, l4)
                start = l4 + (offset >> 4) * 4
            elif proto == UDP:
                sport, dport = unpack_from("!HH", data, l4)
                seq = flags = 0
                start = l4 + 8
            else:
                counts.other_protocols += 1
                continue
        except (IndexError, struct.error):
            counts.truncated_headers += 1
            continue
        counts.packets += 1
        yield Packet(time, proto, src, sport, dst, dport, flags, seq, max(end - start, 0),
                     data[start:end])
