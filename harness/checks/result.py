"""What every check returns: a verdict, findings that say what differs, and metrics."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.errors import CheckFailed

__all__ = ["Finding", "CheckResult", "REPORT_LIMIT"]

REPORT_LIMIT = 10


@dataclass(frozen=True)
class Finding:
    """One thing that is wrong, located as precisely as the data allow."""

    message: str
    stream: str | None = None
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    trigger: int | None = None
    player: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check.

    ``findings`` are in data order, so the first one is the first bad message;
    ``metrics`` holds the measured figures (per stream where that applies) for reports;
    ``note`` is what a reader should know besides the verdict (what was left out, how to
    accept a new golden recording), printed under it.
    """

    name: str
    findings: tuple[Finding, ...] = ()
    metrics: dict[str, Any] = field(default_factory=dict)
    checked: int = 0  # how many items (messages, triggers, streams) were examined
    note: str = ""
    omitted: int = 0  # findings counted but not kept (see harness.checks.findings)

    @property
    def passed(self) -> bool:
        return not self.findings

    def __bool__(self) -> bool:
        return self.passed

    def report(self, limit: int = REPORT_LIMIT) -> str:
        """A readable multi-line account: verdict first, then the first ``limit`` findings."""
        notes = [f"  {line}" for line in self.note.splitlines()]
        if self.passed:
            return "\n".join([f"{self.name}: passed ({self.checked} checked)", *notes])
        total = len(self.findings) + self.omitted
        lines = [f"{self.name}: {total} problem(s) in {self.checked} checked"]
        lines += [f"  - {f.message}" for f in self.findings[:limit]]
        if total > limit:
            lines.append(f"  ... and {total - min(limit, len(self.findings))} more")
        return "\n".join([*lines, *notes])

    def assert_passed(self) -> CheckResult:
        """Raise :class:`CheckFailed` (an ``AssertionError``) with :meth:`report` unless passed."""
        __tracebackhide__ = True
        if not self.passed:
            raise CheckFailed(self.report())
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "passed": self.passed,
            "checked": self.checked,
            "findings": [f.to_dict() for f in self.findings],
            **({"omitted": self.omitted} if self.omitted else {}),
            "metrics": self.metrics,
            **({"note": self.note} if self.note else {}),
        }
