"""One finding: what the evidence (or the configuration, in preflight) shows, how bad it is, and
what to change. The report's findings and preflight's are this one type; `as_dict()` gives the
shape summary.json and `preflight --json` carry."""

from __future__ import annotations

from dataclasses import dataclass, fields

SEVERITIES = ("blocker", "warning", "info")


@dataclass
class Finding:
    """A finding. The report's carry `gain_ms` (the p50 time the cause accounts for),
    `gap_after_fix_ms` and the `cause` the fix removes; preflight's carry
    `added_ms_per_request` (what it expects a request to pay). `fix_code` is the fix as text
    to paste (snippet()). A field left None is not part of the finding's dict."""

    id: str
    severity: str  # blocker | warning | info
    added_ms_per_request: float | None = None
    evidence: str = ""
    fix: str = ""
    #: the fix as code to paste, made for this service's configuration: [snippet(), ...]
    fix_code: list[dict] | None = None
    gain_ms: float | None = None
    gap_after_fix_ms: dict[str, float] | None = None
    #: the attributed cause the fix removes (credential_refresh, dns): analysis/fixes.py
    #: predicts the gap after several fixes from it
    cause: str | None = None
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


def snippet(label: str, language: str, code: str) -> dict:
    """One piece of a fix to paste: what it is and where it goes (`label`), its language
    (shell, yaml, properties, text: how the report marks it) and the code itself."""
    return {"label": label, "language": language, "code": code.strip("\n") + "\n"}


def blockers_first(found: list[Finding]) -> list[Finding]:
    """The findings ordered blocker, warning, info (stable within a severity)."""
    return sorted(found, key=lambda f: SEVERITIES.index(f.severity))
