"""A number per trigger, in a growing numpy array: what a check keeps instead of messages.

Triggers are numbered from 1 and arrive nearly in order, so one slot per trigger number
(8 bytes) is far smaller than anything kept per message; slots never written read as the
column's ``empty`` value.
"""

from __future__ import annotations

import numpy as np

__all__ = ["TriggerColumn"]

_FIRST_SIZE = 1024
#: Beyond this many slots from the lowest trigger, values go to a dict (a damaged header
#: saying trigger 10**15 must not allocate petabytes)
MAX_DENSE = 1 << 24


class TriggerColumn:
    """``trigger -> value`` for triggers ``>= 0``, stored densely from the lowest trigger seen."""

    def __init__(self, dtype: str | np.dtype = "f8", empty: float | int = np.nan) -> None:
        self._dtype = np.dtype(dtype)
        self._empty = empty
        self._base: int | None = None
        self._values = np.full(0, empty, dtype=self._dtype)
        self._sparse: dict[int, float | int] = {}

    def _dense(self, trigger: int) -> bool:
        if self._base is None:
            return True
        low, high = min(trigger, self._base), max(trigger, self._base + len(self._values) - 1)
        return high - low < MAX_DENSE

    def _slot(self, trigger: int) -> int:
        if self._base is None:
            self._base = trigger
            self._values = np.full(_FIRST_SIZE, self._empty, dtype=self._dtype)
        if trigger < self._base:
            grow = max(self._base - trigger, len(self._values))
            self._values = np.concatenate([np.full(grow, self._empty, dtype=self._dtype), self._values])
            self._base -= grow
        slot = trigger - self._base
        if slot >= len(self._values):
            grow = max(slot + 1 - len(self._values), len(self._values))
            self._values = np.concatenate([self._values, np.full(grow, self._empty, dtype=self._dtype)])
        return slot

    def get(self, trigger: int) -> float | int:
        if trigger in self._sparse:
            return self._sparse[trigger]
        if self._base is None or not 0 <= trigger - self._base < len(self._values):
            return self._empty
        return self._values[trigger - self._base].item()  # type: ignore[no-any-return]

    def add(self, trigger: int, amount: int) -> None:
        if not self._dense(trigger):
            self._sparse[trigger] = self._sparse.get(trigger, 0) + amount
            return
        slot = self._slot(trigger)  # may replace self._values: index it afterwards
        self._values[slot] += amount

    def keep_lowest(self, trigger: int, value: float) -> None:
        """Set the slot to ``value`` unless it holds a lower one (NaN counts as unset)."""
        if not self._dense(trigger):
            if not self._sparse.get(trigger, np.nan) <= value:
                self._sparse[trigger] = value
            return
        slot = self._slot(trigger)
        current = self._values[slot]
        if not current <= value:  # also when current is NaN
            self._values[slot] = value

    def items(self) -> list[tuple[int, float | int]]:
        """``(trigger, value)`` of every written slot, in trigger order."""
        dense: list[tuple[int, float | int]] = []
        if self._base is not None:
            values = self._values
            written = ~np.isnan(values) if self._dtype.kind == "f" else values != self._empty
            triggers = np.flatnonzero(written)
            dense = list(zip((triggers + self._base).tolist(), values[triggers].tolist(), strict=True))
        return sorted(dense + list(self._sparse.items())) if self._sparse else dense
