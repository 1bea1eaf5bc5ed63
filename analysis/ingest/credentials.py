"""IMDS credential documents as curl prints them -> one row per document, without secrets.

Accepts one document per file, several concatenated (pretty or compact), JSON lines, keys in
any case, container-credential documents (no Code, no LastUpdated: lifetime unknown), and the
terminal around them (prompts, commands, `curl -v` / `curl -i` output: curl_transcript.py),
whose `Date` header gives the fetch time; the redacted documents of `latency-gap collect`
carry `AccessKeyFingerprint` and `FetchedAt` instead. A fetch that failed (an agent's error
reply, an IMDSv2 token PUT refused or timed out, a role listing) is a row too, with a code
other than "Success" and no times. `SecretAccessKey` and `Token` are never copied out of the
parsed JSON; `AccessKeyId` becomes a short hash so distinct credentials can be counted. Tidy
columns: `code`, `type`, `key_id` (hash), `last_updated`, `expiration`, `fetched_at` (UTC, NaT
without a Date header), `lifetime_s` (Expiration - LastUpdated), `remaining_s` (Expiration -
fetched_at), `source_file`, `line`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd

from analysis.errors import EvidenceError
from analysis.ingest import curl_transcript
from analysis.ingest.plausible import bad_time_reason, plausible_time
from analysis.ingest.reading import read_text
from analysis.ingest.registry import register
from analysis.ingest.rows import Parsed, rejections, skipped

KIND = "credentials"
COLUMNS = ["code", "type", "key_id", "last_updated", "expiration", "fetched_at", "lifetime_s",
           "remaining_s", "source_file", "line"]
SECRET_KEYS = ("SecretAccessKey", "Token")
SUCCESS = "Success"
#: what to capture instead of a file that holds no document and no failed fetch
CAPTURE = ("capture the document itself, in the pod: curl -s "
           "http://169.254.169.254/latest/meta-data/iam/security-credentials/<role> (the role "
           "is what .../security-credentials/ lists; with IMDSv2, add the token of a PUT to "
           "/latest/api/token as the X-aws-ec2-metadata-token header), one document per fetch")


def key_fingerprint(access_key_id: str | None) -> str | None:
    """The first 12 hex digits of the key id's SHA-256 (None without a key id)."""
    if not access_key_id:
        return None
    return hashlib.sha256(str(access_key_id).encode()).hexdigest()[:12]


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
    priority = 100  # the only credentials format

    def detect(self, sample: list[str]) -> float:
        text = "\n".join(sample).lower()
        # a failure document has no Expiration or key: Code with LastUpdated or Message
        keys = ('"expiration"', '"accesskeyid"', '"lastupdated"', '"accesskeyfingerprint"')
        if any(k in text for k in keys) or ('"code"' in text and '"message"' in text):
            return 1.0
        return curl_transcript.detect(sample)

    def parse(self, path: Path, options: dict | None = None) -> Parsed:
        text = read_text(path)
        decoder = json.JSONDecoder()
        rows: list[dict] = []
        bad: list[tuple[int, str, str]] = []
        transcript = curl_transcript.Transcript()
        counted = [0, 1]  # (position, its line number): counting forward only

        def line_of(at: int) -> int:
            counted[1] += text.count("\n", counted[0], at)
            counted[0] = at
            return counted[1]

        pos, n = 0, len(text)
        while pos < n:
            end = text.find("\n", pos)
            end = n if end < 0 else end
            segment, line = text[pos:end], line_of(pos)
            start = pos + len(segment) - len(segment.lstrip())
            if not segment.strip():
                transcript.blank(line)
            elif text[start] == "{" and not curl_transcript.is_data_line(segment.strip()):
                pos = self._document(text, start, decoder, transcript, rows, bad, path, line)
                rest = text.find("\n", pos)
                rest = n if rest < 0 else rest
                if text[pos:rest].strip():
                    continue  # something after the document on its last line
                pos = rest + 1
                continue
            elif not transcript.read(line, segment):
                bad.append((line, "not part of a credential document", segment))
            pos = end + 1
        rows += [self._failure(f, path) for f in transcript.failures]
        table = pd.DataFrame(sorted(rows, key=lambda r: r["line"]), columns=COLUMNS)
        for column in ("last_updated", "expiration", "fetched_at"):
            table[column] = pd.to_datetime(table[column], utc=True)
        for column in ("lifetime_s", "remaining_s"):
            table[column] = table[column].astype(float)
        rejected = rejections(path, [b[0] for b in bad], "", [b[2] for b in bad])
        rejected["reason"] = [b[1] for b in bad]
        if table.empty and rejected.empty:
            line, seen = transcript.seen[-1] if transcript.seen else (None, "only shell lines")
            raise EvidenceError(path, f"holds no credential document and no failed fetch "
                                f"({seen}); {CAPTURE}", line=line)
        lines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
        return Parsed(table, lines, rejected,
                      skipped(path, [s[0] for s in transcript.skipped],
                              [s[1] for s in transcript.skipped]))

    def _document(self, text: str, start: int, decoder: json.JSONDecoder,
                  transcript: curl_transcript.Transcript, rows: list, bad: list, path: Path,
                  line: int) -> int:
        """Read the JSON document at `start` into a row (or a rejection); where it ends."""
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        try:
            doc, after = decoder.raw_decode(text, start)
        except json.JSONDecodeError as exc:
            bad.append((line, f"broken JSON document: {exc.msg}", text[start:end]))
            return end
        fetch = transcript.fetch
        if transcript.failed_body():  # the body of an error reply: its Code names it
            code = _lower_keys(doc).get("code") if isinstance(doc, dict) else None
            transcript.refine(str(code) if code and code != SUCCESS else "")
            transcript.skipped.append((line, curl_transcript.BODY))
        else:
            row, problem = self._row(doc, fetch.date, path, line)
            if problem:
                keys = sorted(doc) if isinstance(doc, dict) else type(doc).__name__
                bad.append((line, problem, f"document with keys {keys}"))
            else:
                rows.append(row)
        transcript.new_fetch()  # a Date header belongs to the one response after it
        return after

    @staticmethod
    def _failure(failure: dict, path: Path) -> dict:
        """A failed fetch's row: its code and line, the reply's Date when shown, no times."""
        return {"code": failure["code"], "type": None, "key_id": None,
                "last_updated": pd.NaT, "expiration": pd.NaT,
                "fetched_at": failure["fetched_at"], "lifetime_s": None, "remaining_s": None,
                "source_file": str(path), "line": failure["line"]}

    @staticmethod
    def _row(doc, fetched_at, path: Path, line: int) -> tuple[dict, str | None]:
        if not isinstance(doc, dict):
            return {}, "expected a JSON object"
        # keys in any case, as the AWS SDKs read them (smithy-rs json_credentials.rs)
        fields = _lower_keys(doc)
        code = fields.get("code", SUCCESS)
        last_updated, expiration = _time(fields.get("lastupdated")), _time(fields.get("expiration"))
        if code == SUCCESS and pd.isna(expiration):
            return {}, "a Success document needs an Expiration timestamp"
        if not (plausible_time(last_updated) and plausible_time(expiration)):
            return {}, bad_time_reason()
        if code == SUCCESS and not pd.isna(last_updated) and expiration < last_updated:
            return {}, "Expiration is before LastUpdated"
        # a container-credentials document (ECS, Pod Identity) has no LastUpdated: its
        # lifetime is unknown, what is left at the fetch is not
        lifetime = (expiration - last_updated).total_seconds() \
            if code == SUCCESS and not pd.isna(last_updated) else None
        if pd.isna(fetched_at):  # `latency-gap collect` writes the fetch time in the document
            fetched_at = _time(fields.get("fetchedat"))
        remaining = (expiration - fetched_at).total_seconds() if not pd.isna(fetched_at) and \
            code == SUCCESS else None
        # Only these fields are read; SecretAccessKey and Token are never copied. The
        # collector writes the key's fingerprint (the same hash) instead of the key id.
        return {
            "code": str(code), "type": fields.get("type"),
            "key_id": key_fingerprint(fields.get("accesskeyid"))
            or fields.get("accesskeyfingerprint"),
            "last_updated": last_updated, "expiration": expiration, "fetched_at": fetched_at,
            "lifetime_s": lifetime, "remaining_s": remaining,
            "source_file": str(path), "line": line,
        }, None


def _lower_keys(doc: dict) -> dict:
    return {str(k).lower(): v for k, v in doc.items()}
