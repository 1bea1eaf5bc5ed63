"""Property-based fuzzing of every ingest format: random, truncated and mutated lines give
clean rejections or a named error, never a crash; every line is a row or a rejection."""

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.errors import LatencyGapError
from analysis.ingest.custom import compile_format
from analysis.ingest.field_format import FieldLogFormat
from analysis.ingest.ingress_nginx import IngressNginx
from analysis.ingest.registry import REGISTRY
from analysis.ingest.resolv import parse_resolv_conf
from tests.conftest import FIXTURES
from tests.robustness.conftest import TALLY

SEEDS = {
    "ingress-nginx": "ingress-nginx.log", "aws-alb": "alb.log", "envoy": "envoy.log",
    "istio": "istio.log", "csv": "latency.csv", "json-lines": "latency-seconds.jsonl",
    "dig": "dig-answers.txt",
    # documents, and the terminal around them: prompts, curl -v / -i, failed fetches
    "imds-json": ("credentials-concatenated.json", "credentials-transcript.txt"),
    "metadata-calls": "metadata-calls.csv", "aws-alb-athena-csv": "alb-athena.csv",
}
#: more seeds for formats with more than one shape
MORE_SEEDS = [("dig", "dig-transcript.txt")]
FUZZ = settings(max_examples=150, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])


OTHER_LINES = [
    "", "   ",
    "2023/03/08 10:00:00 [error] 31#31: *77 upstream timed out (110: Connection timed out) "
    "while reading response header from upstream",
    "2023/03/08 10:00:01 [warn] 31#31: *78 a client request body is buffered",
    "I0308 10:00:00.123456       7 controller.go:169] Configuration changes detected",
    "[2024-06-20 05:14:13.338][1][warning][main] [source/server/server.cc:843] unused flag",
    'time="2023-05-18T08:16:35Z" level=info msg="processing request"',
]


#: what a terminal shows around dig, and what each dig version prints for a timeout or a date
DIG_LINES = [
    "$ ", "dnstools# ", "root@pod:/# nslookup gone.example.com", "echo $TOKEN",
    "user@host:~$ kubectl exec -it dnsutils -- dig +time=1 +tries=2 x.example.com",
    "dig +short x.example.com", "10.20.30.40", "dig: couldn't get address for 'ns1': not found",
    ";; communications error to 10.96.0.10#53: timed out",
    ";; communications error to 10.96.0.10#53: connection refused",
    ";; connection timed out; no servers could be reached", ";; no servers could be reached",
    "; <<>> DiG 9.18.13 <<>> +time=99999999 +retry=300 TXT x.example.com",
    ";; WHEN: Mon Oct 13 13:30:29 CST 2025", ";; WHEN: Mon Oct 13 13:30:29 +0530 2025",
    ";; WHEN: Mon Oct 13 13:30:29 XYZ 2025", ";; WHEN: Mon Foo 99 99:30:29 CEST 9999",
    "Server:\t\t10.96.0.10", "cnn.com.\t\t47\tIN\tA\t151.101.65.67",
]


@st.composite
def mutated(draw, lines: list[str], extra: tuple[str, ...] = ()) -> str:
    line = draw(st.sampled_from(lines))
    op = draw(st.sampled_from(["keep", "truncate", "insert", "delete", "random", "swap",
                               "other"]))
    if op == "other":  # what kubectl logs and terminals mix in: skipped, counted by kind
        return draw(st.sampled_from(OTHER_LINES + list(extra)))
    at = draw(st.integers(0, max(len(line) - 1, 0)))
    if op == "truncate":
        return line[:at]
    if op == "insert":
        return line[:at] + draw(st.text(min_size=1, max_size=5)) + line[at:]
    if op == "delete":
        return line[:at] + line[at + 1:]
    if op == "random":
        return draw(st.text(max_size=200))
    if op == "swap":
        words = line.split(" ")
        i, j = draw(st.integers(0, len(words) - 1)), draw(st.integers(0, len(words) - 1))
        words[i], words[j] = words[j], words[i]
        return " ".join(words)
    return line


def _file_of(lines: list[str], header: str | None = None) -> Path:
    folder = Path(tempfile.mkdtemp())
    path = folder / "evidence"
    text = "\n".join(([header] if header else []) + lines) + "\n"
    path.write_bytes(text.encode("utf-8", "surrogatepass").replace(b"\r", b" "))
    return path


@pytest.mark.parametrize("name, seed_file", sorted(SEEDS.items()) + MORE_SEEDS,
                         ids=[*sorted(SEEDS), *(f for _, f in MORE_SEEDS)])
def test_every_format_survives_random_and_mutated_lines(name, seed_file):
    fmt = next(f for kind in REGISTRY.values() for n, f in kind.items() if n == name)
    files = seed_file if isinstance(seed_file, tuple) else (seed_file,)
    seed = [line for file in files for line in (FIXTURES / file).read_text().splitlines()]
    header = seed[0] if name in ("csv", "metadata-calls", "aws-alb-athena-csv") else None
    _fuzz(fmt, seed[1:] if header else seed, header)


#: parsers compiled from service.yaml format strings: the fast path and the regex path
CUSTOM_SEEDS = {
    "nginx, fields": ("nginx", IngressNginx.log_format,
                      (FIXTURES / "ingress-nginx.log").read_text().splitlines()),
    "envoy, fields": ("envoy", "%START_TIME(%Y-%m-%d %H:%M:%S%z)% %RESPONSE_CODE% %DURATION% "
                               '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(USER-AGENT)%"',
                      ['2026-11-24 10:00:00+0000 200 25 23 "okhttp/4.12.0"',
                       '2026-11-24 10:00:01+0100 503 1002 - "curl 8"']),
    "nginx, regex": ("nginx", 'ts=$msec urt="$upstream_response_time" rt=$request_time $status',
                     ['ts=1795514400.123 urt="0.020" rt=0.022 200',
                      'ts=1795514401.5 urt="0.050, -" rt=0.081 502']),
}


@pytest.mark.parametrize("case", sorted(CUSTOM_SEEDS))
def test_compiled_custom_formats_survive_random_and_mutated_lines(case):
    dialect, template, lines = CUSTOM_SEEDS[case]
    fmt = compile_format(dialect, template)
    assert isinstance(fmt, FieldLogFormat) == case.endswith("fields")
    _fuzz(fmt, lines)


def _fuzz(fmt, body: list[str], header: str | None = None) -> None:
    counted = fmt.kind == "latency"  # one line, one row or one rejection

    @FUZZ
    @given(st.lists(mutated(body, tuple(DIG_LINES) if fmt.name == "dig" else ()), min_size=1,
                    max_size=30))
    def check(lines):
        TALLY["cases"] += 1
        path = _file_of(lines, header)
        try:
            parsed = fmt.parse(path)
        except LatencyGapError:
            return  # a clean, named error is an acceptable answer
        if counted:  # every line is a row, a rejection or a skipped line (a CSV header is
            # none of them), and each line number is accounted for once
            numbers = [*parsed.table["line"], *parsed.rejected["line"], *parsed.skipped["line"]]
            assert sorted(numbers) == list(range(1 + bool(header), parsed.lines + 1))
            assert parsed.lines == path.read_bytes().count(b"\n")
        assert set(parsed.rejected.columns) >= {"line", "reason", "text"}
        if fmt.name == "dig":  # a line is a row's, rejected or skipped, never two of them
            buckets = [set(parsed.table["line"]), set(parsed.rejected["line"]),
                       set(parsed.skipped["line"])]
            assert sum(map(len, buckets)) == len(set().union(*buckets))
            assert set().union(*buckets) <= set(range(1, parsed.lines + 1))
            assert (parsed.table["tries"] >= 1).all()
            assert not (parsed.table["total_ms"] > 0xFFFF * 1000 * 0xFF).any()

    check()


PREFIXES = ["2023-03-08T10:00:00.123456789Z ", "[pod/ingress-7d9f/controller] ",
            "2022-07-22T12:24:09.217617591Z stdout F ", "ingress-1  | ", ""]


@pytest.mark.parametrize("name", ["ingress-nginx", "envoy", "istio", "aws-alb", "json-lines"])
def test_prefixed_logs_survive_detection_and_parsing(name):
    """kubectl's prefixes on mutated lines: detected and stripped, or a named error; every
    line still a row, a rejection or a skipped line."""
    from analysis.ingest.registry import parse_file

    body = (FIXTURES / SEEDS[name]).read_text().splitlines()

    @FUZZ
    @given(st.sampled_from(PREFIXES), st.lists(mutated(body), min_size=1, max_size=30))
    def check(prefix, lines):
        TALLY["cases"] += 1
        path = _file_of([prefix + line for line in lines])
        try:
            _, parsed = parse_file("latency", path)
        except LatencyGapError:
            return
        numbers = [*parsed.table["line"], *parsed.rejected["line"], *parsed.skipped["line"]]
        assert sorted(numbers) == list(range(1, parsed.lines + 1))

    check()


@FUZZ
@given(st.lists(mutated((FIXTURES / "credentials-transcript.txt").read_text().splitlines()),
                min_size=1, max_size=30))
def test_credential_transcripts_account_for_their_lines(lines):
    """Prompts, curl -v / -i output and failed fetches, mutated: every row, rejection and
    skipped line is a line of the file, and nothing but a Success document has a lifetime."""
    TALLY["cases"] += 1
    path = _file_of(lines)
    try:
        parsed = REGISTRY["credentials"]["imds-json"].parse(path)
    except LatencyGapError:
        return
    numbers = [*parsed.table["line"], *parsed.rejected["line"], *parsed.skipped["line"]]
    assert all(1 <= n <= parsed.lines for n in numbers)
    failed = parsed.table[parsed.table["code"] != "Success"]
    assert failed["lifetime_s"].isna().all()


@FUZZ
@given(st.lists(st.text(max_size=80), max_size=10))
def test_resolv_conf_survives_random_text(lines):
    TALLY["cases"] += 1
    path = _file_of(lines)
    try:
        parse_resolv_conf(path)
    except LatencyGapError:
        pass


RESOLV_SEED = [
    *(FIXTURES / "real" / "resolv" / "jc-networkmanager-inline-comments-sortlist.conf")
    .read_text().splitlines(),
    "options ndots:5 timeout:2 attempts:3 rotate single-request-reopen -edns0 retries:1",
    "options ndots:-1 timeout:0 attempts:99999999999 no_tld_query inet6",
    "domain a.example b.example", "search   ", "nameserver fe80::1%eth0 x", "nameserver 127.1",
]


@FUZZ
@given(st.lists(mutated(RESOLV_SEED), min_size=1, max_size=20))
def test_resolv_conf_survives_mutated_directives(lines):
    TALLY["cases"] += 1
    path = _file_of(lines)
    try:
        conf = parse_resolv_conf(path)
    except LatencyGapError:
        return
    # what glibc can use, whatever the file says; every note names a line of the file
    assert len(conf.nameservers) <= 3 and 0 <= conf.ndots <= 15
    assert 1 <= conf.timeout_s <= 30 and 0 <= conf.attempts <= 5
    assert all(1 <= int(note.split(":")[0][5:]) <= conf.lines for note in conf.ignored)


#: the formats of earlier releases (analysis/ingest/legacy.py), seeded with real samples
LEGACY_SEEDS = {
    "ingress-nginx-0.x": "real/latency/ingress-nginx-old-format-contrib-2923-with-klog.log",
    "ingress-nginx-0.2x":
        "real/latency/ingress-nginx-kubectl-logs-klog-and-proxy-protocol-400s.txt",
    "istio-1.1": "real/latency/istio-1.2-mixer-format-with-tcp.log",
}


@pytest.mark.parametrize("name", sorted(LEGACY_SEEDS))
def test_formats_of_earlier_releases_survive_random_and_mutated_lines(name):
    _fuzz(REGISTRY["latency"][name], (FIXTURES / LEGACY_SEEDS[name]).read_text().splitlines())


def test_every_registered_format_is_fuzzed():
    from analysis.ingest.legacy import LEGACY

    # istio-1.2 and 1.3 are istio-1.1's string with one and two more fields
    assert set(SEEDS) | set(LEGACY) == {name for kind in REGISTRY.values() for name in kind}
