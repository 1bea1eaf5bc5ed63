"""The run history: rows per service per run, the last good row, and every trend in one query."""

from datetime import UTC, datetime, timedelta

import pytest

from analysis.fleet import Outcome
from analysis.history import SCHEMA, History, HistoryError, gap_of, open_history, summary_of

T0 = datetime(2026, 11, 24, 10, tzinfo=UTC)


def _summary(gap_p50: float, ready: bool) -> dict:
    return {"verdict": {"cause": "dns", "ready": ready},
            "gap_ms": {"p50": {"value": gap_p50, "ci95": [gap_p50 - 1, gap_p50 + 1]},
                       "p99": {"value": 2 * gap_p50, "ci95": [0.0, 4 * gap_p50]}},
            "attribution_ms": {"p50": {"dns": gap_p50}}}


@pytest.fixture
def db(tmp_path):
    history = History(tmp_path / "history.duckdb")
    yield history
    history.close()


def _record(db, run: int, outcomes: list[Outcome]) -> None:
    db.record(f"run{run}", T0 + timedelta(hours=run), outcomes, "tool")


def test_trends_are_each_services_last_runs_with_a_verdict_oldest_first(db):
    for run in range(4):
        _record(db, run, [Outcome("a", "ok", 1.0, "fp", _summary(10.0 + run, run < 2)),
                          Outcome("b", "failed" if run == 3 else "skipped", 0.0, "fp",
                                  _summary(5.0, True), error="boom" if run == 3 else None)])
    trends = db.trends(["a", "b", "c"], limit=3)
    assert set(trends) == {"a", "b"}  # c never ran
    assert [t["run_id"] for t in trends["a"]] == ["run1", "run2", "run3"]
    assert [t["gap_p50"] for t in trends["a"]] == [11.0, 12.0, 13.0]
    assert [t["ready"] for t in trends["a"]] == [True, False, False]
    assert [t["run_id"] for t in trends["b"]] == ["run0", "run1", "run2"]  # failed run3: none


def test_last_good_is_the_latest_row_with_a_verdict(db):
    _record(db, 0, [Outcome("a", "ok", 1.0, "fp0", _summary(10.0, True))])
    _record(db, 1, [Outcome("a", "failed", 1.0, "fp1", error="boom")])
    row = db.last_good(["a"])["a"]
    assert row["run_id"] == "run0" and row["evidence_fingerprint"] == "fp0"
    assert (row["gap_p50"], row["gap_p50_low"], row["gap_p50_high"]) == (10.0, 9.0, 11.0)
    assert row["ready"] is True and row["tool_fingerprint"] == "tool"


def test_gap_of_a_summary_without_a_gap_is_nones():
    assert gap_of({}, "p50") == (None, None, None)
    assert gap_of(_summary(3.0, True), "p99") == (6.0, 0.0, 12.0)


def test_a_file_that_is_no_database_is_moved_aside_and_a_fresh_one_started(tmp_path):
    path = tmp_path / "history.duckdb"
    path.write_bytes(b"not a database at all" * 1000)
    said = []
    db = open_history(path, said.append)
    try:
        assert db.trends(["a"]) == {}
    finally:
        db.close()
    assert "moved aside" in said[0] and list(tmp_path.glob("history.duckdb.corrupt-*"))


def test_a_duplicate_run_is_a_located_history_error(db):
    _record(db, 0, [Outcome("a", "ok", 1.0, "fp", _summary(1.0, True))])
    with pytest.raises(HistoryError, match="recording run run0 in the run history failed"):
        _record(db, 0, [Outcome("a", "ok", 1.0, "fp", _summary(1.0, True))])


def test_a_row_gives_back_what_a_fleet_run_needs_of_its_summary(db):
    summary = {**_summary(40.0, False),
               "findings": [{"id": "dns-search-expansion", "severity": "blocker"},
                            {"id": "note", "severity": "info"}]}
    _record(db, 1, [Outcome("a", "ok", 1.0, "fp", summary)])
    back = summary_of(db.last_good(["a"])["a"])
    assert back["verdict"] == summary["verdict"]
    assert back["gap_ms"] == summary["gap_ms"]
    assert back["attribution_ms"] == summary["attribution_ms"]
    assert back["findings"] == [{"id": "dns-search-expansion", "severity": "blocker"}]


def test_a_history_from_before_blockers_were_kept_gains_the_column(tmp_path):
    import duckdb

    path = tmp_path / "history.duckdb"
    with duckdb.connect(str(path)) as con:  # the schema as it was, with one row
        con.execute(SCHEMA.split("-- added later")[0])
        con.execute("INSERT INTO runs (run_id, service, run_at, status, cause, ready) "
                    "VALUES ('old', 'a', now(), 'ok', 'dns', false)")
    db = History(path)
    try:
        row = db.last_good(["a"])["a"]
        assert row["blockers"] is None and summary_of(row)["findings"] == []
    finally:
        db.close()


def test_last_runs_is_the_latest_row_whatever_its_status(db):
    _record(db, 0, [Outcome("a", "ok", 1.0, "fp0", _summary(10.0, True)),
                    Outcome("b", "ok", 1.0, "fp0", _summary(10.0, True))])
    _record(db, 1, [Outcome("a", "failed", 1.0, "fp1", error="boom")])
    last = db.last_runs(["a", "b", "c"])
    assert set(last) == {"a", "b"}
    assert (last["a"]["run_id"], last["a"]["status"]) == ("run1", "failed")
    assert last["b"]["run_id"] == "run0"


def test_unchanged_since_is_the_start_of_the_latest_series_with_the_same_evidence(db):
    fingerprints = ["fp0", "fp1", "fp1", None, "fp1", "fp1"]  # None: a failed run
    for run, fp in enumerate(fingerprints):
        _record(db, run, [Outcome("a", "failed", 0.0, "fp9", error="boom") if fp is None
                          else Outcome("a", "skipped" if run else "ok", 1.0, fp,
                                       _summary(10.0, True)),
                          Outcome("b", "ok", 1.0, f"fp{run}", _summary(1.0, True))])
    since = db.unchanged_since(["a", "b", "c"])
    assert since == {"a": T0 + timedelta(hours=1), "b": T0 + timedelta(hours=5)}
    assert since["a"].tzinfo is not None
