"""What the ``donki`` commands print besides their results."""

from __future__ import annotations

import sys

__all__ = ["log"]


def log(message: str) -> None:
    """One progress or status line on stderr, prefixed ``donki:`` (stdout stays for results)."""
    print(f"donki: {message}", file=sys.stderr, flush=True)
