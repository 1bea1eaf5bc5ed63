"""One finding: what the evidence (or the configuration, in preflight) shows, how bad it is, and
what to change. The report's findings and preflight's are this one type; `as_dict()` gives the
shape summary.json and `preflight --json` carry."""

from __future__ import annotations

from dataclasses import dataclass, fields

SEVERITIES = ("blocker", "warning", "info")


@dataclass
class Finding:
    """A finding. The report's carry `gain_ms` (the p50 time the cause accounts for) and
    `gap_after_fix_ms`; preflight's carry `added_ms_per_request` (what it expects a request to
    pay). A field left None is not part of the finding's dict."""

    id: str
    severity: str  # blocker | warning | info
    added_ms_per_request: float | None = None
    evidence: str = ""
    fix: str = ""
    gain_ms: float | None = None
    gap_after_fix_ms: dict[str, float] | None = None
    #: dns-timeout-stalls: the stalls seen per environment
    rates: dict[str, dict] | None = None

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"finding {self.id}: severity {self.severity!r} is not one of "
                             f"{', '.join(SEVERITIES)}")

    @property
    def blocker(self) -> bool:
        return self.severity == "blocker"

    def as_dict(self) -> dict:
        """The finding as summary.json and `preflight --json` carry it (fields in this order,
        the ones left None omitted)."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if getattr(self, f.name) is not None}


def blockers_first(found: list[Finding]) -> list[Finding]:
    """The findings ordered blocker, warning, info (stable within a severity)."""
    return sorted(found, key=lambda f: SEVERITIES.index(f.severity))
