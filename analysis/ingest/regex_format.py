"""Access-log formats read with one regular expression per line (RE2, over whole Arrow
columns; no Python loop per line): the line-exact path of every access-log format, and the
only path of those whose fields the CSV reader cannot split (field_format.py)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis.ingest import other_lines, prefixes
from analysis.ingest.latency import KIND, finish
from analysis.ingest.plausible import latency_problems
from analysis.ingest.reading import parse_by_lines
from analysis.ingest.rows import Parsed, rejections, skipped, sorted_rejections


class RegexLogFormat:
    """A log format with one regular expression per line and named groups."""

    kind = KIND
    name = ""
    pattern = ""
    #: (RE2 pattern of a whole line, what it is): lines of the format that are no request
    not_request: tuple[str, str] | None = None

    def detect(self, sample: list[str]) -> float:
        regex = re.compile(self.pattern)
        return sum(bool(regex.match(line)) for line in sample) / len(sample)

    def parse(self, path: Path, options: dict | None = None) -> Parsed:
        return parse_by_lines(self, path, options)

    def parse_column(self, path: Path, lines: pa.Array | pa.ChunkedArray, numbers: np.ndarray,
                     options: dict | None = None) -> Parsed:
        """Parse an Arrow column of lines (the line-exact path, and prefixed logs)."""
        table, rejected, other = self.parse_lines(path, lines, numbers)
        return Parsed(finish(table, path), len(numbers), rejected, other)

    def parse_lines(self, path: Path, lines: pa.Array | pa.ChunkedArray, numbers: np.ndarray
                    ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """Rows (times naive UTC), rejections and skipped lines (blank, error-log lines...)
        for an Arrow column of lines and their numbers."""
        groups = _extract(lines, self.pattern)
        matched = np.asarray(groups.is_valid())
        if not matched.all():  # a line wrapped by kubectl, Docker or an exporter, in a mix:
            # only the lines that did not match are unwrapped, and matched again if one changed
            mask = pa.array(~matched)
            if isinstance(lines, pa.ChunkedArray):
                lines = lines.combine_chunks()
            odd = lines.filter(mask)
            unwrapped = prefixes.unwrap_each(odd)
            if not pc.all(pc.equal(unwrapped, odd)).as_py():
                retried = pc.replace_with_mask(lines, mask, unwrapped)
                again = _extract(retried, self.pattern)
                if np.asarray(again.is_valid()).sum() > matched.sum():
                    lines, groups, matched = retried, again, np.asarray(again.is_valid())
        not_request = np.zeros(len(matched), bool)
        if self.not_request:  # matched, but no HTTP request (an Envoy TCP proxy entry)
            not_request = np.asarray(pc.fill_null(pc.match_substring_regex(
                lines, self.not_request[0]), False)) & matched
            matched &= ~not_request
        table = pd.DataFrame(self.columns(groups.filter(pa.array(matched))))
        table["line"] = numbers[matched]
        bad, why = latency_problems(table)
        nomatch = np.flatnonzero(~matched)
        whats = other_lines.classify(lines.take(pa.array(nomatch)))
        known = whats != None  # noqa: E711 - elementwise on an object array
        other = sorted_rejections(skipped(path, numbers[nomatch[known]], whats[known]),
                                  skipped(path, numbers[not_request], self.not_request[1]
                                          if self.not_request else ""))
        nomatch = nomatch[~known & ~not_request[nomatch]]
        rejected = pd.concat([
            rejections(path, numbers[nomatch], self.no_match_reason,
                       lines.take(pa.array(nomatch)).to_pylist()),
            rejections(path, table["line"][bad], "",
                       lines.take(pa.array(np.flatnonzero(matched)[bad])).to_pylist())
            .assign(reason=why[bad]),
        ], ignore_index=True)
        return table[~bad], rejected, other

    @property
    def no_match_reason(self) -> str:
        return f"does not match the {self.name} format"

    def columns(self, groups: pa.StructArray) -> dict:
        raise NotImplementedError


def _extract(lines: pa.Array | pa.ChunkedArray, pattern: str) -> pa.StructArray:
    groups = pc.extract_regex(lines, pattern)
    return groups.combine_chunks() if isinstance(groups, pa.ChunkedArray) else groups

