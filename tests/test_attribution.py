import numpy as np
import pandas as pd
import pytest

from analysis import attribution
from analysis.attribution import Analysis, shapley, verdict
from analysis.ingest import Evidence
from analysis.service import ServiceConfig


def test_shapley_splits_an_interaction_evenly():
    values = {frozenset(): 0, frozenset("a"): 10, frozenset("b"): 0, frozenset("ab"): 30}
    shares = shapley(lambda s: values[frozenset(s)], ("a", "b"))
    assert shares == {"a": 20.0, "b": 10.0}
    assert sum(shares.values()) == 30


def test_attribute_finds_a_constant_shift():
    rng = np.random.default_rng(0)
    base = rng.lognormal(np.log(20), 0.2, 5000)
    overheads = {"credential_refresh": np.full(20_000, 80.0), "dns": np.zeros(20_000)}
    gap = {q: {"value": 85.0} for q in ("p50", "p90", "p99")}
    attr, predicted = attribution.attribute(base, overheads, gap, rng)
    assert attr["p50"] == {"credential_refresh": 80.0, "dns": 0.0, "unexplained": 5.0}
    assert predicted["p50"] == pytest.approx(np.quantile(base, 0.5) + 80, abs=0.5)


def _analysis(gap50, gap99, cred, dns) -> Analysis:
    gaps = {"p50": gap50, "p90": gap50, "p99": gap99}
    return Analysis(
        service="s", baseline="ec2", candidate="k8s",
        latency_ms={"ec2": {"n": 1000}, "k8s": {"n": 1000}},
        gap_ms={q: {"value": v, "ci95": [v, v]} for q, v in gaps.items()},
        attribution_ms={q: {"credential_refresh": cred, "dns": dns,
                            "unexplained": v - cred - dns} for q, v in gaps.items()},
        predicted_ms={}, rate_per_s={"ec2": 1.0, "k8s": 1.0})


def _evidence(missing=()) -> Evidence:
    inputs = pd.DataFrame([{"env": e, "kind": k, "files": 0 if (e, k) in missing else 1,
                            "lines": 1, "rejected": 0, "formats": ""}
                           for e in ("ec2", "k8s") for k in ("latency", "dig", "credentials")])
    empty = pd.DataFrame()
    return Evidence(empty, empty, empty, empty, empty, inputs, empty, empty)


CONFIG = ServiceConfig(name="s", sdk="aws-java-sdk-v1")


@pytest.mark.parametrize("gap50, gap99, cred, dns, cause", [
    (5, 20, 0, 0, "none"),
    (88, 100, 80, 3, "credential_refresh"),
    (45, 50, 0, 44, "dns"),
    (100, 120, 40, 30, "both"),         # each explains at least a quarter
    (100, 120, 60, 20, "credential_refresh"),  # dns below a quarter
    (100, 120, 10, 5, "unexplained"),
])
def test_verdict_rules(gap50, gap99, cred, dns, cause):
    result = verdict(_analysis(gap50, gap99, cred, dns), CONFIG, _evidence())
    assert result["cause"] == cause
    assert result["ready"] is (cause == "none")


def test_unexplained_gap_with_missing_evidence_is_inconclusive():
    result = verdict(_analysis(100, 120, 10, 5), CONFIG, _evidence({("k8s", "dig")}))
    assert result["cause"] == "inconclusive"


def test_too_few_requests_is_inconclusive():
    analysis = _analysis(100, 120, 90, 0)
    analysis.gap_ms = {}
    assert verdict(analysis, CONFIG, _evidence())["cause"] == "inconclusive"


def _measured(p50_ci, p99_ci, n: int) -> Analysis:
    """An analysis whose p50 and p99 gaps have these intervals, n requests a side."""
    analysis = _analysis(sum(p50_ci) / 2, sum(p99_ci) / 2, 80, 0)
    analysis.gap_ms["p50"]["ci95"], analysis.gap_ms["p99"]["ci95"] = list(p50_ci), list(p99_ci)
    analysis.latency_ms = {"ec2": {"n": n}, "k8s": {"n": n}}
    return analysis


def test_a_clear_p50_gap_on_150_requests_is_conclusive_though_its_p99_is_not():
    result = verdict(_measured((83, 89), (231, 266), 150), CONFIG, _evidence())
    assert result["cause"] == "credential_refresh" and result["ready"] is False
    assert result["by_quantile"]["p50"]["decision"] == "over"
    assert result["by_quantile"]["p99"]["decision"] == "undecided"


@pytest.mark.parametrize("p50_ci, p99_ci, n", [
    ((5, 12), (0, 20), 30),       # p50 straddles its budget, p99 too few requests
    ((-2, 3), (0, 20), 150),      # p50 within, p99 cannot be bounded: not ready either
    ((5, 12), (10, 20), 1000),    # p50 straddles, p99 within
])
def test_nothing_decided_over_and_something_undecided_is_inconclusive(p50_ci, p99_ci, n):
    result = verdict(_measured(p50_ci, p99_ci, n), CONFIG, _evidence())
    assert result["cause"] == "inconclusive" and result["ready"] is False
    assert "Not enough evidence to decide" in result["summary"]


def test_an_undecided_p50_beside_a_p99_decided_over_is_judged_at_p99():
    result = verdict(_measured((5, 12), (60, 90), 1000), CONFIG, _evidence())
    assert result["cause"] == "credential_refresh" and "at p99" in result["summary"]


def test_ready_needs_both_quantiles_decided_within():
    assert verdict(_measured((-2, 3), (0, 20), 368), CONFIG, _evidence())["ready"] is True
