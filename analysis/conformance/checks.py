"""What each table row predicts a real SDK does, what the SDK did, and the summary line.

A case serves credentials of one lifetime (fresh on every fetch) and resolves them through
the SDK once per step; a driver reports, per step, the metadata calls made during the
resolution and just after it (a background refresh), and how long the SDK keeps what it
holds. Every comparison is a yes/no or a count, so the table and the SDK say the same thing
or they disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.models import credentials

#: Rows no client here can run: no Java or .NET SDK in PyPI, npm or Debian's Go packages.
NOT_CHECKABLE_WHY = "no Java or .NET client in PyPI, npm or Debian's Go packages"
#: Counts the emulator keeps (collector/emulator.py); a refresh's calls are all three.
CALLS = ("token", "role", "credentials")
#: How far from the table's expiry an SDK's own expiry may be, in s (request round trips).
EXPIRY_SLACK_S = 5.0


def table_row(sdk: str) -> credentials.RefreshPolicy:
    """The table's row for an SDK: the one place that reads the table. The emulator is the
    EC2 instance metadata service, so the row is the IMDS one (the instance profile's)."""
    return credentials.policy(sdk)


def table_sdks() -> list[str]:
    """Every SDK the table has a row for."""
    return sorted({key if isinstance(key, str) else key[0] for key in credentials.POLICIES})


@dataclass(frozen=True)
class Case:
    """Credentials of one lifetime, resolved once per wait (s before each resolution)."""

    sdk: str
    name: str
    lifetime_s: float
    waits_s: tuple[float, ...]


@dataclass(frozen=True)
class Check:
    """One thing the table says and what the SDK did, both as short text."""

    sdk: str
    case: str
    what: str
    table: str
    sdk_did: str

    @property
    def agrees(self) -> bool:
        return self.table == self.sdk_did

    def sentence(self) -> str:
        return (f"{self.sdk}, {self.case}: {self.what}: the table says {self.table}, "
                f"the SDK did {self.sdk_did}")


def plan(sdk: str, version: str | None, virtual_clock: bool) -> list[Case]:
    """The cases that check a row: lifetimes just above and just below its refresh threshold
    and, where it has one, its maximum age. A row that pushes a short expiry ahead gets a third
    resolution once the pushed expiry is inside the window, when the SDK's clock can be moved
    (virtual_clock) rather than waited for."""
    row = table_row(sdk)
    threshold = row.refresh_before_expiry_s
    if threshold > 0:
        margin = min(60.0, threshold / 3)
        below = (threshold - margin, (0.0, 0.0))
        if row.defers_short_expiry(version) and virtual_clock:
            below = (below[0], (0.0, 0.0, row.extension_s()[1] - threshold + 1))
        cases = [Case(sdk, "threshold, above", threshold + margin, (0.0, 0.0)),
                 Case(sdk, "threshold, below", *below)]
    else:  # refresh at expiry: live 2 s, and let the clock cross it
        cases = [Case(sdk, "threshold, above", 30.0, (0.0, 0.0)),
                 Case(sdk, "threshold, below", 2.0, (0.0, 3.0))]
    if row.max_age_s is not None:
        cases += [Case(sdk, "max age, above", row.max_age_s + 60, (0.0,)),
                  Case(sdk, "max age, below", row.max_age_s - 60, (0.0,))]
    return cases


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _refreshed(get: dict) -> bool:
    return get["during"]["credentials"] + get["after"]["credentials"] > 0


def _calls(get: dict) -> int:
    return sum(get["during"][k] + get["after"][k] for k in CALLS)


def compare(case: Case, version: str | None, observed: dict | None,
            failure: str = "") -> list[Check]:
    """The checks of one case: the table's prediction against the driver's report
    ({"gets": [{"during": counts, "after": counts, "expires_in_s": s}, ...]})."""
    row = table_row(case.sdk)
    check = lambda what, table, did: Check(case.sdk, case.name, what, table, did)  # noqa: E731
    if observed is None or len(observed.get("gets", [])) != len(case.waits_s):
        return [check("the credential gets return", "yes", f"no ({failure or 'no report'})")]
    first, *rest = observed["gets"]
    if case.name.startswith("max age"):
        capped = case.lifetime_s > row.max_age_s
        kept = first.get("expires_in_s")
        did = "no expiry reported" if kept is None else \
            _yes(kept < case.lifetime_s - EXPIRY_SLACK_S)
        return [check(f"expiry cut to the maximum age ({row.max_age_s:.0f} s)",
                      _yes(capped), did)]
    second, *later = rest
    checks = [check("first get fetches", "yes", _yes(_refreshed(first)))]
    below = case.name.endswith("below")
    defers = below and row.defers_short_expiry(version)
    checks.append(check("second get refreshes", _yes(below and not defers),
                        _yes(_refreshed(second))))
    refresh = second if below and not defers else (later[0] if later else None)
    if defers:
        low, high = row.extension_s()
        kept = first.get("expires_in_s") or 0.0
        checks.append(check(f"expiry pushed {low}-{high} s ahead", "yes",
                            _yes(low - EXPIRY_SLACK_S <= kept <= high + EXPIRY_SLACK_S)))
        if refresh is not None:
            checks.append(check("refreshes once the pushed expiry is in the window", "yes",
                                _yes(_refreshed(refresh))))
    if refresh is not None and _refreshed(refresh):
        checks.append(check("calls per refresh", str(row.calls_per_refresh),
                            str(_calls(refresh))))
        checks.append(check("the caller waits for the refresh",
                            _yes(row.waits_for_refresh(version)),
                            _yes(refresh["during"]["credentials"] > 0)))
    return checks


@dataclass(frozen=True)
class SdkResult:
    """One SDK's run: its version and checks, or why it could not run here."""

    sdk: str
    version: str | None = None
    checks: tuple[Check, ...] = ()
    skipped: str = ""

    @property
    def agrees(self) -> bool:
        return all(c.agrees for c in self.checks)

    def line(self) -> str:
        if self.skipped:
            return f"{self.sdk}: skipped: {self.skipped}"
        if self.agrees:
            return f"{self.sdk} {self.version}: agrees with the table ({len(self.checks)} checks)"
        wrong = sum(not c.agrees for c in self.checks)
        return f"{self.sdk} {self.version}: {wrong} of {len(self.checks)} checks disagree"


def summary(results: list[SdkResult], not_checkable: list[str]) -> tuple[list[str], bool]:
    """The lines to print and whether every SDK checked agrees with the table."""
    lines = [r.line() for r in results]
    for sdk in not_checkable:
        lines.append(f"{sdk}: not checkable here: {NOT_CHECKABLE_WHY}; the row cites "
                     f"{table_row(sdk).source}")
    checked = [r for r in results if not r.skipped]
    agreeing = [r for r in checked if r.agrees]
    lines.append(f"conformance: {len(checked)} SDKs checked, {len(agreeing)} agree with "
                 "the table")
    lines += ["  " + c.sentence() for r in checked for c in r.checks if not c.agrees]
    return lines, len(agreeing) == len(checked)
