import math

import pytest

from analysis.errors import EvidenceError
from analysis.ingest import registry
from analysis.ingest.csvfile import empty_lines
from analysis.ingest.tabular import CsvLog, JsonLines, pick_columns


def test_csv_prefers_the_backend_column_and_reads_units_from_names(fixture_path):
    assert registry.detect("latency", fixture_path("latency.csv")).name == "csv"
    parsed = CsvLog().parse(fixture_path("latency.csv"))
    t = parsed.table
    assert parsed.lines == 4 and parsed.rejected.empty
    assert list(t["line"]) == [2, 3, 4]
    assert list(t["latency_ms"][:2]) == [21.5, 19.0] and list(t["total_ms"][:2]) == [23.0, 20.0]
    assert math.isnan(t["latency_ms"][2]) and t["status"][2] == 503


def test_json_lines_known_nginx_names_are_seconds(fixture_path, gzipped):
    path = gzipped("latency-seconds.jsonl")
    assert registry.detect("latency", path).name == "json-lines"
    parsed = JsonLines().parse(path)
    t = parsed.table
    assert list(t["line"]) == [1, 2, 4]
    assert t["latency_ms"][0] == pytest.approx(25.0) and t["total_ms"][0] == pytest.approx(30.0)
    assert str(t["time"][1]) == "2026-11-24 10:00:01+00:00"  # epoch seconds
    assert math.isnan(t["latency_ms"][2])
    assert parsed.rejected.empty and list(parsed.skipped["what"]) == ["blank line"]


def test_a_broken_json_line_is_rejected_with_its_number(tmp_path, fixture_path):
    good = fixture_path("latency-seconds.jsonl").read_text().splitlines()[0]
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join([good, "{not json", good]) + "\n")
    parsed = JsonLines().parse(path)
    assert list(parsed.table["line"]) == [1, 3]
    assert list(parsed.rejected["line"]) == [2]


def test_a_latency_column_without_unit_is_an_error_not_a_guess(fixture_path):
    with pytest.raises(EvidenceError, match="'latency' does not say its unit.*latency_unit"):
        CsvLog().parse(fixture_path("latency-no-unit.csv"))
    parsed = CsvLog().parse(fixture_path("latency-no-unit.csv"), {"latency_unit": "s"})
    assert parsed.table["latency_ms"][0] == 21_000


@pytest.mark.parametrize("names, latency, factor", [
    (["ts", "duration_seconds"], "duration_seconds", 1000.0),
    (["@timestamp", "duration", "upstream_service_time"], "upstream_service_time", 1.0),
    (["time", "elapsed_us"], "elapsed_us", 1e-3),
])
def test_pick_columns(tmp_path, names, latency, factor):
    chosen = pick_columns(names, tmp_path)
    assert chosen["latency"] == (latency, factor)


def test_an_epoch_time_no_log_could_have_is_rejected_not_wrapped(tmp_path):
    path = tmp_path / "latency.jsonl"
    path.write_text('{"time": 1764000000, "latency_ms": 12}\n'
                    '{"time": 5000000000000, "latency_ms": 13}\n'  # the year 2128
                    '{"time": 1764000000123, "latency_ms": 14}\n')
    parsed = JsonLines().parse(path)
    assert list(parsed.table["latency_ms"]) == [12, 14]
    assert list(parsed.rejected["line"]) == [2]
    assert "time" in parsed.rejected["reason"].iloc[0]


def test_empty_lines_in_a_csv_are_skipped_not_rejected(tmp_path):
    path = tmp_path / "log.csv"
    path.write_bytes(b"time,latency_ms\n2026-11-24T10:00:00Z,21\n\n,\r\n\r\n"
                     b"2026-11-24T10:00:01Z,19\n")
    parsed = CsvLog().parse(path)
    assert list(parsed.table["line"]) == [2, 6]
    assert list(parsed.skipped["line"]) == [3, 5]  # nothing on them
    assert list(parsed.rejected["line"]) == [4]  # empty fields are a row without values


@pytest.mark.parametrize("chunk_bytes", [1, 2, 3, 7, 1 << 20])
def test_empty_lines_are_found_across_chunks(tmp_path, chunk_bytes):
    path = tmp_path / "log.csv"
    path.write_bytes(b"a\r\n\r\n\nbc\n\r\nd\r\n\n")
    assert empty_lines(path, chunk_bytes).tolist() == [2, 3, 5, 7]


def test_a_stray_quote_or_a_line_not_utf8_costs_its_line_only(tmp_path):
    path = tmp_path / "log.csv"
    path.write_bytes(b'time,latency_ms,path\n2026-11-24T10:00:00Z,21,"/a,b"\n"\n'
                     b'2026-11-24T10:00:01Z,19,"/say ""hi"""\n2026-11-24T10:00:02Z,18,/\xff\n'
                     b'\n2026-11-24T10:00:03Z,17,/c\n')
    parsed = CsvLog().parse(path)
    assert list(parsed.table["line"]) == [2, 4, 7] and parsed.lines == 7
    assert list(parsed.table["latency_ms"]) == [21.0, 19.0, 17.0]
    assert list(parsed.rejected["line"]) == [3, 5] and list(parsed.skipped["line"]) == [6]
    assert list(parsed.rejected["reason"]) == ["expected 3 comma-separated fields",
                                               "not UTF-8 text"]
