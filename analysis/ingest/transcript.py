"""Terminal transcripts: shell prompts, the command lines typed at them, and what kubectl says.

Evidence is often copied from a terminal: `$ kubectl exec -it pod -- dig NAME` and its output,
`root@pod:/# nslookup NAME`, an `echo $TOKEN`, an empty `dnstools# ` prompt. Such a line is
neither a record nor an error: a parser skips it and counts it by what it is. The command a
line runs tells a parser whose output follows (dig's, nslookup's, or another program's).
"""

from __future__ import annotations

import re
import shlex
from pathlib import PurePosixPath

PROMPT = "shell prompt"
COMMAND = "command line"
KUBECTL = "kubectl message"
TIME_REPORT = "time report"

#: a prompt: `$`, `#`, `%`, `>` after an optional `user@host:path`, `[user@host dir]`,
#: `name` (dnstools#, bash-5.1$, /app $) or PowerShell's `PS C:\>`, then a space or the end
_PROMPT = re.compile(
    r"^\s*(?:\([\w.-]{1,40}\) )?"  # a virtualenv's (name)
    r"(?:[\w.-]{1,64}@[\w.-]{1,64}(?:[: ][^\s$#%>]{0,200})?\s?[$#%]"
    r"|\[[\w.-]{1,64}@[\w.-]{1,64}[^\]]{0,200}\][$#]"
    r"|PS [A-Za-z]:\\[^>]{0,200}>"
    r"|[\w.~/-]{0,64}\s?[$#%>])"
    r"(?=\s|$)")
#: programs a command line copied without its prompt starts with
PROGRAMS = frozenset({
    "dig", "nslookup", "host", "drill", "kdig", "delv", "getent", "kubectl", "oc", "docker",
    "podman", "nerdctl", "crictl", "echo", "printf", "curl", "wget", "cat", "sudo", "time",
    "watch", "for", "while", "sh", "bash", "export", "env",
})
_ASSIGNMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=\S")  # TOKEN=$(curl ...)
_KUBECTL = re.compile(
    r"^(?:If you don't see a command prompt, try pressing enter\.|Unable to use a TTY"
    r"|Defaulted container \"|pod \"[\w.-]+\" deleted|Error from server|"
    r"error: unable to upgrade connection|command terminated with exit code \d+)")
_TIME_REPORT = re.compile(r"^(?:real|user|sys)\s+\d+m\d+(?:[.,]\d+)?s\s*$")  # `time CMD`
#: where one command ends and the next starts on a shell line
_SEPARATORS = frozenset({";", "|", "||", "&&", "&", "do", "done", "then", "fi", ")"})


def prompt_end(line: str) -> int | None:
    """Where the shell prompt at the start of `line` ends, or None without a prompt."""
    m = _PROMPT.match(line)
    return m.end() if m else None


def command_text(line: str) -> str | None:
    """The command typed on `line` (prompt removed), or None when it is no command line."""
    end = prompt_end(line)
    if end is not None:
        return line[end:].strip() or None
    words = line.split(None, 1)
    if words and (_program(words[0]) in PROGRAMS or _ASSIGNMENT.match(words[0])):
        return line.strip()
    return None


def what_is(line: str) -> str | None:
    """What a transcript line is: "shell prompt", "command line", "kubectl message", "time
    report" (what the shell's `time` prints) or None."""
    if _KUBECTL.match(line):
        return KUBECTL
    if _TIME_REPORT.match(line):
        return TIME_REPORT
    end = prompt_end(line)
    if end is not None and not line[end:].strip():
        return PROMPT
    return COMMAND if command_text(line) is not None else None


def invoked(line: str, programs: frozenset[str] | set[str]) -> tuple[str, list[str]] | None:
    """The first of `programs` a command line runs and its arguments (up to the next `;`,
    `|`, `&&`...), seen through `kubectl exec ... --`, `sudo`, `time`, `sh -c '...'` and loops;
    None when the line runs none of them."""
    text = command_text(line)
    if text is None:
        return None
    words = _words(text)
    if "--" in words:  # kubectl exec POD -- CMD: a pod may be named like a program
        after = words[words.index("--") + 1:]
        words = after if any(_program(w) in programs for w in after) else words
    for i, word in enumerate(words):
        if _program(word) in programs:
            args = []
            for arg in words[i + 1:]:
                if arg in _SEPARATORS:
                    break
                args.append(arg)
            return _program(word), args
    return None


def _program(word: str) -> str:
    return PurePosixPath(word.strip("'\"();&|")).name


def _words(text: str) -> list[str]:
    """Shell words; a quoted script (`sh -c 'dig a; dig b'`) is split into its words too."""
    try:
        words = shlex.split(text, comments=False)
    except ValueError:  # an unbalanced quote: whitespace words are enough to find a program
        words = text.split()
    out: list[str] = []
    for word in words:
        if any(c.isspace() for c in word):
            out += _words(word)
        elif word.endswith(";") and len(word) > 1:
            out += [word[:-1], ";"]
        else:
            out.append(word)
    return out
