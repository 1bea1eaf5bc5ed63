"""IMDS credential documents as curl prints them -> one row per document, without secrets.

Accepts one document per file, several concatenated (pretty or compact), JSON lines, and
`curl -i` output whose `Date` header gives the fetch time; the redacted documents of
`latency-gap collect` carry `AccessKeyFingerprint` and `FetchedAt` instead.
`SecretAccessKey` and `Token` are never copied out of the parsed JSON; `AccessKeyId` becomes
a short hash so distinct credentials can be counted. Tidy columns: `code`, `type`, `key_id`
(hash), `last_updated`, `expiration`, `fetched_at` (UTC, NaT without a Date header), `lifetime_s`
(Expiration - LastUpdated), `remaining_s` (Expiration - fetched_at), `source_file`, `line`.
"""

from __future__ import annotations

import hashlib
import json
from email.utils import parsedate_to_datetime
from pathlib import Path

import pandas as pd

from analysis.ingest.base import Parsed, read_text, register, rejections
from analysis.ingest.plausible import bad_time_reason, plausible_time

KIND = "credentials"
COLUMNS = ["code", "type", "key_id", "last_updated", "expiration", "fetched_at", "lifetime_s",
           "remaining_s", "source_file", "line"]
SECRET_KEYS = ("SecretAccessKey", "Token")



def key_fingerprint(access_key_id: str | None) -> str | None:
    if not access_key_id:
        return None
    return hashlib.sha256(access_key_id.encode()).hexdigest()[:12]


def _time(value) -> pd.Timestamp:
    try:
        return pd.Timestamp(value).tz_convert("UTC") if value else pd.NaT
    except (ValueError, TypeError):
        return pd.NaT


@register
class ImdsJson:
    """Credential documents from /latest/meta-data/iam/security-credentials/<role>."""

    kind = KIND
    name = "imds-json"

    def detect(self, sample: list[str]) -> float:
        text = "\n".join(sample)
        # a failure document has no Expiration or key: Code with LastUpdated or Message
        keys = ('"Expiration"', '"AccessKeyId"', '"LastUpdated"', '"AccessKeyFingerprint"')
        return 1.0 if any(k in text for k in keys) or ('"Code"' in text and '"Message"' in text) \
            else 0.0

    def parse(self, path: Path, options: dict | None = None) -> Parsed:
        text = read_text(path)
        decoder = json.JSONDecoder()
        rows: list[dict] = []
        bad: list[tuple[int, str, str]] = []
        fetched_at = pd.NaT
        pos, n = 0, len(text)
        while pos < n:
            while pos < n and text[pos].isspace():
                pos += 1
            if pos >= n:
                break
            line = text.count("\n", 0, pos) + 1
            end = text.find("\n", pos)
            end = n if end < 0 else end
            if text.startswith("HTTP/", pos):
                header_end = text.find("\n\n", pos)
                header_end = n if header_end < 0 else header_end
                fetched_at = self._date_header(text[pos:header_end])
                pos = header_end
                continue
            if text[pos] == "{":
                try:
                    doc, after = decoder.raw_decode(text, pos)
                except json.JSONDecodeError as exc:
                    bad.append((line, f"broken JSON document: {exc.msg}", text[pos:end]))
                    pos = end
                    continue
                pos = after
                row, problem = self._row(doc, fetched_at, path, line)
                if problem:
                    bad.append((line, problem, f"document with keys {sorted(doc)}"))
                else:
                    rows.append(row)
                fetched_at = pd.NaT  # a Date header belongs to the one response after it
                continue
            bad.append((line, "not part of a credential document", text[pos:end]))
            pos = end
        table = pd.DataFrame(rows, columns=COLUMNS)
        for column in ("last_updated", "expiration", "fetched_at"):
            table[column] = pd.to_datetime(table[column], utc=True)
        rejected = rejections(path, [b[0] for b in bad], "", [b[2] for b in bad])
        rejected["reason"] = [b[1] for b in bad]
        lines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
        return Parsed(table, lines, rejected)

    @staticmethod
    def _date_header(headers: str) -> pd.Timestamp:
        for header in headers.splitlines():
            name, _, value = header.partition(":")
            if name.strip().lower() == "date":
                try:
                    return pd.Timestamp(parsedate_to_datetime(value.strip())).tz_convert("UTC")
                except (TypeError, ValueError):
                    return pd.NaT
        return pd.NaT

    @staticmethod
    def _row(doc, fetched_at, path: Path, line: int) -> tuple[dict, str | None]:
        if not isinstance(doc, dict):
            return {}, "expected a JSON object"
        code = doc.get("Code", "Success")
        last_updated, expiration = _time(doc.get("LastUpdated")), _time(doc.get("Expiration"))
        if code == "Success" and (pd.isna(expiration) or pd.isna(last_updated)):
            return {}, "a Success document needs LastUpdated and Expiration timestamps"
        if not (plausible_time(last_updated) and plausible_time(expiration)):
            return {}, bad_time_reason()
        if code == "Success" and expiration < last_updated:
            return {}, "Expiration is before LastUpdated"
        lifetime = (expiration - last_updated).total_seconds() if code == "Success" else None
        if pd.isna(fetched_at):  # `latency-gap collect` writes the fetch time in the document
            fetched_at = _time(doc.get("FetchedAt"))
        remaining = (expiration - fetched_at).total_seconds() if not pd.isna(fetched_at) and \
            code == "Success" else None
        # Only these fields are read; SecretAccessKey and Token are never copied. The
        # collector writes the key's fingerprint (the same hash) instead of the key id.
        return {
            "code": str(code), "type": doc.get("Type"),
            "key_id": key_fingerprint(doc.get("AccessKeyId")) or doc.get("AccessKeyFingerprint"),
            "last_updated": last_updated, "expiration": expiration, "fetched_at": fetched_at,
            "lifetime_s": lifetime, "remaining_s": remaining,
            "source_file": str(path), "line": line,
        }, None
