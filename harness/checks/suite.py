"""All checks of a scenario run, from its scenario, journal and recording.

The recording is read once, message by message (:class:`RecordingPass`); no check keeps
the messages, so checking an hour-long run takes memory per stream and trigger, not per
message.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from harness.checks.acks import check_acks, check_levels
from harness.checks.config import CHECK_NAMES, ChecksConfig, RateOptions
from harness.checks.digest import RecordLike, data_time, digest
from harness.checks.integrity import IntegrityCheck
from harness.checks.ordering import OrderingCheck
from harness.checks.rates import CLOCKS, TriggerTimes, check_rates
from harness.checks.result import CheckResult, Finding
from harness.checks.times import RUN_CONTROL_SCHEMAS, data_time_of
from harness.checks.timing import RunWindow, RunWindowCheck, run_windows
from harness.checks.views import ViewsCheck
from harness.orchestra.journal import EventKind, JournalEvent
from harness.records import KafkaRecord

__all__ = ["CHECK_NAMES", "ChecksConfig", "RecordingPass", "run_checks", "checks_of", "check_recording",
           "recording_windows", "golden_check", "run_problems_check", "acked_counts"]


def acked_counts(journal: Iterable[JournalEvent]) -> dict[str, list[int]]:
    """Per player, the ``messages`` count of each of its acks, in trigger order."""
    per: dict[str, dict[int, int]] = defaultdict(dict)
    for e in journal:
        if e.kind is EventKind.ACK and e.player and e.trigger is not None:
            per[e.player][e.trigger] = int(e.counts.get("messages", 0))
    return {p: [counts[t] for t in sorted(counts)] for p, counts in per.items()}


def _rated_streams(scenario: Any, journal: Sequence[JournalEvent], options: RateOptions
                  ) -> tuple[dict[str, float], dict[str, float], list[str]]:
    """Nominal rates and tolerances of the streams that produce on every trigger they ack.

    A stream that sends on some triggers only, or fewer than ``options.min_messages``
    messages in all (run control: a start and a stop), has no trigger rate of its own; it
    is listed as unrated rather than checked against nothing. ``options.tolerance``, when
    set, replaces each player's ``expect.rate_tolerance``.
    """
    counts = acked_counts(journal)
    nominal, tolerance, unrated = {}, {}, []
    for player in scenario.players:
        produced = counts.get(player.name, [])
        if produced and all(n > 0 for n in produced) and sum(produced) >= options.min_messages:
            nominal[player.name] = player.rate_hz(scenario.rate_hz)
            own = player.expect.rate_tolerance
            tolerance[player.name] = own if options.tolerance is None else options.tolerance
        else:
            unrated.append(player.name)
    return nominal, tolerance, unrated


def _clock_of(player: Any) -> str:
    """The clock a player's trigger times are read on: its data's timestamps, or when they were received."""
    return "timestamp" if player.clock == "wall" else "received"


def _rates(scenario: Any, journal: Sequence[JournalEvent], gathered: Mapping[str, TriggerTimes],
           options: RateOptions) -> CheckResult:
    nominal, tolerance, unrated = _rated_streams(scenario, journal, options)
    clocks = {p.name: _clock_of(p) for p in scenario.players}
    times: dict[str, list[float]] = {}
    for clock in set(clocks.values()):
        by_clock = gathered[clock].times()
        times.update({s: t for s, t in by_clock.items() if clocks.get(s) == clock})
    jitter = None if options.jitter_p99_ms is None else options.jitter_p99_ms / 1000.0
    result = check_rates(times, nominal, tolerance=tolerance, statistic=options.statistic,
                         confidence=options.confidence, jitter_p99_limit_s=jitter)
    result.metrics["unrated"] = sorted(set(result.metrics["unrated"]) | set(unrated))
    return result


def run_problems_check(problems: Iterable[str]) -> CheckResult:
    """The run as a whole: aborted, players lost or failing, messages left undelivered."""
    findings = tuple(Finding(p) for p in problems)
    return CheckResult("run", findings, {}, checked=1)


def golden_check(comparison: Any) -> CheckResult:
    """A golden comparison (``harness.recording.Comparison``) as a check, first difference first.

    The first finding is the first differing message (stream, seq, trigger, field, golden
    and run values); the note says which triggers were compared when the lengths differ
    and, on a difference, how to accept the run (``--donki-record-mode=rewrite``) and to
    see every difference (``donki golden diff GOLDEN RUN``).
    """
    ordered = comparison.ordered()
    findings = tuple(Finding(("first difference: " if i == 0 else "") + d.line(), stream=d.stream)
                     for i, d in enumerate(ordered))
    window = comparison.window
    metrics: dict[str, Any] = {"golden": str(comparison.golden), "streams": len(comparison.streams)}
    notes = []
    if window is not None:
        metrics["triggers"] = {"golden": window.golden, "run": window.run, "compared": window.compared}
        notes.append(window.note())
    if findings:
        notes.append(comparison.accept_hint())
    return CheckResult("golden", findings, metrics, checked=len(comparison.streams), note="\n".join(notes))


class RecordingPass:
    """Every streaming check of a run, fed one message at a time in the recording's order.

    Each message is digested once and handed to the ordering, run-window, integrity, rates
    and views checks that ``config`` leaves on, then dropped: what stays is per stream and
    per trigger (sequence ranges, a few numbers per trigger), not per message. ``windows``
    are the runs of the recording's run control (:func:`recording_windows`).
    """

    def __init__(self, scenario: Any, journal: Sequence[JournalEvent], config: ChecksConfig, *,
                 windows: Iterable[RunWindow] = (), views: ViewsCheck | None = None) -> None:
        self._scenario, self._journal, self._config = scenario, journal, config
        expected = {name: sum(counts) for name, counts in acked_counts(journal).items()}
        self._ordering = OrderingCheck(expected) if config.enabled("ordering") else None
        self._window = RunWindowCheck(windows) if config.enabled("run-window") else None
        self._integrity = IntegrityCheck(journal) if config.enabled("integrity") else None
        # the timestamp clock always (the outcome's trigger times), the received one only for a player that rates by it
        used = {_clock_of(p) for p in scenario.players}
        self._times = {clock: TriggerTimes(clock) for clock in CLOCKS if clock == "timestamp" or clock in used}
        self._views = views
        self.messages = 0

    def feed(self, record: RecordLike) -> None:
        if isinstance(record, KafkaRecord):
            if self._views is not None:
                self._views.feed(record)
            d = digest(record)
        else:
            d = record
        self.messages += 1
        for check in (self._ordering, self._window, self._integrity):
            if check is not None:
                check.feed(d)
        for times in self._times.values():
            times.feed(d)

    def trigger_times(self, clock: str = "timestamp") -> dict[str, list[float]]:
        """Per stream, the time of the first message of each trigger (see :class:`TriggerTimes`)."""
        return self._times[clock].times()

    def results(self) -> dict[str, CheckResult]:
        """The streaming checks' results by name (those turned off are absent)."""
        found: dict[str, CheckResult] = {}
        for name, check in (("ordering", self._ordering), ("run-window", self._window),
                            ("integrity", self._integrity)):
            if check is not None:
                found[name] = check.result()
        if self._config.enabled("views"):
            found["views"] = self._views.result() if self._views is not None else CheckResult("views")
        if self._config.enabled("rates"):
            found["rates"] = _rates(self._scenario, self._journal, self._times, self._config.rates)
        return found


def recording_windows(recording: Any) -> list[RunWindow]:
    """The runs of a recording's run control, read from its run-control messages alone (found by the index)."""
    schemas = recording.index["schema"]
    rows = np.flatnonzero(np.isin(schemas, [s.encode() for s in RUN_CONTROL_SCHEMAS]))
    return run_windows(t for r in recording.records(rows) if (t := data_time_of(r.value)) is not None)


def check_recording(scenario: Any, journal: Sequence[JournalEvent], recording: Any, config: ChecksConfig
                    ) -> RecordingPass:
    """One pass over an open :class:`~harness.recording.Recording` through every streaming check."""
    views = ViewsCheck(recording) if config.enabled("views") else None
    windows = recording_windows(recording) if config.enabled("run-window") else []
    checks = RecordingPass(scenario, journal, config, windows=windows, views=views)
    for record in recording.records():
        checks.feed(record)
    return checks


def run_checks(scenario: Any, journal: Iterable[JournalEvent], recording: Any, *, problems: Iterable[str] = (),
               comparison: Any = None, records: Iterable[RecordLike] | None = None,
               config: ChecksConfig | None = None) -> dict[str, CheckResult]:
    """Run every check that ``config`` leaves on over ``recording`` (an open :class:`~harness.recording.Recording`).

    ``records`` (messages or digests) stand in for a recording, e.g. in tests; they are
    fed in (topic, partition, offset) order and the run windows are found among them.
    ``config`` (default: every check, its defaults) turns checks off and sets the rates
    check's options. Returns the results by name in :data:`CHECK_NAMES` order; a check
    turned off is not in it, nor ``golden`` without a ``comparison``.
    """
    return checks_of(scenario, journal, recording, problems=problems, comparison=comparison, records=records,
                     config=config)[0]


def checks_of(scenario: Any, journal: Iterable[JournalEvent], recording: Any, *, problems: Iterable[str] = (),
              comparison: Any = None, records: Iterable[RecordLike] | None = None,
              config: ChecksConfig | None = None) -> tuple[dict[str, CheckResult], RecordingPass]:
    """:func:`run_checks`, and the pass it made (for its trigger times)."""
    config = config if config is not None else ChecksConfig()
    events = sorted(journal, key=lambda e: e.seq)
    if records is None:
        streamed = check_recording(scenario, events, recording, config)
    else:
        ordered = sorted(records, key=lambda r: (r.topic, r.partition, r.offset))
        windows = run_windows(t for r in ordered if (t := data_time(r)) is not None)
        streamed = RecordingPass(scenario, events, config, windows=windows)
        for r in ordered:
            streamed.feed(r)
    allowance: Mapping[str, int] = {p.name: p.expect.max_missed for p in scenario.players}
    found = streamed.results()
    checks: dict[str, Callable[[], CheckResult]] = {
        "run": lambda: run_problems_check(problems),
        "acks": lambda: check_acks(events, allow_missed=allowance),
        "levels": lambda: check_levels(events),
    }
    if comparison is not None:
        checks["golden"] = lambda: golden_check(comparison)
    results = {name: check() for name, check in checks.items() if config.enabled(name)}
    results.update(found)
    return {name: results[name] for name in CHECK_NAMES if name in results}, streamed
