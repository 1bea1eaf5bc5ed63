"""Real packet captures on loopback, with the truth beside them.

A small HTTP service answers on 127.0.0.79; per request it resolves a name through Debian's
dnsmasq (127.0.0.78: the search-list NXDOMAIN, then the A/AAAA pair), fetches credentials from
the project's metadata emulator (127.0.0.1, IMDSv2: token PUT, role, document; each call on a
new connection as the SDKs do), works a few milliseconds and answers. It logs its own time
per phase (`Truth`), which the reconstruction from packets must match. Its clock is the
kernel's: the stamps the kernel puts on the data its sockets receive (SO_TIMESTAMPNS) and send
(SO_TIMESTAMPING), the clock tcpdump stamps packets with, so that a loaded machine delaying the
service's process does not make the truth wrong. tcpdump captures on `lo` while a bounded load
runs (a few keep-alive clients). The emulator, the service (a process per connection) and the
load run in separate processes. Nothing leaves 127.0.0.0/8; the tests' captures go to their
tmp folder, never into the repository.

A `Profile` makes the service behave as one environment does (the names its resolver tries,
credentials fetched per request or once, a token per call), `Ports` fixes the ports, and a
`prepare` hook collects what a team collects beside a capture: scripts/capture-example uses
them to make the committed example data/orders-api (README, "Examples").
"""

from __future__ import annotations

import http.client
import json
import random
import re
import shutil
import signal
import socket
import socketserver
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

from collector.emulator import CREDENTIALS_PATH, TOKEN_HEADER, TOKEN_PATH, TTL_HEADER

ROOT = Path(__file__).resolve().parents[2]
SERVICE_HOST = "127.0.0.79"
DNS_HOST = "127.0.0.78"
#: where the resolver forwards NAME when a profile has an upstream (not in the capture)
UPSTREAM_HOST = "127.0.0.77"
IMDS_HOST = "127.0.0.1"
NAME = "elastic.example.com"
#: what the pod's resolver tries first with ndots:5 (one search domain keeps the load small)
SEARCH = "svc.cluster.local"


def free_port(host: str, kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def dns_query(name: str, qtype: int, qid: int) -> bytes:
    question = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\x00"
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + question + struct.pack("!HH",
                                                                                    qtype, 1)


@dataclass
class Truth:
    """What the service measured for one request, in wall-clock seconds and milliseconds."""

    path: str
    start: float
    total_ms: float = 0.0
    dns_ms: float = 0.0
    dns_queries: int = 0
    metadata_ms: float = 0.0
    metadata_calls: int = 0
    #: (start, end) of each metadata call, seconds: where a mismatch is, when one is
    calls: list = field(default_factory=list)
    #: how long the connects took: each call's SYN left within that much after its start
    uncertainty_ms: float = 0.0


#: SO_TIMESTAMPNS (asm-generic/socket.h): the kernel stamps received data with its clock
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)


def received(sock: socket.socket, flags: int = 0) -> tuple[bytes, float]:
    """Data from a socket with SO_TIMESTAMPNS set, and when it arrived by the kernel's clock
    (the one tcpdump stamps packets with). The service's own clock reads later, by however
    long the process waited to be scheduled: under load, milliseconds."""
    data, ancillary, _, _ = sock.recvmsg(65536 if not flags else 1, 64, flags)
    for level, kind, stamp in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(stamp) >= 16:
            seconds, nanoseconds = struct.unpack("qq", stamp[:16])
            return data, seconds + nanoseconds / 1e9
    return data, time.time()


#: SO_TIMESTAMPING (asm-generic/socket.h) with software stamps of sent data, reported on the
#: socket's error queue without the packet (linux/net_tstamp.h: TX_SOFTWARE | SOFTWARE |
#: OPT_TSONLY)
SO_TIMESTAMPING = getattr(socket, "SO_TIMESTAMPING", 37)
TX_STAMPS = (1 << 1) | (1 << 4) | (1 << 11)


def stamp_sends(sock: socket.socket) -> None:
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPING, TX_STAMPS)


def sent(sock: socket.socket) -> float:
    """When the last data written to a socket with `stamp_sends` left, by the kernel's clock;
    the service's own clock when no stamp comes (then it reads late, never early)."""
    last, deadline, timeout = None, time.time() + 0.2, sock.gettimeout()
    sock.setblocking(False)  # with a timeout, Python would poll for data, not for the queue
    try:
        while time.time() < deadline:
            try:
                _, ancillary, _, _ = sock.recvmsg(0, 256, socket.MSG_ERRQUEUE)
            except BlockingIOError:
                if last is not None:
                    return last
                time.sleep(0.0002)
                continue
            for level, kind, data in ancillary:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPING and len(data) >= 16:
                    seconds, nanoseconds = struct.unpack("qq", data[:16])  # [0]: software
                    last = seconds + nanoseconds / 1e9
    finally:
        sock.settimeout(timeout)
    return last if last is not None else time.time()


@dataclass(frozen=True)
class Profile:
    """What the service does per request, as one environment makes it: the names its resolver
    tries before NAME (the search list, with ndots:5 in a pod: each asked for `search_types`),
    and whether the SDK fetches credentials on every request (short-lived credentials with
    the Java v1 SDK) or once, before serving (long-lived ones, cached); `token_per_call`: a
    token PUT before each GET, as Java v1's IMDSv2 fetcher does (analysis/models/imds.py),
    else one PUT per fetch."""

    search: tuple[str, ...] = (SEARCH,)
    search_types: tuple[int, ...] = (1,)
    credentials_per_request: bool = True
    token_per_call: bool = False
    #: the resolver forwards NAME to an upstream that answers after this long, uncached (as
    #: CoreDNS forwards what is outside the cluster domain); 0: it answers NAME itself
    upstream_ms: float = 0.0
    #: a name's A and AAAA sent together (glibc's default), else one after the other
    paired: bool = False
    work_ms: float = 4.0


@dataclass
class Service:
    """The service under test: resolve, fetch credentials, work, answer."""

    dns_port: int
    imds_port: int
    truth_file: Path
    profile: Profile = field(default_factory=Profile)

    def record(self, kind: str, value) -> None:
        """One line, one write in append mode: whole even from several processes."""
        with self.truth_file.open("a") as out:
            out.write(json.dumps({kind: value}) + "\n")

    def resolve(self, truth: Truth) -> None:
        """The search-list names, then the A/AAAA pair, one after another; with the
        profile's `paired`, a name's types are sent together and their answers awaited
        together, as glibc does by default. The truth is the sum of each name's (or each
        query's) time from the first send to the last answer."""
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(2)
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            stamp_sends(sock)
            walk = [(f"{NAME}.{domain}", self.profile.search_types)
                    for domain in self.profile.search] + [(NAME, (1, 28))]
            for name, qtypes in walk:
                groups = [qtypes] if self.profile.paired else [(q,) for q in qtypes]
                for group in groups:
                    self._ask(sock, name, group, truth)

    def _ask(self, sock: socket.socket, name: str, qtypes: tuple[int, ...],
             truth: Truth) -> None:
        """Send one query per type, then wait for every answer."""
        waiting, started = set(), None
        for qtype in qtypes:
            qid = random.randint(0, 0xFFFF)
            sock.sendto(dns_query(name, qtype, qid), (DNS_HOST, self.dns_port))
            stamp = sent(sock)
            started = stamp if started is None else started
            waiting.add(qid)
        while waiting:
            answer, answered = received(sock)
            waiting.discard(struct.unpack("!H", answer[:2])[0])
        truth.dns_ms += (answered - started) * 1000
        truth.dns_queries += len(qtypes)

    def metadata_call(self, truth: Truth, method: str, path: str, headers: dict) -> str:
        """One call on a new connection (as the SDKs make them), timed from connect to the
        arrival of the answer's last byte."""
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            # the SYN leaves in connect(), which no stamp reports: it left between these two
            # readings of the clock, and the gap is the truth's own uncertainty
            started = time.time()
            sock.connect((IMDS_HOST, self.imds_port))
            truth.uncertainty_ms += (time.time() - started) * 1000
            lines = [f"{method} {path} HTTP/1.1", f"Host: {IMDS_HOST}", "Content-Length: 0",
                     *(f"{k}: {v}" for k, v in headers.items()), "", ""]
            sock.sendall("\r\n".join(lines).encode())
            data, length = b"", None
            while length is None or len(data) < length:
                chunk, answered = received(sock)
                if not chunk:
                    raise RuntimeError(f"the emulator closed the call {method} {path}")
                data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                if length is None and _:
                    size = re.search(rb"(?i)content-length: *(\d+)", head)
                    length = len(head) + 4 + int(size.group(1))
        truth.metadata_ms += (answered - started) * 1000
        truth.metadata_calls += 1
        truth.calls.append((started, answered))
        return data.partition(b"\r\n\r\n")[2].decode()

    def credentials(self, truth: Truth) -> None:
        token = self.metadata_call(truth, "PUT", TOKEN_PATH, {TTL_HEADER: "21600"})
        role = self.metadata_call(truth, "GET", CREDENTIALS_PATH, {TOKEN_HEADER: token})
        tokens = [token]
        if self.profile.token_per_call:
            tokens.append(self.metadata_call(truth, "PUT", TOKEN_PATH, {TTL_HEADER: "21600"}))
        document = self.metadata_call(truth, "GET", CREDENTIALS_PATH + role,
                                      {TOKEN_HEADER: tokens[-1]})
        secrets = json.loads(document)
        self.record("secrets", [*tokens, secrets["SecretAccessKey"], secrets["Token"]])

    def handler(self):
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else the body waits on the client's delayed ACK
            arrived = 0.0

            def log_message(self, *args) -> None:
                pass

            def handle_one_request(self) -> None:
                stamp_sends(self.connection)
                self.arrived = received(self.connection, socket.MSG_PEEK)[1]
                super().handle_one_request()

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                truth = Truth(self.path.split("?")[0], self.arrived)
                service.resolve(truth)
                if service.profile.credentials_per_request:
                    service.credentials(truth)
                time.sleep(service.profile.work_ms / 1000)
                body = b'{"ok": true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()
                truth.total_ms = (sent(self.connection) - truth.start) * 1000
                service.record("truth", asdict(truth))

        return Handler


def run_load(port: int, clients: int, requests: int, query: str = "",
             pause_s: float = 0.0) -> None:
    """`clients` keep-alive connections, each sending `requests` requests one after another."""
    def client(number: int) -> None:
        connection = http.client.HTTPConnection(SERVICE_HOST, port, timeout=10)
        for i in range(requests):
            connection.request("GET", f"/items/{number}-{i}" + (f"?{query}" if query else ""))
            response = connection.getresponse()
            response.read()
            assert response.status == 200
            time.sleep(pause_s * random.random())
        connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
        time.sleep(0.003)
    for thread in threads:
        thread.join()


def start_upstream(delay_ms: float) -> socketserver.ThreadingUDPServer:
    """An upstream resolver on UPSTREAM_HOST that answers every query after `delay_ms`: the
    A record of any name, NOERROR without records for the other types; TTL 0."""
    class Answer(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            query, sock = self.request
            end = query.index(b"\0", 12) + 5  # the question: labels, then type and class
            qtype = struct.unpack("!H", query[end - 4:end - 2])[0]
            time.sleep(delay_ms / 1000)
            record = struct.pack("!HHHIH", 0xC00C, 1, 1, 0, 4) + socket.inet_aton("10.1.2.3")
            header = query[:2] + struct.pack("!HHHHH", 0x8180, 1, int(qtype == 1), 0, 0)
            sock.sendto(header + query[12:end] + (record if qtype == 1 else b""),
                        self.client_address)

    server = socketserver.ThreadingUDPServer((UPSTREAM_HOST, 0), Answer)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def start_dnsmasq(port: int, upstream: int | None = None) -> subprocess.Popen:
    """dnsmasq on DNS_HOST: NXDOMAIN for cluster.local; NAME answered itself, or with
    `upstream` forwarded to UPSTREAM_HOST:upstream with no cache."""
    binary = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
    # the name's A record, and NOERROR without records for its AAAA, as a real zone has
    # (with --address and no upstream, dnsmasq REFUSEs the AAAA)
    name = [f"--server=/example.com/{UPSTREAM_HOST}#{upstream}", "--cache-size=0"] \
        if upstream else ["--local=/example.com/", f"--host-record={NAME},10.1.2.3"]
    process = subprocess.Popen([
        binary, "--no-daemon", "--conf-file=/dev/null", f"--listen-address={DNS_HOST}",
        f"--port={port}", "--bind-interfaces", "--no-resolv", "--no-hosts", "--user=root",
        "--pid-file=", "--local=/cluster.local/", *name],
        stderr=subprocess.DEVNULL)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.2)
        for _ in range(50):
            try:
                sock.sendto(dns_query(NAME, 1, 7), (DNS_HOST, port))
                sock.recv(512)
                return process
            except OSError:
                time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"dnsmasq did not answer on {DNS_HOST}:{port}")


@dataclass(frozen=True)
class Ports:
    """Fixed ports (a committed capture's service.yaml names them): the service's on
    SERVICE_HOST, the resolver's on DNS_HOST, the metadata emulator's on IMDS_HOST."""

    service: int
    dns: int
    imds: int


@dataclass
class Capture:
    path: Path
    service_port: int
    dns_port: int
    imds_port: int
    truths: list[Truth]
    #: the loopback addresses that play the metadata endpoints in this capture
    metadata: dict[str, str]
    #: every secret that crossed the wire: IMDSv2 tokens, SecretAccessKeys, session tokens
    secrets: list[str] = field(default_factory=list)
    #: packets tcpdump says the kernel dropped (its exit statistics)
    dropped: int = 0


def _started(command: list[str], says: str, stream: str = "stdout") -> subprocess.Popen:
    """A process that prints `says` (on stdout or stderr) once it is ready."""
    process = subprocess.Popen(command, text=True, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE if stream == "stderr" else None,
                               cwd=ROOT)  # `-m tests.capture.harness` from any folder
    said = ""
    while says not in said:
        line = getattr(process, stream).readline()
        if not line:
            process.kill()
            raise RuntimeError(f"{command[0]} did not start: {said}")
        said += line
    return process


def _stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    process.send_signal(sig)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def capture_once(out: Path, clients: int = 1, requests: int = 5, interface: str = "lo",
                 link: str | None = None, snaplen: int = 0, nano: bool = False,
                 query: str = "", pause_s: float = 0.02, profile: Profile = Profile(),
                 ports: Ports | None = None, emulator: tuple[str, ...] = ("--delay-ms", "2"),
                 prepare: Callable[[int, int], None] | None = None) -> Capture:
    """Run the service under load while tcpdump writes `out`; the capture and the truth.
    The emulator, the service and the load run in three processes: one process's threads
    would wait on each other's GIL, and the truth would carry that wait. `ports`: fixed ones
    (default: free ones); `emulator`: its options; `prepare(dns_port, imds_port)` runs once
    the resolver, the emulator and the service are up, before the capture starts (what is
    collected beside the capture: dig, the collector's credential polls)."""
    tcpdump = shutil.which("tcpdump")
    if tcpdump is None:
        raise RuntimeError("tcpdump is missing: scripts/ensure-test-tools.sh installs it")
    dns_port = ports.dns if ports else free_port(DNS_HOST, socket.SOCK_DGRAM)
    imds_port = ports.imds if ports else free_port(IMDS_HOST)
    truth_file = out.with_suffix(".truth.jsonl")
    truth_file.unlink(missing_ok=True)
    python = sys.executable
    probe_port = free_port(IMDS_HOST, socket.SOCK_DGRAM)
    upstream = start_upstream(profile.upstream_ms) if profile.upstream_ms else None
    dnsmasq = start_dnsmasq(dns_port, upstream.server_address[1] if upstream else None)
    processes, dump = [dnsmasq], None
    try:
        processes.append(_started([python, "-m", "collector.emulator", "--host", IMDS_HOST,
                                   "--port", str(imds_port), *emulator],
                                  "metadata emulator on"))
        service = _started([python, "-m", "tests.capture.harness", str(dns_port),
                            str(imds_port), str(truth_file), json.dumps(asdict(profile)),
                            str(ports.service if ports else 0)], "serving on")
        processes.append(service)
        service_port = int(service.stdout.readline())
        if prepare is not None:
            prepare(dns_port, imds_port)
        command = [tcpdump, "-i", interface, "-w", str(out), "-U", "-n",
                   "--immediate-mode",  # else TPACKET_V3 holds packets back until a block fills
                   "-B", "16384",  # KiB: a starved tcpdump on a loaded machine drops less
                   *(["-y", link] if link else []), *(["-s", str(snaplen)] if snaplen else []),
                   *(["--time-stamp-precision=nano"] if nano else []),
                   # hosts too: a fixed port (53) must not catch other loopback traffic
                   f"(host {SERVICE_HOST} and tcp port {service_port}) or "
                   f"(host {DNS_HOST} and port {dns_port}) or "
                   f"(host {IMDS_HOST} and tcp port {imds_port}) or udp port {probe_port}"]
        dump = _started(command, "listening on", "stderr")
        processes.append(dump)
        _wait_until_captured(out, probe_port)
        run_load(service_port, clients, requests, query, pause_s)
        time.sleep(0.2)
    finally:
        for process in reversed(processes):
            _stop(process, signal.SIGINT if process is processes[-1] else signal.SIGTERM)
        if upstream is not None:
            upstream.shutdown()
            upstream.server_close()
    said = dump.stderr.read() if dump else ""
    dropped = sum(int(n) for n in re.findall(r"(\d+) packets? dropped by kernel", said))
    records = [json.loads(line) for line in truth_file.read_text().splitlines()]
    truths = sorted((Truth(**r["truth"]) for r in records if "truth" in r),
                    key=lambda t: t.start)
    secrets = [s for r in records for s in r.get("secrets", [])]
    return Capture(out, service_port, dns_port, imds_port, truths,
                   {f"{IMDS_HOST}:{imds_port}": "IMDS"}, secrets, dropped)


def _wait_until_captured(out: Path, port: int) -> None:
    """tcpdump says "listening" before its capture is live: probe it with a datagram nobody
    reads (not DNS, not TCP: the reconstruction passes it by) until one is in the file."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for _ in range(100):
            sock.sendto(b"probe", (IMDS_HOST, port))
            time.sleep(0.05)
            if out.exists() and out.stat().st_size > 24:  # more than the file header
                return
    raise RuntimeError("tcpdump wrote no packet in 5 s")


def capture(out: Path, attempts: int = 3, **load) -> Capture:
    """`capture_once`, again when tcpdump dropped packets (a loaded machine starves it): the
    tests compare every request with its truth, and a lost packet is no fault of the reader."""
    for _ in range(attempts):
        made = capture_once(out, **load)
        if not made.dropped:
            return made
    return made


class ForkingHTTPServer(socketserver.ForkingMixIn, HTTPServer):
    """A process per connection: concurrent requests do not wait on each other's GIL, so the
    service's clock reads when the packets say (threads would add milliseconds under load)."""

    block_on_close = False

    def server_bind(self) -> None:
        # stamps on the listening socket: a new connection's first request is stamped too
        self.socket.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        super().server_bind()


def serve(dns_port: int, imds_port: int, truth_file: Path, profile: Profile = Profile(),
          port: int = 0) -> None:
    """The service, in its own process: prints its port, serves until SIGTERM. Credentials
    fetched once are fetched here, before it serves (and before the capture starts)."""
    service = Service(dns_port, imds_port, truth_file, profile)
    if not profile.credentials_per_request:
        service.credentials(Truth("/", time.time()))
    server = ForkingHTTPServer((SERVICE_HOST, port), service.handler())
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"serving on\n{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]),
          Profile(**{k: tuple(v) if isinstance(v, list) else v
                     for k, v in json.loads(sys.argv[4]).items()}) if len(sys.argv) > 4
          else Profile(), int(sys.argv[5]) if len(sys.argv) > 5 else 0)
