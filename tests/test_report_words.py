"""Words, not variables (issue 18): the examples' reports carry no raw value (None, nan, an
unrounded float, "1 credentials", "less than 0 s", a snake_case identifier) in their text, and
every table header says its unit."""

import re

import pytest

from tests.words import raw_values

SERVICES = ["search-api", "listings-api", "payments-api", "orders-api"]
#: table headers that are counts or names, not quantities: no unit to say
NO_UNIT = {"environment", "evidence", "files", "lines", "rejected lines", "skipped lines",
           "formats", "backend time from", "what the lines are", "file", "line",
           "why rejected", "line text", "rows", "rows with a timestamp", "name", "ndots",
           "resolves", "queries per uncached lookup", "queries per request", "cost source",
           "why", "requests", "severity", "finding", "shown in",
           "credential refresh time from", "DNS time from", ""}


def test_the_checker_finds_each_kind_of_raw_value():
    html = ("<p>None</p><td>nan</td><p>0.0166667 min</p><p>1 credentials</p>"
            "<p>less than 0 s</p><p>cause credential_refresh</p><code>data_dir=x</code>"
            "<p>None needed. 1 ms, 1 renewal, $upstream_response_time</p>")
    found = [r.split(":")[0] for r in raw_values(html)]
    assert found == ["None", "nan", "unrounded number", "less than 0", "one with a plural",
                     "snake_case"]


@pytest.mark.parametrize("name", SERVICES)
def test_the_report_text_has_no_raw_values(example_reports, name):
    html = (example_reports[name] / name / "report.html").read_text()
    assert raw_values(html) == []


@pytest.mark.parametrize("name", SERVICES)
def test_every_table_header_says_its_unit_or_is_a_count_or_a_name(example_reports, name):
    html = (example_reports[name] / name / "report.html").read_text()
    headers = {re.sub(r"<[^>]+>", "", h).strip()
               for h in re.findall(r"<th[^>]*>(.*?)</th>", html, re.S)}
    headers = {h for h in headers if not h.startswith("after all fixes")
               and not re.fullmatch(r"[\d+−\-/ .]*", h)}  # the "after all fixes" row
    unit = re.compile(r"\([^)]*(?:\b(?:ms|UTC|s|count|hex digits)|%)\)$")
    missing = {h for h in headers if h not in NO_UNIT and not unit.search(h)}
    assert missing == set()


@pytest.mark.parametrize("name", SERVICES)
def test_one_count_of_credential_documents(example_reports, name):
    """The credential finding counts the candidate's documents as the time-ranges table does
    (one row per document), and says how many distinct credentials they are."""
    html = (example_reports[name] / name / "report.html").read_text()
    table = re.search(r'<table[^>]*id="tab-time-ranges".*?</table>', html, re.S).group(0)
    rows = [re.findall(r"<td>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", table,
                                                                      re.S)]
    documents = {row[0]: row[4] for row in rows if row and row[1] == "credentials"}
    counted = set(re.findall(r"(\d+) credential documents?, \d+ distinct credentials?", html))
    assert counted == {documents["k8s"]}
