"""Timed calls to the metadata endpoint -> one row per call (the measured refresh cost).

A CSV with a header, as `latency-gap collect` writes it (or a curl loop with `-w`):

    time,method,path,status,duration_ms
    2026-11-24T10:00:00Z,GET,/latest/meta-data/iam/security-credentials/,200,41.7

Tidy columns: `time` (UTC), `method`, `path`, `status`, `duration_ms`, `source_file`, `line`.
These files are small (one row per call the collector made), so they are read row by row.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from analysis.errors import EvidenceError
from analysis.ingest.plausible import MAX_LATENCY_MS, plausible_time
from analysis.ingest.reading import read_text
from analysis.ingest.registry import register
from analysis.ingest.rows import Parsed, rejections, skipped

KIND = "metadata"
COLUMNS = ["time", "method", "path", "status", "duration_ms", "source_file", "line"]
HEADER = ["time", "method", "path", "status", "duration_ms"]


@register
class MetadataCalls:
    kind = KIND
    name = "metadata-calls"
    priority = 100  # the only metadata format

    def detect(self, sample: list[str]) -> float:
        header = next(csv.reader(sample[:1]))
        return 1.0 if [h.strip() for h in header] == HEADER else 0.0

    def parse(self, path: Path, options: dict | None = None) -> Parsed:
        rows, bad = [], []
        try:
            records = list(csv.reader(read_text(path).splitlines()))
        except csv.Error as exc:
            raise EvidenceError(path, f"cannot be read as CSV: {exc}") from None
        if not records or [h.strip() for h in records[0]] != HEADER:
            raise EvidenceError(path, f"expected the header {','.join(HEADER)}", line=1)
        blank = []
        for number, record in enumerate(records[1:], start=2):
            row = self._row(record)
            if not any(field.strip() for field in record):
                blank.append(number)
            elif row is None:
                bad.append((number, ",".join(record)))
            else:
                rows.append({**row, "source_file": str(path), "line": number})
        table = pd.DataFrame(rows, columns=COLUMNS)
        table["time"] = pd.to_datetime(table["time"], utc=True)
        reason = (f"expected {','.join(HEADER)} with a time (2000 or later, not in the future), "
                  "a status and a number of ms (0 to a day)")
        return Parsed(table, len(records), rejections(path, [n for n, _ in bad], reason,
                                                       [t for _, t in bad]),
                      skipped(path, blank, "blank line"))

    @staticmethod
    def _row(record: list[str]) -> dict | None:
        if len(record) != len(HEADER):
            return None
        time, method, path, status, duration = (v.strip() for v in record)
        try:
            row = {"time": pd.Timestamp(time).tz_convert("UTC"), "method": method, "path": path,
                   "status": int(status), "duration_ms": float(duration)}
        except (ValueError, TypeError):
            return None
        plausible = plausible_time(row["time"]) and 0 <= row["duration_ms"] <= MAX_LATENCY_MS
        return row if plausible else None
