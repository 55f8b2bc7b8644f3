"""All checks of a scenario run, from its scenario, journal and recording."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable, Mapping

from harness.checks.acks import check_acks, check_levels
from harness.checks.digest import RecordDigest, digest
from harness.checks.integrity import check_integrity
from harness.checks.ordering import check_ordering
from harness.checks.rates import check_rates, stream_trigger_times
from harness.checks.result import CheckResult, Finding
from harness.checks.timing import check_run_window
from harness.checks.views import ViewsCheck
from harness.orchestra.journal import EventKind, JournalEvent
from harness.records import KafkaRecord

__all__ = ["CHECK_NAMES", "run_checks", "read_recording", "golden_check", "run_problems_check", "acked_counts"]

#: Every check of a run, in report order.
CHECK_NAMES = ("run", "acks", "levels", "ordering", "run-window", "integrity", "views", "rates", "golden")


def acked_counts(journal: Iterable[JournalEvent]) -> dict[str, list[int]]:
    """Per player, the ``messages`` count of each of its acks, in trigger order."""
    per: dict[str, dict[int, int]] = defaultdict(dict)
    for e in journal:
        if e.kind is EventKind.ACK and e.player and e.trigger is not None:
            per[e.player][e.trigger] = int(e.counts.get("messages", 0))
    return {p: [counts[t] for t in sorted(counts)] for p, counts in per.items()}


def _rated_streams(scenario: Any, journal: list[JournalEvent]) -> tuple[dict[str, float], dict[str, float], list[str]]:
    """Nominal rates and tolerances of the streams that produce on every trigger they ack.

    A stream that sends on some triggers only (run control: a start and a stop) has no
    trigger rate of its own; it is listed as unrated rather than checked against nothing.
    """
    counts = acked_counts(journal)
    nominal, tolerance, unrated = {}, {}, []
    for player in scenario.players:
        produced = counts.get(player.name, [])
        if produced and all(n > 0 for n in produced):
            nominal[player.name] = player.rate_hz(scenario.rate_hz)
            tolerance[player.name] = player.expect.rate_tolerance
        else:
            unrated.append(player.name)
    return nominal, tolerance, unrated


def _rates(scenario: Any, journal: list[JournalEvent], records: list[KafkaRecord]) -> CheckResult:
    nominal, tolerance, unrated = _rated_streams(scenario, journal)
    clocks = {p.name: ("timestamp" if p.clock == "wall" else "received") for p in scenario.players}
    times: dict[str, list[float]] = {}
    for clock in set(clocks.values()):
        by_clock = stream_trigger_times(records, clock)
        times.update({s: t for s, t in by_clock.items() if clocks.get(s) == clock})
    result = check_rates(times, nominal, tolerance=tolerance)
    result.metrics["unrated"] = sorted(set(result.metrics["unrated"]) | set(unrated))
    return result


def run_problems_check(problems: Iterable[str]) -> CheckResult:
    """The run as a whole: aborted, players lost or failing, messages left undelivered."""
    findings = tuple(Finding(p) for p in problems)
    return CheckResult("run", findings, {}, checked=1)


def golden_check(comparison: Any) -> CheckResult:
    """A golden comparison (``harness.recording.Comparison``) as a check, first difference first."""
    ordered = sorted(comparison.differences, key=lambda d: (d.order, d.stream))
    findings = tuple(Finding(f"{d.line()}; golden recording {comparison.golden}", stream=d.stream) for d in ordered)
    metrics = {"golden": str(comparison.golden), "streams": len(comparison.streams)}
    return CheckResult("golden", findings, metrics, checked=len(comparison.streams))


def read_recording(recording: Any) -> tuple[list[RecordDigest], CheckResult]:
    """One pass over a recording: every message's digest, and the NeXus views checked.

    Payloads are dropped once fingerprinted, so memory follows the message count.
    """
    views = ViewsCheck(recording)
    records = []
    for record in recording.records():
        views.feed(record)
        records.append(digest(record))
    return records, views.result()


def run_checks(scenario: Any, journal: Iterable[JournalEvent], recording: Any, *, problems: Iterable[str] = (),
               comparison: Any = None, read: tuple[list[RecordDigest], CheckResult] | None = None
               ) -> dict[str, CheckResult]:
    """Run every check; ``recording`` is an open :class:`~harness.recording.Recording`.

    ``read`` is what :func:`read_recording` returned, for a caller that also needs the
    digests (the recording is then not read again). Returns the results by name in
    :data:`CHECK_NAMES` order (``golden`` only with a ``comparison``).
    """
    events = sorted(journal, key=lambda e: e.seq)
    records, views = read if read is not None else read_recording(recording)
    allowance: Mapping[str, int] = {p.name: p.expect.max_missed for p in scenario.players}
    expected = {name: sum(counts) for name, counts in acked_counts(events).items()}
    results = {
        "run": run_problems_check(problems),
        "acks": check_acks(events, allow_missed=allowance),
        "levels": check_levels(events),
        "ordering": check_ordering(records, expected_counts=expected),
        "run-window": check_run_window(records),
        "integrity": check_integrity(events, records),
        "views": views,
        "rates": _rates(scenario, events, records),
    }
    if comparison is not None:
        results["golden"] = golden_check(comparison)
    return results
