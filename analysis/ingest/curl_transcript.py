"""What a terminal shows around a credential document: prompts, the curl or wget command,
`curl -v` and `curl -i` output, and the replies that come instead of a document.

A credentials file is often a copy of a terminal. Its lines that are neither a document nor
an error are skipped and counted by what they are ("shell prompt", "curl -v trace line"...).
The lines that show a fetch that failed are evidence: each becomes one FAILED FETCH, whose
code says why (kube2iam's "Unable to find role for IP", KIAM's "error fetching credentials",
an IMDSv2 token PUT refused or timed out, a role listing where a document belongs, an HTTP
error status). One request (a command, a `> ` request line, a status line) fails at most once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

import pandas as pd

from analysis.redaction import redact

BLANK, PROMPT, COMMAND = "blank line", "shell prompt", "command line"
TRACE, HEADER, STATUS = "curl -v trace line", "HTTP header line", "HTTP status line"
PROGRESS, WGET, KUBECTL = "curl progress meter line", "wget output line", "kubectl notice line"
ELIDED, TOKEN = "line elided by its author", "IMDSv2 session token (not shown)"
BODY, REPEATED = "error reply body line", "error line of a fetch already counted"
#: what _classify returns for a line that is itself a failed fetch's row (None: not known)
ROW = ""

#: codes findings single out: the IMDSv2 hop-limit symptom, and a capture of the listing path
TIMEOUT, LISTING = "TokenPutTimeout", "RoleListing"

_PROMPT = re.compile(r"^(?P<prompt>(?:\([^()\s]{1,40}\)\s+)?(?P<prefix>\[[^\]\n]{1,80}\]|"
                     r"(?:[^\s$#%>]{1,80}\s){0,2}[^\s$#%>]{0,80}?)[$#%])(?:\s+(?P<rest>.*))?$")
_COMMAND = re.compile(r"^(?:sudo\s+)?(?:[A-Za-z_]\w{0,40}=[^=\s]|(?:curl|wget|kubectl|oc|"
                      r"docker|crictl|nsenter|echo|printf|export|http|aws|for|while)(?:\s|$))")
_ECHO_TOKEN = re.compile(r"(?i)\becho\s+[\"']?\$\{?\w*token")
_KUBECTL = re.compile(r"^(?:Defaulted container |Unable to use a TTY )")
_CURL_V = re.compile(r"^[*<>](?:\s|$)")
_REQUEST = re.compile(r"^>\s*([A-Z]+)\s+(\S+)\s+HTTP/")
_STATUS = re.compile(r"^(?:<\s*)?HTTP/[\d.]+\s+(\d{3})\b")
_HEADER = re.compile(r"^(?:<\s*)?([A-Za-z0-9-]+):\s*(.*)$")
_DATA = re.compile(r"^[{}] \[(?:\d+ bytes data|data not shown)\]")
_CURL_ERROR = re.compile(r"curl: \((\d+)\) (.*)$")
_CURL_V_FAILURE = re.compile(r"^\*\s+(.*(?:timed out|Failed to connect|connect to \S+ port \d+ "
                             r"failed|Empty reply from server).*)$")
_PROGRESS = re.compile(r"^\s*(?:% Total\s+% Received|Dload\s+Upload|\d{1,3}\s+[\d.]+[kMG]?\s+"
                       r"\d{1,3}\s+[\d.]+[kMG]?\s+\d{1,3}\s+[\d.]+[kMG]?\s+[\d.]+[kMG]?\s+"
                       r"[\d.]+[kMG]?\s+(?:--:--:--|\d+:\d\d:\d\d))")
_WGET_STATUS = re.compile(r"^(?:wget: server returned error: HTTP/[\d.]+ |HTTP request sent, "
                          r"awaiting response\.\.\. |.*\bERROR )(\d{3})\b")
_WGET_TIMEOUT = re.compile(r"^wget: (?:download timed out|can't connect to remote host.*)$")
_WGET_OUTPUT = re.compile(r"^(?:Connecting to |Resolving |Length: |Saving to: |--\d{4}-\d\d-\d\d "
                          r"\d\d:\d\d:\d\d--\s|writing to stdout|written to stdout)")
_ELIDED = re.compile(r"(?i)^\s*(?:\.{3,}|…|\[(?:snip|snipped|\.\.\.|…|truncated)\]|<snip>)\s*$")
#: IAM role names: up to 64 of these characters; zsh marks output without a newline with '%'
_ROLE = re.compile(r"^([\w+=,.@-]{1,64})%?$")
_TOKEN_LINE = re.compile(r"^[A-Za-z0-9+/=_-]{16,}%?$")
#: agents' plain-text replies (jtblin/kube2iam server/server.go and k8s/store, sic
#: "specificed"; uswitch/kiam pkg/aws/metadata/credentials_handler.go)
REPLIES = [
    (re.compile(r"(?i)unable to find role for IP"), "RoleNotFound"),
    (re.compile(r"(?i)pod with specif?ic?ed IP not found"), "PodNotFound"),
    (re.compile(r"^Invalid role \S+"), "RoleForbidden"),
    (re.compile(r"(?i)^error (?:fetching credentials|checking assume role permissions)\b"),
     "ProviderError"),
]
_BY_STATUS = {401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 500: "ProviderError",
              502: "ProviderUnavailable", 503: "ProviderUnavailable",
              504: "ProviderUnavailable"}
_TOKEN_BY_STATUS = {400: "TokenPutBadRequest", 401: "TokenPutUnauthorized",
                    403: "TokenPutForbidden", 405: "TokenMethodNotAllowed"}


@dataclass
class Fetch:
    """One request as the transcript shows it, and what came back."""

    token: bool = False          # the IMDSv2 token request (/latest/api/token)
    listing: bool = False        # the request was of the role listing path
    echo_token: bool = False     # `echo $TOKEN`: its output is a session token
    status: int | None = None
    headers: bool = False        # inside a `curl -i` header block
    date: pd.Timestamp = pd.NaT
    failure: dict | None = None


@dataclass
class Transcript:
    """Reads a credential file's non-document lines in order; collects failed fetches
    ({code, line, fetched_at}) and skipped lines ((line, what))."""

    fetch: Fetch = field(default_factory=Fetch)
    failures: list[dict] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    seen: list[tuple[int, str]] = field(default_factory=list)  # what a refusal names
    started: bool = False  # a command, request or document came before

    def new_fetch(self, path: str = "", command: str = "") -> None:
        """A new request: of `path` (a `> ` line) or of the first URL of a command line."""
        target = path or _first_url(command)
        self.started = True
        self.fetch = Fetch(token="/api/token" in target,
                           listing=bool(re.search(r"security-credentials/?$", target)),
                           echo_token=bool(_ECHO_TOKEN.search(command)))

    def blank(self, number: int) -> None:
        self.fetch.headers = False
        self.skipped.append((number, BLANK))

    def failed_body(self) -> bool:
        """Is a document here the body of an error reply (already counted)?"""
        return self.fetch.failure is not None and (self.fetch.status or 0) >= 400

    def refine(self, code: str) -> None:
        """An error body names the failure better than its status does."""
        if self.fetch.failure is not None and code:
            self.fetch.failure["code"] = code

    def read(self, number: int, line: str) -> bool:
        """Take one line that is not a document; False when it is nothing known."""
        what = self._classify(number, line.strip())
        if what:  # ROW: the line is a failed fetch's row
            self.skipped.append((number, what))
        return what is not None

    def _fail(self, number: int, code: str) -> str:
        """A failed fetch at this line (the row is the line); a repeat of a counted one is
        skipped instead."""
        if self.fetch.failure is not None:
            return REPEATED
        self.fetch.failure = {"code": code, "line": number, "fetched_at": self.fetch.date}
        self.failures.append(self.fetch.failure)
        return ROW

    def _status(self, number: int, status: int) -> str | None:
        if self.fetch.status is not None:
            self.new_fetch()
        self.fetch.status = status
        if status < 400:
            self.seen.append((number, f"an HTTP {status} reply without a document"
                              if status < 300 else f"an HTTP {status} redirect"))
            return None
        table = _TOKEN_BY_STATUS if self.fetch.token else _BY_STATUS
        prefix = "TokenPut" if self.fetch.token else ""
        return self._fail(number, table.get(status, f"{prefix}Http{status}"))

    def _timeout(self, number: int, message: str) -> str:
        if "timed out" in message.lower():
            return self._fail(number, TIMEOUT if self.fetch.token else "FetchTimeout")
        if "empty reply" in message.lower():
            return self._fail(number, "EmptyReply")
        return self._fail(number, "ConnectFailed")

    def _classify(self, number: int, line: str) -> str | None:  # noqa: C901 - one table
        fetch = self.fetch
        if fetch.headers and (header := _HEADER.match(line)):
            self._date(header)
            return HEADER
        fetch.headers = False
        if status := _STATUS.match(line):
            fetch.headers = not line.startswith("<")
            return _unless_none(self._status(number, int(status.group(1))),
                                TRACE if line.startswith("<") else STATUS)
        if _DATA.match(line):
            return TRACE
        if _CURL_V.match(line):
            return self._curl_v(number, line)
        if error := _CURL_ERROR.search(line):
            if _PROGRESS.match(line) or line.startswith("curl:"):
                return self._curl_error(number, int(error.group(1)), error.group(2))
        if _PROGRESS.match(line):
            return PROGRESS
        if status := _WGET_STATUS.match(line):
            if fetch.status == int(status.group(1)):
                return WGET  # GNU wget names the status twice
            return _unless_none(self._status(number, int(status.group(1))), WGET)
        if _WGET_TIMEOUT.match(line):
            return self._timeout(number, line)
        if _WGET_OUTPUT.match(line):
            return WGET
        for pattern, code in REPLIES:
            if pattern.search(line):
                if self.failed_body():
                    self.refine(code)
                    return BODY
                return self._fail(number, code)
        shell = self._shell(line)
        return shell if shell is not None else self._body(number, line)

    def _curl_v(self, number: int, line: str) -> str | None:
        if request := _REQUEST.match(line):
            self.new_fetch(request.group(2))  # more precise than the command line's URL
        elif header := _HEADER.match(line):
            self._date(header)
        elif failure := _CURL_V_FAILURE.match(line):
            return self._timeout(number, failure.group(1))
        return TRACE

    def _curl_error(self, number: int, code: int, message: str) -> str | None:
        if code in (28, 7, 52):
            return self._timeout(number, message)
        return self._fail(number, f"CurlError{code}")

    def _date(self, header: re.Match) -> None:
        if header.group(1).lower() != "date":
            return
        try:
            self.fetch.date = pd.Timestamp(parsedate_to_datetime(header.group(2).strip())) \
                .tz_convert("UTC")
        except (TypeError, ValueError):
            self.fetch.date = pd.NaT
        if self.fetch.failure is not None:
            self.fetch.failure["fetched_at"] = self.fetch.date

    def _shell(self, line: str) -> str | None:
        prompt = _PROMPT.match(line)
        if prompt and (prompt.group("rest") or not prompt.group("prefix")
                       or re.search(r"[@:/~\]]", prompt.group("prefix"))):
            self.new_fetch(command=prompt.group("rest") or "")
            return PROMPT
        if _COMMAND.match(line):
            self.new_fetch(command=line)
            return COMMAND
        if _KUBECTL.match(line):
            return KUBECTL
        return ELIDED if _ELIDED.match(line) else None

    def _body(self, number: int, line: str) -> str | None:
        fetch = self.fetch
        if (fetch.status or 0) >= 400:
            return BODY
        answered = fetch.status is None or 200 <= fetch.status < 300
        if answered and (fetch.token or fetch.echo_token) and _TOKEN_LINE.match(line):
            self.seen.append((number, "an IMDSv2 session token, not a credential document"))
            return TOKEN
        # a bare name where the listing path was fetched, or as all a file holds
        role = _ROLE.match(line)
        if answered and role and not fetch.token and fetch.failure is None \
                and (fetch.listing or not self.started) and redact(line) == line:
            return self._fail(number, LISTING)
        return None


def _unless_none(result: str | None, fallback: str | None) -> str | None:
    return fallback if result is None else result


def _first_url(command: str) -> str:
    found = re.search(r"(?:https?://|169\.254\.1[67]\d\.\d+|localhost:\d+)[^\s\"'`)]*",
                      command)
    return found.group(0) if found else ""


def is_data_line(line: str) -> bool:
    """curl -v's `{ [56 bytes data]` line, which is no JSON document."""
    return bool(_DATA.match(line))


def detect(sample: list[str]) -> float:
    """Share of a sample's lines a transcript would take, when one of them is about
    credentials (a metadata URL, a status, an agent's reply); else 0."""
    about = re.compile(r"169\.254\.1[67]\d|security-credentials|/api/token|HTTP/[\d.]+ \d{3}")
    if not any(about.search(line) or any(p.search(line) for p, _ in REPLIES)
               or _CURL_ERROR.search(line) for line in sample):
        return 0.0
    transcript = Transcript()
    known = sum(not line.strip() or transcript.read(n, line) for n, line in enumerate(sample))
    return known / len(sample)
