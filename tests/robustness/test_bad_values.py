"""Values that cannot be true are rejected per line with the reason, in every latency format:
times before 2000 or in the future (year 9999 once took 31 GiB), negative latencies, a day or
more, 1e300. The rest of the file is read; time-indexed computations stay bounded by rows."""

import json

import numpy as np
import pandas as pd
import pytest

from analysis.ingest.registry import detect, parse_file
from tests.robustness.conftest import TALLY

NGINX = ('10.0.3.1 - - [{time}] "GET /v1/items HTTP/1.1" 200 2844 "-" "okhttp/4.12.0" 312 '
         '{total} [search-search-api-8080] [] 10.1.22.7:8080 2844 {upstream} 200 '
         '5f2c0e1a9b7d4c3e8f6a1b2c3d4e5f60')
ALB = ('https {time} app/search-api/50dc6c495c0c9188 203.0.113.1:40000 10.0.1.17:8080 0.002 '
       '{upstream} 0.001 200 200 312 1588 "GET https://x.example.com:443/v1 HTTP/1.1" '
       '"okhttp/4.12.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2')
ENVOY = ('[{time}] "GET /v1/items HTTP/1.1" 200 - 0 512 {total} {upstream} "-" "okhttp/4.12.0" '
         '"5f2c0e1a-9b7d-4c3e-8f6a-1b2c3d4e5f60" "search-api.search:8080" "10.1.22.7:8080"')


def _nginx(time, upstream="0.020", total="0.021"):
    stamp = time.strftime("%d/%b/%Y:%H:%M:%S +0000") if hasattr(time, "strftime") else time
    return NGINX.format(time=stamp, upstream=upstream, total=total)


GOOD = pd.Timestamp("2026-11-24T10:00:00")
# (format, good line, [(bad line, reason fragment)])
CASES = {
    "ingress-nginx": (_nginx(GOOD), [
        (_nginx("24/Nov/2999:10:00:00 +0000"), "implausible time"),
        (_nginx("01/Jan/1970:00:00:00 +0000"), "implausible time"),
        (_nginx(GOOD, upstream="1e20"), "upstream response time"),  # not an nginx number
        (_nginx(GOOD, upstream="99999999.000"), "implausible latency"),
    ]),
    "aws-alb": (ALB.format(time="2026-11-24T10:00:00.482184Z", upstream="0.020"), [
        (ALB.format(time="9999-12-31T23:59:59.000000Z", upstream="0.020"), "implausible time"),
        (ALB.format(time="0001-01-01T00:00:00.000000Z", upstream="0.020"), "implausible time"),
        (ALB.format(time="2100-01-01T00:00:00.000000Z", upstream="0.020"), "implausible time"),
        (ALB.format(time="2026-11-24T10:00:00.482184Z", upstream="-5.0"), "implausible latency"),
        (ALB.format(time="2026-11-24T10:00:00.482184Z", upstream="100000000"),
         "implausible latency"),
    ]),
    "envoy": (ENVOY.format(time="2026-11-24T10:00:00.123Z", total=25, upstream=23), [
        (ENVOY.format(time="2999-11-24T10:00:00.123Z", total=25, upstream=23),
         "implausible time"),
        (ENVOY.format(time="2026-11-24T10:00:00.123Z", total=25, upstream=900000000),
         "implausible latency"),
    ]),
    "json-lines": (json.dumps({"time": "2026-11-24T10:00:00Z", "latency_ms": 20}), [
        (json.dumps({"time": "9999-01-01T00:00:00Z", "latency_ms": 20}), ""),
        (json.dumps({"time": "1970-01-01T00:00:01Z", "latency_ms": 20}), "implausible time"),
        (json.dumps({"time": "2026-11-24T10:00:00Z", "latency_ms": -3}), "implausible latency"),
        (json.dumps({"time": "2026-11-24T10:00:00Z", "latency_ms": 1e300}),
         "implausible latency"),
        (json.dumps({"time": "2026-11-24T10:00:00Z", "latency_ms": 1e20}),
         "implausible latency"),
    ]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_implausible_line_is_rejected_with_its_reason(tmp_path, name):
    good, bad = CASES[name]
    lines = [good] * 200 + [line for line, _ in bad]
    path = tmp_path / "access.log"
    path.write_text("\n".join(lines) + "\n")
    assert detect("latency", path).name == name
    _, parsed = parse_file("latency", path)
    assert len(parsed.table) == 200, parsed.rejected
    assert list(parsed.rejected["line"]) == list(range(201, 201 + len(bad)))
    for (_, fragment), reason in zip(bad, parsed.rejected["reason"], strict=True):
        assert fragment in reason
    values = parsed.table["latency_ms"]
    assert values.between(0, 86_400_000).all()
    assert (parsed.table["time"] >= pd.Timestamp("2000-01-01", tz="UTC")).all()
    TALLY["bad_inputs"] += len(bad)


def test_a_log_spanning_decades_is_summarised_by_its_rows_not_its_span():
    """Per-minute figures and checks group the minutes that have requests: two requests 25
    years apart make two groups, not 13 million empty minutes."""
    from analysis.stats import per_minute

    times = pd.Series(pd.to_datetime(["2001-01-01T00:00:00", "2026-11-24T10:00:00"], utc=True))
    frame = per_minute(pd.DataFrame({"time": times, "latency_ms": [10.0, 20.0]}))
    assert len(frame) == 2 and list(frame["count"]) == [1, 1]
    assert np.allclose(frame["median"], [10.0, 20.0])


def _credential(last_updated, expiration):
    return json.dumps({"Code": "Success", "LastUpdated": last_updated, "Type": "AWS-HMAC",
                       "AccessKeyId": "ASIAEXAMPLE", "Expiration": expiration})


@pytest.mark.parametrize("kind, name, lines, reason", [
    ("credentials", "c.jsonl",
     [_credential("2026-11-24T10:00:00Z", "2026-11-24T10:15:00Z")] * 30 +
     [_credential("2026-11-24T10:00:00Z", "9999-12-31T23:59:59Z"),
      _credential("1970-01-01T00:00:00Z", "1970-01-01T00:15:00Z"),
      _credential("2026-11-24T10:15:00Z", "2026-11-24T10:00:00Z")],
     ["implausible time", "implausible time", "Expiration is before LastUpdated"]),
    ("metadata", "calls.csv",
     ["time,method,path,status,duration_ms"] +
     ["2026-11-24T10:00:00Z,GET,/latest/meta-data/iam/security-credentials/,200,41.7"] * 30 +
     ["2999-11-24T10:00:00Z,GET,/latest/meta-data/iam/security-credentials/,200,41.7",
      "2026-11-24T10:00:00Z,GET,/latest/meta-data/iam/security-credentials/,200,-4",
      "2026-11-24T10:00:00Z,GET,/latest/meta-data/iam/security-credentials/,200,1e300"],
     ["2000 or later"] * 3),
    ("dig", "dig.txt",
     [";; Query time: 3 msec", ";; SERVER: 10.0.0.2#53(10.0.0.2)",
      ";; WHEN: Tue Nov 24 10:00:00 UTC 2026"] * 10 +
     [";; Query time: 3 msec", ";; WHEN: Thu Jan 01 00:00:00 UTC 1970"],
     ["implausible time"]),
])
def test_small_evidence_kinds_reject_impossible_values(tmp_path, kind, name, lines, reason):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    _, parsed = parse_file(kind, path)
    assert len(parsed.rejected) == len(reason)
    assert all(f in r for f, r in zip(reason, parsed.rejected["reason"], strict=True))
    for column in ("time", "last_updated", "expiration"):
        if column in parsed.table:
            assert (parsed.table[column].dropna() >= pd.Timestamp("2000-01-01", tz="UTC")).all()
    TALLY["bad_inputs"] += len(reason)
