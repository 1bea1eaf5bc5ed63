"""The conformance harness reports every disagreement between a real SDK and the table
(analysis/conformance). Driver reports here are the shape conformance/ drivers print; the
JS ones are what aws-sdk 2.1693.0 and @aws-sdk/credential-provider-node 3.972.98 did."""

import dataclasses
import sys

import pytest

from analysis.conformance import checks, run
from analysis.models import credentials

NONE = {"token": 0, "role": 0, "credentials": 0, "other": 0}
FETCH = {"token": 1, "role": 1, "credentials": 1, "other": 0}


def get(during=NONE, after=NONE, expires_in_s=None):
    return {"during": during, "after": after, "expires_in_s": expires_in_s}


def case(sdk, name):
    return next(c for c in checks.plan(sdk, None, True) if c.name == name)


def test_a_refresh_the_table_does_not_predict_is_a_disagreement_in_the_summary():
    above = case("aws-sdk-go", "threshold, above")
    report = {"gets": [get(FETCH), get(FETCH)]}  # refreshed with more than 5 min left
    found = checks.compare(above, "1.44.133", report)
    result = checks.SdkResult("aws-sdk-go", "1.44.133", tuple(found))
    lines, agree = checks.summary([result], ["aws-sdk-net"])
    assert not agree
    at = lines.index("conformance: 1 SDKs checked, 0 agree with the table")
    assert lines[at + 1:] == ["  aws-sdk-go, threshold, above: second get refreshes: the table "
                              "says no, the SDK did yes"]
    assert any(line.startswith("aws-sdk-net: not checkable here") and "DefaultInstance" in line
               for line in lines)


def test_sdks_that_do_what_the_table_says_agree():
    above, below = checks.plan("aws-sdk-go", "1.44.133", False)
    found = checks.compare(above, "1.44.133", {"gets": [get(FETCH), get()]}) + \
        checks.compare(below, "1.44.133",
                       {"gets": [get(FETCH), get({**FETCH, "token": 0})]})  # token cached
    lines, agree = checks.summary([checks.SdkResult("aws-sdk-go", "1.44.133", tuple(found))],
                                  [])
    assert agree and lines[-1] == "conformance: 1 SDKs checked, 1 agree with the table"


def test_a_driver_that_never_returns_is_a_disagreement():
    found = checks.compare(case("aws-sdk-js", "threshold, below"), "2.1693.0", None,
                           "driver exit 3: a credential get never returned")
    assert [c.agrees for c in found] == [False]
    assert "never returned" in found[0].sentence()


def test_the_cases_straddle_each_threshold_and_maximum_age():
    cases = {c.name: c for c in checks.plan("aws-sdk-go-v2", None, False)}  # refresh at expiry
    assert cases["threshold, above"].lifetime_s > 0
    below = cases["threshold, below"]
    assert below.lifetime_s < sum(below.waits_s)  # the wait before the second get crosses it
    assert cases["max age, below"].lifetime_s < 3600 < cases["max age, above"].lifetime_s
    botocore_below = checks.plan("botocore", "1.44.8", True)[1]
    assert botocore_below.lifetime_s < 900
    # the third get comes once the longest extension (1500 s) has less than 900 s left
    assert botocore_below.waits_s[-1] > 1500 - 900


JS_V2_BELOW = {"gets": [get(FETCH, expires_in_s=1149.7), get(expires_in_s=1149.3),
                        get(FETCH, expires_in_s=10.0)]}
JS_V3_BELOW = {"gets": [get(FETCH), get({**FETCH, "role": 0, "credentials": 0},
                                        {**FETCH, "token": 0})]}


@pytest.mark.parametrize("sdk, version, report, field, before_the_fix", [
    ("aws-sdk-js", "2.1693.0", JS_V2_BELOW, "defers_short_expiry_from", None),
    ("aws-sdk-js-v3", "3.972.98", JS_V3_BELOW, "background_refresh_from", None),
])
def test_what_the_js_sdks_did_agrees_with_the_table_and_not_with_its_old_rows(
        sdk, version, report, field, before_the_fix, monkeypatch):
    below = checks.plan(sdk, version, True)[1]
    assert all(c.agrees for c in checks.compare(below, version, report))
    old = dataclasses.replace(credentials.POLICIES[sdk], **{field: before_the_fix})
    monkeypatch.setitem(credentials.POLICIES, sdk, old)
    assert not all(c.agrees for c in checks.compare(below, version, report))


FAKE_DRIVER = """import json, sys
# refreshes on every get, whatever is left: what no SDK in the table does
print(json.dumps({"version": "0.0.1", "gets": [
    {"during": {"token": 1, "role": 1, "credentials": 1, "other": 0},
     "after": {"token": 0, "role": 0, "credentials": 0, "other": 0}, "expires_in_s": None}
    for _ in sys.argv[2:]]}))
"""


def test_make_conformance_fails_and_names_the_disagreement(tmp_path, monkeypatch, capsys):
    driver = tmp_path / "driver.py"
    driver.write_text(FAKE_DRIVER)
    fake = run.Client("aws-sdk-go", (sys.executable, str(driver)), False, ())
    monkeypatch.setattr(run, "clients", lambda: [fake])
    monkeypatch.setattr(run, "BUILD", tmp_path)  # no .skipped reason from a real install
    assert run.main() == 1
    out = capsys.readouterr().out
    assert "conformance: 1 SDKs checked, 0 agree with the table" in out
    assert "aws-sdk-go, threshold, above: second get refreshes: the table says no, " \
           "the SDK did yes" in out


def test_a_client_that_could_not_be_installed_is_named_and_not_counted():
    skipped = checks.SdkResult("aws-sdk-go", skipped="no Go toolchain")
    lines, agree = checks.summary([skipped], [])
    assert agree and lines == ["aws-sdk-go: skipped: no Go toolchain",
                               "conformance: 0 SDKs checked, 0 agree with the table"]
