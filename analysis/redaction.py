"""Remove anything secret from text before it leaves a parser: by key name and by shape.

Every text the tool shows or keeps that came from evidence (rejected lines, error samples,
string columns of the tidy tables, error messages) passes through `redact`, whatever kind of
evidence it came from: access logs carry tokens in URLs, headers and cookies as surely as
credential documents carry keys. Standard library only: errors.py (the bottom of the import
graph) uses it, and it must cost nothing at start-up.
"""

from __future__ import annotations

import re

MARK = "<redacted>"

#: key names whose value is a secret, in any spelling people use: CamelCase, snake_case,
#: kebab-case, as a JSON key, a header, a query parameter or an environment variable
_KEY = (
    r"(?:aws[_-]?)?secret(?:[_-]?access)?(?:[_-]?key)?|client[_-]?secret"
    r"|(?:aws[_-]?)?(?:session|security|access|refresh|id|auth|bearer|api|csrf|xsrf)?[_-]?token"
    r"|x-amz-(?:security-token|credential|signature)|x-aws-ec2-metadata-token"
    r"|signature|credential|access[_-]?key(?:[_-]?id)?|api[_-]?key|private[_-]?key"
    r"|password|passwd|pwd|authorization|proxy-authorization|set-cookie|cookie"
)
#: a value: quoted (escaped quotes inside, also JSON escaped inside a JSON string), quoted
#: and cut off (a broken document ends inside it), or bare
_VALUE = (
    r'(?:\\"(?:[^"\\]|\\[^"])*\\"|"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\''
    r'|"(?:[^"\\\n]|\\.)*|\'(?:[^\'\\\n]|\\.)*'
    r"|[^\s\"',&;}\]]+)"
)
#: header-like keys whose bare value runs to the end of the field (a scheme, cookie pairs)
_WHOLE_FIELD_KEY = r"authorization|proxy-authorization|set-cookie|cookie"

_BY_KEY = re.compile(
    rf"(?i)(?<![A-Za-z0-9])((?:{_KEY})\\?[\"']?\s*[:=]\s*)"
    r"(?:(?:Bearer|Basic|Digest|Negotiate|AWS4-HMAC-SHA256)\s+)?(" + _VALUE + ")")
_WHOLE_FIELD = re.compile(
    rf"(?i)(?<![A-Za-z0-9])((?:{_WHOLE_FIELD_KEY})\\?[\"']?\s*[:=]\s*)[^\s\"'\\][^\"\r\n,]*")
#: AWS access key ids (AKIA long-term, ASIA temporary, and the other documented prefixes)
_AWS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA|AROA|AIDA|ANPA|ANVA|AIPA|APKA|ABIA|ACCA)[A-Z0-9]{12,}")
#: JSON Web Tokens (a Kubernetes service-account token, an OIDC id token)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
#: opaque runs (base64, hex): a secret access key is 40 characters, session tokens hundreds
_OPAQUE = re.compile(r"[A-Za-z0-9+/=_-]{24,}")
_OPAQUE_PIECE = 20
_PIECES = re.compile(r"[-_./+=]")
#: random base64 of 40 characters flips from lower to upper case ~6 times; words rarely 4
_CASE_FLIP = re.compile(r"[a-z][A-Z]")
_CASE_FLIPS = 4


def _opaque(match: re.Match) -> str:
    """A run is secret-shaped when one of its pieces is a long mix of letters and digits (hex,
    an access key) or its case flips like base64 does; words joined by '/', '-' or '_' (a URL
    path, a header name, a Kubernetes name, a UUID) stay as they are."""
    run = match.group(0)
    if any(len(piece) >= _OPAQUE_PIECE and any(c.isdigit() for c in piece)
           and any(c.isalpha() for c in piece) for piece in _PIECES.split(run)):
        return MARK
    return MARK if len(_CASE_FLIP.findall(run)) >= _CASE_FLIPS else run


def _keyed(match: re.Match) -> str:
    """The key as it was, the value replaced inside the quotes it had."""
    value = match.group(2)
    quote = value[:2] if value.startswith('\\"') else value[:1] if value[:1] in "\"'" else ""
    return f"{match.group(1)}{quote}{MARK}{quote}"


def redact(text: str) -> str:
    """`text` with every secret-shaped value replaced by <redacted>."""
    if not text:
        return text
    text = text.replace("\x00", "")  # UTF-16 read as UTF-8: S\0e\0c\0r\0e\0t\0 is a key too
    text = _WHOLE_FIELD.sub(lambda m: m.group(1) + MARK, text)
    text = _BY_KEY.sub(_keyed, text)
    text = _AWS_KEY_ID.sub(MARK, text)
    text = _JWT.sub(MARK, text)
    return _OPAQUE.sub(_opaque, text)


def redact_all(values) -> list:
    """redact over a sequence, keeping None and non-text values as they are."""
    return [redact(v) if isinstance(v, str) else v for v in values]
