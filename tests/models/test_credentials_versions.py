"""Rows that changed between SDK versions, as `make conformance` found them: the version in
service.yaml decides which behaviour the model uses."""

import pytest

from analysis.models.credentials import POLICIES, refresh_share


def test_js_v3_requests_wait_for_a_refresh_only_before_the_background_refresh():
    row = POLICIES["aws-sdk-js-v3"]  # served with 1 min left: inside its 5-minute window
    storm, _, share = refresh_share(row, 900, "kiam", 10.0, "3.900.0", floor_s=60)
    assert storm > 0 and share > 0
    assert refresh_share(row, 900, "kiam", 10.0, "3.972.98", floor_s=60)[2] == 0.0


def test_js_v2_pushes_a_short_expiry_ahead_from_2_1090_with_its_own_range():
    row = POLICIES["aws-sdk-js"]  # credentials that live 10 s: always inside its 15 s window
    assert refresh_share(row, 10, "irsa", 10.0, "2.1089.0")[2] == 1.0  # every request
    storm, interval, share = refresh_share(row, 10, "irsa", 10.0, "2.1693.0")
    assert storm == 0.0 and share < 0.001
    # every push (900-1199 s) lands outside the window: a refresh every mean(push) - 15 s
    assert interval == pytest.approx((900 + 1199) / 2 - 15)
