"""Is a measured gap decided against the budget? Per quantile: over, within, or undecided.

The rule (docs/method.md, section 4): a quantile's gap is decided when its 95% interval lies
wholly above or wholly within the budget, or when the interval is so narrow (at most a quarter
of the budget) that the point estimate decides. It is undecided when the interval straddles
the budget, or when either environment has too few requests for a 95% interval of that
quantile to exist at all (368 for a p99). Below FLOOR_REQUESTS nothing is measured.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from analysis.service import Budget
from analysis.stats import QUANTILES

#: Fewer requests than this in either environment: no gap is measured. One request is then
#: more than 5% of the sample, and a p90 or p99 is the sample's largest value.
FLOOR_REQUESTS = 20
#: An interval at most this share of the budget wide knows the gap to within an eighth of the
#: budget either way: the point estimate decides, even when the gap sits on the budget.
NARROW_SHARE = 0.25
#: Each end of a 95% interval leaves 2.5% out.
TAIL = 0.025
OVER, WITHIN, UNDECIDED = "over", "within", "undecided"


@dataclass(frozen=True)
class Decision:
    """One quantile's gap against its budget; requests_needed (per environment) when
    undecided and more evidence could decide it."""

    quantile: str
    budget_ms: float
    decision: str
    why: str
    requests_needed: int | None = None

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k != "quantile"}


def requests_to_bound(q: float) -> int:
    """Fewest requests for which a distribution-free 95% interval of the q-quantile has both
    ends inside the sample: the chance that no request lies above (or below) the true quantile,
    q^n (or (1-q)^n), must be at most 2.5%. p50: 6, p90: 36, p99: 368."""
    return math.ceil(math.log(TAIL) / math.log(max(q, 1 - q)))


def _interval(gap: dict) -> str:
    low, high = gap["ci95"]
    return f"the 95% interval {low:+.0f} to {high:+.0f} ms"


def _requests_to_narrow(gap: dict, budget_ms: float, fewest: int) -> int | None:
    """About how many requests per environment would decide a straddling interval: it must
    shrink to clear the budget or to NARROW_SHARE of it, and it shrinks with sqrt(n)."""
    low, high = gap["ci95"]
    target = max(abs(gap["value"] - budget_ms), budget_ms * NARROW_SHARE / 2)
    if target <= 0:
        return None
    return math.ceil(fewest * ((high - low) / 2 / target) ** 2)


def decide_quantile(name: str, gap: dict | None, counts: dict[str, int],
                    budget_ms: float) -> Decision:
    """The decision at one quantile; counts are the requests per environment."""
    env, fewest = min(counts.items(), key=lambda item: item[1])
    bound = max(requests_to_bound(QUANTILES[name]), FLOOR_REQUESTS)
    if gap is None or fewest < FLOOR_REQUESTS:
        return Decision(name, budget_ms, UNDECIDED,
                        f"{fewest} requests in {env}: fewer than {FLOOR_REQUESTS} in an "
                        "environment are too few to measure a gap", bound)
    if fewest < bound:
        return Decision(name, budget_ms, UNDECIDED,
                        f"{fewest} requests in {env}: a 95% interval of the {name} needs at "
                        f"least {bound} in each environment", bound)
    low, high = gap["ci95"]
    if low > budget_ms:
        return Decision(name, budget_ms, OVER,
                        f"{_interval(gap)} lies above the {budget_ms:g} ms budget")
    if high <= budget_ms:
        return Decision(name, budget_ms, WITHIN,
                        f"{_interval(gap)} lies within the {budget_ms:g} ms budget")
    if high - low <= NARROW_SHARE * budget_ms:
        side = OVER if gap["value"] > budget_ms else WITHIN
        return Decision(name, budget_ms, side,
                        f"{_interval(gap)} is at most a quarter of the {budget_ms:g} ms budget "
                        f"wide: the gap, {gap['value']:+.0f} ms, is "
                        f"{'over' if side == OVER else 'within'} it")
    needed = _requests_to_narrow(gap, budget_ms, fewest)
    return Decision(name, budget_ms, UNDECIDED,
                    f"{_interval(gap)} straddles the {budget_ms:g} ms budget",
                    max(needed, fewest + 1) if needed else None)


def decide(gap_ms: dict, counts: dict[str, int], budget: Budget) -> dict[str, Decision]:
    """p50 and p99 (the quantiles with a budget), each against its budget."""
    return {name: decide_quantile(name, gap_ms.get(name), counts, limit)
            for name, limit in (("p50", budget.p50_ms), ("p99", budget.p99_ms))}
