"""Our credential-refresh model against a real SDK: botocore, pointed at the metadata
emulator, looks credentials up the way a client does before signing each request, and the
emulator counts the credential documents it served. The SDK policy table's prediction for
the installed botocore must match within the stated tolerance: 30% or 1 fetch, whichever
is larger. (Before botocore's own check, the table predicted a fetch on every request for
15-minute credentials; see docs/method.md, "Checked against botocore".)"""

import random
from datetime import UTC, datetime

import botocore
import botocore.session
import pytest
import time_machine

from analysis.models.credentials import POLICIES, refresh_share
from collector.emulator import ImdsEmulator

RATE = 1.0            # requests per second
HOURS = 2
TOLERANCE = 0.30


@pytest.fixture
def sdk_environment(monkeypatch, tmp_path):
    """Nothing but the instance metadata provider can answer: no keys, files or containers."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE",
                 "AWS_EC2_METADATA_DISABLED", "AWS_ROLE_ARN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    return monkeypatch


def _served(emulator: ImdsEmulator, sdk_environment, lookups: int, step_s: float) -> int:
    """Credential documents served while botocore signs `lookups` requests `step_s` apart."""
    sdk_environment.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", emulator.endpoint)
    random.seed(20261125)  # botocore draws its expiry extension from `random`
    with time_machine.travel(datetime(2026, 11, 24, 10, 0, tzinfo=UTC), tick=False) as clock:
        credentials = botocore.session.Session().get_credentials()
        assert credentials is not None and credentials.method == "iam-role"
        for _ in range(lookups):
            credentials.get_frozen_credentials()  # what the signer asks before each request
            clock.shift(step_s)
    return emulator.counts["credentials"]


def _predicted(lifetime_s: float, lookups: int) -> float:
    _, _, share = refresh_share(POLICIES["botocore"], lifetime_s, "irsa", RATE,
                                botocore.__version__)
    return 1 + lookups * share  # the first look-up always fetches


@pytest.mark.parametrize("lifetime_s", [15 * 60, 6 * 3600])
def test_botocore_fetches_as_the_policy_table_predicts(lifetime_s, sdk_environment):
    lookups = int(HOURS * 3600 * RATE)
    with ImdsEmulator(lifetime_s=lifetime_s) as emulator:  # fresh credentials on every fetch
        served = _served(emulator, sdk_environment, lookups, 1 / RATE)
    predicted = _predicted(lifetime_s, lookups)
    assert abs(served - predicted) <= max(1, TOLERANCE * predicted), (served, predicted)
    # and far from a refresh on every request, which 15-minute credentials mean for SDKs
    # that do not push a short expiry ahead
    assert served < lookups / 20


def test_a_burst_of_requests_costs_one_refresh_cycle(sdk_environment):
    with ImdsEmulator(lifetime_s=15 * 60) as emulator:
        served = _served(emulator, sdk_environment, 200, 0.001)
    assert 1 <= served <= 6  # geometric, mean 1.6 (docs/method.md), not 200
