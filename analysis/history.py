"""Run history in an embedded DuckDB database: one row per service per fleet run.

A history DuckDB cannot read (not a database, a damaged block, a torn WAL) is moved aside to
history.duckdb.corrupt-<time> and a fresh one started: losing the trend is better than
stopping every run. Any other DuckDB failure (disk full, another process's lock) is a one-line
HistoryError naming the file and the step.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from analysis.errors import LatencyGapError

FILE_NAME = "history.duckdb"
#: what DuckDB says about a file it cannot read as a database (checked with DuckDB 1.1-2.0)
CORRUPT = re.compile(r"not a valid DuckDB database|corrupt|checksum|could not read enough "
                     r"bytes|replaying WAL", re.IGNORECASE)
#: statuses whose row carries a verdict (a failed run has none)
WITH_VERDICT = ("ok", "skipped")

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR NOT NULL,
    service VARCHAR NOT NULL,
    run_at TIMESTAMPTZ NOT NULL,
    status VARCHAR NOT NULL,            -- ok | skipped (unchanged) | failed
    seconds DOUBLE,
    evidence_fingerprint VARCHAR,
    tool_fingerprint VARCHAR,
    cause VARCHAR,
    ready BOOLEAN,
    gap_p50 DOUBLE, gap_p50_low DOUBLE, gap_p50_high DOUBLE,
    gap_p99 DOUBLE, gap_p99_low DOUBLE, gap_p99_high DOUBLE,
    attribution JSON,
    error VARCHAR,
    PRIMARY KEY (run_id, service)
);
-- added later: the ids of the blocker findings, so an unchanged service's row can be reused
ALTER TABLE runs ADD COLUMN IF NOT EXISTS blockers JSON;
"""

COLUMNS = ("run_id", "service", "run_at", "status", "seconds", "evidence_fingerprint",
           "tool_fingerprint", "cause", "ready", "gap_p50", "gap_p50_low", "gap_p50_high",
           "gap_p99", "gap_p99_low", "gap_p99_high", "attribution", "error", "blockers")


def gap_of(summary: dict, quantile: str) -> tuple:
    """(value, ci95 low, ci95 high) of a summary's gap at a quantile; Nones without one."""
    gap = (summary.get("gap_ms") or {}).get(quantile)
    return (gap["value"], *gap["ci95"]) if gap else (None, None, None)


def blocker_ids(summary: dict) -> list[str]:
    """The ids of a summary's blocker findings, in its order."""
    return [f["id"] for f in summary.get("findings", []) if f.get("severity") == "blocker"]


def summary_of(row: dict) -> dict | None:
    """What a fleet run needs of a summary (verdict, gaps, attribution, blockers), from a
    history row with a verdict (None without one; a row recorded before blockers were kept
    has none listed)."""
    if row.get("cause") is None:
        return None
    gaps = {q: {"value": row[f"gap_{q}"], "ci95": [row[f"gap_{q}_low"], row[f"gap_{q}_high"]]}
            for q in ("p50", "p99") if row[f"gap_{q}"] is not None}
    return {"verdict": {"cause": row["cause"], "ready": bool(row["ready"])}, "gap_ms": gaps,
            "attribution_ms": json.loads(row["attribution"]) if row["attribution"] else None,
            "findings": [{"id": b, "severity": "blocker"}
                         for b in json.loads(row.get("blockers") or "[]")]}


class HistoryError(LatencyGapError):
    """The run history could not be opened, read or written."""


def one_line(exc: BaseException) -> str:
    """An exception as `Type: first line` (DuckDB's messages run over several lines)."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}".rstrip(": ")


class History:
    def __init__(self, path: Path):
        self.path = path
        with self._step("opening"):
            self.con = duckdb.connect(str(path))
            try:
                self.con.execute(SCHEMA)
                # read every column once: a damaged block shows now, not halfway through a run
                self.con.execute("SELECT count(*), max(hash(COLUMNS(*))) FROM runs").fetchall()
            except duckdb.Error:
                self.con.close()
                raise

    @contextmanager
    def _step(self, doing: str) -> Iterator[None]:
        try:
            yield
        except duckdb.Error as exc:
            raise HistoryError(f"{self.path}: {doing} the run history failed: "
                               f"{one_line(exc)}") from exc

    def close(self) -> None:
        self.con.close()

    def _rows(self, sql: str, params: list) -> list[dict]:
        with self._step("reading"):
            cursor = self.con.execute(sql, params)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def record(self, run_id: str, at: datetime, outcomes: list, tool: str) -> None:
        """Append this run's row for every service (outcomes: analysis.fleet.Outcome)."""
        rows = []
        for o in outcomes:
            summary = o.summary if o.status in WITH_VERDICT else {}
            verdict = summary.get("verdict", {})
            rows.append((run_id, o.service, at, o.status, o.seconds, o.fingerprint, tool,
                         verdict.get("cause"), verdict.get("ready"), *gap_of(summary, "p50"),
                         *gap_of(summary, "p99"),
                         json.dumps(summary.get("attribution_ms")) if summary else None,
                         o.error, json.dumps(blocker_ids(summary)) if summary else None))
        placeholders = ", ".join("?" * len(COLUMNS))
        with self._step(f"recording run {run_id} in"):
            self.con.executemany(
                f"INSERT INTO runs ({', '.join(COLUMNS)}) VALUES ({placeholders})", rows)

    def last_good(self, services: list[str]) -> dict[str, dict]:
        """Each service's latest row with a verdict (read before a run records its own: the
        row a skip is decided on and the change since the last run is measured from)."""
        return self._latest(services, "AND status IN ('ok', 'skipped')")

    def last_runs(self, services: list[str]) -> dict[str, dict]:
        """Each service's latest row, whatever its status (read before a run records its own:
        the run the index's "was ..., now ..." compares with, a failed one included)."""
        return self._latest(services)

    def _latest(self, services: list[str], status: str = "") -> dict[str, dict]:
        rows = self._rows(
            f"SELECT * FROM runs WHERE service IN (SELECT unnest(?)) {status} QUALIFY "
            "row_number() OVER (PARTITION BY service ORDER BY run_at DESC) = 1", [services])
        return {row["service"]: row for row in rows}

    def unchanged_since(self, services: list[str]) -> dict[str, datetime]:
        """For each service, when its evidence last changed: the time of the earliest of its
        latest unbroken series of runs with a verdict that saw the same evidence fingerprint
        (failed runs are passed over: they neither break nor start a series)."""
        rows = self._rows(
            "WITH verdicts AS (SELECT service, run_at, evidence_fingerprint IS DISTINCT FROM "
            "lag(evidence_fingerprint) OVER (PARTITION BY service ORDER BY run_at) AS starts "
            "FROM runs WHERE service IN (SELECT unnest(?)) AND status IN ('ok', 'skipped')), "
            "series AS (SELECT service, run_at, sum(starts::INTEGER) OVER (PARTITION BY "
            "service ORDER BY run_at) AS series FROM verdicts) "
            "SELECT service, min(run_at) AS since FROM series GROUP BY service, series "
            "QUALIFY series = max(series) OVER (PARTITION BY service)", [services])
        return {row["service"]: row["since"].astimezone(UTC) for row in rows}

    def trends(self, services: list[str], limit: int = 20) -> dict[str, list[dict]]:
        """Each service's last `limit` runs with a verdict, oldest first, in one query (a
        service without one is absent)."""
        rows = self._rows(
            "SELECT service, run_id, run_at, ready, gap_p50, gap_p99 FROM runs WHERE service IN "
            "(SELECT unnest(?)) AND status IN ('ok', 'skipped') QUALIFY row_number() OVER "
            "(PARTITION BY service ORDER BY run_at DESC) <= ? ORDER BY service, run_at",
            [services, limit])
        found: dict[str, list[dict]] = {}
        for row in rows:
            found.setdefault(row.pop("service"), []).append(row)
        return found


def open_history(path: Path, say: Callable[[str], None]) -> History:
    """The run history at `path`; one DuckDB cannot read is moved aside and a fresh one begun."""
    try:
        return History(path)
    except HistoryError as exc:
        if not CORRUPT.search(str(exc.__cause__)):
            raise exc from None
        cause = one_line(exc.__cause__)
    aside = path.with_name(f"{path.name}.corrupt-{datetime.now(UTC):%Y%m%dT%H%M%SZ}")
    wal = path.with_name(f"{path.name}.wal")
    try:
        if wal.exists():
            os.replace(wal, aside.with_name(f"{aside.name}.wal"))
        os.replace(path, aside)
    except OSError as exc:
        raise HistoryError(f"{path} is corrupt ({cause}) and could not be moved aside: "
                           f"{one_line(exc)}") from None
    say(f"{path} is corrupt ({cause}): moved aside to {aside.name}; starting a fresh history")
    return History(path)
