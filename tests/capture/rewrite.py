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
