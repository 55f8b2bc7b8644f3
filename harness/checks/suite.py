"""All checks of a scenario run, from its scenario, journal and recording."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from harness.checks.acks import check_acks, check_levels
from harness.checks.config import CHECK_NAMES, ChecksConfig, RateOptions
from harness.checks.digest import RecordDigest, RecordLike, digest
from harness.checks.integrity import check_integrity
from harness.checks.ordering import check_ordering
from harness.checks.rates import check_rates, stream_trigger_times
from harness.checks.result import CheckResult, Finding
from harness.checks.views import ViewsCheck
from harness.orchestra.journal import EventKind, JournalEvent

__all__ = ["CHECK_NAMES", "ChecksConfig", "run_checks", "read_recording", "golden_check", "run_problems_check",
           "acked_counts"]


def acked_counts(journal: Iterable[JournalEvent]) -> dict[str, list[int]]:
    """Per player, the ``messages`` count of each of its acks, in trigger order."""
    per: dict[str, dict[int, int]] = defaultdict(dict)
    for e in journal:
        if e.kind is EventKind.ACK and e.player and e.trigger is not None:
            per[e.player][e.trigger] = int(e.counts.get("messages", 0))
    return {p: [counts[t] for t in sorted(counts)] for p, counts in per.items()}


def _rated_streams(scenario: Any, journal: list[JournalEvent], options: RateOptions
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


def _rates(scenario: Any, journal: list[JournalEvent], records: Sequence[RecordLike],
           options: RateOptions) -> CheckResult:
    nominal, tolerance, unrated = _rated_streams(scenario, journal, options)
    clocks = {p.name: ("timestamp" if p.clock == "wall" else "received") for p in scenario.players}
    times: dict[str, list[float]] = {}
    for clock in set(clocks.values()):
        by_clock = stream_trigger_times(records, clock)
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


def read_recording(recording: Any, *, views: bool = True) -> tuple[list[RecordDigest], CheckResult]:
    """One pass over a recording: every message's digest, and the NeXus views checked.

    Payloads are dropped once fingerprinted, so memory follows the message count. With
    ``views=False`` the views are not read (the result is an empty ``views`` check).
    """
    checker = ViewsCheck(recording) if views else None
    records: list[RecordDigest] = []
    for record in recording.records():
        if checker is not None:
            checker.feed(record)
        records.append(digest(record))
    return records, checker.result() if checker is not None else CheckResult("views")


def run_checks(scenario: Any, journal: Iterable[JournalEvent], recording: Any, *, problems: Iterable[str] = (),
               comparison: Any = None, read: tuple[list[RecordDigest], CheckResult] | None = None,
               config: ChecksConfig | None = None) -> dict[str, CheckResult]:
    """Run every check that ``config`` leaves on; ``recording`` is an open :class:`~harness.recording.Recording`.

    ``read`` is what :func:`read_recording` returned, for a caller that also needs the
    digests (the recording is then not read again). ``config`` (default: every check, its
    defaults) turns checks off and sets the rates check's options. Returns the results by
    name in :data:`CHECK_NAMES` order; a check turned off is not in it, nor ``golden``
    without a ``comparison``.
    """
    config = config if config is not None else ChecksConfig()
    events = sorted(journal, key=lambda e: e.seq)
    records, views = read if read is not None else read_recording(recording, views=config.enabled("views"))
    allowance: Mapping[str, int] = {p.name: p.expect.max_missed for p in scenario.players}
    expected = {name: sum(counts) for name, counts in acked_counts(events).items()}
    checks: dict[str, Callable[[], CheckResult]] = {
        "run": lambda: run_problems_check(problems),
        "acks": lambda: check_acks(events, allow_missed=allowance),
        "levels": lambda: check_levels(events),
        "ordering": lambda: check_ordering(records, expected_counts=expected),
        "integrity": lambda: check_integrity(events, records),
        "views": lambda: views,
        "rates": lambda: _rates(scenario, events, records, config.rates),
    }
    if comparison is not None:
        checks["golden"] = lambda: golden_check(comparison)
    return {name: check() for name, check in checks.items() if config.enabled(name)}
