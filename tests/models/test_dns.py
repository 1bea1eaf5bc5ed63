import numpy as np
import pandas as pd
import pytest

from analysis.models.dns import (
    DnsEstimate,
    dns_estimate,
    lookup_table,
    miss_rate,
    names_tried,
    sample_overhead,
)

SEARCH = ["ns.svc.cluster.local", "svc.cluster.local", "cluster.local",
          "eu-west-1.compute.internal"]


@pytest.mark.parametrize("name, ndots, expected", [
    ("elastic.example.com", 5, 5),    # 2 dots < 5: every search domain, then the name
    ("elastic.example.com.", 5, 1),   # absolute name
    ("elastic.example.com", 2, 1),    # enough dots: the name itself first
    ("es", 1, 1),                     # in-cluster service: answers at ns.svc.cluster.local
    ("es.search", 5, 2),              # service es in namespace search: at svc.cluster.local
    ("es.search.svc", 5, 3),          # at cluster.local
    ("es.search.svc", 2, 4),          # as-is first (NXDOMAIN), then the walk to cluster.local
    ("es.search.svc.cluster.local", 5, 5),   # 4 dots < 5: the whole list, then as written
    ("es.search.svc.cluster.local.", 5, 1),
])
def test_names_tried_stops_at_the_first_name_that_answers(name, ndots, expected):
    assert names_tried(name, SEARCH, ndots) == expected


def test_the_same_walk_in_the_model_and_the_report_table():
    """dns_estimate and lookup_table (the report's DNS table) count the same walk."""
    dig = pd.DataFrame({"env": ["k8s"], "status": ["NOERROR"], "query_time_ms": [30.0],
                        "timeout_ms": [None], "total_ms": [30.0]})
    resolv = pd.DataFrame({"env": ["k8s"], "ndots": [5], "search": [" ".join(SEARCH)]})
    est = dns_estimate("k8s", dig, resolv, ("es.search", "elastic.example.com"), 1, 0, 1.0)
    assert est.names_tried == {"es.search": 2, "elastic.example.com": 5}
    table = lookup_table({"k8s": est}, resolv).set_index("name")
    assert table.loc["es.search", "queries per uncached lookup"] == 2
    assert table.loc["es.search", "resolves"] == "in cluster"
    assert table.loc["elastic.example.com", "resolves"] == "outside"
    # per-name cost: CoreDNS answers es.search's names itself (assumed 1 ms each, not the 30 ms
    # the forwarded dig took); elastic.example.com: 3 local names + 2 forwarded
    assert table.loc["es.search", "predicted lookup (ms)"] == 2.0
    assert table.loc["elastic.example.com", "predicted lookup (ms)"] == 63.0
    assert set(table["cost source"]) == {"model"}


def test_miss_rate():
    assert miss_rate(0.5, 0) == 1.0
    assert miss_rate(0.5, 30) == pytest.approx(1 / 16)


def test_sample_overhead_mean_matches_queries_per_request():
    est = DnsEstimate("k8s", np.array([10.0]), {"a.example.com": 5}, 1.0, 0.25)
    overhead = sample_overhead(est, np.random.default_rng(1), 40_000)
    assert set(np.unique(overhead)) == {0.0, 50.0}
    assert overhead.mean() == pytest.approx(est.queries_per_request * 10.0, rel=0.05)


def test_lookups_that_waited_out_a_timeout_are_no_part_of_the_per_query_cost():
    from analysis.models.dns import dns_estimate

    dig = pd.DataFrame({"env": ["k8s"] * 5,
                        "status": ["NOERROR", "NOERROR", "TIMEOUT", "UNREACHABLE", "NOERROR"],
                        "query_time_ms": [2.0, 4.0, None, None, 4990.0], "tries": [1, 2, 3, 3, 1],
                        "timeout_ms": [None, 5000.0, 5000.0, None, None],
                        "total_ms": [2.0, 5004.0, 15000.0, None, 4990.0]})
    est = dns_estimate("k8s", dig, pd.DataFrame(), ("a.example.com",), 1, 0, 1.0)
    assert list(est.query_ms) == [2.0]  # the stalls are counted by models/dns_stalls.py


def test_lookup_table_shows_the_names_one_lookup_queries_per_environment():
    resolv = pd.DataFrame({"env": ["ec2", "k8s"], "ndots": [1, 5],
                           "search": ["eu-west-1.compute.internal",
                                      "ns.svc.cluster.local svc.cluster.local cluster.local "
                                      "eu-west-1.compute.internal"]})
    estimates = {
        env: DnsEstimate(env, np.array([ms]), {"elastic.example.com": tried}, 2.0, miss)
        for env, ms, tried, miss in (("ec2", 0.0, 1, 0.1), ("k8s", 30.0, 5, 1.0))}
    table = lookup_table(estimates, resolv).set_index("environment")
    assert table.loc["k8s", "queries per uncached lookup"] == 5
    assert table.loc["k8s", "search domains"] == 4 and table.loc["k8s", "ndots"] == 5
    assert table.loc["k8s", "queries per request"] == 10  # 2 lookups, no cache
    assert table.loc["ec2", "queries per request"] == pytest.approx(0.1)


def test_lookups_timed_through_getaddrinfo_are_measured_lookups_not_queries():
    dig = pd.DataFrame({"env": ["k8s"] * 4, "name": ["elastic.example.com"] * 4,
                        "server": ["getaddrinfo", "getaddrinfo", "127.0.0.77", "127.0.0.77"],
                        "status": ["NOERROR"] * 4, "query_time_ms": [150.0, 170.0, 30.0, 30.0],
                        "timeout_ms": [None] * 4, "total_ms": [150.0, 170.0, 30.0, 30.0]})
    resolv = pd.DataFrame({"env": ["k8s"], "ndots": [5], "search": ["a.local b.local"]})
    est = dns_estimate("k8s", dig, resolv, ("elastic.example.com",), 1, 0, 1.0)
    assert list(est.query_ms) == [30.0, 30.0]
    row = lookup_table({"k8s": est}, resolv, dig).iloc[0]
    # the per-name times miss elastic.example.com.a.local.: the whole lookups decide
    assert row["cost source"] == "whole lookup" == est.source
    assert row["predicted lookup (ms)"] == 160.0 == row["measured lookup (ms)"]


def _walk_dig(rows):
    return pd.DataFrame([{"env": "k8s", "name": n, "server": s, "status": "NOERROR",
                          "query_time_ms": ms, "timeout_ms": None, "total_ms": ms}
                         for n, s, ms in rows])


def test_per_name_times_beat_whole_lookups_and_each_name_keeps_its_own_cost():
    """When every name of the walk was queried (latency-gap collect), each name
    costs its own times: cluster-local ones little, forwarded ones the upstream's."""
    walk = [f"elastic.example.com.{d}." for d in SEARCH] + ["elastic.example.com."]
    rows = [(n, "10.100.0.10", ms) for n, ms in zip(walk, (1, 1, 1, 20, 30), strict=True)]
    dig = _walk_dig(rows * 2 + [("elastic.example.com", "getaddrinfo", 200.0)])
    resolv = pd.DataFrame({"env": ["k8s"], "ndots": [5], "search": [" ".join(SEARCH)]})
    est = dns_estimate("k8s", dig, resolv, ("elastic.example.com",), 1, 0, 1.0)
    walk_cost = est.walks["elastic.example.com"]
    assert est.source == "measured per name" and walk_cost.name_ms == (1, 1, 1, 20, 30)
    assert walk_cost.local == (True, True, True, False, False)
    assert sample_overhead(est, np.random.default_rng(0), 10).tolist() == [53.0] * 10
