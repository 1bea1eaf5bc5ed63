"""Rewrite a real capture into the other shapes a reader meets: pcapng (as Wireshark and
dumpcap save), big-endian pcap, and the loopback/null and raw-IP link types (tcpdump on macOS
and BSD `lo0`, tun devices). The packets stay the ones tcpdump captured."""

from __future__ import annotations

import gzip
import shutil
import struct
from pathlib import Path

from analysis.capture.reader import ETHERNET, LOOP, NULL, RAW, frames


def _block(kind: int, body: bytes) -> bytes:
    body += b"\0" * (-len(body) % 4)
    return struct.pack("<II", kind, len(body) + 12) + body + struct.pack("<I", len(body) + 12)


def to_pcapng(src: Path, dst: Path) -> Path:
    """One section, one interface with nanosecond resolution, Enhanced Packet Blocks; a
    second interface nobody uses, to make the interface ids matter."""
    with open(dst, "wb") as out:
        out.write(_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)))
        link = None
        for time, frame_link, data, wirelen in frames(src):
            if link is None:
                link = frame_link
                out.write(_block(1, struct.pack("<HHI", 147, 0, 0)))  # an unused interface
                tsresol = struct.pack("<HHB", 9, 1, 9) + b"\0" * 3 + struct.pack("<HH", 0, 0)
                out.write(_block(1, struct.pack("<HHI", link, 0, 0) + tsresol))
            ticks = round(time * 1e9)
            out.write(_block(6, struct.pack("<IIIII", 1, ticks >> 32, ticks & 0xFFFFFFFF,
                                            len(data), wirelen) + data))
    return dst


def to_link(src: Path, dst: Path, link: int, order: str = "<") -> Path:
    """A classic pcap of another link type (from Ethernet frames) and byte order."""
    with open(dst, "wb") as out:
        out.write(struct.pack(order + "IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, link))
        for time, frame_link, data, wirelen in frames(src):
            assert frame_link == ETHERNET
            ip = data[14:]
            family = 2 if ip[0] >> 4 == 4 else 10
            head = {NULL: struct.pack("<I", family), LOOP: struct.pack(">I", family),
                    RAW: b"", ETHERNET: data[:14]}[link]
            frame = head + ip
            seconds = int(time)
            out.write(struct.pack(order + "IIII", seconds, round((time - seconds) * 1e6),
                                  len(frame), wirelen - len(data) + len(frame)) + frame)
    return dst


def gzipped(src: Path, dst: Path) -> Path:
    with open(src, "rb") as raw, gzip.open(dst, "wb") as out:
        shutil.copyfileobj(raw, out)
    return dst


def frame(src: str, sport: int, dst: str, dport: int, payload: bytes = b"", udp: bool = False,
          seq: int = 1, flags: int = 0x18) -> bytes:
    """An Ethernet frame of IPv4 or IPv6, for the cases a loopback run does not produce (TLS,
    STS, DNS retransmissions and DNS over TCP, an IPv6 cluster)."""
    import ipaddress

    if udp:
        l4 = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0)
    else:
        l4 = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, flags, 65535, 0, 0)
    source, target = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    if source.version == 6:
        ip = struct.pack("!IHBB16s16s", 6 << 28, len(l4) + len(payload), 17 if udp else 6, 64,
                         source.packed, target.packed)
        return b"\0" * 12 + b"\x86\xdd" + ip + l4 + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4) + len(payload), 0, 0x4000, 64,
                     17 if udp else 6, 0, source.packed, target.packed)
    return b"\0" * 12 + b"\x08\x00" + ip + l4 + payload


def write_pcap(path: Path, timed_frames: list[tuple[float, bytes]]) -> Path:
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, ETHERNET))
        for time, data in timed_frames:
            seconds = int(time)
            out.write(struct.pack("<IIII", seconds, round((time - seconds) * 1e6), len(data),
                                  len(data)) + data)
    return path
