"""`dig` output -> one row per query: name, status, query time, server, time.

Reads whole answers concatenated (`dig NAME` in a loop) and grep'd `;; Query time: N msec`
lines, which carry no name, status or time. A query that timed out is a row with status
TIMEOUT and its timeout. Tidy columns: `name`, `status`, `query_time_ms`, `timeout_ms`,
`server`, `time` (UTC), `source_file`, `line`.

dig files are small (one line per sample), so a line loop is fine here; latency logs are
the big ones and are parsed vectorized (analysis/ingest/latency.py).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from analysis.errors import EvidenceError
from analysis.ingest.base import Parsed, read_text, register, rejections
from analysis.ingest.plausible import bad_time_reason, plausible_time

KIND = "dig"
COLUMNS = ["name", "status", "query_time_ms", "timeout_ms", "server", "time",
           "source_file", "line"]
#: dig's default per-try timeout (+time=5), BIND 9 dig(1).
DEFAULT_TIMEOUT_MS = 5000.0

_QUERY_TIME = re.compile(r"^(?:[^;\s]+:)?;; Query time: (\d+) (msec|usec)\s*$")
_BANNER = re.compile(r"^; <<>> DiG \S+ <<>> (.*)$")
_HEADER = re.compile(r"^;; ->>HEADER<<- opcode: \w+, status: (\w+), id: \d+")
_QUESTION = re.compile(r"^;([^;\s]\S*)\s+(?:IN|CH|HS)\s+\S+\s*$")
_SERVER = re.compile(r"^;; SERVER: (\S+?)(?:#\d+)?(?:\(.*\))?(?: \(\w+\))?\s*$")
_WHEN = re.compile(r"^;; WHEN: (.+?)\s*$")
_TIMEOUT = re.compile(r"^;; (?:connection timed out|communications error .*timed out)")
_PLUS_TIME = re.compile(r"\+time=(\d+(?:\.\d+)?)")
#: dig options followed by a value (dig(1)); `-q` is followed by the name itself
_WITH_VALUE = {"-b", "-c", "-f", "-k", "-p", "-t", "-x", "-y"}
_RECORD = re.compile(r"^\S+\s+\d+\s+(?:IN|CH|HS)\s+\S+\s+\S.*$")
_OTHER = re.compile(r"^(;.*|\s*)$")  # comments, section headers, blank lines
_SHORT = re.compile(r"^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F:]+:[0-9a-fA-F:]*|\S+\.)$")


def _banner_names(words: list[str]) -> list[str]:
    """The query names in dig's banner: not options, servers, or an option's value."""
    names, skip = [], False
    for word in words:
        if skip:
            skip = False
        elif word == "-q":
            continue
        elif word in _WITH_VALUE:
            skip = True
        elif not word.startswith(("+", "@", "-")):
            names.append(word)
    return names


def _when(text: str) -> pd.Timestamp:
    for fmt in ("%a %b %d %H:%M:%S %Z %Y", "%a %b %d %H:%M:%S %Y"):
        try:
            return pd.Timestamp(datetime.strptime(text, fmt).replace(tzinfo=UTC))
        except ValueError:
            continue
    return pd.NaT


@register
class DigText:
    """dig's text output, whole answers or grep'd Query time lines."""

    kind = KIND
    name = "dig"

    def detect(self, sample: list[str]) -> float:
        timing = [s for s in sample if _QUERY_TIME.match(s) or _BANNER.match(s)]
        if not timing:  # `dig +short` output: claim it, so parse() can say what is wrong
            return 0.5 if all(_SHORT.match(s.strip()) for s in sample) else 0.0
        known = [s for s in sample if _QUERY_TIME.match(s) or _OTHER.match(s) or _RECORD.match(s)]
        return len(known) / len(sample)

    def parse(self, path: Path, options: dict | None = None) -> Parsed:
        lines = read_text(path).splitlines()
        rows: list[dict] = []
        bad: list[tuple[int, str]] = []
        block = {"name": None, "status": None, "timeout_ms": DEFAULT_TIMEOUT_MS}
        for number, text in enumerate(lines, start=1):
            if m := _BANNER.match(text):
                plus_time = _PLUS_TIME.search(m.group(1))
                names = _banner_names(m.group(1).split())
                block = {"name": names[0] if names else None, "status": None,
                         "timeout_ms": float(plus_time.group(1)) * 1000 if plus_time
                         else DEFAULT_TIMEOUT_MS}
            elif m := _HEADER.match(text):
                block["status"] = m.group(1)
            elif (m := _QUESTION.match(text)) and not block["name"]:
                block["name"] = m.group(1).rstrip(".")
            elif m := _QUERY_TIME.match(text):
                ms = float(m.group(1)) / (1000.0 if m.group(2) == "usec" else 1.0)
                rows.append(self._row(block, block["status"], ms, path, number))
            elif _TIMEOUT.match(text):
                rows.append(self._row(block, "TIMEOUT", None, path, number))
            elif m := _SERVER.match(text):
                if rows:
                    rows[-1]["server"] = m.group(1)
            elif m := _WHEN.match(text):
                when = _when(m.group(1))
                if not plausible_time(when):
                    bad.append((number, text))
                elif rows:
                    rows[-1]["time"] = when
            elif not (_OTHER.match(text) or _RECORD.match(text)):
                bad.append((number, text))
        if not rows:
            if lines and all(_SHORT.match(t.strip()) for t in lines if t.strip()):
                raise EvidenceError(path, "looks like `dig +short` output, which has no "
                                    "timing; collect `dig NAME` (full answers) instead")
            raise EvidenceError(path, "no ';; Query time' lines: not dig timing output")
        table = pd.DataFrame(rows, columns=COLUMNS)
        table["time"] = pd.to_datetime(table["time"], utc=True)
        rejected = rejections(path, [n for n, _ in bad], "", [t for _, t in bad])
        rejected["reason"] = [bad_time_reason() if _WHEN.match(t) else "not a dig output line"
                              for _, t in bad]
        return Parsed(table, len(lines), rejected)

    @staticmethod
    def _row(block: dict, status: str, ms: float | None, path: Path, number: int) -> dict:
        return {"name": block["name"], "status": status, "query_time_ms": ms,
                "timeout_ms": block["timeout_ms"] if status == "TIMEOUT" else None,
                "server": None, "time": pd.NaT, "source_file": str(path), "line": number}
