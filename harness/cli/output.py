"""What the ``donki`` commands print besides their results, and how.

Results go to stdout, status lines (``donki: ...``) to stderr. Tables and progress use
rich on a terminal; on a pipe or a file the same content comes as plain lines without
colour codes, wide enough not to wrap.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["PIPE_WIDTH", "console", "is_terminal", "log"]

#: Column width of tables written to a pipe or file (a terminal uses its own width)
PIPE_WIDTH = 160


def log(message: str) -> None:
    """One progress or status line on stderr, prefixed ``donki:`` (stdout stays for results)."""
    print(f"donki: {message}", file=sys.stderr, flush=True)


def is_terminal(stream: object = None) -> bool:
    """Whether ``stream`` (default stdout) is a terminal."""
    isatty = getattr(stream if stream is not None else sys.stdout, "isatty", None)
    return bool(isatty and isatty())


def console(stderr: bool = False) -> Console:
    """A rich console on stdout (or stderr): colours on a terminal, plain and wide elsewhere."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    if is_terminal(stream):
        return Console(file=stream, highlight=False)
    return Console(file=stream, width=PIPE_WIDTH, color_system=None, force_terminal=False, highlight=False,
                   soft_wrap=False)


def print_table(renderable: object) -> None:
    """A rich table on stdout: drawn on a terminal, plain aligned text (no padding lines) on a pipe."""
    if is_terminal(sys.stdout):
        console().print(renderable)
        return
    from harness.reporting.table import to_text

    print(to_text(renderable, width=PIPE_WIDTH), flush=True)
