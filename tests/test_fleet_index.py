"""The fleet index, from entries built here (no fleet run): counters, causes in words, the
"fixing X unblocks N services" roll-up, the change of verdict since the last run, the order,
the age of skipped rows, trend lines with a scale, failed rows, sortable headers, fleet.json."""

import json
import os
import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from analysis import fleet, fleet_digest, fleet_index, trendline
from analysis.fleet import Outcome
from analysis.history import History

FINISHED = datetime(2026, 11, 26, 10, tzinfo=UTC)
INJECTED = "<script>window.injected = 1</script><b>bold</b>"


def make_entry(service: str, state: str = "ready", blockers: tuple = (), gap_p50=5.0,
               gap_p99=9.0, status: str | None = None, cause: str | None = None,
               previous: dict | None = None, **more) -> dict:
    """An entry as analysis.fleet.fleet_entries makes it."""
    status = status or ("failed" if state == "failed" else "ok")
    cause = cause or ("none" if state == "ready" else "dns")
    entry = {
        "service": service, "status": status, "seconds": 1.0, "stale": False, "error": None,
        "cause": cause, "ready": state == "ready", "blockers": list(blockers),
        "gap_p50": gap_p50, "gap_p50_low": None if gap_p50 is None else gap_p50 - 1,
        "gap_p50_high": None if gap_p50 is None else gap_p50 + 1,
        "gap_p99": gap_p99, "gap_p99_low": None, "gap_p99_high": None,
        "change": None, "worse": False, "report": f"{service}/report.html",
        "evidence_fingerprint": "fp", "trend": [], "previous": previous,
        "unchanged_since": None, "failed_run": None, "state": state}
    return {**entry, **more}


def was(state: str, blockers: tuple = (), cause: str | None = None) -> dict:
    return {"run_id": "r0", "run_at": "2026-11-25T10:00:00+00:00",
            "status": "failed" if state == "failed" else "ok", "state": state,
            "cause": cause if cause else None if state == "failed" else
            "none" if state == "ready" else "dns", "blockers": list(blockers)}


CREDS, DNS = "credential-refresh-every-request", "dns-search-expansion"


def fleet_of_every_kind() -> list[dict]:
    """One service of each kind of row, in the fleet's order."""
    entries = [
        make_entry("broken-api", "failed", status="failed", gap_p50=None, gap_p99=None,
                   cause=None, error=f"service.yaml line 3: {INJECTED}\n  in line 3\n  ^",
                   previous=was("ready"), failed_run=".failed/broken-api/", report=None),
        make_entry("combo-api", "blocked", (CREDS, DNS), 87.0, 166.0,
                   cause="credential_refresh", previous=was("blocked", (CREDS,))),
        make_entry("flip-api", "blocked", (DNS,), 20.0, 21.0, previous=was("ready"),
                   worse=True, change={"p50_ms": 18.0, "p99_ms": 3.0, "was_cause": "none",
                                       "was_ready": True}),
        make_entry("search-api", "blocked", (CREDS,), 120.0, 200.0, cause="credential_refresh",
                   status="skipped", previous=was("blocked", (CREDS,), "credential_refresh"),
                   unchanged_since="2026-11-23T10:00:00+00:00",
                   trend=[{"run_id": f"r{i}", "gap_p50": g, "gap_p99": 2 * g, "ready": False}
                          for i, g in enumerate((40.0, 88.0, 120.0))]),
        make_entry("listings-api", "blocked", (DNS,), 20.0, 20.0, previous=was("blocked",
                                                                              (DNS,))),
        make_entry("payments-api", "ready", previous=was("ready"), status="skipped",
                   unchanged_since="2026-11-26T07:00:00+00:00"),
    ]
    return sorted(entries, key=fleet.order)


def page_data(entries: list[dict] | None = None) -> dict:
    result = SimpleNamespace(run_id="20261126T100000Z-abcdef", seconds=12.3,
                             entries=entries or fleet_of_every_kind(), exit_code=1)
    return fleet_index.document(result, FINISHED - timedelta(seconds=12), FINISHED, False)


# -- the roll-up -----------------------------------------------------------------------------

def test_a_fix_unblocks_only_the_services_it_is_the_only_blocker_of():
    groups = {tuple(g["fix"]): g for g in fleet_digest.rollup(fleet_of_every_kind())}
    assert set(groups) == {(DNS,), (CREDS,), (CREDS, DNS)}
    assert groups[(DNS,)]["services"] == ["flip-api", "listings-api"]
    assert groups[(CREDS,)]["services"] == ["search-api"]
    assert groups[(CREDS, DNS)]["services"] == ["combo-api"]  # never under either alone
    assert groups[(DNS,)]["also_needed_by"] == groups[(CREDS,)]["also_needed_by"] == \
        ["combo-api"]
    # most services first; failed and ready services are not counted
    assert [g["count"] for g in fleet_digest.rollup(fleet_of_every_kind())] == [2, 1, 1]


def test_the_rollup_says_with_for_a_combination_and_counts_in_words():
    sentences = [fleet_digest.rollup_sentence(g) for g in fleet_digest.rollup(
        fleet_of_every_kind())]
    assert sentences == [
        "fixing DNS search-list expansion unblocks 2 services (flip-api, listings-api); "
        "also needed, with other fixes, by 1 more (combo-api)",
        "fixing credential refresh on every request unblocks 1 service (search-api); "
        "also needed, with other fixes, by 1 more (combo-api)",
        "fixing credential refresh on every request with DNS search-list expansion "
        "unblocks 1 service (combo-api)"]


def test_blocked_services_naming_no_blocker_are_counted_apart_and_last():
    groups = fleet_digest.rollup([make_entry("a", "blocked", ()),
                                  make_entry("b", "blocked", (DNS,))])
    assert [g["fix"] for g in groups] == [[DNS], []]
    assert fleet_digest.rollup_sentence(groups[1]).startswith(
        "1 service blocked without a blocker named (a)")


def test_nothing_blocked_is_an_empty_rollup():
    assert fleet_digest.rollup([make_entry("a"), make_entry("b", "failed")]) == []


# -- words -----------------------------------------------------------------------------------

def test_counters_add_up_and_skipped_ones_also_count_by_their_verdict():
    assert fleet_digest.counters(fleet_of_every_kind()) == {
        "ready": 1, "blocked": 4, "failed": 1, "skipped": 2, "total": 6}


@pytest.mark.parametrize(("cause", "words"), [
    ("credential_refresh", "credential refresh"), ("dns", "DNS resolution"),
    ("both", "credential refresh and DNS"), ("none", "no gap beyond budget"),
    ("some_new_cause", "some new cause"), (None, "")])
def test_causes_are_words_never_snake_case(cause, words):
    assert fleet_digest.cause_words(cause) == words


def test_blocker_ids_are_words_and_unknown_ones_are_spelled_out():
    assert fleet_digest.blocker_words(DNS) == "DNS search-list expansion"
    assert fleet_digest.blocker_words("imds-hop-limit") == "IMDSv2 hop limit"


@pytest.mark.parametrize(("now", "before", "words"), [
    ("ready", was("ready"), None),
    ("blocked", was("ready"), "was ready, now blocked by DNS search-list expansion"),
    ("ready", was("blocked", (DNS,)), "was blocked by DNS search-list expansion, now ready"),
    ("failed", was("ready"), "was ready, now failed"),
    ("ready", was("failed"), "was failed, now ready"),
    ("failed", was("failed"), None),
    ("blocked", was("blocked", (CREDS,)), "still blocked, now by DNS search-list expansion "
     "(was by credential refresh on every request)"),
    ("blocked", was("blocked", (DNS,), "credential_refresh"),
     "cause was credential refresh, now DNS resolution"),
    ("blocked", None, None),
])
def test_the_change_since_the_last_run_names_a_changed_verdict(now, before, words):
    entry = make_entry("a", now, (DNS,) if now == "blocked" else (), previous=before)
    assert fleet_digest.change_words(entry) == words


@pytest.mark.parametrize(("ago", "words"), [
    (timedelta(seconds=20), "just now"), (timedelta(minutes=1), "1 minute ago"),
    (timedelta(hours=5, minutes=59), "5 hours ago"), (timedelta(days=3, hours=2), "3 days ago"),
    (-timedelta(minutes=5), "just now")])
def test_ages_are_words(ago, words):
    assert fleet_digest.age_words(FINISHED - ago, FINISHED) == words


# -- the fleet's order and the entries' new fields ------------------------------------------

def test_blocked_rows_are_ordered_by_gap_largest_first_after_the_failures():
    order = [e["service"] for e in fleet_of_every_kind()]
    assert order == ["broken-api", "search-api", "combo-api", "flip-api", "listings-api",
                     "payments-api"]  # flip and listings tie at p50: p99 decides


def test_entries_carry_the_previous_run_its_state_and_since_when_it_is_unchanged(tmp_path):
    db = History(tmp_path / "history.duckdb")
    blocked = {"verdict": {"cause": "dns", "ready": False},
               "gap_ms": {q: {"value": 20.0, "ci95": [19.0, 21.0]} for q in ("p50", "p99")},
               "findings": [{"id": DNS, "severity": "blocker"}]}
    ready = {"verdict": {"cause": "none", "ready": True}, "gap_ms": {}, "findings": []}
    t0 = datetime(2026, 11, 23, 10, tzinfo=UTC)
    try:
        db.record("r0", t0, [Outcome("a", "ok", 1.0, "fpa", ready),
                             Outcome("b", "ok", 1.0, "fpb", blocked)], "tool")
        last, before = db.last_good(["a", "b"]), db.last_runs(["a", "b"])
        outcomes = [Outcome("a", "ok", 1.0, "fpa2", blocked),
                    Outcome("b", "skipped", 0.0, "fpb", blocked)]
        db.record("r1", t0 + timedelta(days=3), outcomes, "tool")
        (tmp_path / ".failed" / "a").mkdir(parents=True)
        entries = {e["service"]: e for e in fleet.fleet_entries(
            db, outcomes, last, tmp_path, before, started=t0)}
    finally:
        db.close()
    a, b = entries["a"], entries["b"]
    assert (a["state"], a["previous"]["state"], a["previous"]["blockers"]) == \
        ("blocked", "ready", [])
    assert fleet_digest.change_words(a) == "was ready, now blocked by DNS search-list " \
        "expansion"
    assert a["unchanged_since"] == (t0 + timedelta(days=3)).isoformat()  # new evidence
    assert b["unchanged_since"] == t0.isoformat() and b["previous"]["blockers"] == [DNS]
    assert a["failed_run"] is None  # only a failed row links to its kept notebooks


def test_a_failed_row_links_the_notebooks_this_run_kept_not_an_older_failure(tmp_path):
    kept = tmp_path / ".failed" / "a"
    kept.mkdir(parents=True)
    now = datetime.now(UTC)
    assert fleet._failed_run(tmp_path, "a", now - timedelta(minutes=1)) == ".failed/a/"
    old = (now - timedelta(days=2)).timestamp()
    os.utime(kept, (old, old))
    assert fleet._failed_run(tmp_path, "a", now - timedelta(minutes=1)) is None
    assert fleet._failed_run(tmp_path, "b", now) is None


# -- the page and fleet.json ----------------------------------------------------------------

def test_fleet_json_gains_fields_and_keeps_every_earlier_one():
    data = page_data()
    assert {"run_id", "started", "finished", "seconds", "tool_version", "gate", "exit_code",
            "counts", "services"} <= set(data) and "rollup" in data
    assert data["counts"] == {"ok": 3, "skipped": 2, "failed": 1, "ready": 1, "blocked": 4}
    earlier = {"service", "status", "seconds", "stale", "error", "cause", "ready", "blockers",
               "gap_p50", "gap_p50_low", "gap_p50_high", "gap_p99", "gap_p99_low",
               "gap_p99_high", "change", "worse", "report", "evidence_fingerprint", "trend"}
    added = {"state", "previous", "unchanged_since", "failed_run", "cause_words",
             "blockers_words", "change_words"}
    for entry in data["services"]:
        assert set(entry) == earlier | added
    json.dumps(data)


def test_the_counters_come_first_then_the_rollup_then_the_table():
    page = fleet_index.render(page_data())
    h1, counters = page.index("<h1>"), page.index('id="counters"')
    assert h1 < counters < page.index('id="rollup"') < page.index("<table")
    assert re.search(r'class="c-ready"><strong>1</strong>ready', page)
    assert re.search(r'class="c-blocked"><strong>4</strong>blocked', page)
    assert re.search(r'class="c-failed"><strong>1</strong>failed', page)
    assert re.search(r'class="c-skipped"><strong>2</strong>skipped', page)
    assert "Fixing DNS search-list expansion unblocks 2 services" in page


def test_no_snake_case_cause_or_raw_value_reaches_the_page():
    page = fleet_index.render(page_data())
    visible = re.sub(r"<[^>]+>", " ", page.split("<tbody>")[1].split("</tbody>")[0])
    for raw in ("credential_refresh", "None", "nan", "null", "True", "False"):
        assert raw not in visible, raw


def test_a_failed_rows_error_is_escaped_with_a_link_to_its_run():
    page = fleet_index.render(page_data())
    assert INJECTED not in page and "&lt;script&gt;window.injected" in page
    assert '<a href=".failed/broken-api/">' in page
    assert "was ready, now failed" in page


def test_a_skipped_row_says_since_when_it_is_unchanged():
    page = fleet_index.render(page_data())
    assert "unchanged since 2026-11-23 10:00 UTC (3 days ago), not rerun" in page
    assert "unchanged since 2026-11-26 07:00 UTC (3 hours ago), not rerun" in page


def test_headers_are_buttons_and_nothing_is_loaded_from_elsewhere():
    page = fleet_index.render(page_data())
    assert page.count('<th scope="col"><button type="button" data-col=') == \
        len(fleet_index.HEADER)
    assert "http://" not in page and "https://" not in page and " src=" not in page


def test_a_trend_line_has_a_scale_and_a_title_that_says_it():
    trend = [{"gap_p50": g, "ready": g < 50} for g in (40.0, 88.0, -12.0)]
    svg = trendline.svg(trend)
    assert ">+88 ms</text>" in svg and ">-12 ms</text>" in svg
    assert "stroke-dasharray" in svg  # the zero line: the gap crossed zero
    title = re.search(r"<title>(.*)</title>", svg).group(1)
    assert title == ("p50 gap over the last 3 runs: lowest -12 ms, highest +88 ms, latest "
                     "-12 ms; 1 of 3 runs blocked (filled red dots), the others ready "
                     "(open green dots)")
    assert 'role="img"' in svg and f'aria-label="{title}"' in svg
    assert trendline.svg([{"gap_p50": None, "ready": False}]) == ""
    one = trendline.svg([{"gap_p50": 20.0, "ready": False}])
    assert one.count("<text") == 1 and "last 1 run:" in one


def test_the_rollup_links_each_service_to_its_row_and_escapes_what_it_quotes():
    group = {"fix": ["x<b>"], "fix_words": ["x<b>"], "services": ["a"], "count": 1,
             "also_needed_by": []}
    page = fleet_index._rollup([group])
    assert 'Fixing x&lt;b&gt; unblocks 1 service (<a href="#row-a">a</a>).' in page
