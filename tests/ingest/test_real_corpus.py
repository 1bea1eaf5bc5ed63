"""Evidence other people wrote (tests/fixtures/real/, sources in SOURCES.md): each file is read
with the record count counted by hand in manifest.csv, or refused with a LatencyGapError, as a
report would (the 5% rejected-lines rule included).

Files the tool does not read right yet are strict xfails naming the item of issue 13 that
covers them: when a change makes one pass, the xfail fails and must be removed."""

import csv
from pathlib import Path

import pytest

from analysis.errors import LatencyGapError
from analysis.ingest.base import check_rejected_share, parse_file
from analysis.ingest.resolv import parse_resolv_conf
from tests.conftest import FIXTURES

REAL = FIXTURES / "real"
MANIFEST = list(csv.DictReader((REAL / "manifest.csv").open()))

#: file -> why it is not read right yet (issue 13's items)
NOT_YET = {
    "latency/envoy-beats-default-with-tcp.log": "10: an Envoy TCP entry (- - -) is counted as "
    "a request",
    "latency/envoy-elastic-integrations-mixed-wrappers.log": "3: Ambassador and docker json "
    "wrappers are not stripped",
    "latency/envoy-gateway-issue-3643-kubectl-logs.txt": "3/4: prompt and Envoy application "
    "lines mixed in",
    "latency/envoy-gateway-issue-7554-pod-container-prefix.log": "3: '<pod> <container> ' "
    "prefix",
    "latency/ingress-nginx-kubectl-logs-klog-and-proxy-protocol-400s.txt": "3/8: klog lines and "
    "the 0.2x log format",
    "latency/ingress-nginx-old-format-contrib-2923-with-klog.log": "8: the 0.x log format",
    "latency/istio-1.2-mixer-format-with-tcp.log": "8/10: Istio 1.2 format, TCP entries",
    "latency/istio-elastic-integrations-cri-container.log": "3: CRI '<time> stdout F ' prefix",
    "dig/bind-9.11-servfail-mdns-warning-dnstools-prompt.txt": "4: prompt and WARNING lines "
    "are rejected lines",
    "dig/bind-9.12-kubectl-exec-transcript-with-host-nslookup.txt": "4: a terminal transcript",
    "dig/bind-9.16-servfail-cst-hash-prompt.txt": "4: a '# dig' prompt line",
    "dig/bind-9.18-communications-error-no-servers.txt": "5: one lookup, three tries before "
    "the banner",
    "dig/dig-short-timeout-openshift.txt": "5: +short that timed out",
    "dig/nslookup-bind-timeouts-root-prompt.txt": "4/5: nslookup timeouts in a transcript",
    "resolv/jc-dhclient-rotate-timeout-retries.conf": "9: glibc ignores an unknown option",
}


def _read(row: dict) -> int:
    path = REAL / row["file"]
    if row["kind"] == "resolv":
        parse_resolv_conf(path)
        return 1
    fmt, parsed = parse_file(row["kind"], path)
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
    marks = [pytest.mark.xfail(strict=True, reason=f"issue 13 item {reason}")] if reason else []
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
