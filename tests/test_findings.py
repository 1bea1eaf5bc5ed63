"""Findings: checks of the model against the evidence (they can say 'contradicts'), and
what a gap measured too thinly to decide makes of the severities."""

import numpy as np
import pandas as pd
import pytest

from analysis.attribution import Analysis, verdict
from analysis.finding import Finding
from analysis.findings import credential_findings, decision_findings, model_checks
from analysis.ingest import Evidence
from analysis.models.credentials import RefreshEstimate, policy
from analysis.service import ServiceConfig

START = pd.Timestamp("2026-11-24T10:00:00Z")


def _latency(env: str, seconds: np.ndarray, ms: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"env": env, "time": START + pd.to_timedelta(seconds, unit="s"),
                         "latency_ms": ms})


def _check(latency: pd.DataFrame, refresh: dict, credentials: pd.DataFrame | None = None,
           sdk: str | None = None) -> dict[str, Finding]:
    analysis = Analysis("s", "ec2", "k8s", {}, {}, {}, {}, {"ec2": 1.0, "k8s": 1.0},
                        refresh=refresh)
    empty = pd.DataFrame()
    evidence = Evidence(latency, empty, empty if credentials is None else credentials, empty,
                        empty, empty, empty, empty)
    return {f.id: f for f in model_checks(analysis, evidence, policy(sdk) if sdk else None)}


def test_a_refresh_on_every_request_that_the_fastest_requests_do_not_pay_is_contradicted():
    rng = np.random.default_rng(1)
    seconds = np.sort(rng.uniform(0, 3600, 2000))
    same = rng.lognormal(np.log(20), 0.2, 2000)
    latency = pd.concat([_latency("ec2", seconds, same), _latency("k8s", seconds, same[::-1])])
    storm = RefreshEstimate("k8s", 900, 10, 0, 1.0, 86.0, True, storm=1.0)
    found = _check(latency, {"k8s": storm})
    assert found["check-every-request-pays"].severity == "warning"
    assert "contradicts" in found["check-every-request-pays"].evidence


def test_latency_that_rises_with_load_is_flagged():
    rng = np.random.default_rng(2)
    minutes = np.repeat(np.arange(30), np.arange(30) + 5)   # more requests each minute
    seconds = minutes * 60 + rng.uniform(0, 59, len(minutes))
    ms = 20 + minutes * 3 + rng.normal(0, 1, len(minutes))  # and slower each minute
    found = _check(pd.concat([_latency("ec2", seconds, ms), _latency("k8s", seconds, ms)]), {})
    assert found["check-load"].severity == "warning"
    assert "rises with load" in found["check-load"].evidence


def _hourly_go_credentials() -> pd.DataFrame:
    """20-minute credentials issued every 20 minutes: aws-sdk-go refreshes 5 min before each
    expiry, at minutes 15, 35 and 55 of the hour."""
    issued = START + pd.to_timedelta([-20, 0, 20, 40], unit="min")
    return pd.DataFrame({"env": "k8s", "code": "Success", "key_id": ["a", "b", "c", "d"],
                         "last_updated": issued, "expiration": issued + pd.Timedelta(minutes=20)})


def _periodic(pays: bool) -> dict[str, Finding]:
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
    assert found.severity == "info" and "of 3 predicted" in found.evidence
    assert "supports" in found.evidence


def test_periodic_refreshes_nobody_pays_contradict_the_model():
    found = _periodic(pays=False)["check-periodic-refresh"]
    assert found.severity == "warning" and "contradicts" in found.evidence


STORM = RefreshEstimate("k8s", 900, 10, 0, 1.0, 86.0, True, storm=1.0)
JAVA_V1 = ServiceConfig(name="s", sdk="aws-java-sdk-v1")


def _judged(gaps: dict, n: int, refresh_ms: float = 80.0) -> Analysis:
    """An analysis with these {quantile: (value, low, high)} gaps and its verdict."""
    analysis = Analysis(
        "s", "ec2", "k8s", {"ec2": {"n": n}, "k8s": {"n": n}},
        {q: {"value": v, "ci95": [lo, hi]} for q, (v, lo, hi) in gaps.items()},
        {q: {"credential_refresh": refresh_ms, "dns": 0.0, "unexplained": v - refresh_ms}
         for q, (v, _, _) in gaps.items()} if gaps else {},
        {}, {"ec2": 0.5, "k8s": 0.5}, refresh={"k8s": STORM})
    inputs = pd.DataFrame([{"env": e, "kind": k, "files": 1, "lines": 1, "rejected": 0,
                            "formats": ""} for e in ("ec2", "k8s")
                           for k in ("latency", "dig", "credentials")])
    empty = pd.DataFrame()
    analysis.verdict = verdict(analysis, JAVA_V1, Evidence(empty, empty, empty, empty, empty,
                                                           inputs, empty, empty))
    return analysis


@pytest.mark.parametrize("gaps, n, severity", [
    ({"p50": (9, 5, 12), "p99": (12, 3, 18)}, 30, "blocker"),     # inconclusive: why not ready
    ({"p50": (87, 83, 89), "p99": (259, 231, 266)}, 150, "warning"),  # beside a p50 over
])
def test_an_undecided_quantile_is_a_finding_that_says_how_many_requests_decide_it(gaps, n,
                                                                                 severity):
    found = {f.id: f for f in decision_findings(_judged(gaps, n))}
    assert found["undecided-gap-p99"].severity == severity
    assert "368 requests in each environment" in found["undecided-gap-p99"].fix


def test_too_few_requests_is_one_blocker_and_causes_are_predicted_not_measured():
    analysis = _judged({}, 10)
    assert analysis.verdict["cause"] == "inconclusive"
    assert [(f.id, f.severity) for f in decision_findings(analysis)] == \
        [("too-few-requests", "blocker")]
    assert credential_findings(analysis, JAVA_V1)[0].severity == "warning"


def test_a_cause_the_measured_gap_contradicts_is_no_blocker_beside_ready():
    # the model puts 60 ms of credential refresh in a gap measured within budget at both
    # quantiles: the evidence decides, so the service is ready and nothing blocks
    analysis = _judged({"p50": (2, 1, 3), "p90": (5, 3, 7), "p99": (20, 10, 30)}, 1000, 60.0)
    assert analysis.verdict["ready"] is True
    found = credential_findings(analysis, JAVA_V1) + decision_findings(analysis)
    assert found and all(f.severity != "blocker" for f in found)


def _no_answer(base_failed: int, cand_failed: int, timeouts: int = 0) -> Finding | None:
    from analysis.findings import no_answer_findings
    from analysis.ingest.rows import skipped

    def env(name, failed):
        ms = np.full(1000, 20.0)
        ms[:failed] = np.nan
        return _latency(name, np.arange(1000.0), ms)

    lines = skipped("k8s.log", range(timeouts), "nginx error-log line: upstream timed out")
    analysis = Analysis("s", "ec2", "k8s", {}, {}, {}, {}, {"ec2": 1.0, "k8s": 1.0})
    evidence = Evidence(pd.concat([env("ec2", base_failed), env("k8s", cand_failed)]),
                        *[pd.DataFrame()] * 6, skipped=lines.assign(env="k8s", kind="latency"))
    found = no_answer_findings(analysis, evidence)
    return found[0] if found else None


def test_a_candidate_whose_backends_fail_more_often_is_a_finding_of_its_own():
    found = _no_answer(2, 40, timeouts=12)
    assert found.id == "no-backend-answer" and found.severity == "warning"
    assert "ec2: 2 of 1000 requests (0.2%)" in found.evidence
    assert "k8s: 40 of 1000 requests (4.0%)" in found.evidence
    assert "12 nginx 'upstream timed out' error-log lines in k8s" in found.evidence


def test_failures_alike_in_both_environments_are_information_and_none_are_nothing():
    assert _no_answer(10, 12).severity == "info"
    assert _no_answer(0, 0) is None


def test_credential_fetch_failures_are_located_findings_of_the_candidate_only(
        example_copy, fixture_path):
    import shutil

    from analysis import attribution, findings
    from analysis.ingest import load_evidence
    from analysis.service import load_config

    folder = example_copy("payments-api")
    for env in ("ec2", "k8s"):  # failures in the baseline are not the candidate's problem
        shutil.copy(fixture_path("credentials-transcript.txt"), folder / env / "credentials")
    config = load_config(folder)
    evidence = load_evidence(folder, config)
    found = {f["id"]: f for f in findings.findings(attribution.analyse(evidence, config),
                                                   config, evidence)}
    fetches = int((evidence.credentials["env"] == "k8s").sum())
    hop = found["imds-hop-limit"]
    assert hop["severity"] == "warning" and hop["evidence"].startswith(
        f"2 of {fetches} credential fetches timed out on the token PUT in k8s")
    assert "credentials-transcript.txt line 12" in hop["evidence"]
    assert "--http-put-response-hop-limit 2" in hop["fix"] and \
        "IRSA or EKS Pod Identity" in hop["fix"]
    # the recorded failures decide that the PUTs go unanswered, whatever hop_limit
    # says; the SDK's own timeout says how long (Java v2: one PUT a refresh, 1 s)
    assert "Its cost: each refresh waits ~1000 ms" in hop["evidence"]
    assert "evidence: 2 captured fetches got no answer to the PUT; model: aws-java-sdk-v2 " \
        "waits 1 x 1 x 1 s per refresh" in hop["evidence"]
    failures = found["credential-fetch-failures"]
    assert failures["severity"] == "warning"
    assert "(1 RoleNotFound, 1 ProviderError; the first at credentials-transcript.txt line 20)" \
        in failures["evidence"]
    assert found["credential-role-listing"]["severity"] == "info"
    assert all("ec2" not in found[i]["evidence"] for i in ("imds-hop-limit",
                                                            "credential-role-listing"))


def test_no_failed_fetch_no_finding():
    from analysis.findings import credential_fetch_findings

    analysis = Analysis("s", "ec2", "k8s", {}, {}, {}, {}, {"ec2": 1.0, "k8s": 1.0})
    served = _hourly_go_credentials().assign(source_file="c.json", line=1)
    empty = pd.DataFrame()
    evidence = Evidence(empty, empty, served, empty, empty, empty, empty, empty)
    assert credential_fetch_findings(analysis, evidence) == []


@pytest.mark.parametrize("gaps, severity", [
    ({"p50": (900, 850, 950), "p90": (2000, 1900, 2100), "p99": (4000, 3800, 4200)}, "blocker"),
    ({"p50": (2, 1, 3), "p90": (5, 3, 7), "p99": (20, 10, 30)}, "warning"),  # ready: evidence
])
def test_a_saturated_credential_lock_is_named_and_blocks_unless_the_gap_is_within(gaps,
                                                                                   severity):
    from dataclasses import replace

    analysis = _judged(gaps, 1000)
    analysis.refresh["k8s"] = replace(STORM, serialised=True)
    analysis.rate_per_s["k8s"] = 15.0  # above 1 / 86 ms
    found = {f.id: f for f in credential_findings(analysis, JAVA_V1)}
    assert "queue on the SDK's synchronized" in found["credential-refresh-every-request"].evidence
    assert found["credential-lock-saturated"].severity == severity
    assert "saturated: the lock serves at most 1/S" in found["credential-lock-saturated"].evidence
    assert (severity == "blocker") is (analysis.verdict["ready"] is False)


def test_the_dns_fix_keeps_an_in_cluster_name_resolving():
    """`es.search.` would not resolve; the fix names its full name instead."""
    from analysis.findings import dns_findings
    from analysis.models.dns import DnsEstimate

    est = DnsEstimate("k8s", np.array([30.0]), {"es.search": 2, "elastic.example.com": 5},
                      1.0, 1.0)
    analysis = Analysis("s", "ec2", "k8s", {}, {}, {}, {}, {"ec2": 1.0, "k8s": 1.0},
                        dns={"k8s": est})
    empty = pd.DataFrame()
    resolv = pd.DataFrame({"env": ["k8s"], "ndots": [5], "search": [
        "shop.svc.cluster.local svc.cluster.local cluster.local eu-west-1.compute.internal"]})
    [found] = dns_findings(analysis, ServiceConfig(name="s"),
                           Evidence(empty, empty, empty, empty, resolv, empty, empty, empty))
    assert "es.search (1 dots, resolves in cluster) costs 2 names" in found.evidence
    assert "Use the full name es.search.svc.cluster.local. (trailing dot" in found.fix
    assert "Use es.search. " not in found.fix
    assert "Use elastic.example.com. (trailing dot)" in found.fix
