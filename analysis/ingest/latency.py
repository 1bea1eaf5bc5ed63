"""Access logs -> one row per request: time, backend latency, proxy total, status.

Tidy columns: `time` (UTC), `latency_ms` (the backend's time: nginx `$upstream_response_time`,
ALB `target_processing_time`; NaN when no backend answered), `total_ms` (the proxy's whole
time), `status` (the status the client got), `attempts` (upstreams tried), `source_file`, `line`.
The backend time is the one compared, so a different proxy in front of each environment does
not count as a gap (docs/formats.md).

Parsing is vectorized with pyarrow: its CSV reader splits space-separated, quoted fields
(FieldLogFormat, the fast path) and RE2 regular expressions run over whole Arrow columns
(RegexLogFormat); no Python loop per line.
"""

from __future__ import annotations

import csv
import ctypes
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
from analysis.ingest import other_lines, prefixes
from analysis.ingest.base import (
    BLOCK_BYTES,
    MAX_REJECTED_SHARE,
    Parsed,
    arrow_stream,
    clip,
    long_line_error,
    open_raw,
    parse_by_lines,
    register,
    rejections,
    sample_lines,
    skipped,
)
from analysis.ingest.plausible import latency_problems
from analysis.redaction import redact

KIND = "latency"
COLUMNS = ["time", "latency_ms", "total_ms", "status", "attempts", "source_file", "line"]

# nginx lists several upstreams as "a, b" (retries) or "a : b" (internal redirects).
_LIST = r"[^ ,]+(?:(?:, | : )[^ ,]+)*"
_SECONDS_LIST = r"(?:\d+(?:\.\d+)?|-)(?:(?:, | : )(?:\d+(?:\.\d+)?|-))*"
_LIST_SEP = r", | : "


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
        other = pd.concat([skipped(path, numbers[nomatch[known]], whats[known]),
                           skipped(path, numbers[not_request], self.not_request[1]
                                   if self.not_request else "")], ignore_index=True) \
            .sort_values("line", kind="stable").reset_index(drop=True)
        nomatch = nomatch[~known & ~not_request[nomatch]]
        rejected = pd.concat([
            rejections(path, numbers[nomatch], f"does not match the {self.name} format",
                       lines.take(pa.array(nomatch)).to_pylist()),
            rejections(path, table["line"][bad], "",
                       lines.take(pa.array(np.flatnonzero(matched)[bad])).to_pylist())
            .assign(reason=why[bad]),
        ], ignore_index=True)
        return table[~bad], rejected, other

    def columns(self, groups: pa.StructArray) -> dict:
        raise NotImplementedError


def _extract(lines: pa.Array | pa.ChunkedArray, pattern: str) -> pa.StructArray:
    groups = pc.extract_regex(lines, pattern)
    return groups.combine_chunks() if isinstance(groups, pa.ChunkedArray) else groups


#: marks a row's reason as "skipped, not rejected" between the batch worker and the assembly
SKIP = "\x00skip:"


def release_free_memory() -> None:
    """Give freed memory back to the OS (pyarrow's pool, glibc's malloc_trim) between steps.

    The parser frees thousands of per-batch arrays of a few hundred KB; glibc raises its mmap
    threshold as they are freed and keeps the pages, so without this RSS counts the batches
    and the concatenated columns together (2.2 GB for 20M lines instead of ~1.2 GB).
    """
    pa.default_memory_pool().release_unused()  # columns typed by pyarrow live in its pool
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _glibc():
    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:  # not glibc (macOS, musl): nothing to do
        return None


_LIBC = _glibc()


def finish(table: pd.DataFrame, path: Path) -> pd.DataFrame:
    table = table.reset_index(drop=True)
    # Series.dt.tz_localize: one copy of the column; DatetimeIndex(...) made two (20M lines)
    table["time"] = table["time"].dt.tz_localize("UTC")
    table["source_file"] = pd.Categorical.from_codes(np.zeros(len(table), np.int8), [str(path)])
    return table[COLUMNS]


_EMPTY = {"time": "datetime64[ns]", "latency_ms": float, "total_ms": float, "status": np.int16,
          "attempts": np.int16}


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


def sorted_rejections(*parts: pd.DataFrame) -> pd.DataFrame:
    return pd.concat(parts, ignore_index=True).sort_values("line", kind="stable") \
        .reset_index(drop=True)


def parse_times(values: pa.Array, fmt: str) -> np.ndarray:
    """Parse timestamps once per distinct value: logs repeat each second many times."""
    encoded = pc.dictionary_encode(values)
    distinct = pd.to_datetime(encoded.dictionary.to_pandas(), format=fmt, errors="coerce",
                              utc=True)
    return naive_utc(distinct)[np.asarray(encoded.indices)]


def naive_utc(times) -> np.ndarray:
    """datetime64[ns] in UTC without a zone: cheap to index and concatenate."""
    return pd.DatetimeIndex(times).tz_convert("UTC").tz_localize(None).to_numpy()


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
        irregular: list[tuple[int, str]] = []
        garbage = 0
        regex = re.compile(self.pattern)

        def keep_aside(row) -> str:
            nonlocal garbage
            irregular.append((row.number, row.text))
            if not regex.match(row.text) and other_lines.what_is(row.text) is None:
                garbage += 1
                if garbage > self.GARBAGE_LIMIT and garbage > MAX_REJECTED_SHARE * row.number:
                    return "error"
            return "skip"

        def process(batch: pa.RecordBatch):
            fields = {i: batch.column(f"f{i}") for i in include}
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

        # One thread reads (in order, so pyarrow knows line numbers); another checks and types
        # the previous batch meanwhile. pyarrow releases the GIL in both.
        results = []
        try:
            with ThreadPoolExecutor(max_workers=2) as worker, _quiet_undecodable_rows():
                physical_lines = worker.submit(count_lines, path)
                pending: deque = deque()
                stream = arrow_stream(path)
                for batch in _open_fields(stream, count, include, keep_aside):
                    pending.append(worker.submit(process, batch))
                    if len(pending) > 2:
                        results.append(pending.popleft().result())
                results += [f.result() for f in pending]
                physical_lines = physical_lines.result()
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
        # Memory (issue 8: 20M lines under 1.5 GB): line numbers are built only when some
        # lines went the slow way, and each column is concatenated while its parts are freed.
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
        columns = columns or {c: np.zeros(0, t) for c, t in _EMPTY.items()}
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
            ok = np.asarray(pc.fill_null(pc.match_substring_regex(fields[index], pattern), False))
            newly_bad = valid & ~ok
            reasons[newly_bad] = f"field {index + 1} ({name}) is not a {self.name} {name}"
            valid &= ok
        return valid, reasons

    def typed(self, fields: dict[int, pa.Array]) -> dict:
        raise NotImplementedError


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


def count_lines(path: Path) -> int:
    """Physical lines in a (possibly gzipped) file, the last one with or without a newline.

    A stray double quote makes a quote-aware CSV reader run one row over several lines (it
    swallowed the rest of a file in a test), so the fast path checks its row count against
    this and falls back to the line-exact path when they differ. Runs beside the reader: numpy
    and zlib release the GIL.
    """
    buffer = bytearray(16 << 20)
    view = np.frombuffer(buffer, dtype=np.uint8)
    lines, last = 0, 10
    with open_raw(path) as fh:
        while size := fh.readinto(buffer):
            lines += int(np.count_nonzero(view[:size] == 10))
            last = int(view[size - 1])
    return lines + (last != 10)


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
            quoted_strings_can_be_null=False, include_columns=[names[i] for i in include]),
    )


def _join_fields(fields: dict[int, pa.Array], mask: np.ndarray) -> list[str]:
    """The checked fields of the rows in mask, joined back for a rejection sample."""
    keep = pa.array(mask)
    parts = [pc.filter(a, keep).to_pylist() for a in fields.values()]
    return [" ".join(row) for row in zip(*parts, strict=True)]


def _mode_field_count(path: Path) -> int:
    counts = [_field_count(line) for line in sample_lines(path)]
    return max(set(counts), key=counts.count) if counts else 1


def _seconds_list_sum_ms(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Sum an nginx list of seconds ('0.010, 0.020', '-') in ms, and count the attempts."""
    lists = pc.split_pattern_regex(values, _LIST_SEP)
    flat = pc.list_flatten(lists)
    parents = np.asarray(pc.list_parent_indices(lists))
    seconds = pc.cast(pc.if_else(pc.equal(flat, "-"), pa.scalar(None, pa.string()), flat),
                      pa.float64())
    answered = np.asarray(seconds.is_valid())
    vals = np.nan_to_num(np.asarray(seconds.to_numpy(zero_copy_only=False), dtype=float))
    n = len(values)
    total = np.bincount(parents, weights=vals, minlength=n)
    answered_count = np.bincount(parents, weights=answered, minlength=n).astype(np.int16)
    return np.where(answered_count > 0, total * 1000.0, np.nan), answered_count


_NUMBER = r"^\d+(?:\.\d+)?$"


def _gave_up(upstream_status: pa.Array) -> pa.Array:
    """nginx gave up on the backend: the last upstream's status is one nginx writes itself,
    502 (no connection, reset) or 504 (timed out). Its $upstream_response_time is then nginx's
    waiting, not an answer: counted as no backend answer, as ALB's -1 is, so both
    environments count failures the same way (issue 13)."""
    last = pc.utf8_trim_whitespace(pc.replace_substring_regex(upstream_status, r"^.*[,:] ", ""))
    return pc.fill_null(pc.is_in(last, pa.array(["502", "504"])), False)


@register
class IngressNginx(FieldLogFormat):
    """ingress-nginx default `log-format-upstream` (kubernetes/ingress-nginx config.go)."""

    name = "ingress-nginx"
    latency_field = "$upstream_response_time (s)"
    #: kubernetes/ingress-nginx internal/ingress/controller/config/config.go, logFormatUpstream
    #: (the default since commit 9af574a2, 2019-09-12); custom.py compiles the same parser
    log_format = (
        '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
        '"$http_referer" "$http_user_agent" $request_length $request_time [$proxy_upstream_name] '
        "[$proxy_alternative_upstream_name] $upstream_addr $upstream_response_length "
        "$upstream_response_time $upstream_status $req_id")
    field_count = 19
    fields = {
        1: ("separator", r"^-$"),
        3: ("time", None),
        4: ("time zone", None),
        6: ("status", r"^\d{3}$"),
        11: ("request time", _NUMBER),
        12: ("upstream name", r"^\[.*\]$"),
        16: ("upstream response time", r"^(?:\d+(?:\.\d+)?|-)$"),
        17: ("upstream status", None),
    }

    def typed(self, fields: dict[int, pa.Array]) -> dict:
        upstream = fields[16]
        tried = pc.not_equal(upstream, "-")
        answered = pc.and_(tried, pc.invert(_gave_up(fields[17])))
        seconds = pc.cast(pc.if_else(answered, upstream, pa.scalar(None, pa.string())),
                          pa.float64())
        return {
            "time": parse_times(pc.binary_join_element_wise(fields[3], fields[4], " "),
                                "[%d/%b/%Y:%H:%M:%S %z]"),
            "latency_ms": pc.multiply(seconds, 1000.0).to_numpy(zero_copy_only=False),
            "total_ms": pc.multiply(pc.cast(fields[11], pa.float64()), 1000.0).to_numpy(),
            "status": pc.cast(fields[6], pa.int16()).to_numpy(),
            "attempts": np.asarray(tried, dtype=np.int16),
        }
    pattern = (
        r"^(?P<remote_addr>\S+) - (?P<remote_user>\S+) \[(?P<time_local>[^\]]+)\] "
        r'"(?P<request>[^"]*)" (?P<status>\d{3}) (?P<body_bytes_sent>\d+) '
        r'"(?P<referer>[^"]*)" "(?P<user_agent>[^"]*)" '
        r"(?P<request_length>\d+) (?P<request_time>\d+(?:\.\d+)?) "
        r"\[(?P<upstream_name>[^\]]*)\] \[(?P<alt_upstream_name>[^\]]*)\] "
        rf"(?P<upstream_addr>{_LIST}) (?P<upstream_response_length>{_LIST}) "
        rf"(?P<upstream_response_time>{_SECONDS_LIST}) (?P<upstream_status>{_LIST}) "
        r"(?P<req_id>\S+)$"
    )

    def columns(self, groups: pa.StructArray) -> dict:
        latency, attempts = _seconds_list_sum_ms(groups.field("upstream_response_time"))
        gave_up = np.asarray(_gave_up(groups.field("upstream_status")))
        latency[gave_up] = np.nan
        time = pd.to_datetime(
            groups.field("time_local").to_pandas(), format="%d/%b/%Y:%H:%M:%S %z",
            errors="coerce", utc=True,
        )
        return {
            "time": naive_utc(time),
            "latency_ms": latency,
            "total_ms": pc.cast(groups.field("request_time"), pa.float64()).to_numpy() * 1000.0,
            "status": pc.cast(groups.field("status"), pa.int16()).to_numpy(),
            "attempts": attempts,
        }


_SECONDS = r"-?\d+(?:\.\d+)?"


def _ms(values: pa.Array) -> np.ndarray:
    """ALB seconds to ms; -1 (not dispatched, or no answer from the target) becomes NaN, any
    other negative stays and is rejected as implausible."""
    seconds = pc.cast(values, pa.float64()).to_numpy()
    return np.where(seconds == -1, np.nan, seconds * 1000.0)


def _alb_columns(time, request_s, target_s, response_s, status) -> dict:
    target = _ms(target_s)
    return {
        "time": time,
        "latency_ms": target,
        "total_ms": _ms(request_s) + target + _ms(response_s),
        "status": pc.cast(pc.if_else(pc.equal(status, "-"), None, status), pa.int16())
        .to_numpy(zero_copy_only=False),
        "attempts": np.where(np.isnan(target), 0, 1).astype(np.int16),
    }


@register
class AwsAlb(FieldLogFormat):
    """AWS Application Load Balancer access log (fields documented in the ALB user guide)."""

    name = "aws-alb"
    latency_field = "target_processing_time (s)"
    fields = {
        0: ("entry type", r"^(?:https?|h2|grpcs|wss?)$"),
        1: ("time", r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z$"),  # cast needs it valid
        5: ("request processing time", r"^-?\d+(?:\.\d+)?$"),
        6: ("target processing time", r"^-?\d+(?:\.\d+)?$"),
        7: ("response processing time", r"^-?\d+(?:\.\d+)?$"),
        8: ("status", r"^(?:\d{3}|-)$"),
    }

    def typed(self, fields: dict[int, pa.Array]) -> dict:
        time = pc.cast(fields[1], pa.timestamp("us", tz="UTC")).to_numpy(zero_copy_only=False)
        return _alb_columns(time, fields[5], fields[6], fields[7], fields[8])
    pattern = (
        r"^(?P<type>https?|h2|grpcs|wss?) (?P<time>\d{4}-\d\d-\d\dT\S+Z) (?P<elb>\S+) "
        r"(?P<client>\S+) (?P<target>\S+) "
        rf"(?P<request_processing_time>{_SECONDS}) (?P<target_processing_time>{_SECONDS}) "
        rf"(?P<response_processing_time>{_SECONDS}) "
        r"(?P<elb_status_code>\d{3}|-) (?P<target_status_code>\d{3}|-) "
        r'(?P<received_bytes>-?\d+) (?P<sent_bytes>-?\d+) "(?P<request>[^"]*)" '
        r'"(?P<user_agent>[^"]*)"(?: .*)?$'
    )

    def columns(self, groups: pa.StructArray) -> dict:
        time = pd.to_datetime(groups.field("time").to_pandas(), format="ISO8601",
                              errors="coerce", utc=True)
        return _alb_columns(naive_utc(time), *(groups.field(f) for f in (
            "request_processing_time", "target_processing_time", "response_processing_time",
            "elb_status_code")))

