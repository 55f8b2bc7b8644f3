"""Where player failures are collected until the test (or CLI) that ran the players asks."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from harness.errors import PlayerFailed, PlayersFailed

__all__ = ["FailureLog", "raise_failures"]


class FailureLog:
    """Thread-safe list of :class:`~harness.errors.PlayerFailed`; nothing is dropped."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._errors: list[PlayerFailed] = []

    def add(self, error: PlayerFailed) -> None:
        with self._lock:
            self._errors.append(error)

    def peek(self) -> list[PlayerFailed]:
        """The failures collected so far (kept)."""
        with self._lock:
            return list(self._errors)

    def take(self) -> list[PlayerFailed]:
        """The failures collected so far (removed: a test that expected them consumes them)."""
        with self._lock:
            errors, self._errors = self._errors, []
            return errors

    def __len__(self) -> int:
        with self._lock:
            return len(self._errors)


def raise_failures(errors: Iterable[PlayerFailed]) -> None:
    """Raise the one failure as is, several as :class:`~harness.errors.PlayersFailed`, none: return."""
    errors = list(errors)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise PlayersFailed(errors)
