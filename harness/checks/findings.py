"""Findings gathered while messages stream by, kept to a bound.

A run where every message is wrong has as many findings as messages; a check keeps the
first :data:`MAX_KEPT` (in data order) and counts the rest, so a broken hour-long run is
reported without holding a million findings.
"""

from __future__ import annotations

from typing import Any

from harness.checks.result import CheckResult, Finding

__all__ = ["FindingLog", "MAX_KEPT"]

MAX_KEPT = 1000


class FindingLog:
    """Findings of one check: the first :data:`MAX_KEPT` kept, the others counted."""

    def __init__(self, limit: int = MAX_KEPT) -> None:
        self._limit = limit
        self._kept: list[Finding] = []
        self.omitted = 0

    def __len__(self) -> int:
        return len(self._kept) + self.omitted

    def add(self, finding: Finding) -> None:
        if len(self._kept) < self._limit:
            self._kept.append(finding)
        else:
            self.omitted += 1

    def result(self, name: str, metrics: dict[str, Any], *, checked: int, note: str = "") -> CheckResult:
        """The check's result, findings in data order (topic, partition, offset)."""
        ordered = sorted(self._kept, key=lambda f: (f.topic or "", f.partition or 0,
                                                     f.offset if f.offset is not None else -1))
        return CheckResult(name, tuple(ordered), metrics, checked=checked, note=note, omitted=self.omitted)
