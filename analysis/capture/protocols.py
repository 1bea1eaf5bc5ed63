"""The only payload fields a capture gives the tool: an HTTP request's method and path (the
query string cut off), an HTTP response's status, a DNS message's id, question and rcode, and a
TLS ClientHello's server name. Headers, bodies, credential documents and tokens are never
decoded: each function reads the first line or the fixed header and returns plain values."""

from __future__ import annotations

import struct

METHODS = (b"GET ", b"PUT ", b"POST ", b"HEAD ", b"DELETE ", b"PATCH ", b"OPTIONS ",
           b"CONNECT ", b"TRACE ")
#: a request line longer than this is not read (an HTTP server's limit is 8 KB; the path is
#: what matters and a snap length of a few hundred bytes keeps it)
LINE_LIMIT = 2048
DNS_TYPES = {1: "A", 28: "AAAA", 5: "CNAME", 33: "SRV", 12: "PTR", 16: "TXT", 15: "MX",
             2: "NS", 6: "SOA", 65: "HTTPS", 64: "SVCB"}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


def request_line(payload: bytes, cut: bool = False) -> tuple[str, str] | str:
    """(method, path without query) of an HTTP/1.x request's first segment, or why not:
    'tls', 'truncated' (`cut`: the snap length cut the segment before the line ended) or
    'not http'."""
    if payload[:1] == b"\x16":
        return "tls"
    end = payload.find(b"\r\n", 0, LINE_LIMIT)
    if cut and end < 0 and (not payload or payload.startswith(METHODS) or any(
            m.startswith(payload) for m in METHODS)):
        return "truncated"
    if not payload.startswith(METHODS):
        return "not http"
    if end < 0:
        return "truncated"
    parts = payload[:end].split(b" ")
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
        return "not http"
    target = parts[1].split(b"?", 1)[0].split(b"#", 1)[0]
    if target.startswith((b"http://", b"https://")):  # absolute form (proxies): keep the path
        target = b"/" + target.split(b"/", 3)[3] if target.count(b"/") >= 3 else b"/"
    return parts[0].decode("ascii", "replace"), target.decode("utf-8", "replace")


def status_code(payload: bytes) -> int | None:
    """The status of an HTTP/1.x response's first segment ('HTTP/1.1 200 OK'), else None."""
    if payload[:7] != b"HTTP/1." or len(payload) < 12 or not payload[9:12].isdigit():
        return None
    return int(payload[9:12])


def dns_message(payload: bytes) -> tuple[int, bool, int, str, str] | None:
    """(id, is_response, rcode, name, type) of a DNS message's header and first question;
    None when it is not one (or the snap length cut the question)."""
    if len(payload) < 17:
        return None
    qid, flags, questions = struct.unpack_from("!HHH", payload)
    if questions < 1:
        return None
    labels, at = [], 12
    while True:
        if at >= len(payload):
            return None
        size = payload[at]
        if size == 0:
            break
        if size > 63:  # compression pointers do not occur in a question's first name
            return None
        labels.append(payload[at + 1:at + 1 + size].decode("ascii", "replace"))
        at += 1 + size
    if at + 5 > len(payload):
        return None
    qtype = struct.unpack_from("!H", payload, at + 1)[0]
    return (qid, bool(flags & 0x8000), flags & 0x000F, ".".join(labels) + ".",
            DNS_TYPES.get(qtype, f"TYPE{qtype}"))


def rcode_name(rcode: int) -> str:
    return RCODES.get(rcode, f"RCODE{rcode}")


def server_name(payload: bytes) -> str | None:
    """The SNI of a TLS ClientHello in one segment (RFC 8446 4.1.2, RFC 6066 3), else None."""
    try:
        if payload[0] != 0x16 or payload[5] != 0x01:
            return None
        at = 9 + 2 + 32  # record header, handshake header, version, random
        at += 1 + payload[at]                                         # session id
        at += 2 + struct.unpack_from("!H", payload, at)[0]            # cipher suites
        at += 1 + payload[at]                                         # compression methods
        end = at + 2 + struct.unpack_from("!H", payload, at)[0]
        at += 2
        while at + 4 <= end:
            kind, size = struct.unpack_from("!HH", payload, at)
            if kind == 0:  # server_name: list length, name type, name length, name
                length = struct.unpack_from("!H", payload, at + 7)[0]
                return payload[at + 9:at + 9 + length].decode("ascii", "replace")
            at += 4 + size
    except (IndexError, struct.error):
        return None
    return None
