"""Run history in an embedded DuckDB database: one row per service per fleet run."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb

FILE_NAME = "history.duckdb"
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
)
"""

COLUMNS = ("run_id", "service", "run_at", "status", "seconds", "evidence_fingerprint",
           "tool_fingerprint", "cause", "ready", "gap_p50", "gap_p50_low", "gap_p50_high",
           "gap_p99", "gap_p99_low", "gap_p99_high", "attribution", "error")


def gap_of(summary: dict, quantile: str) -> tuple:
    """(value, ci95 low, ci95 high) of a summary's gap at a quantile; Nones without one."""
    gap = (summary.get("gap_ms") or {}).get(quantile)
    return (gap["value"], *gap["ci95"]) if gap else (None, None, None)


class History:
    def __init__(self, path: Path):
        self.con = duckdb.connect(str(path))
        self.con.execute(SCHEMA)

    def close(self) -> None:
        self.con.close()

    def _rows(self, sql: str, params: list) -> list[dict]:
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
                         o.error))
        placeholders = ", ".join("?" * len(COLUMNS))
        self.con.executemany(f"INSERT INTO runs ({', '.join(COLUMNS)}) VALUES ({placeholders})",
                             rows)

    def last_good(self, services: list[str]) -> dict[str, dict]:
        """Each service's latest row with a verdict (read before a run records its own: the
        row a skip is decided on and the change since the last run is measured from)."""
        rows = self._rows(
            "SELECT * FROM runs WHERE service IN (SELECT unnest(?)) AND status IN ('ok', "
            "'skipped') QUALIFY row_number() OVER (PARTITION BY service ORDER BY run_at DESC) = 1",
            [services])
        return {row["service"]: row for row in rows}

    def trend(self, service: str, limit: int = 20) -> list[dict]:
        """The service's last `limit` runs with a verdict, oldest first."""
        return self._rows(
            "SELECT * FROM (SELECT run_id, run_at, ready, gap_p50, gap_p99 FROM runs WHERE "
            "service = ? AND status IN ('ok', 'skipped') ORDER BY run_at DESC LIMIT ?) "
            "ORDER BY run_at", [service, limit])
