"""Checks of the model against the evidence: they can say 'contradicts'."""

import numpy as np
import pandas as pd

from analysis.attribution import Analysis
from analysis.findings import model_checks
from analysis.ingest import Evidence
from analysis.models.credentials import RefreshEstimate, policy

START = pd.Timestamp("2026-11-24T10:00:00Z")


def _latency(env: str, seconds: np.ndarray, ms: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"env": env, "time": START + pd.to_timedelta(seconds, unit="s"),
                         "latency_ms": ms})


def _check(latency: pd.DataFrame, refresh: dict, credentials: pd.DataFrame | None = None,
           sdk: str | None = None) -> dict[str, dict]:
    analysis = Analysis("s", "ec2", "k8s", {}, {}, {}, {}, {"ec2": 1.0, "k8s": 1.0},
                        refresh=refresh)
    empty = pd.DataFrame()
    evidence = Evidence(latency, empty, empty if credentials is None else credentials, empty,
                        empty, empty, empty)
    return {f["id"]: f for f in model_checks(analysis, evidence, policy(sdk) if sdk else None)}


def test_a_refresh_on_every_request_that_the_fastest_requests_do_not_pay_is_contradicted():
    rng = np.random.default_rng(1)
    seconds = np.sort(rng.uniform(0, 3600, 2000))
    same = rng.lognormal(np.log(20), 0.2, 2000)
    latency = pd.concat([_latency("ec2", seconds, same), _latency("k8s", seconds, same[::-1])])
    storm = RefreshEstimate("k8s", 900, 10, 0, 1.0, 86.0, True, storm=1.0)
    found = _check(latency, {"k8s": storm})
    assert found["check-every-request-pays"]["severity"] == "warning"
    assert "contradicts" in found["check-every-request-pays"]["evidence"]


def test_latency_that_rises_with_load_is_flagged():
    rng = np.random.default_rng(2)
    minutes = np.repeat(np.arange(30), np.arange(30) + 5)   # more requests each minute
    seconds = minutes * 60 + rng.uniform(0, 59, len(minutes))
    ms = 20 + minutes * 3 + rng.normal(0, 1, len(minutes))  # and slower each minute
    found = _check(pd.concat([_latency("ec2", seconds, ms), _latency("k8s", seconds, ms)]), {})
    assert found["check-load"]["severity"] == "warning"
    assert "rises with load" in found["check-load"]["evidence"]


def _hourly_go_credentials() -> pd.DataFrame:
    """20-minute credentials issued every 20 minutes: aws-sdk-go refreshes 5 min before each
    expiry, at minutes 15, 35 and 55 of the hour."""
    issued = START + pd.to_timedelta([-20, 0, 20, 40], unit="min")
    return pd.DataFrame({"env": "k8s", "code": "Success", "key_id": ["a", "b", "c", "d"],
                         "last_updated": issued, "expiration": issued + pd.Timedelta(minutes=20)})


def _periodic(pays: bool) -> dict[str, dict]:
    rng = np.random.default_rng(3)
    seconds = np.sort(rng.uniform(0, 3600, 3000))
    ms = rng.lognormal(np.log(20), 0.1, 3000)
    if pays:  # the first request after each refresh waits for two metadata calls
        for minute in (15, 35, 55):
            ms[np.searchsorted(seconds, minute * 60)] += 80
    periodic = RefreshEstimate("k8s", 1200, 4, 900, 0.001, 80.0, False)
    return _check(_latency("k8s", seconds, ms), {"k8s": periodic},
                  _hourly_go_credentials(), "aws-sdk-go")


def test_the_request_after_each_predicted_refresh_pays_it():
    found = _periodic(pays=True)["check-periodic-refresh"]
    assert found["severity"] == "info" and "of 3 predicted" in found["evidence"]
    assert "supports" in found["evidence"]


def test_periodic_refreshes_nobody_pays_contradict_the_model():
    found = _periodic(pays=False)["check-periodic-refresh"]
    assert found["severity"] == "warning" and "contradicts" in found["evidence"]
