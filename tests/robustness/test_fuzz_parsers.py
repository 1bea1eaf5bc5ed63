"""Property-based fuzzing of every ingest format: random, truncated and mutated lines give
clean rejections or a named error, never a crash; every line is a row or a rejection."""

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.errors import LatencyGapError
from analysis.ingest.base import REGISTRY
from analysis.ingest.resolv import parse_resolv_conf
from tests.conftest import FIXTURES
from tests.robustness.conftest import TALLY

SEEDS = {
    "ingress-nginx": "ingress-nginx.log", "aws-alb": "alb.log", "envoy": "envoy.log",
    "istio": "istio.log", "csv": "latency.csv", "json-lines": "latency-seconds.jsonl",
    "dig": "dig-answers.txt",
    # documents, and the terminal around them: prompts, curl -v / -i, failed fetches
    "imds-json": ("credentials-concatenated.json", "credentials-transcript.txt"),
    "metadata-calls": "metadata-calls.csv",
}
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


@st.composite
def mutated(draw, lines: list[str]) -> str:
    line = draw(st.sampled_from(lines))
    op = draw(st.sampled_from(["keep", "truncate", "insert", "delete", "random", "swap",
                               "other"]))
    if op == "other":  # what kubectl logs and terminals mix in: skipped, counted by kind
        return draw(st.sampled_from(OTHER_LINES))
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


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_every_format_survives_random_and_mutated_lines(name):
    fmt = next(f for kind in REGISTRY.values() for n, f in kind.items() if n == name)
    files = SEEDS[name] if isinstance(SEEDS[name], tuple) else (SEEDS[name],)
    seed = [line for file in files for line in (FIXTURES / file).read_text().splitlines()]
    header = seed[0] if name in ("csv", "metadata-calls") else None
    body = seed[1:] if header else seed
    counted = fmt.kind == "latency"  # one line, one row or one rejection

    @FUZZ
    @given(st.lists(mutated(body), min_size=1, max_size=30))
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


def test_every_registered_format_is_fuzzed():
    assert set(SEEDS) == {name for kind in REGISTRY.values() for name in kind}
