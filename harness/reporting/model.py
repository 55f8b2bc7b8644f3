"""What a report shows about one scenario run, independent of how it is rendered."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["StreamRow", "RunReport"]


@dataclass(frozen=True)
class StreamRow:
    """One line of the per-stream summary table."""

    stream: str
    player: str
    messages: int
    bytes: int
    nominal_hz: float
    achieved_hz: float | None
    ack_p99_s: float | None
    integrity: str  # "ok", or the first problem in a few words

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class RunReport:
    """A scenario run as reports see it.

    ``trigger_times`` holds, per stream, the time (s) of each trigger's first message (for
    the rate-over-time plot); ``ack_latencies_s`` per player (for the histogram).
    """

    scenario: str
    ok: bool
    rows: list[StreamRow]
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> CheckResult.to_dict()
    trigger_times: dict[str, list[float]] = field(default_factory=dict)
    ack_latencies_s: dict[str, list[float]] = field(default_factory=dict)
    recording: str | None = None
    golden: dict[str, Any] | None = None  # {"path": ..., "action": "compared"|"written"|..., "passed": bool}
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunReport:
        """The report :meth:`to_dict` wrote (series are not carried; keys it does not know go to ``extra``)."""
        known = {"scenario", "ok", "streams", "checks", "recording", "golden"}
        return cls(data["scenario"], data["ok"], [StreamRow(**row) for row in data["streams"]],
                   data.get("checks", {}), recording=data.get("recording"), golden=data.get("golden"),
                   extra={k: v for k, v in data.items() if k not in known})

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "ok": self.ok,
            "streams": [r.to_dict() for r in self.rows],
            "checks": self.checks,
            "recording": self.recording,
            "golden": self.golden,
            **self.extra,
        }
