"""The sequence numbers of one stream as ranges, so a check remembers gaps, not messages.

A stream's ``donki.seq`` runs 0, 1, 2, ... without gaps; a clean stream of a million
messages is one range. Each range keeps where its first and last message were saved, so a
gap or a duplicate is still reported with its neighbours' places.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

__all__ = ["Place", "SeqRange", "SeqRanges"]


@dataclass(frozen=True)
class Place:
    """Where a message was saved."""

    topic: str
    partition: int
    offset: int
    trigger: int | None = None

    def __str__(self) -> str:
        return f"topic {self.topic} partition {self.partition} offset {self.offset}"


@dataclass
class SeqRange:
    """Sequence numbers ``low..high`` (inclusive), all seen, with the places of both ends."""

    low: int
    high: int
    low_at: Place
    high_at: Place

    def place_of(self, seq: int) -> Place | None:
        return self.low_at if seq == self.low else self.high_at if seq == self.high else None


class SeqRanges:
    """The set of seen sequence numbers of one stream, as sorted disjoint ranges."""

    def __init__(self) -> None:
        self._lows: list[int] = []
        self._ranges: list[SeqRange] = []

    def __len__(self) -> int:
        """How many distinct sequence numbers were seen."""
        return sum(r.high - r.low + 1 for r in self._ranges)

    @property
    def ranges(self) -> tuple[SeqRange, ...]:
        return tuple(self._ranges)

    def find(self, seq: int) -> SeqRange | None:
        """The range holding ``seq``, if it was seen."""
        i = bisect_right(self._lows, seq) - 1
        if i >= 0 and self._ranges[i].high >= seq:
            return self._ranges[i]
        return None

    def add(self, seq: int, at: Place) -> SeqRange | None:
        """Note ``seq`` saved at ``at``; returns the range that already held it (a duplicate), else ``None``."""
        i = bisect_right(self._lows, seq) - 1
        if i >= 0 and self._ranges[i].high >= seq:
            return self._ranges[i]
        joins_left = i >= 0 and self._ranges[i].high == seq - 1
        joins_right = i + 1 < len(self._ranges) and self._ranges[i + 1].low == seq + 1
        if joins_left and joins_right:
            left, right = self._ranges[i], self._ranges.pop(i + 1)
            del self._lows[i + 1]
            left.high, left.high_at = right.high, right.high_at
        elif joins_left:
            left = self._ranges[i]
            left.high, left.high_at = seq, at
        elif joins_right:
            right = self._ranges[i + 1]
            right.low, right.low_at = seq, at
            self._lows[i + 1] = seq
        else:
            self._ranges.insert(i + 1, SeqRange(seq, seq, at, at))
            self._lows.insert(i + 1, seq)
        return None

    def gaps(self, top: int | None = None) -> list[tuple[int, int, SeqRange | None, SeqRange | None]]:
        """Missing ``(first, last, range before, range after)`` in ``0..top-1`` (default: up to the highest seen)."""
        end = top if top is not None else (self._ranges[-1].high + 1 if self._ranges else 0)
        found: list[tuple[int, int, SeqRange | None, SeqRange | None]] = []
        expected, before = 0, None
        for r in self._ranges:
            if r.low >= end:
                break
            if r.low > expected:
                found.append((expected, r.low - 1, before, r))
            expected, before = r.high + 1, r
        if expected < end:
            found.append((expected, end - 1, before, None))
        return found
