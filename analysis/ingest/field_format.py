"""Space-separated, quote-aware access logs read with pyarrow's CSV reader: the fast path.

One thread reads blocks in file order while another checks and types the previous block; rows
the reader finds irregular (nginx retries list several upstreams) go through the format's
regular expression (regex_format.py); each column is concatenated while its parts are freed
(memory.py), so peak memory stays near one copy of the table.
"""

from __future__ import annotations

import csv
import re
import sys
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from analysis.errors import EvidenceError
from analysis.ingest import other_lines
from analysis.ingest.latency import EMPTY, finish
from analysis.ingest.memory import release_free_memory
from analysis.ingest.plausible import latency_problems
from analysis.ingest.reading import (
    BLOCK_BYTES,
    count_lines,
    long_line_error,
    piece_stream,
    pieces,
    sample_lines,
)
from analysis.ingest.regex_format import RegexLogFormat
from analysis.ingest.rows import (
    MAX_REJECTED_SHARE,
    Parsed,
    clip,
    rejections,
    skipped,
    sorted_rejections,
)
from analysis.redaction import redact

#: marks a row's reason as "skipped, not rejected" between the batch worker and the assembly
SKIP = "\x00skip:"


def _merge_by_line(columns: dict[str, np.ndarray], other: pd.DataFrame) -> dict:
    """Interleave `other`'s rows (few, sorted by line) into `columns` (many, sorted by line).

    np.insert column by column, each old column dropped as soon as its merged copy exists:
    memory peaks at one extra column, not a second copy of the table.
    """
    at = np.searchsorted(columns["line"], other["line"].to_numpy())
    merged = {}
    for name in list(columns):
        values, extra = columns.pop(name), other[name].to_numpy()
        dtype = np.result_type(values.dtype, extra.dtype)
        merged[name] = np.insert(values.astype(dtype, copy=False), at,
                                 extra.astype(dtype, copy=False))
        del values
        release_free_memory()
    return merged


def _field_count(line: str) -> int:
    return len(next(csv.reader([line], delimiter=" ", quotechar='"')))


class FieldLogFormat(RegexLogFormat):
    """A space-separated, quote-aware log read with pyarrow's CSV reader (the fast path).

    Rows with the usual number of fields are split by the CSV reader and checked field by
    field; rows with another count (nginx retries list several upstreams) go through the
    format's regular expression. Both paths are vectorized; only the rows the CSV reader
    finds irregular pass through a Python callback, one call each.
    """

    #: field index -> (name, RE2 pattern the field must match, or None when typed() checks it)
    fields: dict[int, tuple[str, str | None]] = {}
    #: how many fields a regular line has; None: the most common count in the first lines
    field_count: int | None = None
    #: (field index, RE2 pattern, what it is): rows of the format that are no request
    not_request_field: tuple[int, str, str] | None = None
    #: give up early when this many lines are neither regular nor match the pattern
    GARBAGE_LIMIT = 10_000

    def parse(self, path: Path, options: dict | None = None) -> Parsed:
        include = sorted({*self.fields, *(self.not_request_field or ())[:1]})
        count = max(self.field_count or _mode_field_count(path), include[-1] + 1)
        ranges = pieces(path)
        asides: list[list[tuple[int, str]]] = [[] for _ in ranges]  # per piece: (line, text)
        irregular = asides[0]
        garbage = checked = 0

        def too_much_garbage() -> bool:
            """Count the lines set aside since the last look that are neither this format
            nor a known other kind: RE2 over all of them at once, Python only for the few
            that do not match. True once garbage passes the limit at some line."""
            nonlocal garbage, checked
            numbers = np.array([n for n, _ in irregular[checked:]], dtype=np.int64)
            texts = pa.array([t for _, t in irregular[checked:]], pa.string())
            checked = len(irregular)
            odd = np.flatnonzero(~np.asarray(pc.fill_null(
                pc.match_substring_regex(texts, self.pattern), False)))
            odd = [i for i in odd if other_lines.what_is(texts[int(i)].as_py()) is None]
            counts = garbage + np.arange(1, len(odd) + 1)
            garbage += len(odd)
            return bool(np.any((counts > self.GARBAGE_LIMIT) &
                               (counts > MAX_REJECTED_SHARE * numbers[odd])))

        def set_aside(piece: int):
            def keep_aside(row) -> str:
                asides[piece].append((row.number, row.text))
                # looked at in slices, vectorized (a Python regex a row: 0.2 s per 60k rows);
                # early only in the first piece, whose line numbers are the file's
                if piece == 0 and len(irregular) - checked >= self.GARBAGE_LIMIT // 4 and \
                        too_much_garbage():
                    return "error"
                return "skip"
            return keep_aside

        def process(batch: pa.RecordBatch):
            fields = {i: batch.column(f"f{i}") for i in include}
            for column in fields.values():  # UTF-8, which the reader skips (check_utf8=False)
                column.cast(pa.binary()).cast(pa.string())  # ArrowInvalid if not
            valid, reasons = self._check(fields)
            if self.not_request_field:
                index, pattern, what = self.not_request_field
                skip = np.asarray(pc.fill_null(pc.match_substring_regex(fields[index], pattern),
                                               False))
                valid[skip], reasons[skip] = False, SKIP + what
            columns = None
            if valid.any():
                columns = self.typed({i: pc.filter(a, pa.array(valid)) for i, a in
                                      fields.items()})
                # times are checked by parsing them, and every value by what can be true
                bad, why = latency_problems(columns)
                if bad.any():
                    where = np.flatnonzero(valid)[bad]
                    valid[where], reasons[where] = False, why[bad]
                    columns = {k: v[~bad] for k, v in columns.items()}
            bad = (reasons[~valid], _join_fields(fields, ~valid)) if not valid.all() else None
            return valid, columns, bad

        def read(piece: int, worker) -> list:
            """One reader over one piece, in order (so pyarrow knows its line numbers); the
            worker checks and types the previous batches meanwhile. pyarrow releases the GIL."""
            results, pending = [], deque()
            for batch in _open_fields(piece_stream(path, *ranges[piece]), count, include,
                                      set_aside(piece)):
                pending.append(worker.submit(process, batch))
                if len(pending) > 2:
                    results.append(pending.popleft().result())
            return results + [f.result() for f in pending]

        # A large plain file may be read in pieces at once (reading.READERS: off, measured)
        try:
            with ThreadPoolExecutor(max_workers=3 * len(ranges)) as worker, \
                    _quiet_undecodable_rows():
                line_counts = [worker.submit(count_lines, path, *part) for part in ranges]
                later = [worker.submit(read, piece, worker) for piece in range(1, len(ranges))]
                results = read(0, worker)
                for piece in later:
                    results += piece.result()
                line_counts = [f.result() for f in line_counts]
                physical_lines = sum(line_counts)
                offsets = np.cumsum([0, *line_counts[:-1]])
                irregular = [(n + int(offsets[k]), t) for k, rows in enumerate(asides)
                             for n, t in rows] if len(ranges) > 1 else irregular
                if len(ranges) > 1:  # the whole file, in order, with the file's line numbers
                    garbage = checked = 0
                if checked < len(irregular) and too_much_garbage():
                    raise pa.ArrowInvalid("too many lines of another format")
        except pa.ArrowInvalid as exc:
            if garbage > self.GARBAGE_LIMIT:
                first = clip(redact(irregular[0][1]))
                raise EvidenceError(path, f"more than {MAX_REJECTED_SHARE:.0%} of the lines are "
                                    f"not {self.name}; first: {first!r}") from None
            if "straddl" in str(exc):
                raise long_line_error(path) from None
            # a line that is not UTF-8, say: the line-exact path rejects it and keeps the rest
            return RegexLogFormat.parse(self, path, options)
        except OSError as exc:
            raise EvidenceError(path, f"cannot be read: {exc}") from None

        valid = np.concatenate([r[0] for r in results]) if results else np.zeros(0, bool)
        bad_rows = [r[2] for r in results if r[2] is not None]
        total = len(valid) + len(irregular)
        if total != physical_lines:  # a stray quote joined lines: take the line-exact path
            return RegexLogFormat.parse(self, path, options)
        # Memory (README, "Reliability": 20M lines under 1.5 GB): line numbers are built only
        # when some lines went the slow way, and each column is concatenated while its parts
        # are freed.
        odd_numbers = np.array([n for n, _ in irregular], dtype=np.int64)
        if irregular:
            regular = np.ones(total + 1, bool)
            regular[odd_numbers] = False
            numbers = np.flatnonzero(regular[1:]) + 1
            del regular
        else:
            numbers = None
        parts = [r[1] for r in results if r[1] is not None]
        del results
        columns = {}
        for c in list(parts[0]) if parts else []:
            columns[c] = np.concatenate([p.pop(c) for p in parts])
            release_free_memory()
        columns = columns or {c: np.zeros(0, t) for c, t in EMPTY.items()}
        del parts
        columns["line"] = numbers[valid] if numbers is not None else np.flatnonzero(valid) + 1
        bad_numbers = numbers[~valid] if numbers is not None else np.flatnonzero(~valid) + 1
        texts = [text for _, texts in bad_rows for text in texts]
        reasons = np.concatenate([r for r, _ in bad_rows]) if bad_rows else np.zeros(0, object)
        # of the rows set aside (few): blank ones and those that are no request are skipped
        whats = np.array([other_lines.BLANK if not text.strip() else
                          reason[len(SKIP):] if reason.startswith(SKIP) else ""
                          for text, reason in zip(texts, reasons, strict=True)], dtype=object)
        skip = whats != ""
        rejected = [rejections(path, bad_numbers[~skip], "",
                               [t for t, s in zip(texts, skip, strict=True) if not s])
                    .assign(reason=reasons[~skip])]
        other = [skipped(path, bad_numbers[skip], whats[skip])]
        if irregular:
            odd_table, odd_rejected, odd_other = self.parse_lines(
                path, pa.array([t for _, t in irregular], pa.string()), odd_numbers)
            columns = _merge_by_line(columns, odd_table)
            rejected.append(odd_rejected)
            other.append(odd_other)
        return Parsed(finish(pd.DataFrame(columns, copy=False), path), total,
                      sorted_rejections(*rejected),
                      pd.concat(other, ignore_index=True).sort_values("line", kind="stable")
                      .reset_index(drop=True))

    def _check(self, fields: dict[int, pa.Array]) -> tuple[np.ndarray, np.ndarray]:
        """Which rows have every field in shape, and the first failing field's name."""
        n = len(next(iter(fields.values())))
        valid = np.ones(n, bool)
        reasons = np.full(n, "", dtype=object)
        for index, (name, pattern) in self.fields.items():
            if pattern is None:  # checked by typed(), as the time is
                continue
            ok = np.asarray(pc.fill_null(_matches(fields[index], pattern), False))
            newly_bad = valid & ~ok
            reasons[newly_bad] = f"field {index + 1} ({name}) is not a {self.name} {name}"
            valid &= ok
        return valid, reasons

    def typed(self, fields: dict[int, pa.Array]) -> dict:
        raise NotImplementedError


#: RE2 patterns of whole fields that plain string kernels decide in a fraction of the time
#: (a literal; text in brackets): 0.3 s of 0.7 s checking 5M nginx rows
_LITERAL = re.compile(r"\^([\w-]+)\$")
_BRACKETED = r"^\[.*\]$"


def _matches(values: pa.Array, pattern: str) -> pa.Array:
    """pc.match_substring_regex(values, pattern), by cheaper kernels where they agree."""
    if literal := _LITERAL.fullmatch(pattern):
        return pc.equal(values, literal.group(1))
    if pattern == _BRACKETED:  # RE2's "." is any character but a newline
        return pc.and_(pc.and_(pc.starts_with(values, "["), pc.ends_with(values, "]")),
                       pc.invert(pc.match_substring(values, "\n")))
    return pc.match_substring_regex(values, pattern)


@contextmanager
def _quiet_undecodable_rows():
    """pyarrow decodes an irregular row's text before it calls our handler; a row that is not
    UTF-8 makes that decoding raise inside pyarrow, which Python prints as "Exception ignored".
    The parse then falls back to the line-exact path, which rejects the row with its line
    number, so that print is noise: only a UnicodeDecodeError is dropped, and only here."""
    previous = sys.unraisablehook

    def hook(unraisable) -> None:
        if not isinstance(unraisable.exc_value, UnicodeDecodeError):
            previous(unraisable)

    sys.unraisablehook = hook
    try:
        yield
    finally:
        sys.unraisablehook = previous



def _open_fields(stream, count: int, include: list[int], on_irregular):
    names = [f"f{i}" for i in range(count)]
    return pa_csv.open_csv(
        stream,
        # use_threads=False: rows come in file order and the reader knows each irregular
        # row's line number. 4 MB blocks: the reader holds ~40 blocks, so 16 MB blocks cost
        # ~580 MB of Arrow memory for no gain in speed (measured on 5M nginx lines).
        read_options=pa_csv.ReadOptions(column_names=names, use_threads=False,
                                        block_size=BLOCK_BYTES),
        parse_options=pa_csv.ParseOptions(delimiter=" ", quote_char='"', escape_char=False,
                                          ignore_empty_lines=False,
                                          invalid_row_handler=on_irregular),
        convert_options=pa_csv.ConvertOptions(
            column_types={n: pa.string() for n in names}, strings_can_be_null=False,
            quoted_strings_can_be_null=False, include_columns=[names[i] for i in include],
            # UTF-8 is checked by the worker thread, off the reader's critical path
            check_utf8=False),
    )


def _join_fields(fields: dict[int, pa.Array], mask: np.ndarray) -> list[str]:
    """The checked fields of the rows in mask, joined back for a rejection sample."""
    keep = pa.array(mask)
    parts = [pc.filter(a, keep).to_pylist() for a in fields.values()]
    return [" ".join(row) for row in zip(*parts, strict=True)]


def _mode_field_count(path: Path) -> int:
    counts = [_field_count(line) for line in sample_lines(path)]
    return max(set(counts), key=counts.count) if counts else 1

