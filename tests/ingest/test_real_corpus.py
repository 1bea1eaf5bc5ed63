"""Evidence other people wrote (tests/fixtures/real/, sources in SOURCES.md): each file is read
with the record count counted by hand in manifest.csv, or refused with a LatencyGapError, as a
report would (the 5% rejected-lines rule included).

Files the tool does not read right yet are strict xfails saying what is missing: when a
change makes one pass, the xfail fails and must be removed."""

import csv
from pathlib import Path

import pytest

from analysis.errors import LatencyGapError
from analysis.ingest.custom import compile_format
from analysis.ingest.registry import parse_file
from analysis.ingest.resolv import parse_resolv_conf
from analysis.ingest.rows import check_rejected_share
from tests.conftest import FIXTURES

REAL = FIXTURES / "real"
MANIFEST = list(csv.DictReader((REAL / "manifest.csv").open()))

#: file -> why it is not read right yet
NOT_YET: dict[str, str] = {}


#: file -> the format string it was written with, for samples only a custom format reads
#: (service.yaml `formats: {latency: {DIALECT: STRING}}`, docs/formats.md "Custom formats")
WITH_FORMAT_STRING = {
    # ingress-nginx 0.x: logFormatUpstream `%v - [$the_real_ip] - $remote_user ...` with %v
    # filled in by BuildLogFormatUpstream (kubernetes/ingress-nginx config.go at commit
    # 17d99c4a, the default from 2018-04-28, 51cf184c, until 2019-06-28, 8b208cac)
    "latency/ingress-nginx-old-format-contrib-2923-with-klog.log": (
        "nginx", '$the_real_ip - [$the_real_ip] - $remote_user [$time_local] "$request" '
                 '$status $body_bytes_sent "$http_referer" "$http_user_agent" $request_length '
                 "$request_time [$proxy_upstream_name] $upstream_addr $upstream_response_length "
                 "$upstream_response_time $upstream_status $req_id"),
}


def _read(row: dict, forced=None) -> int:
    path = REAL / row["file"]
    if row["kind"] == "resolv":
        parse_resolv_conf(path)
        return 1
    fmt, parsed = parse_file(row["kind"], path, forced)
    # the canaries SOURCES.md put in place of real secrets never leave the parser
    assert "CANARY-REAL" not in parsed.table.to_csv() + parsed.rejected.to_csv()
    try:
        check_rejected_share(path, fmt.name, parsed)
    except LatencyGapError as exc:
        assert "CANARY-REAL" not in str(exc)
        raise
    return len(parsed.table)


def _case(row: dict):
    reason = NOT_YET.get(row["file"])
    marks = [pytest.mark.xfail(strict=True, reason=f"not read right yet: {reason}")] \
        if reason else []
    return pytest.param(row, id=row["file"], marks=marks)


def test_the_corpus_is_real_and_sourced():
    sources = (REAL / "SOURCES.md").read_text()
    files = sorted(p.relative_to(REAL).as_posix() for p in REAL.rglob("*")
                   if p.is_file() and p.name not in ("SOURCES.md", "manifest.csv"))
    assert files == sorted(row["file"] for row in MANIFEST)
    assert len(files) >= 40 and all(Path(f).name in sources for f in files)
    assert set(NOT_YET) <= set(files)


@pytest.mark.parametrize("row", [_case(r) for r in MANIFEST])
def test_each_real_sample_is_read_with_its_count_or_refused(row):
    if row["expect_refusal"]:
        with pytest.raises(LatencyGapError):
            _read(row)
    else:
        assert _read(row) == int(row["expected_records"])


@pytest.mark.parametrize("file", sorted(WITH_FORMAT_STRING))
def test_samples_in_another_log_format_are_read_through_their_format_string(file):
    row = next(r for r in MANIFEST if r["file"] == file)
    assert _read(row, compile_format(*WITH_FORMAT_STRING[file])) == int(row["expected_records"])
