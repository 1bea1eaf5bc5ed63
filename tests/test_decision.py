"""The budget decision per quantile at its boundaries (docs/method.md, section 4)."""

import pytest

from analysis import config
from analysis.decision import (
    FLOOR_REQUESTS,
    NARROW_SHARE,
    OVER,
    UNDECIDED,
    WITHIN,
    decide,
    decide_quantile,
    requests_to_bound,
)
from analysis.service import Budget

MANY = {"ec2": 1000, "k8s": 1000}


def _gap(value, low, high):
    return {"value": value, "ci95": [low, high]}


@pytest.mark.parametrize("q, n", [(0.5, 6), (0.9, 36), (0.99, 368)])
def test_a_quantile_interval_needs_a_request_beyond_it_on_each_side(q, n):
    assert requests_to_bound(q) == n
    assert q ** n <= 0.025 < q ** (n - 1)


@pytest.mark.parametrize("low, high, decision", [
    (10.1, 30, OVER),       # wholly above
    (10, 30, UNDECIDED),    # touches: a gap of exactly the budget is within it
    (-5, 10, WITHIN),       # wholly within, the budget included
    (-5, 10.1, UNDECIDED),  # straddles
])
def test_an_interval_on_one_side_of_the_budget_decides(low, high, decision):
    assert decide_quantile("p50", _gap((low + high) / 2, low, high), MANY, 10).decision \
        == decision


@pytest.mark.parametrize("low, high, value, decision", [
    (9, 11.5, 10.2, OVER),         # 2.5 ms wide: a quarter of the budget, the point decides
    (8.5, 11, 10.0, WITHIN),
    (8.9, 11.5, 10.2, UNDECIDED),  # 2.6 ms wide
])
def test_an_interval_a_quarter_of_the_budget_wide_is_decided_by_its_point(low, high, value,
                                                                          decision):
    decided = decide_quantile("p50", _gap(value, low, high), MANY, 10)
    assert decided.decision == decision
    assert (decided.requests_needed is None) is (decision != UNDECIDED)


@pytest.mark.parametrize("fewest, decision", [(367, UNDECIDED), (368, OVER)])
def test_a_p99_needs_368_requests_in_each_environment(fewest, decision):
    decided = decide_quantile("p99", _gap(250, 230, 270), {"ec2": 5000, "k8s": fewest}, 50)
    assert decided.decision == decision
    if decision == UNDECIDED:
        assert decided.requests_needed == 368 and "367 requests in k8s" in decided.why


@pytest.mark.parametrize("fewest, decision", [(FLOOR_REQUESTS - 1, UNDECIDED),
                                              (FLOOR_REQUESTS, OVER)])
def test_below_the_floor_nothing_is_decided(fewest, decision):
    decided = decide_quantile("p50", _gap(87, 80, 95), {"ec2": fewest, "k8s": 100}, 10)
    assert decided.decision == decision


def test_without_a_gap_nothing_is_decided_and_the_floor_is_named():
    decided = decide({}, {"ec2": 10, "k8s": 12}, Budget())
    assert {d.decision for d in decided.values()} == {UNDECIDED}
    assert "fewer than 20" in decided["p50"].why
    assert decided["p50"].requests_needed == 20 and decided["p99"].requests_needed == 368


def test_a_straddling_interval_says_how_many_requests_would_decide_it():
    # 6 ms wide around a gap 2 ms over the budget: half the width must shrink from 3 to 2,
    # and an interval shrinks with the square root of the sample: 36 * (3 / 2)^2 = 81
    decided = decide_quantile("p50", _gap(12, 9, 15), {"ec2": 36, "k8s": 40}, 10)
    assert decided.decision == UNDECIDED and decided.requests_needed == 81


def test_each_quantile_is_judged_against_its_own_budget():
    gaps = {"p50": _gap(87, 83, 89), "p90": _gap(110, 101, 229), "p99": _gap(259, 231, 266)}
    decided = decide(gaps, {"ec2": 150, "k8s": 150}, Budget(p50_ms=10, p99_ms=50))
    assert decided["p50"].decision == OVER and decided["p50"].budget_ms == 10
    assert decided["p99"].decision == UNDECIDED and decided["p99"].budget_ms == 50


def test_the_method_page_states_the_rule_with_the_code_s_numbers():
    text = " ".join((config.PROJECT_ROOT / "docs" / "method.md").read_text().split())
    assert f"Fewer than **{FLOOR_REQUESTS}** requests" in text
    assert (f"**{requests_to_bound(0.5)} for a p50 ({FLOOR_REQUESTS} with the floor), "
            f"{requests_to_bound(0.9)} for a p90, {requests_to_bound(0.99)} for a p99**") in text
    assert NARROW_SHARE == 0.25 and "at most **a quarter of the budget** wide" in text
