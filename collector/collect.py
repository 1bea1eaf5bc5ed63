#!/usr/bin/env python3
"""latency-gap collector: gather the evidence latency-gap reads, inside a pod or on an instance.

One file, Python 3.8+, standard library only, so it can be copied into any container:

    kubectl cp collector/collect.py NS/POD:/tmp/collect.py
    kubectl exec -n NS POD -- python3 /tmp/collect.py --env k8s \\
        --names elastic.example.com --duration 10m --out /tmp/evidence
    kubectl cp NS/POD:/tmp/evidence/k8s data/SERVICE/k8s

Every --interval it times, and appends to files under OUT/ENV/ in the formats the ingest reads:
  dig/          each name looked up through the system resolver (getaddrinfo, search list and
                all, as the application resolves it; SERVER "getaddrinfo"), and queried
                directly, one query per name glibc would try (dig when installed, else a
                minimal UDP query): dig's own text
  credentials/  the metadata credential document, with SecretAccessKey, Token and AccessKeyId
                removed before anything is written (a fingerprint of the key id is kept)
  metadata/     every metadata call timed: time,method,path,status,duration_ms
                (status 0: no answer within the timeout)
  latency/      with --url: the time of a GET to the service itself (CSV)
  resolv.conf   a copy
  collector.log what happened, in words: timeouts, IMDSv2 fallbacks, hop-limit symptoms

IMDSv2 first (token PUT with the TTL header), IMDSv1 when the token cannot be had. The endpoint
is AWS_EC2_METADATA_SERVICE_ENDPOINT when set, as in the AWS SDKs, or --metadata-endpoint.
An unreachable endpoint or resolver is recorded as evidence, never a crash; Ctrl-C (or SIGTERM)
stops the loop and leaves what was collected.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone

DEFAULT_ENDPOINT = "http://169.254.169.254"
ENDPOINT_ENV = "AWS_EC2_METADATA_SERVICE_ENDPOINT"
TOKEN_PATH = "/latest/api/token"
CREDENTIALS_PATH = "/latest/meta-data/iam/security-credentials/"
TOKEN_TTL_S = "21600"
#: characters of IAM role names (besides letters, digits and "_.-~") that stay as they are in a
#: URL path; anything else (a space, "/", "?", "#", "%", "," which would split the CSV) is
#: percent-encoded, as the SDKs do
ROLE_SAFE = "+=@"
#: what is kept of a credential document; everything else (secrets included) is dropped
KEPT = ("Code", "Type", "LastUpdated", "Expiration", "Message")
SYSTEM_RESOLVER = "getaddrinfo"
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


class Stop(Exception):
    """SIGTERM: stop as Ctrl-C does."""


def parse_duration(text: str) -> float:
    """'10m', '2s', '1h', '500ms' or plain seconds -> seconds."""
    text = str(text).strip().lower()
    for suffix, factor in (("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)):
        if text.endswith(suffix) and text[:-len(suffix)].replace(".", "", 1).isdigit():
            return float(text[:-len(suffix)]) * factor
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a duration like 10m, 2s or 500ms, got "
                                         f"{text!r}") from None


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def dig_when(when: datetime) -> str:
    return when.strftime("%a %b %d %H:%M:%S UTC %Y")


# ---------------------------------------------------------------- DNS

def read_resolv(path: str) -> dict:
    """nameservers, search list, ndots and timeout from a resolv.conf (glibc defaults)."""
    conf = {"nameservers": [], "search": [], "ndots": 1, "timeout": 5.0}
    try:
        with open(path) as handle:
            lines = handle.read().splitlines()
    except OSError:
        return conf
    for line in lines:
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if words[0] == "nameserver" and len(words) > 1:
            conf["nameservers"].append(words[1])
        elif words[0] in ("search", "domain"):
            conf["search"] = words[1:]
        elif words[0] == "options":
            for option in words[1:]:
                key, _, value = option.partition(":")
                if key == "ndots" and value.isdigit():
                    conf["ndots"] = int(value)
                elif key == "timeout" and value.isdigit():
                    conf["timeout"] = float(value)
    return conf


def expansions(name: str, search: list, ndots: int) -> list:
    """The names glibc queries for one lookup, in order (man 5 resolv.conf)."""
    if name.endswith("."):
        return [name.rstrip(".")]
    with_search = [f"{name}.{domain}" for domain in search]
    if name.count(".") >= ndots:
        return [name] + with_search
    return with_search + [name]


def build_query(name: str, qid: int) -> bytes:
    """A DNS query for the A record of `name`, recursion desired (RFC 1035 4.1)."""
    question = b"".join(bytes([len(label)]) + label.encode("idna")
                        for label in name.rstrip(".").split(".") if label) + b"\x00"
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + question + struct.pack("!HH", 1, 1)


def udp_query(name: str, server: str, port: int, timeout: float) -> tuple:
    """(status, ms) of one UDP query; ('TIMEOUT', None) when no answer came in time."""
    qid = random.randint(0, 0xFFFF)
    started = time.perf_counter()
    family = socket.AF_INET6 if ":" in server else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.sendto(build_query(name, qid), (server, port))
            while True:
                data, _ = sock.recvfrom(4096)
                if len(data) >= 12 and struct.unpack("!H", data[:2])[0] == qid:
                    break
        except socket.timeout:
            return "TIMEOUT", None
        except OSError as exc:  # unreachable network, refused: dig says "communications error"
            return "ERROR " + exc.__class__.__name__, None
    ms = (time.perf_counter() - started) * 1000
    return RCODES.get(struct.unpack("!H", data[2:4])[0] & 0x000F, "RCODE?"), ms


def dig_block(name: str, status: str, ms, server: str, port: int, when: datetime,
              timeout: float, command: str = "") -> str:
    """One answer in dig's text; a query with no answer as dig prints a timeout."""
    banner = f"; <<>> DiG latency-gap-collect <<>> {command or name}\n"
    if ms is None:
        return (banner + f";; connection timed out; no servers could be reached "
                f"(+time={timeout:g}, {status.lower()})\n\n")
    server_text = server if server == SYSTEM_RESOLVER else f"{server}#{port}({server}) (UDP)"
    return (banner + f";; ->>HEADER<<- opcode: QUERY, status: {status}, id: 0\n"
            f";; QUESTION SECTION:\n;{name}.\t\t\tIN\tA\n\n"
            f";; Query time: {int(round(ms))} msec\n;; SERVER: {server_text}\n"
            f";; WHEN: {dig_when(when)}\n\n")


def run_dig(dig: str, name: str, server: str, port: int, timeout: float) -> str:
    """dig's own output for one query (no search list: one name, one query)."""
    command = [dig, f"@{server}", "-p", str(port), f"+time={max(1, int(round(timeout)))}",
               "+tries=1", "+nosearch", name, "A"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout + 5)
        return done.stdout if done.stdout.endswith("\n") else done.stdout + "\n"
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"; <<>> DiG latency-gap-collect <<>> {name}\n;; communications error: " \
               f"{exc.__class__.__name__}, timed out\n\n"


def system_lookup(name: str) -> tuple:
    """(status, ms) of getaddrinfo: what the application's own lookup costs."""
    started = time.perf_counter()
    try:
        socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
        status = "NOERROR"
    except socket.gaierror as exc:
        status = "SERVFAIL" if exc.errno == socket.EAI_AGAIN else "NXDOMAIN"
    return status, (time.perf_counter() - started) * 1000


# ---------------------------------------------------------------- metadata

def key_fingerprint(access_key_id: str) -> str:
    """The same fingerprint the ingest computes, so credentials can be counted, not used."""
    return hashlib.sha256(access_key_id.encode()).hexdigest()[:12]


def redact_document(body: str, fetched: datetime) -> dict:
    """The fields worth keeping of a credential document; no secret survives this."""
    try:
        doc = json.loads(body)
    except ValueError:
        return {"Code": "CollectorError", "Message": "the endpoint answered with no JSON"}
    if not isinstance(doc, dict):
        return {"Code": "CollectorError", "Message": "the endpoint answered with no object"}
    kept = {k: doc[k] for k in KEPT if isinstance(doc.get(k), str)}
    if isinstance(doc.get("AccessKeyId"), str):
        kept["AccessKeyFingerprint"] = key_fingerprint(doc["AccessKeyId"])
    kept["FetchedAt"] = iso(fetched)
    return kept


class Metadata:
    """IMDSv2 with fallback to IMDSv1; every call timed and recorded, secrets never kept."""

    def __init__(self, endpoint: str, timeout: float, log):
        self.endpoint, self.timeout, self.log = endpoint.rstrip("/"), timeout, log
        self.token = None
        self.token_expires = 0.0
        self.v1_only = False

    def _call(self, method: str, path: str, headers: dict) -> tuple:
        """(row, status, body). Status 0: no answer (timeout, refused, unreachable, a URL
        that cannot be requested): recorded, never raised."""
        when, started = now_utc(), time.perf_counter()
        body, status, problem = "", 0, None
        try:
            request = urllib.request.Request(self.endpoint + path, method=method,
                                             headers=headers,
                                             data=b"" if method == "PUT" else None)
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, body = response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            status = exc.code
        except Exception as exc:  # a collection problem is evidence: InvalidURL, refused, ...
            reason = getattr(exc, "reason", exc)
            problem = f"{reason.__class__.__name__}: {reason}"
        ms = (time.perf_counter() - started) * 1000
        if problem:
            self.log(f"{method} {path}: no answer after {ms:.0f} ms "
                     f"(timeout {self.timeout:g} s): {problem}")
        return {"time": iso(when), "method": method, "path": path, "status": status,
                "duration_ms": f"{ms:.1f}"}, status, body

    def fetch(self) -> tuple:
        """One credential fetch as an SDK does it: (timed calls, redacted document or None)."""
        calls, headers = [], {}
        if not self.v1_only and (self.token is None or time.time() > self.token_expires):
            row, status, body = self._call("PUT", TOKEN_PATH,
                                           {"X-aws-ec2-metadata-token-ttl-seconds": TOKEN_TTL_S})
            calls.append(row)
            if status == 200 and body:
                self.token, self.token_expires = body.strip(), time.time() + 3600
            elif status == 0:
                self.log("IMDSv2 token PUT got no answer: from a container this is the "
                         "symptom of the instance's metadata hop limit of 1 (raise it to 2, "
                         "or give the pod its own credentials); falling back to IMDSv1")
                self.v1_only = True
            elif status in (403, 404, 405):
                self.log(f"IMDSv2 token PUT answered {status}: IMDSv1 only; falling back")
                self.v1_only = True
        if self.token and not self.v1_only:
            headers = {"X-aws-ec2-metadata-token": self.token}
        row, status, role = self._call("GET", CREDENTIALS_PATH, headers)
        calls.append(row)
        if status == 401 and headers:
            self.token = None  # expired or revoked: a new one next time
        if status != 200 or not role.strip():
            return calls, None
        name = role.strip().splitlines()[0].strip()
        role_path = CREDENTIALS_PATH + urllib.parse.quote(name, safe=ROLE_SAFE)
        if role_path != CREDENTIALS_PATH + name:
            self.log(f"the role name {name!r} is not URL-safe: asked for {role_path}")
        row, status, body = self._call("GET", role_path, headers)
        calls.append(row)
        if status != 200:
            return calls, None
        return calls, redact_document(body, now_utc())


def timed_get(url: str, timeout: float) -> tuple:
    """(status, ms, problem) of a GET; status 0 and the problem when there was no answer."""
    started, problem = time.perf_counter(), None
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except Exception as exc:  # refused, timed out, a URL that cannot be requested: evidence
        status, reason = 0, getattr(exc, "reason", exc)
        problem = f"{reason.__class__.__name__}: {reason}"
    return status, (time.perf_counter() - started) * 1000, problem


# ---------------------------------------------------------------- the loop

class Output:
    """Append-only files under OUT/ENV, flushed after every sample, so Ctrl-C loses nothing."""

    def __init__(self, root: str, env: str, run: str):
        self.folder = os.path.join(root, env)
        self.run = run
        self.handles = {}

    def path(self, kind: str, suffix: str) -> str:
        folder = os.path.join(self.folder, kind)
        os.makedirs(folder, exist_ok=True)
        return os.path.join(folder, f"collect-{self.run}{suffix}")

    def write(self, kind: str, suffix: str, text: str, header: str = "") -> None:
        key = (kind, suffix)
        if key not in self.handles:
            target = self.path(kind, suffix)
            self.handles[key] = open(target, "a", encoding="utf-8")
            if header:
                self.handles[key].write(header)
        self.handles[key].write(text)
        self.handles[key].flush()

    def close(self) -> None:
        for handle in self.handles.values():
            handle.close()


def copy_resolv_conf(source: str, folder: str, run: str, log) -> None:
    """Copy resolv.conf beside the evidence; never overwrite a different one already there."""
    if not os.path.isfile(source):
        log(f"no {source}: the report will take glibc's defaults")
        return
    target = os.path.join(folder, "resolv.conf")
    with open(source, "rb") as handle:
        content = handle.read()
    if os.path.isfile(target):
        with open(target, "rb") as handle:
            if handle.read() == content:
                return
        target = os.path.join(folder, f"resolv.conf.collect-{run}")
        log(f"{folder}/resolv.conf differs from {source}: kept it, wrote {target}")
    with open(target, "wb") as handle:
        handle.write(content)


def collect(args: argparse.Namespace) -> dict:
    """Run the collection loop; returns counts of what was written."""
    run = f"{socket.gethostname()}-{now_utc().strftime('%Y%m%dT%H%M%SZ')}"
    out = Output(args.out, args.env, run)
    os.makedirs(out.folder, exist_ok=True)
    log_path = os.path.join(out.folder, "collector.log")

    def log(message: str) -> None:
        with open(log_path, "a", encoding="utf-8") as handle:
            handle.write(f"{iso(now_utc())} {message}\n")
        if not args.quiet:
            print(f"collect: {message}", file=sys.stderr, flush=True)

    conf = read_resolv(args.resolv_conf)
    copy_resolv_conf(args.resolv_conf, out.folder, run, log)
    server, port = args.resolver, args.resolver_port
    if not server:
        server = conf["nameservers"][0] if conf["nameservers"] else "127.0.0.1"
    dig = None if args.dns_client == "builtin" else shutil.which("dig")
    if args.dns_client == "dig" and not dig:
        raise SystemExit("collect: --dns-client dig, but dig is not installed")
    endpoint = args.metadata_endpoint or os.environ.get(ENDPOINT_ENV) or DEFAULT_ENDPOINT
    metadata = Metadata(endpoint, args.metadata_timeout, log) if not args.no_metadata else None
    names = [n.strip() for n in args.names.split(",") if n.strip()] if args.names else []
    log(f"collecting {args.env} every {args.interval:g} s for {args.duration:g} s: names "
        f"{', '.join(names) or 'none'}, resolver {server}:{port} "
        f"({'dig' if dig else 'built-in UDP query'}), metadata {endpoint if metadata else 'off'}")
    counts = {"samples": 0, "lookups": 0, "queries": 0, "metadata_calls": 0, "documents": 0,
              "requests": 0}

    def on_term(signum, frame):
        raise Stop()

    previous = signal.signal(signal.SIGTERM, on_term)
    deadline = time.monotonic() + args.duration
    try:
        while True:
            started = time.monotonic()
            for name in names:
                status, ms = system_lookup(name)
                out.write("dig", ".txt", dig_block(name, status, ms, SYSTEM_RESOLVER, 0, now_utc(),
                                                   conf["timeout"], f"+getaddrinfo {name}"))
                counts["lookups"] += 1
                for candidate in expansions(name, conf["search"], conf["ndots"]):
                    when = now_utc()
                    if dig:
                        text = run_dig(dig, candidate, server, port, args.dns_timeout)
                    else:
                        status, ms = udp_query(candidate, server, port, args.dns_timeout)
                        text = dig_block(candidate, status, ms, server, port, when,
                                         args.dns_timeout, f"@{server} -p {port} "
                                         f"+time={args.dns_timeout:g} {candidate}")
                    out.write("dig", ".txt", text)
                    counts["queries"] += 1
            if metadata:
                try:
                    calls, doc = metadata.fetch()
                except Exception as exc:  # whatever still fails is recorded, never fatal
                    log(f"metadata fetch failed: {exc.__class__.__name__}: {exc}")
                    calls, doc = [], None
                out.write("metadata", ".csv", "".join(
                    f"{c['time']},{c['method']},{c['path']},{c['status']},{c['duration_ms']}\n"
                    for c in calls), header="time,method,path,status,duration_ms\n")
                counts["metadata_calls"] += len(calls)
                if doc is not None:
                    out.write("credentials", ".jsonl", json.dumps(doc, sort_keys=True) + "\n")
                    counts["documents"] += 1
            if args.url:
                status, ms, problem = timed_get(args.url, args.url_timeout)
                if problem:
                    log(f"GET {args.url}: no answer after {ms:.0f} ms: {problem}")
                out.write("latency", ".csv", f"{iso(now_utc())},{ms:.3f},{status}\n",
                          header="time,latency_ms,status\n")
                counts["requests"] += 1
            counts["samples"] += 1
            if time.monotonic() >= deadline:
                break
            time.sleep(max(0.0, min(args.interval - (time.monotonic() - started),
                                    deadline - time.monotonic())))
    except (KeyboardInterrupt, Stop):
        log("stopped by a signal; what was collected is kept")
    finally:
        signal.signal(signal.SIGTERM, previous)
        out.close()
    log(f"done: {json.dumps(counts, sort_keys=True)}")
    return counts


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="collect.py", description="Collect latency-gap evidence in this environment.",
        epilog="Output: OUT/ENV/{dig,credentials,metadata,latency}/collect-HOST-TIME.* and "
               "OUT/ENV/resolv.conf; copy OUT/ENV into data/SERVICE/.")
    p.add_argument("--env", required=True, help="environment name: k8s, ec2, ...")
    p.add_argument("--out", required=True, help="output folder (ENV/ is made inside)")
    p.add_argument("--names", help="host names the service resolves, comma-separated")
    p.add_argument("--duration", type=parse_duration, default=parse_duration("10m"),
                   help="how long to collect (default 10m)")
    p.add_argument("--interval", type=parse_duration, default=parse_duration("2s"),
                   help="time between samples (default 2s)")
    p.add_argument("--url", help="also time a GET of this URL of the service itself")
    p.add_argument("--url-timeout", type=parse_duration, default=10.0)
    p.add_argument("--resolv-conf", default="/etc/resolv.conf")
    p.add_argument("--resolver", help="server for direct queries (default: resolv.conf's first)")
    p.add_argument("--resolver-port", type=int, default=53)
    p.add_argument("--dns-client", choices=["auto", "dig", "builtin"], default="auto",
                   help="direct queries with dig when installed (auto) or the built-in query")
    p.add_argument("--dns-timeout", type=parse_duration, default=2.0)
    p.add_argument("--metadata-endpoint",
                   help=f"default: ${ENDPOINT_ENV}, else {DEFAULT_ENDPOINT}")
    p.add_argument("--metadata-timeout", type=parse_duration, default=1.0,
                   help="per call (default 1 s, as botocore)")
    p.add_argument("--no-metadata", action="store_true", help="do not call the metadata endpoint")
    p.add_argument("--quiet", action="store_true", help="write collector.log only")
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    counts = collect(args)
    print(json.dumps(counts, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
