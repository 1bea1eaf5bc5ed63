"""What a manager reads of a fleet run, from the entries analysis/fleet.py decided: the
counters, causes and blockers in words, what fixing each blocker unblocks, and the change
of verdict since the previous run.

The roll-up rule: a blocked service is unblocked by a fix only when that fix clears every
one of its blockers (the ids of its blocker findings, as summary.json lists them and the
history keeps them). So services are grouped by their exact set of blockers: a service blocked
by X alone counts under "fixing X"; one blocked by X and Y counts under "fixing X with Y", never
under X or Y alone (fixing one of the two leaves it blocked). Each group also says for how many
more blocked services its fix is needed but not enough. Failed services are left out: their
verdict is unknown this run. A blocked service whose row names no blocker is counted apart.
"""

from __future__ import annotations

from datetime import datetime

from analysis import words as said


def cause_words(cause: str | None) -> str:
    """verdict.cause as a reader says it (analysis/words.py)."""
    return said.cause(cause)


def blocker_words(finding_id: str) -> str:
    """A blocker finding's id in words ("DNS search-list expansion")."""
    return said.finding(finding_id)


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def counters(entries: list[dict]) -> dict[str, int]:
    """ready, blocked and failed add up to the services; skipped (unchanged since their last
    run, not rerun) are counted as ready or blocked by that run's verdict too."""
    out = {s: sum(e["state"] == s for e in entries) for s in ("ready", "blocked", "failed")}
    return {**out, "skipped": sum(e["status"] == "skipped" for e in entries),
            "total": len(entries)}


def rollup(entries: list[dict]) -> list[dict]:
    """What fixing each set of blockers unblocks (the rule is the module's docstring): one
    group per distinct set, most services first. `fix`: the blocker ids ([] for the blocked
    services that name none); `services`: those it unblocks; `also_needed_by`: the blocked
    services that need this fix and more."""
    blocked = [e for e in entries if e["state"] == "blocked"]
    groups: dict[tuple[str, ...], list[str]] = {}
    for e in blocked:
        groups.setdefault(tuple(sorted(set(e["blockers"]))), []).append(e["service"])
    out = []
    for fix, services in groups.items():
        more = [e["service"] for e in blocked if fix and set(fix) < set(e["blockers"])]
        out.append({"fix": list(fix), "fix_words": [blocker_words(f) for f in fix],
                    "services": services, "count": len(services), "also_needed_by": more})
    return sorted(out, key=lambda g: (not g["fix"], -g["count"], len(g["fix"]),
                                      [w.casefold() for w in g["fix_words"]]))


def rollup_sentence(group: dict, name=str, words=str) -> str:
    """A roll-up group as plain text: "fixing X with Y unblocks 2 services (a, b); also needed,
    with other fixes, by 1 more (c)". `name` and `words` format the service names and the rest
    (the index passes a link and html.escape)."""
    count = f"{group['count']} service{'s' if group['count'] != 1 else ''}"
    names = ", ".join(name(s) for s in group["services"])
    if not group["fix"]:
        return f"{words(count)} blocked without a blocker named ({names}): open the report"
    first, *others = (words(w) for w in group["fix_words"])
    sentence = f"fixing {first}" + (f" with {_and(others)}" if others else "") + \
        f" unblocks {count} ({names})"
    if group["also_needed_by"]:
        more = group["also_needed_by"]
        sentence += (f"; also needed, with other fixes, by {len(more)} more "
                     f"({', '.join(name(s) for s in more)})")
    return sentence


def _named(state: str, blockers: list[str], cause: str | None) -> str:
    if state != "blocked":
        return state
    if blockers:
        return f"blocked by {_and([blocker_words(b) for b in blockers])}"
    return f"blocked ({cause_words(cause)})" if cause else "blocked"


def change_words(entry: dict) -> str | None:
    """The change of verdict since the previous run, in words ("was ready, now blocked by DNS
    search-list expansion"); None when there is no previous run or the verdict stands."""
    was = entry.get("previous")
    if not was:
        return None
    now = entry["state"]
    if was["state"] != now:
        return (f"was {_named(was['state'], was['blockers'], was['cause'])}, "
                f"now {_named(now, entry['blockers'], entry['cause'])}")
    if now == "blocked" and set(was["blockers"]) != set(entry["blockers"]):
        return (f"still blocked, now by {_and([blocker_words(b) for b in entry['blockers']])}"
                f" (was by {_and([blocker_words(b) for b in was['blockers']] or ['none'])})")
    if now != "failed" and was["cause"] != entry["cause"]:
        return f"cause was {cause_words(was['cause'])}, now {cause_words(entry['cause'])}"
    return None


def age_words(since: datetime, now: datetime) -> str:
    """How long ago `since` was, from `now` ("3 days ago", "just now")."""
    seconds = max((now - since).total_seconds(), 0)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"


def describe(entry: dict) -> dict:
    """The words fleet.json carries beside an entry's values."""
    return {"cause_words": cause_words(entry["cause"]),
            "blockers_words": [blocker_words(b) for b in entry["blockers"]],
            "change_words": change_words(entry)}
