import math

import pytest

from analysis.errors import EvidenceError
from analysis.ingest.dig import DigText


def test_whole_answers_give_name_status_time_and_server(fixture_path):
    parsed = DigText().parse(fixture_path("dig-answers.txt"))
    t = parsed.table
    assert parsed.rejected.empty
    assert list(t["status"]) == ["NOERROR", "NXDOMAIN", "TIMEOUT"]
    assert list(t["name"]) == ["elastic.example.com", "missing.example.com",
                               "elastic.example.com"]
    assert t["query_time_ms"][0] == 23 and t["server"][0] == "172.20.0.10"
    assert str(t["time"][1]) == "2026-11-24 10:00:30+00:00"
    assert math.isnan(t["query_time_ms"][2]) and t["timeout_ms"][2] == 2000  # +time=2


def test_grepped_query_time_lines(fixture_path, gzipped):
    t = DigText().parse(gzipped("dig-grepped.txt")).table
    assert list(t["query_time_ms"]) == [0, 2, 1]


def test_dig_short_output_is_a_clear_error(fixture_path):
    with pytest.raises(EvidenceError, match=r"dig \+short"):
        DigText().parse(fixture_path("dig-short.txt"))


def test_servfail_and_communication_errors_are_kept(fixture_path):
    t = DigText().parse(fixture_path("dig-failures.txt")).table
    assert list(t["status"]) == ["SERVFAIL", "TIMEOUT", "TIMEOUT"]
    assert t["query_time_ms"][0] == 4003
    assert list(t["timeout_ms"][1:]) == [5000.0, 5000.0]
    assert t["name"][2] == "elastic.example.com"
