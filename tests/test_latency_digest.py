"""The latency digest the report draws from: the same figures from a few thousand rows."""

import numpy as np
import pandas as pd
import pytest

from analysis import latency_digest, stats


def _requests(n: int, env: str, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "env": env, "latency_ms": np.round(rng.lognormal(np.log(20), 0.5, n)),
        "time": pd.Timestamp("2026-11-24T10:00:00Z") + pd.to_timedelta(
            np.sort(rng.uniform(0, 3600, n)), unit="s")})


def test_few_requests_are_drawn_one_by_one():
    x, share = latency_digest.ecdf_points(np.array([30.0, 10.0, 20.0]))
    assert list(x) == [10.0, 20.0, 30.0] and share == pytest.approx([1 / 3, 2 / 3, 1.0])


def test_many_requests_are_drawn_through_observed_quantiles_whatever_their_number():
    values = np.random.default_rng(1).lognormal(np.log(20), 0.5, 200_000)
    x, share = latency_digest.ecdf_points(values)
    assert len(x) < latency_digest.ECDF_POINTS + 50 and share[-1] == 1.0
    assert np.all(np.isin(x, values))  # every point is a request's latency
    exact = np.searchsorted(np.sort(values), x, side="right") / len(values)
    assert np.all(exact >= share - 1e-12) and np.all(exact - share < 1e-3)


def test_the_digest_holds_per_minute_series_and_a_summary_per_environment():
    latency = pd.concat([_requests(5000, "ec2", 2), _requests(5000, "k8s", 3)],
                        ignore_index=True)
    latency["env"] = latency["env"].astype("category")
    digest = latency_digest.digest(latency, "ec2", "k8s")
    assert digest.envs == ["ec2", "k8s"]
    expected = stats.per_minute(latency[latency["env"] == "k8s"])
    mine = digest.minutes[digest.minutes["env"] == "k8s"].reset_index(drop=True)
    pd.testing.assert_frame_equal(mine[expected.columns], expected)
    assert list(digest.summary.index) == ["ec2", "k8s"]
    assert digest.summary.loc["k8s", "count"] == 5000
    assert latency_digest.of(digest) is digest
