"""IRSA, EKS Pod Identity and IMDSv2's hop limit, simulated. Each gets its
own mechanism's refresh policy (not the IMDS row), the attribution is within 20% of the
simulated truth (or 3 ms), and no blocker stands beside `ready: true`."""

from dataclasses import replace

import pytest

from analysis import attribution
from analysis.findings import findings
from analysis.ingest import load_evidence
from analysis.service import load_config
from analysis.simulate import SCENARIOS, simulate_requests, true_attribution, write_service

PAYMENTS = SCENARIOS["payments-api"]


def _case(name: str, seed: int, yaml: dict, **k8s) -> object:
    return replace(PAYMENTS, name=name, seed=seed,
                   service_yaml={**PAYMENTS.service_yaml, "name": name, **yaml},
                   k8s=replace(PAYMENTS.k8s, **k8s))


CASES = {
    # botocore's web-identity provider: 1 h STS sessions refreshed 15 min before expiry, one
    # STS call each; no IMDS document to capture
    "irsa": _case("irsa-api", 83, {"sdk": "botocore", "credential_provider": "irsa"},
                  credential_style="none", refresh_interval_s=2700, calls_per_refresh=1,
                  metadata_call_ms=25.0),
    # Java v1's container provider: 6 h credentials the agent renews after 3 h, refreshed
    # hourly (REFRESH_THRESHOLD), one GET to 169.254.170.23
    "pod-identity": _case("pod-identity-api", 89,
                          {"sdk": "aws-java-sdk-v1", "credential_provider": "pod-identity"},
                          credential_style="container", credential_lifetime_s=21600,
                          renew_before_s=10800, refresh_interval_s=3600, calls_per_refresh=1,
                          metadata_call_ms=2.0),
    # Java v1 reading the node's IMDS from a pod with hop limit 1: each hourly refresh waits
    # 5 s for each of its two token PUTs, then reads credentials with IMDSv1
    "hop-limit": _case("hop-limit-api", 97,
                       {"sdk": "aws-java-sdk-v1", "credential_provider": "instance-profile",
                        "provider_settings": {"hop_limit": 1}},
                       credential_lifetime_s=21600, renew_before_s=18000,
                       refresh_interval_s=3600, calls_per_refresh=2, metadata_call_ms=1.0,
                       hop_timeout_ms=10_000.0, token_put_timeouts=True),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def analysed(request, tmp_path_factory):
    scenario = CASES[request.param]
    folder = write_service(scenario, tmp_path_factory.mktemp(request.param))
    config = load_config(folder)
    evidence = load_evidence(folder, config)
    result = attribution.analyse(evidence, config)
    return request.param, scenario, config, result, findings(result, config, evidence)


def test_each_provider_is_attributed_within_20_percent_of_the_truth(analysed):
    _, scenario, _, result, _ = analysed
    truth = true_attribution(scenario)
    for quantile in ("p50", "p90", "p99"):
        estimate = result.attribution_ms[quantile]["credential_refresh"]
        expected = truth[quantile]["credential_refresh"]
        assert abs(estimate - expected) <= max(0.2 * abs(expected), 3.0), \
            (quantile, estimate, expected)
    # and the mean a request pays, which the quantiles cannot see for rare refreshes
    est = result.refresh["k8s"]
    paid = simulate_requests(scenario, "k8s")["credential_refresh_ms"].mean()
    assert est.share_of_requests * est.cost_ms == pytest.approx(paid, rel=0.3)


def test_never_a_blocker_beside_ready(analysed):
    *_, result, found = analysed
    blockers = [f["id"] for f in found if f["severity"] == "blocker"]
    assert not (blockers and result.verdict["ready"]), blockers


def test_each_provider_gets_its_own_mechanism(analysed):
    name, _, _, result, found = analysed
    est = result.refresh["k8s"]
    ids = {f["id"]: f for f in found}
    if name == "irsa":  # STS, from configuration: nothing was captured
        assert (est.call_word, est.calls_per_refresh, est.documents) == ("STS call", 1, 0)
        assert est.refresh_interval_s == 2700 and est.lifetime_s == 3600
        assert "missing-credentials-k8s" not in ids  # IRSA leaves no document to capture
    elif name == "pod-identity":  # the container row; the documents show 3 h or more left
        assert (est.call_word, est.calls_per_refresh) == ("container-endpoint call", 1)
        assert est.floor_s >= 3 * 3600 - 120 and "documents" in est.floor_source
        assert est.refresh_interval_s == 3600 and est.storm == 0
    else:  # recorded timed-out PUTs decide; Java v1's own 2 x 5 s decide the cost
        assert est.hop_ms == 10_000 and est.token_puts == 0
        hop = ids["imds-hop-limit"]["evidence"]
        assert "evidence: " in hop and "model: aws-java-sdk-v1 waits 2 x 1 x 5 s" in hop
        # the periodic refresh is mostly that wait: its fix is the hop limit's, not "nothing"
        assert "HttpPutResponseHopLimit to 2" in ids["credential-refresh-periodic"]["fix"]


def test_timed_puts_alone_show_the_hop_limit_whatever_service_yaml_says(tmp_path):
    """No captured fetch, and service.yaml claims hop limit 2: the collector's timed token PUTs
    that got no answer still decide, and the finding says the evidence did."""
    scenario = CASES["hop-limit"]
    scenario = replace(scenario, service_yaml={**scenario.service_yaml,
                                               "provider_settings": {"hop_limit": 2}})
    folder = write_service(scenario, tmp_path)
    (folder / "k8s" / "credentials" / "token-put.txt").unlink()
    config = load_config(folder)
    evidence = load_evidence(folder, config)
    result = attribution.analyse(evidence, config)
    hop = {f["id"]: f for f in findings(result, config, evidence)}["imds-hop-limit"]
    assert hop["evidence"].startswith("k8s's timed IMDSv2 token PUTs got no answer")
    assert "evidence: 13 timed token PUTs" in hop["evidence"]
    assert result.refresh["k8s"].hop_ms == 10_000
