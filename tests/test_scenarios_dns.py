"""DNS scenarios: names of one walk cost what their resolver makes them cost (CoreDNS
answers cluster names itself, forwards the rest), and cache misses are a tail effect that
shrinks as the request rate grows. Attribution within 20% of the simulated truth (or 3 ms)."""

from dataclasses import replace

import pytest

from analysis import attribution, summary
from analysis.findings import findings
from analysis.ingest import load_evidence
from analysis.service import load_config
from analysis.simulate import SCENARIOS, true_attribution, write_service
from tests.test_scenarios import _close

LISTINGS = SCENARIOS["listings-api"]   # catalog.example.com, ndots:5, 4 search domains


def _analyse(scenario, tmp_path, more=False):
    folder = write_service(scenario, tmp_path)
    config = load_config(folder)
    evidence = load_evidence(folder, config)
    result = attribution.analyse(evidence, config)
    return (result, true_attribution(scenario)) + ((config, evidence) if more else ())


def test_mixed_cluster_local_and_forwarded_costs_measured_per_name(tmp_path):
    """The collector's per-name dig times: 3 names CoreDNS answers in ~1 ms, 2 forwarded at
    20-45 ms. The estimate uses each name's own times; charging every name the median of
    the external name (what `dig catalog.example.com` shows) would be more than twice the truth."""
    k8s = replace(LISTINGS.k8s, dns_query_ms=(20, 45), dig_style="per-name")
    scenario = replace(LISTINGS, name="mixed-api", seed=71, k8s=k8s, duration_s=900,
                       service_yaml=dict(LISTINGS.service_yaml, name="mixed-api"))
    result, truth, config, evidence = _analyse(scenario, tmp_path, more=True)
    estimate = result.dns["k8s"]
    assert estimate.source == "measured per name"
    # the finding and summary.json say which source the figures come from
    [finding] = [f for f in findings(result, config, evidence) if f["id"].startswith("dns-")]
    assert "per-name cost (measured per name): catalog.example.com: catalog.example.com." \
        "listings.svc.cluster.local " in finding["evidence"]
    cost = summary.dns_cost(result)["k8s"]
    assert cost["source"] == "measured per name"
    assert cost["names"]["catalog.example.com"]["answered_by_coredns"] == [True] * 3 + [False] * 2
    walk = estimate.walks["catalog.example.com"]
    assert walk.local == (True, True, True, False, False)
    assert max(walk.name_ms[:3]) <= 2 and min(walk.name_ms[3:]) >= 25
    for quantile in ("p50", "p99"):
        assert _close(result.attribution_ms[quantile]["dns"], truth[quantile]["dns"]), \
            (quantile, result.attribution_ms[quantile]["dns"], truth[quantile]["dns"])
    # what charging every name the median of `dig catalog.example.com` would say
    assert 5 * walk.name_ms[-1] > 2 * truth["p50"]["dns"]


@pytest.mark.parametrize("rate, p99_walk", [(0.2, True), (1.0, True), (8.0, False)])
def test_cache_misses_at_several_rates(tmp_path, rate, p99_walk):
    """A 30 s cache: 1 request in 7 misses at 0.2 req/s, 1 in 31 at 1 req/s (both still past
    the p99), 1 in 241 at 8 req/s (the p99 request hits the cache). The p50 never pays."""
    yaml = dict(LISTINGS.service_yaml, name="cached-api",
                dns=dict(LISTINGS.service_yaml["dns"], cache_ttl_s=30))
    scenario = replace(LISTINGS, name="cached-api", seed=83, rate_per_s=rate,
                       duration_s=min(3600, 3000 / rate), service_yaml=yaml,
                       k8s=replace(LISTINGS.k8s, dns_query_ms=(20, 45)))
    result, truth = _analyse(scenario, tmp_path)
    assert result.dns["k8s"].miss_rate == pytest.approx(1 / (1 + rate * 30), rel=0.1)
    for quantile in ("p50", "p99"):
        estimate = result.attribution_ms[quantile]["dns"]
        assert _close(estimate, truth[quantile]["dns"]), (quantile, estimate, truth[quantile])
    assert result.attribution_ms["p50"]["dns"] < 3
    assert (result.attribution_ms["p99"]["dns"] > 40) is p99_walk
