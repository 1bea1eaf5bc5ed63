"""One table of words for causes and findings: the report, the fleet index and the fleet's
command-line lines say the same thing, never an identifier."""

import re

import pytest

from analysis import fleet, fleet_digest, view_findings, words


@pytest.mark.parametrize("cause", sorted(words.CAUSES))
def test_every_cause_reads_the_same_in_the_report_and_the_index(cause):
    assert view_findings.cause_words(cause) == fleet_digest.cause_words(cause)
    assert "_" not in words.cause(cause)


@pytest.mark.parametrize("finding_id", ["dns-search-expansion", "imds-hop-limit",
                                        "missing-dig-k8s", "a-new-dns-finding"])
def test_finding_ids_read_the_same_everywhere_and_as_words(finding_id):
    said = words.finding(finding_id)
    assert said == view_findings.words(finding_id) == fleet_digest.blocker_words(finding_id)
    assert not re.search(r"[a-z]-[a-z]+-[a-z]", said)


def test_unknown_names_are_spelled_out_with_acronyms():
    assert words.finding("a-new-dns-finding") == "a new DNS finding"
    assert words.cause("some_new_cause") == "some new cause"


def test_the_fleet_command_line_says_the_cause_in_words():
    outcome = fleet.Outcome("search-api", "ok", 4.7, "f" * 64,
                            summary={"verdict": {"cause": "credential_refresh",
                                                 "ready": False}})
    assert fleet._line(outcome) == "search-api: credential refresh, blocked (4.7 s)"
