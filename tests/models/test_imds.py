"""IMDSv2 token PUTs per refresh, and the hop-limit cost with its evidence."""

import pandas as pd
import pytest

from analysis.models import imds
from analysis.models.credentials import policy, refresh_estimate
from analysis.service import ProviderSettings


def _docs(lifetime_s: float = 900, code: str = "Success") -> pd.DataFrame:
    return pd.DataFrame({"env": ["k8s"] * 3, "code": [code] * 3,
                         "lifetime_s": [lifetime_s] * 3})


@pytest.mark.parametrize("imds_v2, calls", [(None, (2, 0)), (True, (2, 2)), (False, (2, 0))])
def test_java_v1_puts_a_token_before_every_get_with_imdsv2(imds_v2, calls):
    assert imds.calls_per_refresh("aws-java-sdk-v1", imds_v2, 2) == calls


def test_sdks_that_cache_the_token_make_no_put_per_refresh():
    assert imds.calls_per_refresh("aws-sdk-go", True, 2) == (2, 0)
    assert imds.calls_per_refresh("botocore", True, 3) == (2, 1)


def test_java_v1_with_imdsv2_through_kiam_pays_two_gets_and_two_cheap_puts():
    est = refresh_estimate("k8s", _docs(), policy("aws-java-sdk-v1"), 0.5, "kiam",
                           settings=ProviderSettings(imds_v2=True))
    assert (est.calls_per_refresh, est.token_puts) == (2, 2)
    assert est.cost_ms == pytest.approx(2 * 43.0 + 2 * imds.TOKEN_PUT_MS)


@pytest.mark.parametrize("sdk, per_refresh_ms, once_ms", [
    ("aws-java-sdk-v1", 10_000, 0),      # 2 PUTs x 5 s read timeout, every refresh
    ("botocore", 1_000, 0),              # 1 PUT x 1 s, every refresh
    ("aws-sdk-go", 6_000, 0),            # 2 x 3 attempts x 1 s
    ("aws-sdk-js-v3", 0, 1_000),         # remembered: once
])
def test_each_sdk_pays_the_hop_limit_its_own_way(sdk, per_refresh_ms, once_ms):
    cost = imds.hop_limit_cost(sdk)
    assert (cost.per_refresh_ms, cost.one_time_ms) == (per_refresh_ms, once_ms)
    assert cost.source.startswith("model: ")


def test_only_a_pod_reading_the_nodes_imds_meets_the_hop_limit():
    assert imds.hop_limit_blocks("instance-profile", 1) and imds.hop_limit_blocks(None, 1)
    assert not imds.hop_limit_blocks("instance-profile", 2)
    assert not imds.hop_limit_blocks("kiam", 1)  # the agent makes the PUT on the host


def test_recorded_timeouts_decide_the_symptom_whatever_the_hop_limit_says():
    calls = pd.DataFrame({"env": ["k8s"] * 3, "method": ["PUT", "GET", "GET"],
                          "path": [imds.TOKEN_PATH, "/latest/meta-data/iam/security-credentials/",
                                   "/latest/meta-data/iam/security-credentials/r"],
                          "status": [0, 200, 200], "duration_ms": [1001.0, 1.0, 1.0]})
    est = refresh_estimate("k8s", _docs(6 * 3600), policy("botocore"), 1.0, "instance-profile",
                           calls, settings=ProviderSettings(hop_limit=2))
    assert est.hop_ms == 1000 and est.token_puts == 0
    assert est.hop_source.startswith("evidence: 1 timed token PUTs")
    assert est.cost_ms == pytest.approx(2 * 1.0 + 1000)
    # without the evidence, a hop limit of 2 is taken at its word
    quiet = refresh_estimate("k8s", _docs(6 * 3600), policy("botocore"), 1.0,
                             "instance-profile", calls.iloc[1:],
                             settings=ProviderSettings(hop_limit=2))
    assert quiet.hop_ms == 0 and quiet.hop_source == ""


def test_captured_fetches_that_timed_out_on_the_put_show_the_symptom_too():
    docs = pd.concat([_docs(6 * 3600), _docs(float("nan"), imds.TOKEN_PUT_TIMEOUT)])
    est = refresh_estimate("k8s", docs, policy("aws-java-sdk-v1"), 1.0, "instance-profile")
    assert est.hop_ms == 10_000 and "3 captured fetches" in est.hop_source


def test_a_timeout_the_table_does_not_know_is_the_recorded_wait():
    waits = pd.Series([1500.0, 1700.0])
    cost = imds.hop_limit_cost("aws-sdk-net", waits)
    assert cost.per_refresh_ms == 1600 and "measured" in cost.source
