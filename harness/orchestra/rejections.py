"""What the director refuses from the network, counted always and journaled by sample.

An unauthenticated director can be sent anything by anyone who reaches it. Every refusal
(an undecodable frame, a refused hello, a hello over the rate limit) is counted; the
first few of each kind are journaled and logged in full, then at most one per
:data:`SAMPLE_INTERVAL_S` with the number left out since the previous one. So the journal
and the log stay bounded however long a flood lasts, and still say that it happened.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from harness.orchestra.journal import EventKind

if TYPE_CHECKING:
    from harness.orchestra.journal import Journal

__all__ = ["FULL_EVENTS", "HELLO_BURST", "HELLO_RATE_HZ", "SAMPLE_INTERVAL_S", "HelloGate", "Rejections"]

log = logging.getLogger("harness.orchestra.director")

FULL_EVENTS = 20  # journaled in full per kind, before sampling starts
SAMPLE_INTERVAL_S = 1.0  # then at most one journal event per kind per this interval
HELLO_RATE_HZ = 200.0  # hellos of strangers handled per second; the rest are dropped (players re-send)
HELLO_BURST = 200


class Rejections:
    """Counts of refusals by kind, and the journal's sampled record of them."""

    def __init__(self, journal: Journal, *, full: int = FULL_EVENTS, interval_s: float = SAMPLE_INTERVAL_S) -> None:
        self._journal = journal
        self._full = full
        self._interval_s = interval_s
        self.counts: dict[str, int] = {}
        self._suppressed: dict[str, int] = {}
        self._next_sample: dict[str, float] = {}

    def add(self, kind: EventKind, player: str | None, detail: str, *, key: str | None = None) -> bool:
        """Count one refusal; journal it if it is among the first or due as a sample. True if journaled."""
        key = key or kind.value
        count = self.counts[key] = self.counts.get(key, 0) + 1
        now = time.monotonic()
        if count > self._full and now < self._next_sample.get(key, 0.0):
            self._suppressed[key] = self._suppressed.get(key, 0) + 1
            return False
        left_out = self._suppressed.pop(key, 0)
        if count > self._full:
            self._next_sample[key] = now + self._interval_s
            detail = f"{detail} (sample: {left_out} more since the last one, {count} in all)"
        log.warning("rejected %s from %s: %s", key, player or "a stranger", detail)
        self._journal.record(kind, player=player, detail=detail)
        return True

    def count(self, key: str) -> None:
        """Count a refusal that is neither journaled nor logged (a hello dropped by the rate limit)."""
        self.counts[key] = self.counts.get(key, 0) + 1


class HelloGate:
    """A token bucket for hellos from connections that are not registered players."""

    def __init__(self, rate_hz: float = HELLO_RATE_HZ, burst: int = HELLO_BURST) -> None:
        self._rate_hz = rate_hz
        self._burst = float(burst)
        self._tokens = float(burst)
        self._last = time.monotonic()

    def admit(self, now: float) -> bool:
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate_hz)
        self._last = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True
