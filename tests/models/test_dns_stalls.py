"""Timeout stalls: found in dig evidence, counted at their rate, priced per request."""

import numpy as np
import pandas as pd
import pytest

from analysis.models import dns_stalls
from analysis.models.dns import DnsEstimate
from analysis.models.resolver_options import ResolverOptions

CLUSTER_DNS = ("172.20.0.10",)


def _dig(totals, timeouts=None, servers=None):
    n = len(totals)
    return pd.DataFrame({"env": ["k8s"] * n, "total_ms": totals,
                         "timeout_ms": timeouts or [None] * n,
                         "server": servers or ["172.20.0.10"] * n})


def test_a_stall_is_a_timed_out_try_or_a_time_near_the_timeout():
    dig = _dig([3.0, 5003.0, 4100.0, 3000.0, None], [None, 5000.0, None, None, None])
    assert list(dns_stalls.stalled(dig)) == [False, True, True, False, False]
    # with options timeout:1 a 900 ms lookup waited a timeout too
    assert list(dns_stalls.stalled(dig, timeout_ms=1000.0)) == [False, True, True, True, False]


def test_the_rate_counts_lookups_of_one_name_and_the_stall_is_what_it_adds():
    dig = _dig([2.0, 4.0, 5003.0, 10004.0, 5005.0, 900.0],
               servers=["172.20.0.10"] * 5 + ["getaddrinfo"])
    stall = dns_stalls.stall_rate(dig, "k8s", "getaddrinfo")
    assert (stall.stalls, stall.lookups, stall.rate) == (3, 5, 0.6)
    assert stall.stall_ms == 5005.0 - 3.0  # median stalled minus median answered
    assert stall.describe() == "k8s: 3 of 5 dig lookups (60.0%, ~5.0 s each)"
    assert dns_stalls.stall_rate(dig, "ec2", "getaddrinfo") is None


def test_a_lost_query_stalls_one_name_and_the_race_only_when_a_and_aaaa_race():
    parallel = ResolverOptions(nameservers=CLUSTER_DNS)
    reopen = ResolverOptions(nameservers=CLUSTER_DNS,
                             flags=frozenset({"single-request-reopen"}))
    assert dns_stalls.stall_per_name(parallel, 0.01) == pytest.approx(1 - 0.99 ** 2)
    assert dns_stalls.stall_per_name(parallel, 0.0, 0.05) == pytest.approx(0.05)
    assert dns_stalls.stall_per_name(reopen, 0.0, 0.05) == 0.0


@pytest.mark.parametrize("rate, names, per_request, expected_ms, p99_ms", [
    (0.008, 5, 1 - 0.992 ** 5, 200.0, 5000.0),   # 4% of requests: the p99 is a stall
    (0.001, 5, 1 - 0.999 ** 5, 25.0, 0.0),       # 0.5%: below the p99
    (0.2, 5, 1 - 0.8 ** 5, 5000.0, 20000.0),     # a stall per request: several at p99
])
def test_a_measured_rate_priced_per_request(rate, names, per_request, expected_ms, p99_ms):
    options = ResolverOptions(nameservers=CLUSTER_DNS)
    got = dns_stalls.predict(options, names, stall_rate=rate, stall_ms=5000.0)
    assert got.stall_per_request == pytest.approx(per_request)
    assert got.expected_ms == pytest.approx(expected_ms)
    assert got.p99_ms == p99_ms
    assert (got.queries_per_name, got.round_trips_per_name) == (2, 1)


def test_from_a_loss_probability_the_stall_is_the_resolvers_timeout():
    options = ResolverOptions(2, 2, CLUSTER_DNS, frozenset({"single-request"}))
    got = dns_stalls.predict(options, 10, loss_per_query=0.005, race_per_name=0.5)
    assert got.stall_ms == 2000.0 and got.round_trips_per_name == 2
    assert got.stall_per_name == pytest.approx(1 - 0.995 ** 2)  # no race when serial
    assert got.p99_ms == 2000.0  # 10 names x 1% a name: 10% of requests


def test_sampled_stalls_match_the_rate_and_the_names_a_request_queries():
    est = DnsEstimate("k8s", np.array([10.0]), {"a.example.com": 5}, 2.0, 1.0)
    stall = dns_stalls.StallRate("k8s", 10, 1000, 5000.0)
    drawn = dns_stalls.sample_stalls(est, stall, np.random.default_rng(3), 40_000)
    assert set(np.unique(drawn)) <= {0.0, 5000.0, 10000.0, 15000.0}
    assert drawn.mean() == pytest.approx(dns_stalls.mean_stall_ms(est, stall), rel=0.1)
    assert dns_stalls.mean_stall_ms(est, stall) == pytest.approx(0.01 * 5000 * 10)


@pytest.mark.parametrize("cand, base, p99_ms, within, measured, expected", [
    (0.02, 0.0, 5000.0, False, True, "blocker"),
    (0.02, 0.0, 5000.0, True, True, "warning"),    # the measured p99 is within budget
    (0.02, 0.0, 5000.0, False, False, "warning"),  # no measured gap: predicted only
    (0.001, 0.0, 0.0, False, True, "warning"),     # more stalls, not at the p99
    (0.01, 0.02, 5000.0, False, True, "info"),     # the baseline stalls as often
])
def test_severity(cand, base, p99_ms, within, measured, expected):
    rate = {"k8s": cand, "ec2": base}
    stalls = {env: dns_stalls.StallRate(env, int(r * 1000), 1000, 5000.0)
              for env, r in rate.items()}
    prediction = dns_stalls.StallPrediction(cand, cand, 5000.0, 0.0, p99_ms, 2, 1)
    assert dns_stalls.severity(stalls["k8s"], stalls["ec2"], prediction, 50.0, within,
                               measured) == expected
