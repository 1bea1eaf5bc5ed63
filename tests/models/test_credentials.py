import pandas as pd
import pytest

from analysis.errors import ConfigError
from analysis.models.credentials import policy, refresh_estimate, refresh_moments


def _docs(lifetime_s: float, n: int = 3) -> pd.DataFrame:
    return pd.DataFrame({"env": ["k8s"] * n, "code": ["Success"] * n,
                         "lifetime_s": [lifetime_s] * n})


def test_java_v1_with_15_minute_credentials_refreshes_on_every_request():
    est = refresh_estimate("k8s", _docs(900), policy("aws-java-sdk-v1"), 0.5, "kiam")
    assert est.refresh_interval_s == 0 and est.share_of_requests == 1.0
    assert est.cost_ms == pytest.approx(86.0) and est.cost_is_estimate


def test_java_v1_with_fresh_6_hour_credentials_refreshes_hourly():
    est = refresh_estimate("k8s", _docs(6 * 3600), policy("aws-java-sdk-v1"), 0.5, "irsa")
    assert est.refresh_interval_s == 3600 and est.storm == 0
    assert est.share_of_requests == pytest.approx(1 / 1800)


def test_kiam_60_minutes_still_storms_while_less_than_15_minutes_are_left():
    # KIAM renews 5 min before expiry: served credentials keep 5..60 min, and for the
    # 10 minutes of every 55 in which less than 15 are left, Java v1 refreshes on every call.
    est = refresh_estimate("k8s", _docs(3600), policy("aws-java-sdk-v1"), 0.5, "kiam")
    assert est.storm == pytest.approx(600 / 3300)
    assert est.share_of_requests == pytest.approx(600 / 3300 + (1 - 600 / 3300) / 1350)


def test_no_documents_means_no_estimate():
    assert refresh_estimate("ec2", _docs(900), policy("botocore"), 1.0, None) is None


def test_unknown_sdk_is_a_config_error():
    with pytest.raises(ConfigError, match="aws-java-sdk-v1"):
        policy("java-sdk-1")


def _served(lifetimes_min: list[float], start: str = "2026-11-24 10:00") -> pd.DataFrame:
    issued = pd.Timestamp(start, tz="UTC") + pd.to_timedelta(range(len(lifetimes_min)), "min") * 10
    return pd.DataFrame({
        "env": "k8s", "code": "Success", "key_id": [f"key{i}" for i in range(len(issued))],
        "last_updated": issued,
        "expiration": issued + pd.to_timedelta(lifetimes_min, "min")})


def test_refresh_moments_mark_the_threshold_and_credentials_served_inside_it():
    moments = refresh_moments(_served([15, 360]), "k8s", policy("aws-java-sdk-v1"))
    short, long = moments.iloc[0], moments.iloc[1]
    assert bool(short["every_request"]) and not bool(long["every_request"])
    # the 6 h credential: Java v1's 60-minute maximum age comes before expiry - 15 min
    assert long["refresh_at"] == long["last_updated"] + pd.Timedelta(minutes=60)
    assert long["window_from"] == long["expiration"] - pd.Timedelta(minutes=15)


def test_refresh_moments_count_a_credential_served_many_times_once():
    docs = pd.concat([_served([60])] * 5, ignore_index=True)
    moments = refresh_moments(docs, "k8s", policy("aws-sdk-go"))
    assert len(moments) == 1
    assert moments.iloc[0]["refresh_at"] == moments.iloc[0]["expiration"] - pd.Timedelta(minutes=5)


def test_metadata_calls_that_got_no_answer_are_not_the_refresh_cost():
    calls = pd.DataFrame({"env": ["k8s"] * 3, "status": [200, 200, 0],
                          "duration_ms": [40.0, 44.0, 1000.0]})
    est = refresh_estimate("k8s", _docs(900), policy("aws-java-sdk-v1"), 0.5, "kiam", calls)
    assert est.cost_ms == pytest.approx(2 * 42.0) and not est.cost_is_estimate


def test_go_v2_refreshes_role_credentials_at_least_hourly():
    # ec2rolecreds caps Expires at now + 1 hour, whatever the document says
    est = refresh_estimate("k8s", _docs(6 * 3600), policy("aws-sdk-go-v2"), 1.0, "irsa")
    assert est.refresh_interval_s == 3600 and est.storm == 0


def test_failed_fetches_and_unknown_lifetimes_never_enter_the_estimate():
    # a token PUT that timed out and a container document without LastUpdated: no lifetime
    docs = pd.concat([_docs(900), pd.DataFrame({
        "env": ["k8s"] * 2, "code": ["TokenPutTimeout", "Success"],
        "lifetime_s": [float("nan"), float("nan")]})], ignore_index=True)
    est = refresh_estimate("k8s", docs, policy("aws-java-sdk-v1"), 0.5, "kiam")
    assert est.lifetime_s == 900 and est.documents == 3
    only_unknown = docs.iloc[3:]
    assert refresh_estimate("k8s", only_unknown, policy("aws-java-sdk-v1"), 0.5, "kiam") is None


def test_refresh_moments_leave_out_failures_and_documents_without_an_issue_time():
    served = _served([15, 360])
    failed = pd.DataFrame({"env": ["k8s"] * 2, "code": ["RoleNotFound", "Success"],
                           "key_id": [None, "container"], "last_updated": [pd.NaT, pd.NaT],
                           "expiration": [pd.NaT, pd.Timestamp("2026-11-24 11:00", tz="UTC")]})
    moments = refresh_moments(pd.concat([served, failed], ignore_index=True), "k8s",
                              policy("aws-java-sdk-v1"))
    assert list(moments["key_id"]) == ["key0", "key1"]
