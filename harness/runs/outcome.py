"""The typed outcome of a run: what the players did, what was recorded, every check, the golden step."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import CheckFailed
from harness.reporting.model import RunReport, StreamRow
from harness.runs.golden import GoldenOutcome

if TYPE_CHECKING:
    from harness.checks.result import CheckResult
    from harness.recording.golden.compare import Comparison
    from harness.runs.sizing import SizedScenario
    from harness.runs.summary import RunSummary
    from harness.runs.topics import RunTopics
    from harness.scenarios import Scenario

__all__ = ["RunOutcome"]


@dataclass
class RunOutcome:
    """A finished run.

    ``summary`` is what the players did (per stream counts, rates, the journal);
    ``recording`` the run's HDF5 file (``None`` when the run was not recorded); ``checks``
    every check by name; ``golden`` what was done with the golden recording; ``started``
    what ``before_run`` returned (the service it started, say). The run's
    topics stay until :meth:`close` when the caller asked to keep them.
    """

    sized: SizedScenario
    summary: RunSummary
    topic_set: RunTopics
    recording: Path | None = None
    checks: dict[str, CheckResult] = field(default_factory=dict)
    golden: GoldenOutcome = field(default_factory=GoldenOutcome.disabled)
    comparison: Comparison | None = None
    ack_latencies_s: dict[str, list[float]] = field(default_factory=dict)
    trigger_times: dict[str, list[float]] = field(default_factory=dict)
    started: object = None  # what the request's before_run returned (the service under test, say)

    def __repr__(self) -> str:
        """One short line (pytest prints a failing test's arguments; a ``Scenario`` repr runs to pages)."""
        failed = [c.name for c in self.failed_checks]
        verdict = "ok" if self.ok else f"failed: {', '.join(failed)}" if failed else "not ok"
        return (f"<RunOutcome {self.scenario.name!r}, {self.scenario.triggers} triggers, {verdict}, "
                f"recording {self.recording}>")

    @property
    def scenario(self) -> Scenario:
        return self.sized.scenario

    @property
    def namespace(self) -> str:
        """The prefix of the run's topics (removed from topic names in golden recordings)."""
        return self.topic_set.prefix

    @property
    def topics(self) -> dict[str, str]:
        """The run's topics: local name (as in the scenario) -> full name in Kafka."""
        return dict(self.topic_set.names)

    @property
    def bootstrap(self) -> str:
        return self.summary.bootstrap

    @property
    def ok(self) -> bool:
        """Every check passed; for a run without a recording, the players' summary is ok."""
        if not self.checks:
            return self.summary.ok
        return all(c.passed for c in self.checks.values())

    @property
    def failed_checks(self) -> list[CheckResult]:
        return [c for c in self.checks.values() if not c.passed]

    def check(self, name: str) -> CheckResult:
        return self.checks[name]

    def failure_report(self, limit: int = 10) -> str:
        """Which checks failed and, for each, the first findings (stream and message named)."""
        failed = self.failed_checks
        head = (f"scenario {self.scenario.name!r}: {len(failed)} of {len(self.checks)} checks failed "
                f"({', '.join(c.name for c in failed)}); recording {self.recording}")
        return "\n".join([head, *(c.report(limit) for c in failed)])

    def assert_ok(self) -> RunOutcome:
        """Raise :class:`CheckFailed` with :meth:`failure_report` unless every check passed."""
        __tracebackhide__ = True
        if not self.ok:
            raise CheckFailed(self.failure_report())
        return self

    def finish(self, passed: bool) -> Path | None:
        """Write the golden recording if it is pending and ``passed``; returns the path written."""
        if self.recording is None:
            return None
        return self.golden.finish(self.recording, passed=passed, namespace=self.namespace)

    def close(self) -> None:
        """Delete the run's topics if the run kept them (topics of a caller's namespace are its own)."""
        self.topic_set.delete()

    def report(self) -> RunReport:
        """The run as reports render it (table rows, checks, plot data)."""
        integrity = self.checks.get("integrity")
        ack_metrics = self.checks["acks"].metrics.get("players", {}) if "acks" in self.checks else {}
        rate_metrics = self.checks["rates"].metrics if "rates" in self.checks else {}
        rows = []
        for summary in self.summary.streams:
            bad = [f for f in (integrity.findings if integrity else ()) if summary.player in (f.stream, f.player)]
            rate = rate_metrics.get(summary.player)
            rows.append(StreamRow(
                stream=summary.player, player=summary.player, messages=summary.messages, bytes=summary.bytes,
                nominal_hz=summary.nominal_rate_hz,
                achieved_hz=rate["achieved_hz"] if isinstance(rate, dict) else summary.achieved_rate_hz,
                ack_p99_s=ack_metrics.get(summary.player, {}).get("p99"),
                integrity="ok" if not bad else f"{len(bad)} problem(s)"))
        return RunReport(self.scenario.name, self.ok, rows, {n: c.to_dict() for n, c in self.checks.items()},
                         self.trigger_times, self.ack_latencies_s, str(self.recording), self.golden.to_dict(),
                         {"outcome": self.summary.outcome, "elapsed_s": self.summary.elapsed_s,
                          "triggers": self.scenario.triggers, "topics": self.topics})

