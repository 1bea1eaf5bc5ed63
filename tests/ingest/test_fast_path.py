"""The CSV fast path (field_format.py) against the line-exact regex path: the irregular rows
(nginx retries) are parsed in chunks beside the reader, field checks use plain string kernels
where they agree with the patterns, and timestamps are parsed once per distinct value."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from analysis.errors import EvidenceError
from analysis.ingest import field_format, reading
from analysis.ingest.ingress_nginx import IngressNginx
from analysis.ingest.latency import parse_split_times, parse_times
from analysis.ingest.regex_format import RegexLogFormat

REAL = "real/latency/ingress-nginx-beats-ingress-controller-test.log"
LINE = ('10.0.0.{n} - - [24/Nov/2026:10:00:{s:02d} +0000] "GET /v1/items/{n} HTTP/1.1" 200 12 '
        '"-" "curl/8.4.0 (x, y)" 120 0.0{n:02d} [shop-api-8080] [] {upstream} {req}')
UPSTREAMS = ["10.1.0.1:8080 12 0.010 200", "10.1.0.1:8080, 10.1.9.9:8080 0, 12 0.004, 0.010 "
             "502, 200", "10.1.0.1:8080 : 10.1.9.9:8080 12 : 0 0.010 : 0.001 200 : 200",
             "- - - -", "10.1.0.1:8080, 10.1.9.9:8080 0, 0 0.004, 0.060 502, 504"]


def _log(tmp_path, extra: dict[int, str] | None = None, lines: int = 400):
    rows = [LINE.format(n=i % 90, s=i % 60, upstream=UPSTREAMS[i % 7 % len(UPSTREAMS)],
                        req=f"{i:032x}") for i in range(lines)]
    for at, text in sorted((extra or {}).items()):  # at: its place in the file
        rows.insert(at, text)
    path = tmp_path / "access.log"
    path.write_text("\n".join(rows) + "\n")
    return path


def _same(fast, exact):
    pd.testing.assert_frame_equal(fast.table, exact.table)
    pd.testing.assert_frame_equal(fast.rejected, exact.rejected)
    pd.testing.assert_frame_equal(fast.skipped, exact.skipped)
    assert fast.lines == exact.lines


@pytest.mark.parametrize("chunk", [1, 3, 8192])
def test_irregular_rows_in_chunks_give_the_line_exact_result(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(field_format, "IRREGULAR_CHUNK", chunk)
    monkeypatch.setattr(field_format, "BLOCK_BYTES", 4096)  # many batches, many chunks
    path = _log(tmp_path, {5: "", 40: "2026/11/24 10:00:01 [error] 31#31: *1 upstream timed out",
                           77: "not a log line", 300: LINE.replace("0.0{n:02d}", "x").format(
                               n=1, s=1, upstream=UPSTREAMS[1], req="r")})
    fmt = IngressNginx()
    fast, exact = fmt.parse(path), RegexLogFormat.parse(fmt, path)
    _same(fast, exact)
    assert fast.lines == len(fast.table) + len(fast.rejected) + len(fast.skipped) == 404
    assert fast.table["attempts"].max() == 2 and list(fast.rejected["line"]) == [78, 301]


def test_irregular_rows_of_the_real_sample_in_chunks(fixture_path, tmp_path, monkeypatch):
    lines = fixture_path(REAL).read_text().splitlines() * 30  # retries, IPv6, no upstream
    path = tmp_path / "real.log"
    path.write_text("\n".join(lines) + "\n")
    fmt = IngressNginx()
    whole = fmt.parse(path)
    monkeypatch.setattr(field_format, "IRREGULAR_CHUNK", 2)
    _same(fmt.parse(path), whole)
    _same(whole, RegexLogFormat.parse(fmt, path))


@pytest.mark.parametrize("pieces", [1, 2])
def test_mostly_garbage_is_refused_whatever_the_chunks(tmp_path, monkeypatch, pieces):
    monkeypatch.setattr(IngressNginx, "GARBAGE_LIMIT", 30)
    monkeypatch.setattr(field_format, "IRREGULAR_CHUNK", 7)
    monkeypatch.setattr(field_format, "BLOCK_BYTES", 4096)
    monkeypatch.setattr(reading, "READERS", pieces)
    monkeypatch.setattr(reading, "PIECE_BYTES", 1)
    path = _log(tmp_path, {400 + i: f"junk {i}" for i in range(600)})
    with pytest.raises(EvidenceError, match=r"more than 5% of the lines are not ingress-nginx"):
        IngressNginx().parse(path)


def test_a_little_garbage_is_rejected_line_by_line(tmp_path, monkeypatch):
    monkeypatch.setattr(IngressNginx, "GARBAGE_LIMIT", 30)
    monkeypatch.setattr(field_format, "IRREGULAR_CHUNK", 4)
    path = _log(tmp_path, {10 * i: f"junk {i}" for i in range(1, 19)}, lines=900)
    parsed = IngressNginx().parse(path)
    assert len(parsed.rejected) == 18 and parsed.lines == 918
    assert list(parsed.rejected["line"][:2]) == [11, 21]


@pytest.mark.parametrize("read_bytes", [4096, 8192, 1 << 20])
def test_small_reader_blocks_joined_for_the_worker_give_the_same_rows(tmp_path, monkeypatch,
                                                                    read_bytes):
    monkeypatch.setattr(field_format, "BLOCK_BYTES", 16384)
    monkeypatch.setattr(field_format, "READ_BYTES", read_bytes)
    monkeypatch.setattr(field_format, "IRREGULAR_CHUNK", 5)
    calls = []
    real = field_format._open_fields
    monkeypatch.setattr(field_format, "_open_fields",
                        lambda *args: calls.append(args[-1]) or real(*args))
    path = _log(tmp_path, {7: "", 90: "not a log line"}, lines=900)
    fmt = IngressNginx()
    _same(fmt.parse(path), RegexLogFormat.parse(fmt, path))
    assert calls == [min(read_bytes, 16384)]  # one read, in blocks of READ_BYTES


def test_a_line_longer_than_the_read_block_reads_the_file_again_as_before(tmp_path,
                                                                         monkeypatch):
    monkeypatch.setattr(field_format, "READ_BYTES", 4096)
    long = LINE.format(n=1, s=1, upstream=UPSTREAMS[0], req="r").replace(
        "curl/8.4.0 (x, y)", "Mozilla/5.0 " + "x" * 6000)  # > READ_BYTES, < BLOCK_BYTES
    path = _log(tmp_path, {50: long}, lines=900)
    calls = []
    real = field_format._open_fields
    monkeypatch.setattr(field_format, "_open_fields",
                        lambda *args: calls.append(args[-1]) or real(*args))
    fmt = IngressNginx()
    fast = fmt.parse(path)
    assert calls == [4096, reading.BLOCK_BYTES]  # the small blocks straddled the long line
    _same(fast, RegexLogFormat.parse(fmt, path))
    assert len(fast.table) == 901 and 51 in set(fast.table["line"])


VALUES = ["200", "2000", "20", "", "abc", "２００", "20a", "+20", "-20", "٣٤٥", "0", "123\n",
          "\n12", " 200", "[x]", "[]", "[", "]", "[a]b", "a[b]", "[\u00e9]", "-", "--"]


@pytest.mark.parametrize("pattern", [r"^\d{3}$", r"^\d+$", r"^\[.*\]$", r"^-$",
                                     r"^\d+(?:\.\d+)?$"])
def test_field_checks_by_string_kernels_agree_with_the_patterns(pattern):
    values = pa.array(VALUES)
    expected = pc.match_substring_regex(values, pattern).to_pylist()
    got = field_format._matches(values, pattern).to_pylist()
    # a field the CSV reader split holds no newline (else rows != lines: line-exact path)
    differ = [v for v, a, b in zip(VALUES, got, expected, strict=True) if a != b]
    assert all("\n" in v for v in differ) and (pattern == r"^\[.*\]$" or not differ)


def test_split_times_are_parsed_once_per_value_with_one_zone_or_several():
    first = pa.array(["[24/Nov/2026:10:00:00", "[24/Nov/2026:10:00:00", "[24/Nov/2026:10:00:01",
                      "[31/Feb/2026:10:00:01"])
    fmt = "[%d/%b/%Y:%H:%M:%S %z]"
    for second in (pa.array(["+0000]"] * 4), pa.array(["+0000]", "+0100]", "+0000]", "+0000]"]),
                   pa.array(["+0000]", "+0000]", "+0000]", "x]"])):
        got = parse_split_times(first, second, fmt)
        expected = parse_times(pc.binary_join_element_wise(first, second, " "), fmt)
        np.testing.assert_array_equal(got, expected)
    assert np.isnat(got[3]) and got[0] == np.datetime64("2026-11-24T10:00:00")
    assert parse_split_times(first, pa.array(["+0100]"] * 4), fmt)[0] == \
        np.datetime64("2026-11-24T09:00:00")


@pytest.mark.parametrize(("fmt", "values"), [
    ("[%d/%b/%Y:%H:%M:%S %z]", ["[24/Nov/2026:10:00:00 +0000]", "[31/Feb/2026:10:00:01 +0000]",
                                "[24/Nov/2026:10:00:00 +0100]", "[24/nov/2026:10:00:00 +0000]",
                                "[24/Nov/2026:25:00:00 +0000]", "[4/Nov/2026:10:00:00 +0000]",
                                "[24/Nov/2026:10:00:60 +0000]", "[24/Nov/2026:10:00:00 Z]",
                                "[29/Feb/2024:10:00:00 +0000]", "",
                                "[24/Nov/2026:10:00:00 -0530]"]),
    ("%Y-%m-%dT%H:%M:%S", ["2026-11-24T10:00:00", "2026-11-24T10:00:00.5", "x"]),
    ("ISO8601", ["2026-11-24T10:00:00Z", "2026-11-24T10:00:00.123456789+01:00"]),
    ("%d/%m/%Y %H:%M:%S.%f", ["24/11/2026 10:00:00.123", "24/11/2026 10:00:00"]),
])
def test_times_read_by_arrow_are_the_ones_pandas_reads(fmt, values):
    """Arrow's strptime is kept only where its result formats back to the text: a 31 Feb
    (which it rolls over), a leap second or another zone go to pandas, value by value."""
    array = pa.array(values * 2)
    expected = pd.to_datetime(array.to_pandas(), format=fmt, errors="coerce", utc=True)
    got = parse_times(array, fmt)
    assert got.dtype == expected.dt.tz_localize(None).to_numpy().dtype
    np.testing.assert_array_equal(got, expected.dt.tz_localize(None).to_numpy())
