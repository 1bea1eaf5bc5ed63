"""Columns of a CSV file with a header, as text, vectorized, every line accounted for.

pyarrow's CSV reader does the work. Two things it cannot say are checked: a stray double
quote makes it run one row over several lines (its row count then differs from the file's
line count), and a line that is not UTF-8 stops it. Either way the file is read again line by
line as an Arrow column and each line matched with a regular expression of the header's width,
still over whole columns; an empty line, which the reader makes a row of NULLs, is told from
a row of empty fields by a numpy scan of the bytes.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from analysis.errors import EvidenceError
from analysis.ingest import other_lines
from analysis.ingest.reading import SetAside, arrow_stream, count_lines, open_raw, read_lines
from analysis.ingest.rows import rejections, skipped, sorted_rejections

#: one field: quoted (a quote inside doubled, as Athena and Excel write it) or bare
_FIELD = r'"(?:[^"]|"")*"|[^,"]*'


class CsvRows(NamedTuple):
    columns: dict[str, pa.Array]  # the wanted columns, as text
    numbers: np.ndarray           # the line number of each row
    lines: int                    # the file's lines, the header included
    rejected: pd.DataFrame        # lines of another width, or not UTF-8
    skipped: pd.DataFrame         # blank lines


def read_csv(path, names: list[str], wanted: list[str]) -> CsvRows:
    """The `wanted` columns of a CSV file whose header is `names`."""
    odd = SetAside()
    stream = arrow_stream(path)
    try:
        table = pa_csv.read_csv(
            stream,
            read_options=pa_csv.ReadOptions(use_threads=False),
            parse_options=pa_csv.ParseOptions(ignore_empty_lines=False,
                                              invalid_row_handler=odd),
            convert_options=pa_csv.ConvertOptions(
                include_columns=wanted, column_types={c: pa.string() for c in wanted},
                strings_can_be_null=True))
    except pa.ArrowInvalid:  # a line that is not UTF-8, say: the line-exact path names it
        return _line_by_line(path, names, wanted)
    except OSError as exc:
        raise EvidenceError(path, f"cannot be read as CSV: {exc}") from None
    total = table.num_rows + len(odd) + 1  # + the header line
    if total != count_lines(path):  # a stray quote joined lines
        return _line_by_line(path, names, wanted)
    lines = np.ones(total + 1, bool)
    lines[[1, *(n for n, _ in odd)]] = False
    numbers = np.flatnonzero(lines[1:]) + 1
    blank = [n for n, t in odd if not t.strip()]
    odd = [(n, t) for n, t in odd if t.strip()]
    wrong_width = rejections(path, [n for n, _ in odd], _width(names), [t for _, t in odd])
    columns = {c: table.column(c).combine_chunks() for c in wanted}
    nulls = np.logical_and.reduce([np.asarray(a.is_null()) for a in columns.values()])
    if nulls.any():
        empty = nulls & np.isin(numbers, empty_lines(path))
        blank = sorted([*blank, *numbers[empty].tolist()])
        columns = {c: a.filter(pa.array(~empty)) for c, a in columns.items()}
        numbers = numbers[~empty]
    return CsvRows(columns, numbers, total, wrong_width, skipped(path, blank, other_lines.BLANK))


def _width(names: list[str]) -> str:
    return f"expected {len(names)} comma-separated fields"


def _line_by_line(path, names: list[str], wanted: list[str]) -> CsvRows:
    """Each line on its own, matched against a regular expression of the header's width."""
    lines, numbers, unreadable = read_lines(path)
    total = len(numbers) + len(unreadable)
    body = pa.array(numbers > 1)
    lines, numbers = lines.filter(body), numbers[numbers > 1]
    pattern = "^" + ",".join(f"(?P<f{i}>{_FIELD})" for i in range(len(names))) + r"\r?$"
    groups = pc.extract_regex(lines, pattern)
    if isinstance(groups, pa.ChunkedArray):
        groups = groups.combine_chunks()
    blank = np.asarray(pc.equal(pc.utf8_trim_whitespace(lines), ""))
    matched = np.asarray(groups.is_valid()) & ~blank
    wrong = ~matched & ~blank
    columns = {c: _unquote(groups.field(f"f{names.index(c)}").filter(pa.array(matched)))
               for c in wanted}
    rejected = rejections(path, numbers[wrong], _width(names),
                          lines.filter(pa.array(wrong)).to_pylist())
    return CsvRows(columns, numbers[matched], total, sorted_rejections(rejected, unreadable),
                   skipped(path, numbers[blank], other_lines.BLANK))


def _unquote(values: pa.Array) -> pa.Array:
    inner = pc.replace_substring(pc.utf8_slice_codeunits(values, 1, -1), '""', '"')
    return pc.if_else(pc.starts_with(values, '"'), inner, values)


def empty_lines(path, chunk_bytes: int = 16 << 20) -> np.ndarray:
    """The numbers of the lines with nothing on them (a carriage return before the newline
    aside), by a numpy scan of the file's bytes."""
    found, line, offset, previous, last = [], 1, 0, -1, 10
    with open_raw(path) as fh:
        while chunk := fh.read(chunk_bytes):
            view = np.frombuffer(chunk, np.uint8)
            ends = np.flatnonzero(view == 10)
            starts = np.concatenate(([previous + 1 - offset], ends[:-1] + 1))
            before = np.where(ends > 0, view[np.maximum(ends - 1, 0)], last)
            blank = (ends == starts) | ((ends - starts == 1) & (before == 13))
            found.append(np.flatnonzero(blank) + line)
            line += len(ends)
            previous = int(ends[-1]) + offset if len(ends) else previous
            last, offset = int(view[-1]), offset + len(chunk)
    return np.concatenate(found) if found else np.zeros(0, np.int64)
