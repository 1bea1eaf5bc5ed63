"""ALB access logs exported from Athena as CSV.

tests/fixtures/alb-athena.csv is hand-made (no published export was found): the header is the
column list of AWS's CREATE TABLE for ALB access logs (Athena User Guide), every value quoted
as Athena's results are, a NULL written as nothing, and the values of tests/fixtures/alb.log's
kind (-1 for "no answer" printed as the DOUBLE -1.0)."""

import csv
import gzip

import numpy as np
import pytest

from analysis import ingest
from analysis.errors import EvidenceError
from analysis.ingest.registry import detect, parse_file
from analysis.inspection import inspect
from analysis.service import load_config
from tests.conftest import EXAMPLES
from tests.inprocess import run_notebooks

HEADER = '"time","target_processing_time","elb_status_code"\n'


def test_an_athena_export_is_read_with_alb_semantics(fixture_path):
    fmt, parsed = parse_file("latency", fixture_path("alb-athena.csv"))
    assert fmt.name == "aws-alb-athena-csv" and parsed.lines == 6
    assert parsed.rejected.empty and parsed.skipped.empty
    table = parsed.table
    assert table["line"].tolist() == [2, 3, 4, 5, 6]
    np.testing.assert_allclose(table["latency_ms"], [20, 31, np.nan, np.nan, 18])
    # total = request + target + response; the generic csv format took request time alone
    np.testing.assert_allclose(table["total_ms"], [23, 32, np.nan, np.nan, 18])
    assert table["status"].tolist() == [200, 200, 503, 502, 200]
    assert table["attempts"].tolist() == [1, 1, 0, 0, 1]
    assert str(table["time"].iloc[0]) == "2026-11-24 10:00:00.482184+00:00"


def test_the_athena_header_wins_over_the_generic_csv(fixture_path, tmp_path):
    assert detect("latency", fixture_path("alb-athena.csv")).name == "aws-alb-athena-csv"
    assert detect("latency", fixture_path("latency.csv")).name == "csv"
    path = tmp_path / "export.csv"
    path.write_text('"time","target_processing_time"\n"2026-11-24T10:00:00Z","0.1"\n')
    assert detect("latency", path).name == "csv"  # nothing says ALB: a unit-named CSV


def test_a_query_with_fewer_columns_and_timestamps(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(HEADER + '"2026-11-24 10:00:00.482 UTC","1.0E-3","200"\n'
                    '"2026-11-24 10:00:01.000","-1.0",\n')
    _, parsed = parse_file("latency", path)
    np.testing.assert_allclose(parsed.table["latency_ms"], [1.0, np.nan])
    np.testing.assert_allclose(parsed.table["total_ms"], [1.0, np.nan])  # the target's alone
    assert parsed.table["status"].tolist()[0] == 200
    assert str(parsed.table["time"].iloc[0]) == "2026-11-24 10:00:00.482000+00:00"


def test_bad_values_are_rejected_per_line_with_the_reason(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(HEADER + '"yesterday","0.020","200"\n"2026-11-24T10:00:00Z","fast","200"\n'
                    '"2026-11-24T10:00:00Z","0.020","OK"\n"2026-11-24T10:00:00Z","-5","200"\n'
                    '"2026-11-24T10:00:00Z","0.020"\n\n"2026-11-24T10:00:00Z","0.020","200"\n')
    _, parsed = parse_file("latency", path)
    assert parsed.table["line"].tolist() == [8] and parsed.lines == 8
    assert parsed.rejected["reason"].tolist() == [
        "time is not an ISO 8601 time", "target_processing_time is not a number of seconds",
        "elb_status_code is not a status code",
        "implausible latency: negative or longer than a day",
        "expected 3 comma-separated fields"]
    assert parsed.rejected["text"].iloc[0] == \
        "time=yesterday, target_processing_time=0.020, elb_status_code=200"
    assert parsed.skipped["line"].tolist() == [7]


def test_a_cut_line_is_rejected_and_the_quoted_rest_read_the_same(fixture_path, tmp_path):
    lines = fixture_path("alb-athena.csv").read_text().splitlines()
    path = tmp_path / "export.csv"
    path.write_text("\n".join([*lines[:3], lines[3][:40], *lines[3:]]) + "\n")  # a stray quote
    _, parsed = parse_file("latency", path)
    assert parsed.table["line"].tolist() == [2, 3, 5, 6, 7] and parsed.lines == 7
    np.testing.assert_allclose(parsed.table["total_ms"], [23, 32, np.nan, np.nan, 18])
    assert parsed.rejected["line"].tolist() == [4]


def _athena_export(alb_logs: list, target) -> None:
    """What Athena's CREATE TABLE and `SELECT *` give for these ALB logs, as its CSV."""
    columns = ["type", "time", "elb", "client_ip", "client_port", "target_ip", "target_port",
               "request_processing_time", "target_processing_time",
               "response_processing_time", "elb_status_code", "target_status_code",
               "received_bytes", "sent_bytes", "request_verb", "request_url", "request_proto",
               "user_agent"]
    with target.open("w", newline="") as out:
        writer = csv.writer(out, quoting=csv.QUOTE_ALL)
        writer.writerow(columns)
        for log in alb_logs:
            for f in csv.reader(gzip.open(log, "rt"), delimiter=" "):
                client, _, client_port = f[3].rpartition(":")
                target_ip, _, target_port = f[4].rpartition(":")
                writer.writerow([f[0], f[1], f[2], client, client_port, target_ip, target_port,
                                 *(repr(float(s)) for s in f[5:8]), *f[8:12],
                                 *f[12].split(" ", 2), f[13]])


def test_a_report_uses_an_athena_export(example_copy, tmp_path):
    folder = example_copy("search-api")
    logs = sorted((folder / "ec2" / "latency").glob("*.log.gz"))
    _athena_export(logs, folder / "ec2" / "latency" / "athena-results.csv")
    for log in logs:
        log.unlink()
    entry = inspect(folder / "ec2" / "latency" / "athena-results.csv")["files"][0]
    assert entry["format"] == "aws-alb-athena-csv" and entry["rejected"] == 0
    namespace = run_notebooks("search-api", folder.parent)
    summary = namespace["result"].summary()
    assert summary["inputs"]["ec2"]["latency"]["formats"] == ["aws-alb-athena-csv"]
    assert summary["inputs"]["ec2"]["latency"]["rejected"] == 0
    original = ingest.load_evidence(EXAMPLES / "search-api",
                                    load_config(EXAMPLES / "search-api")).latency
    ec2 = original[original["env"] == "ec2"]
    assert summary["latency_ms"]["ec2"]["n"] == ec2["latency_ms"].notna().sum()
    assert summary["latency_ms"]["ec2"]["p50"] == pytest.approx(ec2["latency_ms"].median(),
                                                                abs=0.05)
    assert namespace["analysis"].verdict["cause"] == summary["verdict"]["cause"] == \
        "credential_refresh"


def test_forced_on_a_file_without_the_columns_is_a_named_error(fixture_path):
    with pytest.raises(EvidenceError, match=r"latency.csv:1: an Athena export of ALB logs "
                       r"needs the columns time and target_processing_time; the header's 6"):
        parse_file("latency", fixture_path("latency.csv"), "aws-alb-athena-csv")
