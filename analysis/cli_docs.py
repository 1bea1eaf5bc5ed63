"""docs/cli.md, generated from the commands' own `--help`.

Regenerate with `make docs` (or `python -m analysis.cli_docs docs/cli.md`);
tests/test_cli_docs.py fails when the file is out of date or misses a command.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from pathlib import Path

from analysis import cli

#: the command that rewrites docs/cli.md (printed by the test when the file is stale)
REGENERATE = "make docs"
#: help is wrapped at this width whatever the terminal, so the file does not depend on it
WIDTH = 100

HEADER = f"""# The `latency-gap` command

Generated from `latency-gap --help` and each command's `--help`; do not edit by hand.
Regenerate with `{REGENERATE}`.
"""


def commands() -> list[str]:
    """The subcommands of `latency-gap`, in the order its --help lists them."""
    # argparse has no public way to list subcommands: its subparsers action holds them
    [sub] = [a for a in cli.parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return list(sub.choices)


@contextmanager
def _columns(width: int) -> Iterator[None]:
    """argparse wraps help at $COLUMNS (shutil.get_terminal_size)."""
    before = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(width)
    try:
        yield
    finally:
        if before is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = before


def help_text(command: list[str]) -> str:
    """What `latency-gap COMMAND --help` prints."""
    out = io.StringIO()
    with redirect_stdout(out), _columns(WIDTH):
        try:
            cli.main([*command, "--help"])
        except SystemExit:
            pass
    return out.getvalue().rstrip()


def render() -> str:
    """The whole of docs/cli.md."""
    parts = [HEADER, "```", help_text([]), "```"]
    for name in commands():
        parts += ["", f"## latency-gap {name}", "", "```", help_text([name]), "```"]
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Print docs/cli.md, or write it to the path given."""
    argv = sys.argv[1:] if argv is None else argv
    text = render()
    if argv:
        Path(argv[0]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
