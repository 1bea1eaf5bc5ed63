"""What a parser hands back, and how its texts are redacted on the way out.

`Parsed` holds one file's tidy rows, its rejected lines and its skipped lines: every line is a
row, a rejection or a skipped line. Whatever a parser read from a file is output once it leaves
the parser, so the rejected lines' texts are redacted here (before they are clipped: a cut
secret would no longer look like one) and so is every text column of a table (`redact_table`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import EvidenceError
from analysis.redaction import redact, redact_all

#: A file with a larger share of rejected lines is an error, not a partial result.
MAX_REJECTED_SHARE = 0.05
REJECTION_COLUMNS = ["source_file", "line", "reason", "text"]


#: lines that are neither records nor errors: blank lines, shell prompts, nginx error-log
#: lines in `kubectl logs` output... each kept with what it is, shown in data quality
SKIPPED_COLUMNS = ["source_file", "line", "what"]


def no_skipped() -> pd.DataFrame:
    return pd.DataFrame({"source_file": pd.Series(dtype=str), "line": pd.Series(dtype=np.int64),
                         "what": pd.Series(dtype=str)})


@dataclass
class Parsed:
    """One file's tidy rows, how many lines it had, the lines it rejected, and the lines it
    skipped as not records (blank lines, prompts, log lines of another kind), with what each
    is: every line is a row, a rejection or a skipped line."""

    table: pd.DataFrame
    lines: int
    rejected: pd.DataFrame  # REJECTION_COLUMNS
    skipped: pd.DataFrame = field(default_factory=no_skipped)  # SKIPPED_COLUMNS
    #: latency logs: the field the backend time was read from, with its unit (shown by
    #: inspect and in the report's data quality: a proxy's total is not the backend's time)
    latency_field: str = ""


def skipped(path: Path, lines, what) -> pd.DataFrame:
    """Skipped-line rows: `what` is one description or one per line."""
    numbers = np.asarray(lines, dtype=np.int64)
    whats = np.full(len(numbers), what, dtype=object) if isinstance(what, str) else \
        np.asarray(what, dtype=object)
    return pd.DataFrame({"source_file": str(path), "line": numbers, "what": whats},
                        columns=SKIPPED_COLUMNS)


def clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def rejection_rows(path: Path, rows: list[tuple[int, str, str]]) -> pd.DataFrame:
    """Rejection rows; a rejected line is an output like any other, so its text is redacted
    here (before it is clipped: a cut secret would no longer look like one)."""
    rows = [(n, reason, clip(redact(text))) for n, reason, text in rows]
    frame = pd.DataFrame(rows, columns=["line", "reason", "text"])
    frame.insert(0, "source_file", str(path))
    return frame[REJECTION_COLUMNS]


def rejections(path: Path, lines: np.ndarray, reason: str, texts) -> pd.DataFrame:
    """Rejection rows for many lines sharing one reason."""
    rows = [(int(n), reason, str(t)) for n, t in zip(lines, texts, strict=True)]
    return rejection_rows(path, rows)


def sorted_rejections(*parts: pd.DataFrame) -> pd.DataFrame:
    """Tables of lines (rejected or skipped) as one, in line order."""
    return pd.concat(parts, ignore_index=True).sort_values("line", kind="stable") \
        .reset_index(drop=True)


def check_rejected_share(path: Path, fmt_name: str, parsed: Parsed) -> None:
    """A mostly unparseable file is an error naming the file, its format and sample lines."""
    bad = len(parsed.rejected)
    if parsed.lines and bad / parsed.lines > MAX_REJECTED_SHARE:
        samples = "\n".join(
            f"    line {row.line}: {row.reason}: {row.text!r}"
            for row in parsed.rejected.head(3).itertuples()
        )
        raise EvidenceError(
            path,
            f"{bad} of {parsed.lines} lines ({bad / parsed.lines:.0%}) could not be parsed as "
            f"{fmt_name} (more than {MAX_REJECTED_SHARE:.0%} allowed); first ones:\n{samples}",
        )


def redact_table(table: pd.DataFrame) -> pd.DataFrame:
    """The table with every text column redacted (dig names, metadata paths, credential
    codes...): whatever a parser read from a file is output once it leaves the parser."""
    for column in table.columns:
        dtype = table[column].dtype
        if column != "source_file" and (dtype.kind == "O" or pd.api.types.is_string_dtype(dtype)):
            table[column] = redact_all(table[column])
    return table
