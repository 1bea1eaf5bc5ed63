"""Reading evidence files: gzip by content, text encodings, sample lines, and every line of a
log as an Arrow column (vectorized), with the lines that are not text as rejections."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from analysis.capture.reader import PCAP_MAGIC, PCAPNG_SHB
from analysis.errors import EvidenceError
from analysis.files import read_bounded
from analysis.ingest.rows import Parsed, rejection_rows, sorted_rejections

SAMPLE_LINES = 50
GZIP_MAGIC = b"\x1f\x8b"
#: Arrow's CSV block: no log line is longer, so a longer one is an error, not a slow path
BLOCK_BYTES = 4 << 20


def is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == GZIP_MAGIC


def open_raw(path: Path):
    """Evidence as bytes, gunzipped when the content (not the name) says gzip."""
    return gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")


def arrow_stream(path: Path):
    """The same as an Arrow input stream, for pyarrow's readers."""
    return pa.input_stream(str(path), compression="gzip" if is_gzip(path) else None)


def open_text(path: Path) -> io.TextIOBase:
    """Open evidence as text, gunzipping when the content (not the name) says gzip."""
    raw = open_raw(path)
    return io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline=None)


#: dig and credential files are read whole; a larger one is not what it should be
MAX_TEXT_BYTES = 256 << 20


def read_text(path: Path, limit: int = MAX_TEXT_BYTES, what: str = "dig or credentials file") \
        -> str:
    """Whole-file text for the small evidence kinds (dig, credentials, resolv.conf): a regular
    file, gunzipped when its content says gzip, at most `limit` bytes either way."""
    data = read_bounded(path, limit, what=what)
    if data[:2] == GZIP_MAGIC:
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as fh:
                data = fh.read(limit + 1)
        except (OSError, EOFError) as exc:
            raise EvidenceError(path, f"cannot be read: {exc}") from None
        if len(data) > limit:
            raise EvidenceError(path, f"unpacks to more than {limit >> 20} MB; is this the "
                                "right file?")
    check_encoding(path, data[:4096])
    text = data.decode("utf-8", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def check_encoding(path: Path, head: bytes | None = None) -> None:
    """UTF-16 and UTF-32 text (Windows tools and PowerShell's `>` write it) is named as such:
    read as UTF-8 it is a NUL between every letter, which no parser or redaction can read."""
    if head is None:
        with open_raw(path) as fh:
            head = fh.read(4096)
    if head[:4] in PCAP_MAGIC or head[:4] == PCAPNG_SHB:
        raise EvidenceError(path, f"is a packet capture, not {path.parent.name} evidence: "
                            "captures go in <env>/pcap/ (docs/formats.md)")
    boms = {b"\xff\xfe\x00\x00": "UTF-32", b"\x00\x00\xfe\xff": "UTF-32",
            b"\xff\xfe": "UTF-16", b"\xfe\xff": "UTF-16"}
    encoding = next((name for bom, name in boms.items() if head.startswith(bom)), None)
    if encoding is None and len(head) >= 16 and max(head[0::2].count(0), head[1::2].count(0)) \
            > 0.3 * len(head) / 2:
        encoding = "UTF-16"  # without a byte order mark: every other byte is NUL
    if encoding:
        raise EvidenceError(path, f"is {encoding} text; the tool reads UTF-8: convert it "
                            f"first (iconv -f {encoding} -t UTF-8 FILE > FILE.utf8)")


#: a sample line is cut here: no log line is this long, and a 100 MB line without a newline
#: must not be read whole (or reach the csv module's field limit) just to detect a format
MAX_SAMPLE_CHARS = 64 * 1024


def sample_lines(path: Path, limit: int = SAMPLE_LINES) -> list[str]:
    """The first non-blank lines of a file, for format detection."""
    lines: list[str] = []
    try:
        with open_text(path) as fh:
            while len(lines) < limit and (line := fh.readline(MAX_SAMPLE_CHARS)):
                if not line.endswith("\n"):  # longer than any log line: skip the rest of it
                    while (rest := fh.readline(MAX_SAMPLE_CHARS)) and not rest.endswith("\n"):
                        pass
                if line.strip():
                    lines.append(line.rstrip("\n"))
    except (OSError, EOFError) as exc:
        raise EvidenceError(path, f"cannot be read: {exc}") from None
    return lines


class SetAside(list):
    """The rows pyarrow's CSV reader finds irregular, as (line number, text): its
    `invalid_row_handler`, which skips them so the caller can account for each."""

    def __call__(self, row) -> str:
        self.append((row.number, row.text))
        return "skip"


def read_lines(path: Path) -> tuple[pa.ChunkedArray, np.ndarray, pd.DataFrame]:
    """All lines of a (possibly gzipped) log as an Arrow string column, vectorized.

    Returns the lines, their 1-based line numbers, and the lines that cannot be taken as
    rejections: those holding the unit-separator byte we split on, and those that are not
    UTF-8 (found per block: only a block that fails Arrow's UTF-8 check is looked at row by
    row). A line longer than a block is an error that names it.
    """
    odd = SetAside()
    stream = arrow_stream(path)
    try:
        reader = pa_csv.open_csv(
            stream,
            read_options=pa_csv.ReadOptions(column_names=["line"], use_threads=False,
                                            block_size=BLOCK_BYTES),
            parse_options=pa_csv.ParseOptions(
                delimiter="\x1f", quote_char=False, escape_char=False,
                ignore_empty_lines=False, invalid_row_handler=odd,
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types={"line": pa.string()}, strings_can_be_null=False,
                quoted_strings_can_be_null=False, check_utf8=False,
            ),
        )
        batches = [batch.column(0) for batch in reader]
    except pa.ArrowInvalid as exc:
        if "Empty CSV file" in str(exc):
            return (pa.chunked_array([], pa.string()), np.empty(0, np.int64),
                    rejection_rows(path, []))
        if "straddl" in str(exc):
            raise long_line_error(path) from None
        raise EvidenceError(path, f"cannot be read as text lines: {exc}") from None
    except (OSError, EOFError) as exc:
        raise EvidenceError(path, f"cannot be read: {exc}") from None
    total = sum(len(b) for b in batches) + len(odd)
    numbers = np.arange(1, total + 1)
    if odd:
        numbers = numbers[~np.isin(numbers, [n for n, _ in odd])]
    rows = [(n, "contains a control character (0x1f)", t) for n, t in odd]
    keep = np.ones(len(numbers), bool)
    start = 0
    for i, batch in enumerate(batches):
        try:
            batch.validate(full=True)
        except pa.ArrowInvalid:  # a line that is not UTF-8 somewhere in this block
            raw = batch.cast(pa.binary()).to_pylist()
            bad = [j for j, line in enumerate(raw) if not _is_utf8(line)]
            for j in bad:
                keep[start + j] = False
                rows.append((int(numbers[start + j]), "not UTF-8 text",
                             raw[j].decode("utf-8", "replace")))
            good = np.ones(len(raw), bool)
            good[bad] = False
            batches[i] = pc.filter(batch.cast(pa.binary()), pa.array(good)).cast(pa.string())
        start += len(batch)
    lines = pa.chunked_array(batches, pa.string())
    return lines, numbers[keep], rejection_rows(path, sorted(rows))


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def long_line_error(path: Path, limit: int = BLOCK_BYTES) -> EvidenceError:
    """Name the first line longer than `limit` bytes (numpy over 16 MB chunks)."""
    buffer = bytearray(16 << 20)
    view = np.frombuffer(buffer, dtype=np.uint8)
    line, run = 1, 0
    with open_raw(path) as fh:
        while size := fh.readinto(buffer):
            breaks = np.flatnonzero(view[:size] == 10)
            if not len(breaks):
                run += size
                if run > limit:
                    break
                continue
            if run + breaks[0] > limit:
                break
            gaps = np.diff(breaks) - 1
            long = np.flatnonzero(gaps > limit)
            if len(long):
                line += int(long[0]) + 1
                break
            line += len(breaks)
            run = size - int(breaks[-1]) - 1
    return EvidenceError(path, f"line {line} is longer than {limit >> 20} MB (no newline within "
                         f"{limit >> 20} MB): not a log line; is this a binary or a one-line "
                         "JSON export?", line=line)


#: readers at once over one plain file. 1: two readers measured 1.41x faster side by side
#: at load 7-9 on 2 cores but 1.10x slower (and +10% CPU) at load 2-3, where one reader is
#: 1.08x faster than before; more threads won CPU share on a busy machine, not speed. Off
#: until a machine with free cores says otherwise (bench/ingest.py measures it).
READERS = 1
#: a plain file at least this large is read in pieces when READERS > 1...
PIECE_BYTES = 64 << 20
#: ...and at most this large: the second reader costs ~250 MB more at the peak (5M nginx
#: lines: 824 MB against 570 MB), which the largest logs cannot afford (README, "Reliability":
#: 20M lines under 1.5 GB), so they are read by one reader as before
MAX_PIECES_BYTES = 2 << 30


def pieces(path: Path, count: int | None = None) -> list[tuple[int, int | None]]:
    """Byte ranges (start, end) of a log that split it at line ends into `count` pieces
    of about the same size, for readers in parallel; [(0, None)], the whole file, when
    it is gzipped, small or very large (MAX_PIECES_BYTES)."""
    count = READERS if count is None else count
    size = path.stat().st_size
    if count < 2 or not PIECE_BYTES <= size <= MAX_PIECES_BYTES or is_gzip(path):
        return [(0, None)]
    starts = [0]
    with open(path, "rb") as fh:
        for k in range(1, count):
            fh.seek(size * k // count)
            at = fh.read(BLOCK_BYTES).find(b"\n")
            if at < 0:  # a line longer than a block: the one reader names it
                return [(0, None)]
            starts.append(size * k // count + at + 1)
    return [(a, b) for a, b in zip(starts, [*starts[1:], size], strict=True) if b > a] \
        or [(0, None)]


class _Piece(io.RawIOBase):
    """Bytes start..end of a file, as a stream a pyarrow reader can take."""

    def __init__(self, path: Path, start: int, end: int):
        self._file = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._file.seek(start)
        self._left = end - start

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        size = self._file.readinto(memoryview(buffer)[:self._left])
        self._left -= size
        return size

    def close(self) -> None:
        self._file.close()
        super().close()


def piece_stream(path: Path, start: int, end: int | None):
    """One piece of `pieces(path)` as an Arrow input stream."""
    if end is None:
        return arrow_stream(path)
    return pa.OSFile(str(path)).get_stream(start, end - start)


def count_lines(path: Path, start: int = 0, end: int | None = None) -> int:
    """Physical lines in a (possibly gzipped) file, the last one with or without a newline.

    A stray double quote makes a quote-aware CSV reader run one row over several lines (it
    swallowed the rest of a file in a test), so the fast path checks its row count against
    this and falls back to the line-exact path when they differ. Runs beside the reader: numpy
    and zlib release the GIL. With `end`: the lines of bytes start..end of a plain file.
    1 MB at a time: the buffer and numpy's comparison stay in the CPU's caches (5M nginx lines:
    0.165 s against 0.19-0.21 s with 16 MB).
    """
    buffer = bytearray(1 << 20)
    view = np.frombuffer(buffer, dtype=np.uint8)
    lines, last = 0, 10
    with open_raw(path) if end is None else _Piece(path, start, end) as fh:
        while size := fh.readinto(buffer):
            lines += int(np.count_nonzero(view[:size] == 10))
            last = int(view[size - 1])
    return lines + (last != 10)


def parse_by_lines(fmt, path: Path, options: dict | None = None, transform=None) -> Parsed:
    """Read a log as an Arrow column of lines (optionally transformed, e.g. a prefix
    stripped) and hand it to `fmt.parse_column`; lines that are not text are rejections."""
    lines, numbers, unreadable = read_lines(path)
    parsed = fmt.parse_column(path, transform(lines) if transform else lines, numbers, options)
    parsed.lines += len(unreadable)
    if len(unreadable):
        parsed.rejected = sorted_rejections(unreadable, parsed.rejected)
    return parsed
