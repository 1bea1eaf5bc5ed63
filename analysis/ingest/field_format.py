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
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import reduce
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
#: the irregular rows are parsed by the regex in chunks of this many, beside the reader (a
#: chunk costs a few ms of pandas whatever its size: 5M nginx lines have ~60k such rows)
IRREGULAR_CHUNK = 8192
#: the reader's block. 1 MB blocks stay in the CPU's caches: pyarrow's CSV reader alone spent
#: ~0.3 s less CPU than with 4 MB blocks on 5M nginx lines (1.52-1.58 s against 1.80-2.02 s).
#: A line longer than this (or any error) reads the file again with BLOCK_BYTES, as before.
READ_BYTES = 1 << 20
#: the worker checks and types this many BLOCK_BYTES at a time, the reader's blocks joined:
#: its cost is mostly per call (1 MB at a time cost it ~0.3 s more than 4 MB on 5M lines)
WORKER_BLOCKS = 2


def _too_much_garbage(before: int, numbers: np.ndarray, limit: int) -> bool:
    """With `before` garbage lines already counted, do these (their line numbers, sorted)
    take the count past `limit` and past MAX_REJECTED_SHARE of the lines read, at some line?"""
    counts = before + np.arange(1, len(numbers) + 1)
    return bool(np.any((counts > limit) & (counts > MAX_REJECTED_SHARE * numbers)))


def _shifted(frame: pd.DataFrame, offset: int) -> pd.DataFrame:
    frame["line"] += offset
    return frame


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
        return self._parse_fields(path, options, min(READ_BYTES, BLOCK_BYTES))

    def _parse_fields(self, path: Path, options: dict | None, block: int) -> Parsed:
        include = sorted({*self.fields, *(self.not_request_field or ())[:1]})
        count = max(self.field_count or _mode_field_count(path), include[-1] + 1)
        ranges = pieces(path)
        # per piece: the rows pyarrow set aside (line, text) not yet handed on, and the
        # futures of those handed on in chunks, parsed by the format's regex meanwhile
        asides: list[list[tuple[int, str]]] = [[] for _ in ranges]
        chunks: list[list] = [[] for _ in ranges]
        lock = threading.Lock()  # pyarrow calls the handler from its own parsing thread
        state = {"garbage": 0, "looked_at": 0, "stop": False}
        firsts: list[str | None] = [None for _ in ranges]  # each piece's first such row

        def set_aside(piece: int):
            def keep_aside(row) -> str:
                with lock:
                    asides[piece].append((row.number, row.text))
                    if firsts[piece] is None:
                        firsts[piece] = row.text
                return "error" if state["stop"] else "skip"
            return keep_aside

        def hand_on(piece: int, worker) -> None:
            with lock:
                rows, asides[piece] = asides[piece], []
            if rows:
                chunks[piece].append(worker.submit(self._irregular, path, rows))

        def look_at_garbage() -> None:
            """Early only in the first piece, whose line numbers are the file's: stop the
            reader once the lines that are neither this format nor a known other kind pass
            the limit at some line (counted from the chunks parsed so far, in order)."""
            done = chunks[0]
            while state["looked_at"] < len(done) and done[state["looked_at"]].done():
                numbers = done[state["looked_at"]].result()[-1]
                state["looked_at"] += 1
                if _too_much_garbage(state["garbage"], numbers, self.GARBAGE_LIMIT):
                    state["stop"] = True
                state["garbage"] += len(numbers)

        def process(batches: list[pa.RecordBatch]):
            fields = {i: batches[0].column(f"f{i}") if len(batches) == 1 else
                      pa.concat_arrays([b.column(f"f{i}") for b in batches]) for i in include}
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
                                      fields.items()} if not valid.all() else fields)
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
            worker checks and types the previous batches meanwhile (WORKER_BLOCKS at a time),
            and parses the irregular rows in chunks. pyarrow releases the GIL."""
            results, pending, group = [], deque(), []
            for batch in _open_fields(piece_stream(path, *ranges[piece]), count, include,
                                      set_aside(piece), block):
                group.append(batch)
                if len(group) * block >= WORKER_BLOCKS * BLOCK_BYTES:
                    pending.append(worker.submit(process, group))
                    group = []
                if len(asides[piece]) >= IRREGULAR_CHUNK:
                    hand_on(piece, worker)
                if piece == 0:
                    look_at_garbage()
                if len(pending) > 2:
                    results.append(pending.popleft().result())
            if group:
                pending.append(worker.submit(process, group))
            hand_on(piece, worker)
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
                # the irregular rows of every piece, in order, with the file's line numbers
                odd = [(k, *f.result()) for k in range(len(ranges)) for f in chunks[k]]
        except pa.ArrowInvalid as exc:
            if block < BLOCK_BYTES:  # a line longer than READ_BYTES, a line that is not
                # UTF-8, too many lines of another kind...: read again exactly as before
                return self._parse_fields(path, options, BLOCK_BYTES)
            if state["stop"]:
                raise self._garbage_error(path, firsts) from None
            if "straddl" in str(exc):
                raise long_line_error(path) from None
            # a line that is not UTF-8, say: the line-exact path rejects it and keeps the rest
            return RegexLogFormat.parse(self, path, options)
        except OSError as exc:
            raise EvidenceError(path, f"cannot be read: {exc}") from None
        if len(ranges) > 1:  # piece by piece, the lines were counted from the piece's start
            odd = [(k, numbers + int(offsets[k]), *(_shifted(f, int(offsets[k])) for f in frames),
                    garbage + int(offsets[k])) for k, numbers, *frames, garbage in odd]
        if _too_much_garbage(0, np.concatenate([g for *_, g in odd] or [np.zeros(0, np.int64)]),
                             self.GARBAGE_LIMIT):
            raise self._garbage_error(path, firsts)

        valid = np.concatenate([r[0] for r in results]) if results else np.zeros(0, bool)
        bad_rows = [r[2] for r in results if r[2] is not None]
        irregular = sum(len(numbers) for _, numbers, *_ in odd)
        total = len(valid) + irregular
        if total != physical_lines:  # a stray quote joined lines: take the line-exact path
            return RegexLogFormat.parse(self, path, options)
        # Memory (README, "Reliability": 20M lines under 1.5 GB): line numbers are built only
        # when some lines went the slow way, and each column is concatenated while its parts
        # are freed.
        if irregular:
            regular = np.ones(total + 1, bool)
            for _, odd_numbers, *_ in odd:
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
        if numbers is None:
            columns["line"] = np.flatnonzero(valid) + 1 if not valid.all() else \
                np.arange(1, total + 1)
            bad_numbers = np.flatnonzero(~valid) + 1
        else:
            columns["line"] = numbers[valid] if not valid.all() else numbers
            bad_numbers = numbers[~valid]
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
            columns = _merge_by_line(columns, pd.concat([table for _, _, table, *_ in odd],
                                                        ignore_index=True))
            rejected += [odd_rejected for *_, odd_rejected, _, _ in odd]
            other += [odd_other for *_, odd_other, _ in odd]
        return Parsed(finish(pd.DataFrame(columns, copy=False), path), total,
                      sorted_rejections(*rejected),
                      sorted_rejections(*other))

    def _irregular(self, path: Path, rows: list[tuple[int, str]]) -> tuple:
        """One chunk of the rows the CSV reader set aside, by the format's regex: rows,
        rejections, skipped lines (after the chunk's line numbers), and the line numbers of
        the rejections that are no line of this format at all (garbage, counted against
        GARBAGE_LIMIT)."""
        numbers = np.array([n for n, _ in rows], dtype=np.int64)
        table, rejected, other = self.parse_lines(
            path, pa.array([t for _, t in rows], pa.string()), numbers)
        garbage = rejected["line"].to_numpy()[
            (rejected["reason"] == self.no_match_reason).to_numpy()]
        return numbers, table, rejected, other, np.sort(garbage)

    def _garbage_error(self, path: Path, firsts: list[str | None]) -> EvidenceError:
        first = next((text for text in firsts if text is not None), "")
        return EvidenceError(path, f"more than {MAX_REJECTED_SHARE:.0%} of the lines are "
                             f"not {self.name}; first: {clip(redact(first))!r}")

    def _check(self, fields: dict[int, pa.Array]) -> tuple[np.ndarray, np.ndarray]:
        """Which rows have every field in shape, and the first failing field's name."""
        n = len(next(iter(fields.values())))
        valid = np.ones(n, bool)
        reasons = np.full(n, "", dtype=object)
        # (typed() checks the fields without a pattern, as the time is by parsing it)
        checks = [(index, name, pc.fill_null(_matches(fields[index], pattern), False))
                  for index, (name, pattern) in self.fields.items() if pattern is not None]
        if not checks or pc.all(reduce(pc.and_, [ok for *_, ok in checks])).as_py():
            return valid, reasons  # as a rule: one mask, no reasons to name
        for index, name, ok in checks:
            ok = np.asarray(ok)
            newly_bad = valid & ~ok
            reasons[newly_bad] = f"field {index + 1} ({name}) is not a {self.name} {name}"
            valid &= ok
        return valid, reasons

    def typed(self, fields: dict[int, pa.Array]) -> dict:
        raise NotImplementedError


#: RE2 patterns of whole fields that plain string kernels decide in a fraction of the time
#: (a literal; text in brackets; digits): 5M nginx rows, 0.1 s a regex, 0.01-0.03 s these
_LITERAL = re.compile(r"\^([\w-]+)\$")
_BRACKETED = r"^\[.*\]$"
_DIGITS = re.compile(r"\^\\d(?:\{(\d+)\}|\+)\$")


def _matches(values: pa.Array, pattern: str) -> pa.Array:
    """pc.match_substring_regex(values, pattern), by cheaper kernels where they agree on a
    field of a row the CSV reader split (no field holds a newline: parse() takes the
    line-exact path when the rows are fewer than the lines)."""
    if literal := _LITERAL.fullmatch(pattern):
        return pc.equal(values, literal.group(1))
    if pattern == _BRACKETED:  # RE2's "." is any character but a newline: see above
        return pc.and_(pc.starts_with(values, "["), pc.ends_with(values, "]"))
    if digits := _DIGITS.fullmatch(pattern):  # RE2's \d is ASCII; "" is no decimal
        decimal = pc.ascii_is_decimal(values)
        return decimal if digits.group(1) is None else \
            pc.and_(decimal, pc.equal(pc.binary_length(values), int(digits.group(1))))
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



def _open_fields(stream, count: int, include: list[int], on_irregular,
                 block: int | None = None):
    names = [f"f{i}" for i in range(count)]
    return pa_csv.open_csv(
        stream,
        # use_threads=False: rows come in file order and the reader knows each irregular
        # row's line number. Blocks of READ_BYTES (1 MB), else BLOCK_BYTES (4 MB): 16 MB blocks
        # cost ~580 MB of Arrow memory for no gain in speed (measured on 5M nginx lines).
        read_options=pa_csv.ReadOptions(column_names=names, use_threads=False,
                                        block_size=block or BLOCK_BYTES),
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

