"""One finding type for the report and preflight; its dict is the summary.json contract."""

import json
import re

import pytest

from analysis import config
from analysis.finding import Finding, blockers_first


def _readme_summary() -> dict:
    readme = (config.PROJECT_ROOT / "README.md").read_text()
    block = re.search(r"`summary.json` holds at least:\s*```json\n(.*?)```", readme, re.S)
    return json.loads(block.group(1))


def test_a_report_finding_has_exactly_the_keys_summary_json_documents():
    documented = _readme_summary()["findings"][0]
    found = Finding("credential-refresh-every-request", "blocker", evidence="e", fix="f",
                    fix_code=[{"label": "l", "language": "shell", "code": "c\n"}],
                    gain_ms=89.0, gap_after_fix_ms={"p50": -2.0, "p99": 138.0},
                    cause="credential_refresh").as_dict()
    assert list(found) == list(documented)
    # DESIGN.md's contract: at least id, severity, evidence and fix
    assert {"id", "severity", "evidence", "fix"} <= found.keys()


def test_a_preflight_finding_keeps_its_json_keys_in_their_order():
    found = Finding("imds-hop-limit", "warning", 2.8, evidence="e", fix="f").as_dict()
    assert list(found) == ["id", "severity", "added_ms_per_request", "evidence", "fix"]


def test_the_stall_finding_carries_its_rates_last():
    found = Finding("dns-timeout-stalls", "info", evidence="e", fix="f", gain_ms=0.0,
                    gap_after_fix_ms={}, rates={"k8s": {"stalls": 2}}).as_dict()
    assert list(found)[-1] == "rates" and found["gain_ms"] == 0.0


def test_an_unknown_severity_is_refused_naming_the_finding():
    with pytest.raises(ValueError, match="finding x: severity 'fatal'"):
        Finding("x", "fatal")


def test_blockers_come_first_and_the_order_within_a_severity_stays():
    found = [Finding("a", "info"), Finding("b", "warning"), Finding("c", "blocker"),
             Finding("d", "warning")]
    assert [f.id for f in blockers_first(found)] == ["c", "b", "d", "a"]
    assert [f.blocker for f in blockers_first(found)] == [True, False, False, False]
