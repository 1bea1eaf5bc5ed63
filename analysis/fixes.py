"""What fixing does: the gap predicted after one fix or several, and what each fix removes.

The attribution (docs/method.md, "Decomposition") gives each cause its Shapley share of the
gap at each quantile. Fixing a set of causes is predicted to leave the observed gap minus
their shares. For every cause at once this is exact: the shares add up to what all causes
together explain, so what is left is the unexplained residual. For one cause of two it is the
cause's average effect over the two orders the fixes could be made in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from analysis.attribution import Analysis

#: the quantiles a budget is set for: what a fix is judged on
QUANTILES = ("p50", "p99")
#: the severities whose fix the report asks for ("after all fixes"); an info finding's fix is
#: "none needed"
ACTIONABLE = ("blocker", "warning")


def gap_after(analysis: Analysis, causes: list[str]) -> dict[str, float]:
    """The p50 and p99 gap (ms) predicted once `causes` are fixed; {} without an attribution."""
    attr = analysis.attribution_ms
    if not attr or not analysis.gap_ms:
        return {}
    return {q: round(analysis.gap_ms[q]["value"]
                     - sum(attr[q].get(cause, 0.0) for cause in set(causes)), 1) + 0.0
            for q in QUANTILES}


def effect(finding: dict, gap_ms: dict) -> dict[str, float]:
    """What a finding's fix is predicted to take off the gap at p50 and p99 (ms); {} for a
    finding without a predicted effect."""
    after = finding.get("gap_after_fix_ms") or {}
    return {q: round(gap_ms[q]["value"] - after[q], 1) + 0.0
            for q in QUANTILES if q in after and q in gap_ms}


def _plan(analysis: Analysis, chosen: list[dict], budgets: dict[str, float]) -> dict:
    """The gap after the fixes of `chosen` together, and whether it is predicted within budget
    (None when a chosen finding has no predicted effect, or nothing is attributed)."""
    predicted = [f for f in chosen if f.get("cause")]
    causes = sorted({f["cause"] for f in predicted})
    after = gap_after(analysis, causes)
    unknown = [f["id"] for f in chosen if not f.get("cause")]
    within = None if unknown or not after or not budgets else \
        all(after[q] <= budget for q, budget in budgets.items() if q in after)
    return {"findings": [f["id"] for f in predicted], "causes": causes, "gap_after_ms": after,
            "within_budget": within, "not_predicted": unknown}


def after_fixes(analysis: Analysis, findings: list[dict]) -> dict:
    """summary.json's `after_fixes`: the gap predicted after fixing every blocker, and after
    every fix the report asks for (blockers and warnings), with the findings and causes they
    remove and whether the rest is within the p50 and p99 budgets."""
    budgets = {q: d["budget_ms"] for q, d in analysis.verdict.get("by_quantile", {}).items()
               if q in QUANTILES}
    return {"blockers": _plan(analysis, [f for f in findings if f["severity"] == "blocker"],
                              budgets),
            "all": _plan(analysis, [f for f in findings if f["severity"] in ACTIONABLE
                                    and (f.get("cause") or f["severity"] == "blocker")],
                         budgets)}
