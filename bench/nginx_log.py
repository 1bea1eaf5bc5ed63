"""A realistic ingress-nginx access log for the benches, generated vectorized (pyarrow).

Shaped on the published samples in tests/fixtures/real/latency/ingress-nginx-*.log (see
tests/fixtures/real/SOURCES.md): long browser and SDK user agents with spaces, paths with
query strings, referers, IPv4 and IPv6 clients, HTTP/1.1 and HTTP/2.0, retries as
"a, b" lists and internal redirects as "a : b" lists (both in $upstream_addr,
$upstream_response_length, $upstream_response_time and $upstream_status), 499 (client gone,
upstream status `-`), 502 and 504 from nginx itself, and requests nginx answered without an
upstream (`- - - -`). Lines average ~240 bytes, as the issue's realistic log did.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: user agents as they appear in the published samples and in common traffic
USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/118.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.1 Safari/605.1.15",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.14; rv:72.0) Gecko/20100101 Firefox/72.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/119.0.6045.66 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/119.0",
    "Elastic-metricbeat/7.16.3 (linux; amd64; e7cede6a62ed4452bd9044fc6f4947df; 2022-01-07 "
    "00:50:33 +0000 UTC)",
    "aws-sdk-java/1.12.565 Linux/5.10.198-187.748.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/"
    "17.0.9+8-LTS java/17.0.9 vendor/Amazon.com_Inc. cfg/retry-mode/legacy",
    "okhttp/4.12.0",
    "python-requests/2.31.0",
    "curl/8.4.0",
    "Go-http-client/2.0",
    "kube-probe/1.28",
    "Wget/1.20.3 (darwin18.6.0)",
]
UA_WEIGHTS = [9, 5, 4, 5, 5, 3, 1, 2, 22, 12, 8, 14, 9, 1]
PATHS = ["/v1/items/", "/v1/search?q=shoes&page=", "/v2/orders/", "/v1/users/", "/js/app.",
         "/favicon.ico?v=", "/healthz?p=", "/v1/cart?sku=A-", "/graphql?op=Product&id="]
METHODS = ["GET", "GET", "GET", "GET", "POST", "PUT", "DELETE", "GET"]
REFERERS = ["-"] * 7 + ["https://shop.example.com/", "https://shop.example.com/p/42",
                         "https://www.google.com/"]
STATUSES = [200, 201, 204, 301, 304, 400, 404, 499, 500, 502, 503, 504]
STATUS_WEIGHTS = [8300, 250, 150, 100, 300, 80, 400, 100, 40, 60, 60, 40]
#: shares of the requests: retried ("a, b"), internally redirected ("a : b"), no upstream
RETRIED, REDIRECTED, NO_UPSTREAM = 0.01, 0.002, 0.004


def _pool(values: list[str], index: np.ndarray) -> pa.Array:
    return pa.array(values).take(pa.array(index))


def _text(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(values), pa.string())


def _seconds(ms: np.ndarray) -> pa.Array:
    """ms as nginx prints seconds: 0.021"""
    frac = pc.utf8_lpad(_text(ms % 1000), 3, "0")
    return pc.binary_join_element_wise(_text(ms // 1000), frac, ".")


def _join(*parts, sep: str = " ") -> pa.Array:
    return pc.binary_join_element_wise(*parts, sep)


def _hex(rng: np.random.Generator, n: int, width: int) -> pa.Array:
    digits = np.frombuffer(b"0123456789abcdef", np.uint8)[rng.integers(0, 16, (n, width))]
    return pc.cast(pa.array(np.ascontiguousarray(digits).view(f"S{width}").ravel()), pa.string())


def _clients(rng: np.random.Generator) -> list[str]:
    v4 = [f"{a}.{b}.{c}.{d}" for a, b, c, d in rng.integers(1, 255, (3000, 4))]
    v6 = [f"2a02:cf40:{a:x}:{b:x}::{c:x}" for a, b, c in rng.integers(1, 65535, (600, 3))]
    return v4 + v6


def _chunk(rng: np.random.Generator, start: int, n: int, clients: list[str]) -> pa.Array:
    index = np.arange(start, start + n)
    stamps = pa.array((np.datetime64("2026-11-24T10:00:00") + index // 200)
                      .astype("datetime64[s]"))
    when = pc.strftime(stamps, format="[%d/%b/%Y:%H:%M:%S +0000]")
    status = np.asarray(STATUSES)[rng.choice(len(STATUSES), n,
                                             p=np.array(STATUS_WEIGHTS) / sum(STATUS_WEIGHTS))]
    path = _join(_pool(PATHS, rng.integers(0, len(PATHS), n)),
                 _text(rng.integers(1, 200_000, n)), sep="")
    request = _join('"', _pool(METHODS, rng.integers(0, len(METHODS), n)), " ", path,
                    _pool([" HTTP/1.1", " HTTP/2.0"], rng.integers(0, 2, n)), '"', sep="")
    agent = _join('"', _pool(USER_AGENTS, rng.choice(len(USER_AGENTS), n, p=np.array(
        UA_WEIGHTS) / sum(UA_WEIGHTS))), '"', sep="")
    referer = _join('"', _pool(REFERERS, rng.integers(0, len(REFERERS), n)), '"', sep="")
    upstream_ms = np.maximum(1, rng.lognormal(np.log(25), 0.6, n)).astype(np.int64)
    upstream_ms[status == 504] = 60_000
    request_ms = upstream_ms + rng.integers(0, 4, n)
    body = rng.integers(0, 40_000, n)
    body[status == 499] = 0
    pod = rng.integers(0, 40, n)
    addr = _join(_pool([f"10.1.{p // 8}.{p * 7 % 250}:8080" for p in range(40)], pod))
    length, seconds = _text(body), _seconds(upstream_ms)
    code = _text(status)
    upstream_status = pc.if_else(pa.array(status == 499), "-", code)
    draw = rng.random(n)
    retried = pa.array(draw < RETRIED)
    redirected = pa.array((draw >= RETRIED) & (draw < RETRIED + REDIRECTED))
    none = pa.array(draw >= 1 - NO_UPSTREAM)
    # a retry: the first upstream failed (502 after a short wait), the second answered
    addr = pc.if_else(retried, _join(addr, "10.1.9.9:8080", sep=", "), addr)
    length = pc.if_else(retried, _join("0", length, sep=", "), length)
    seconds = pc.if_else(retried, _join("0.004", seconds, sep=", "), seconds)
    upstream_status = pc.if_else(retried, _join("502", upstream_status, sep=", "),
                                 upstream_status)
    # an internal redirect (error_page, auth_request): "a : b"
    addr = pc.if_else(redirected, _join(addr, "10.1.9.10:8080", sep=" : "), addr)
    length = pc.if_else(redirected, _join(length, "0", sep=" : "), length)
    seconds = pc.if_else(redirected, _join(seconds, "0.001", sep=" : "), seconds)
    upstream_status = pc.if_else(redirected, _join(upstream_status, "200", sep=" : "),
                                 upstream_status)
    upstream = pc.if_else(none, "- - - -", _join(addr, length, seconds, upstream_status))
    name = pc.if_else(none, "[]", "[shop-api-8080]")
    return _join(_pool(clients, rng.integers(0, len(clients), n)), "- -", when, request, code,
                 _text(body), referer, agent, _text(rng.integers(200, 1800, n)),
                 _seconds(request_ms), name, "[]", upstream, _hex(rng, n, 32))


def generate(path: Path, lines: int, seed: int = 5) -> None:
    """Write `lines` realistic ingress-nginx lines to `path` (~240 bytes each)."""
    rng = np.random.default_rng(seed)
    clients = _clients(rng)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out:
        for start in range(0, lines, 500_000):
            line = _chunk(rng, start, min(500_000, lines - start), clients)
            out.write(pc.binary_join(pa.array([line], pa.list_(pa.string())), "\n")[0]
                      .as_buffer())
            out.write(b"\n")
