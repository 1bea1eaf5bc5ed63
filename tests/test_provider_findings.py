"""What the findings say about each provider: the fix one can apply to it."""

import pytest

from analysis.provider_findings import credential_fix


@pytest.mark.parametrize("provider, words", [
    ("kiam", "--session-refresh"), ("kube2iam", "--iam-role-session-ttl"),
    ("irsa", "DurationSeconds"), ("pod-identity", "--max-credential-retention-before-renewal"),
    ("instance-profile", "60 min or more")])
def test_each_provider_gets_a_fix_it_can_apply(provider, words):
    assert words in credential_fix(provider, "botocore", 900)


def test_the_fix_rounds_the_sdks_threshold_up_to_whole_minutes():
    assert "--session-refresh above 16 min" in credential_fix("kiam", "aws-java-sdk-v1", 901)
    assert "above 15 min (e.g. --session-refresh=20m" in credential_fix("kiam", "x", 900)
