"""What every ingest format shares: the registry, reading files, and counting rejections.

Each format is a small object registered under its name for one kind of evidence, with
`detect(sample) -> float` (share of sample lines that look like it) and
`parse(path) -> Parsed`. Adding a format touches one module (papermill's registry pattern).
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from analysis.errors import EvidenceError

#: A file with a larger share of rejected lines is an error, not a partial result.
MAX_REJECTED_SHARE = 0.05
SAMPLE_LINES = 50
GZIP_MAGIC = b"\x1f\x8b"
REJECTION_COLUMNS = ["source_file", "line", "reason", "text"]


@dataclass
class Parsed:
    """One file's tidy rows, how many lines it had, and the lines it rejected."""

    table: pd.DataFrame
    lines: int
    rejected: pd.DataFrame  # REJECTION_COLUMNS


class Format(Protocol):
    name: str
    kind: str

    def detect(self, sample: list[str]) -> float: ...

    def parse(self, path: Path, options: dict | None = None) -> Parsed: ...


REGISTRY: dict[str, dict[str, Format]] = {}


def register(cls: type) -> type:
    """Class decorator: make a format known for its kind of evidence."""
    fmt = cls()
    REGISTRY.setdefault(fmt.kind, {})[fmt.name] = fmt
    return cls


def is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == GZIP_MAGIC


def open_text(path: Path) -> io.TextIOBase:
    """Open evidence as text, gunzipping when the content (not the name) says gzip."""
    raw = gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")
    return io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline=None)


def read_text(path: Path) -> str:
    """Whole-file text for the small evidence kinds (dig, credentials, resolv.conf)."""
    try:
        with open_text(path) as fh:
            return fh.read()
    except (OSError, EOFError) as exc:
        raise EvidenceError(path, f"cannot be read: {exc}") from None


def sample_lines(path: Path, limit: int = SAMPLE_LINES) -> list[str]:
    """The first non-blank lines of a file, for format detection."""
    lines: list[str] = []
    try:
        with open_text(path) as fh:
            for line in fh:
                if line.strip():
                    lines.append(line.rstrip("\n"))
                if len(lines) >= limit:
                    break
    except (OSError, EOFError) as exc:
        raise EvidenceError(path, f"cannot be read: {exc}") from None
    return lines


def detect(kind: str, path: Path, forced: str | None = None) -> Format:
    """The registered format of `kind` that best matches the file's first lines."""
    formats = REGISTRY.get(kind, {})
    if forced:
        if forced not in formats:
            raise EvidenceError(path, f"format {forced!r} is not a {kind} format {sorted(formats)}")
        return formats[forced]
    sample = sample_lines(path)
    if not sample:
        raise EvidenceError(path, f"is empty; expected {kind} evidence")
    scores = {name: fmt.detect(sample) for name, fmt in formats.items()}
    best = max(scores, key=scores.get)
    if scores[best] < 0.5:
        closest = f"it looks most like {best} ({scores[best]:.0%} of its first lines match)" \
            if scores[best] > 0 else f"tried {', '.join(sorted(formats))}"
        shown = "; ".join(repr(clip(line, 120)) for line in sample[:3])
        raise EvidenceError(path, f"not a known {kind} format: {closest}; first lines: {shown}")
    return formats[best]


def clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def read_lines(path: Path) -> tuple[pa.ChunkedArray, np.ndarray, pd.DataFrame]:
    """All lines of a (possibly gzipped) log as an Arrow string column, vectorized.

    Returns the lines, their 1-based line numbers, and the lines pyarrow could not take (they
    hold the unit-separator byte we split on) as rejections.
    """
    odd: list[tuple[int, str]] = []

    def keep_aside(row) -> str:
        odd.append((row.number, row.text))
        return "skip"

    stream = pa.input_stream(str(path), compression="gzip" if is_gzip(path) else None)
    try:
        reader = pa_csv.open_csv(
            stream,
            read_options=pa_csv.ReadOptions(column_names=["line"], use_threads=False),
            parse_options=pa_csv.ParseOptions(
                delimiter="\x1f", quote_char=False, escape_char=False,
                ignore_empty_lines=False, invalid_row_handler=keep_aside,
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types={"line": pa.string()}, strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        batches = [batch.column(0) for batch in reader]
    except pa.ArrowInvalid as exc:
        if "Empty CSV file" in str(exc):
            return pa.chunked_array([], pa.string()), np.empty(0, np.int64), _rejections(path, [])
        raise EvidenceError(path, f"is not UTF-8 text lines: {exc}") from None
    except (OSError, EOFError) as exc:
        raise EvidenceError(path, f"cannot be read: {exc}") from None
    lines = pa.chunked_array(batches, pa.string())
    total = len(lines) + len(odd)
    numbers = np.arange(1, total + 1)
    if odd:
        numbers = numbers[~np.isin(numbers, [n for n, _ in odd])]
    rejected = _rejections(path, [(n, "contains a control character (0x1f)", t) for n, t in odd])
    return lines, numbers, rejected


def _rejections(path: Path, rows: list[tuple[int, str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["line", "reason", "text"])
    frame.insert(0, "source_file", str(path))
    return frame[REJECTION_COLUMNS]


def rejections(path: Path, lines: np.ndarray, reason: str, texts) -> pd.DataFrame:
    """Rejection rows for many lines sharing one reason."""
    rows = [(int(n), reason, clip(str(t))) for n, t in zip(lines, texts, strict=True)]
    return _rejections(path, rows)


def check_rejected_share(path: Path, fmt_name: str, parsed: Parsed,
                         redact: Callable[[str], str] = str) -> None:
    """A mostly unparseable file is an error naming the file, its format and sample lines."""
    bad = len(parsed.rejected)
    if parsed.lines and bad / parsed.lines > MAX_REJECTED_SHARE:
        samples = "\n".join(
            f"    line {row.line}: {row.reason}: {redact(row.text)!r}"
            for row in parsed.rejected.head(3).itertuples()
        )
        raise EvidenceError(
            path,
            f"{bad} of {parsed.lines} lines ({bad / parsed.lines:.0%}) could not be parsed as "
            f"{fmt_name} (more than {MAX_REJECTED_SHARE:.0%} allowed); first ones:\n{samples}",
        )
