"""The refresh policy is per (sdk, provider); Java v2's early refresh."""

import pandas as pd
import pytest

from analysis.models import providers
from analysis.models.credentials import (
    mean_prefetch_interval_s,
    min_served_remaining_s,
    policy,
    refresh_estimate,
    refresh_share,
)


@pytest.mark.parametrize("sdk", sorted(providers.POLICIES))
def test_every_sdk_has_a_row_per_mechanism_each_naming_its_source_file(sdk):
    rows = [providers.refresh_policy(sdk, p) for p in ("kiam", "irsa", "pod-identity")]
    assert [r.provider for r in rows] == ["imds", "irsa", "pod-identity"]
    for row in rows:
        assert row.sdk == sdk and ("/" in row.source or "not re-read" in row.source)
    # IRSA is one STS call, Pod Identity one GET: never the IMDS row's listing + document
    assert rows[1].calls_per_refresh == rows[2].calls_per_refresh == 1


def test_only_botocores_imds_fetcher_pushes_a_short_expiry_ahead():
    assert providers.refresh_policy("botocore", "kiam").defers_short_expiry("1.44.8")
    for provider in ("irsa", "pod-identity"):
        assert not providers.refresh_policy("botocore", provider).defers_short_expiry("1.44.8")


def test_java_v1_irsa_refreshes_in_the_background_and_no_request_waits():
    irsa = policy("aws-java-sdk-v1", "irsa")
    storm, interval, share = refresh_share(irsa, 3600, "irsa", 10.0)
    assert (storm, share) == (0.0, 0.0) and interval == 3300  # async from 5 min left


def test_pod_identity_serves_at_least_lifetime_minus_the_agents_3_hours():
    assert min_served_remaining_s("pod-identity", 6 * 3600) == 3 * 3600
    # credentials shorter than 3 h are renewed at expiry; the agent drops them at 15 s
    assert min_served_remaining_s("pod-identity", 3600) == 15


def test_irsa_without_documents_uses_the_configured_lifetime_and_its_sts_call():
    empty = pd.DataFrame({"env": [], "code": [], "lifetime_s": []})
    est = refresh_estimate("k8s", empty, policy("botocore", "irsa"), 1.0, "irsa")
    assert (est.lifetime_s, est.documents, est.refresh_interval_s) == (3600, 0, 2700)
    assert (est.calls_per_refresh, est.call_word, est.cost_ms) == (1, "STS call", 20.0)
    # an IMDS provider without documents stays unknown: nothing configured stands in
    assert refresh_estimate("k8s", empty, policy("botocore", "kiam"), 1.0, "kiam") is None


@pytest.mark.parametrize("left_s, interval_s", [
    (6 * 3600, 3 * 3600),   # half the time left
    (900, 450),
    (400, 300),             # at least 5 minutes...
    (200, 199),             # ...unless the stale time, expiry - 1 s, comes first
])
def test_java_v2_prefetches_at_half_the_life_left_or_5_minutes(left_s, interval_s):
    assert providers.prefetch_interval_s(left_s) == interval_s


def test_java_v2_with_kiam_refreshes_early_and_periodically_not_in_a_storm():
    v2 = policy("aws-java-sdk-v2", "kiam")
    storm, interval, share = refresh_share(v2, 900, "kiam", 1.0, floor_s=300)
    # served with 5-15 min left: one caller refreshes every 5-7.5 min, 337 s on average
    assert storm == 0 and interval == pytest.approx(mean_prefetch_interval_s(300, 900))
    assert 330 < interval < 345 and share == pytest.approx(1 / interval)


@pytest.mark.parametrize("version, flagged", [
    ("2.17.158", False), ("2.17.159", True), ("2.17.163", True), ("2.17.164", False),
    ("2.20.0", False), (None, False)])
def test_java_v2_releases_that_returned_expired_credentials(version, flagged):
    assert providers.java_v2_returns_expired("aws-java-sdk-v2", version, "kiam") is flagged
    # the bug is the IMDS provider's: IRSA and Pod Identity never go through it
    assert not providers.java_v2_returns_expired("aws-java-sdk-v2", version, "irsa")


def test_one_table_names_the_providers_service_yaml_and_preflight_accept(capsys):
    from analysis import cli, service

    assert service.CREDENTIAL_PROVIDERS is providers.CREDENTIAL_PROVIDERS
    assert set(providers.CREDENTIAL_PROVIDERS) == set(providers.MECHANISMS)
    with pytest.raises(SystemExit):
        cli.main(["preflight", "--provider", "no-such-provider"])
    assert ", ".join(map(repr, providers.CREDENTIAL_PROVIDERS)) in capsys.readouterr().err


def test_every_row_cites_a_source_file_that_docs_method_also_cites():
    """Every number from an SDK carries its source file in the code and in docs/method.md."""
    import re

    from analysis import config

    method = (config.PROJECT_ROOT / "docs" / "method.md").read_text()
    rows = [*providers.POLICIES.values(), *providers.WEB_IDENTITY.values(),
            *providers.CONTAINER.values()]
    for row in rows:
        files = re.findall(r"([A-Za-z_]\w*\.(?:java|py|go|js|ts|cs))\b", row.source)
        assert files, row
        assert any(name in method for name in files), (row.sdk, row.provider, files)
