"""A scenario run with everything a test needs: recording, every check, golden comparison.

This is the engine behind ``pytest --donki-scenario``, the ``donki_run`` fixture and
``donki check``: it runs the scenario while recording its topics, then checks the run
(acks, levels, ordering, data-save integrity, NeXus views, rates) and compares it with
its golden recording as the record mode says. Writing a golden recording is left to
:meth:`CheckedRun.finish`, once the caller knows whether the test passed.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from harness.checks.result import CheckResult
from harness.checks.suite import read_recording, run_checks
from harness.errors import CheckFailed, ScenarioError
from harness.reporting.model import RunReport, StreamRow

__all__ = ["LENGTHS", "sized_scenario", "GoldenOutcome", "CheckedRun", "run_checked"]

#: ``--donki-length`` values besides a trigger count (``100``) or a duration (``30s``)
LENGTHS = ("golden", "ci", "full")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)s$")


def sized_scenario(scenario: Any, length: str | int | None = "golden") -> tuple[Any, str]:
    """The scenario at the asked length, and the name of its golden recording.

    ``golden`` (default): the short variant golden recordings hold (its CI variant, at
    most a few triggers), golden name = scenario name; ``ci``: its ``[scenario.ci]``
    variant; ``full``: as written; an integer or ``"<n>"``: that many triggers; ``"<s>s"``:
    that many seconds. Lengths other than ``golden`` have golden names ``<name>.<length>``.
    """
    from harness.recording.scenario_recording import golden_scenario

    text = "golden" if length is None else str(length).strip()
    if text == "golden":
        return golden_scenario(scenario), scenario.name
    if text == "ci":
        return scenario.ci(), f"{scenario.name}.ci"
    if text == "full":
        if scenario.triggers is None:
            raise ScenarioError(f"scenario {scenario.name!r} has no length of its own; give --donki-length=N or Ns")
        return scenario, f"{scenario.name}.full"
    if text.isdigit() and int(text) > 0:
        return scenario.with_length(triggers=int(text)), f"{scenario.name}.{int(text)}t"
    match = _DURATION.match(text)
    if match and float(match.group(1)) > 0:
        return scenario.with_length(duration_s=float(match.group(1))), f"{scenario.name}.{match.group(1)}s"
    raise ScenarioError(f"length {length!r} is not valid; expected one of {', '.join(LENGTHS)}, a trigger count "
                        "(e.g. 100) or a duration in seconds (e.g. 30s)")


@dataclass
class GoldenOutcome:
    """What happened with the golden recording: ``compared``, ``pending`` (to be written if
    the test passes), ``written``, ``not written`` (the test failed) or ``disabled``."""

    name: str
    path: Path | None
    mode: str
    action: str
    plan: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "path": str(self.path) if self.path else None, "mode": self.mode,
                "action": self.action}


@dataclass
class CheckedRun:
    """A finished, recorded and checked scenario run."""

    scenario: Any
    result: Any  # harness.scenarios.RunResult
    recording: Path
    namespace: str
    checks: dict[str, CheckResult]
    golden: GoldenOutcome
    store: Any = None
    ack_latencies_s: dict[str, list[float]] = field(default_factory=dict)
    trigger_times: dict[str, list[float]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(c.passed for c in self.checks.values())

    @property
    def topics(self) -> dict[str, str]:
        """The run's topics: local name (as in the scenario) -> full name in Kafka."""
        return dict(self.result.topics)

    @property
    def bootstrap(self) -> str:
        return self.result.bootstrap

    @property
    def failed_checks(self) -> list[CheckResult]:
        return [c for c in self.checks.values() if not c.passed]

    def check(self, name: str) -> CheckResult:
        return self.checks[name]

    def failure_report(self, limit: int = 10) -> str:
        """Which checks failed and, for each, the first findings (stream and message named)."""
        failed = self.failed_checks
        head = f"scenario {self.scenario.name!r}: {len(failed)} of {len(self.checks)} checks failed " \
               f"({', '.join(c.name for c in failed)}); recording {self.recording}"
        return "\n".join([head, *(c.report(limit) for c in failed)])

    def assert_ok(self) -> "CheckedRun":
        """Raise :class:`CheckFailed` with :meth:`failure_report` unless every check passed."""
        __tracebackhide__ = True
        if not self.ok:
            raise CheckFailed(self.failure_report())
        return self

    def finish(self, passed: bool) -> Path | None:
        """Write the golden recording if it is pending and ``passed``; returns the path written."""
        if self.golden.action != "pending":
            return None
        plan = self.golden.plan
        candidate = self.store.candidate_path(plan)
        shutil.copyfile(self.recording, candidate)  # the run's own recording stays for the report
        written = self.store.commit(plan, candidate, passed=passed, namespace=self.namespace)
        self.golden.action = "written" if written else "not written"
        return written

    def report(self) -> RunReport:
        """The run as reports render it (table rows, checks, plot data)."""
        integrity = self.checks.get("integrity")
        ack_metrics = self.checks["acks"].metrics.get("players", {}) if "acks" in self.checks else {}
        rate_metrics = self.checks["rates"].metrics if "rates" in self.checks else {}
        rows = []
        for summary in self.result.streams:
            bad = [f for f in (integrity.findings if integrity else ()) if f.stream == summary.player
                   or f.player == summary.player]
            rate = rate_metrics.get(summary.player)
            rows.append(StreamRow(
                stream=summary.player, player=summary.player, messages=summary.messages, bytes=summary.bytes,
                nominal_hz=summary.nominal_rate_hz,
                achieved_hz=rate["achieved_hz"] if isinstance(rate, dict) else summary.achieved_rate_hz,
                ack_p99_s=ack_metrics.get(summary.player, {}).get("p99"),
                integrity="ok" if not bad else f"{len(bad)} problem(s)"))
        return RunReport(self.scenario.name, self.ok, rows, {n: c.to_dict() for n, c in self.checks.items()},
                         self.trigger_times, self.ack_latencies_s, str(self.recording), self.golden.to_dict(),
                         {"outcome": self.result.outcome, "elapsed_s": self.result.elapsed_s,
                          "triggers": self.scenario.triggers, "topics": dict(self.result.topics)})


def _golden(store: Any, name: str | None) -> GoldenOutcome:
    if store is None or name is None:
        return GoldenOutcome(name or "", None, "-", "disabled")
    plan = store.plan(name)  # mode none and no file: a RecordingError naming the path and the flag
    action = "compared" if plan.compare else ("pending" if plan.record else "kept")
    return GoldenOutcome(name, plan.path, str(store.mode), action, plan)


def run_checked(scenario: Any, broker: Any, workdir: str | Path, *, store: Any = None, golden_name: str | None = None,
                tolerance: Any = None, mode: str = "process", before_run: Callable[[dict[str, str]], None] | None = None,
                keep_topics: bool = False, log: Callable[[str], None] = lambda _m: None) -> CheckedRun:
    """Run ``scenario`` on ``broker`` (a started Broker or a bootstrap address), record it
    into ``workdir``, check it and compare it with golden recording ``golden_name`` of
    ``store`` (a :class:`~harness.recording.GoldenStore`; ``None`` disables goldens).

    ``before_run(topics)`` is called once the run's topics exist, before the first trigger
    (start a consumer under test there); with ``keep_topics`` they are left for the caller
    to read and delete (:attr:`CheckedRun.topics`).
    """
    from harness.checks.rates import stream_trigger_times
    from harness.recording.compare import compare_recordings
    from harness.recording.reader import Recording
    from harness.recording.scenario_recording import record_scenario

    golden = _golden(store, golden_name)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / (re.sub(r"[^A-Za-z0-9._-]+", "-", scenario.name) + ".h5")
    recorded = record_scenario(scenario, broker, path, overwrite=True, mode=mode, log=log, keep_topics=keep_topics,
                               before_run=before_run)
    with Recording(recorded.path) as recording:
        comparison = None
        if golden.action == "compared":
            comparison = compare_recordings(golden.path, recording, tolerance=tolerance, namespace=recorded.namespace)
        read = read_recording(recording)
        checks = run_checks(scenario, recorded.result.journal, recording, problems=recorded.result.problems,
                            comparison=comparison, read=read)
        times = stream_trigger_times(read[0])
    latencies: dict[str, list[float]] = {}
    for event in recorded.result.journal.events:
        if event.kind.value == "ack" and event.latency_s is not None:
            latencies.setdefault(event.player, []).append(event.latency_s)
    return CheckedRun(scenario, recorded.result, recorded.path, recorded.namespace, checks, golden, store,
                      latencies, times)
