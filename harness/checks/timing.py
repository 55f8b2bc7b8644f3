"""Timing invariants of ESS streams: data times per source never go backwards, the Kafka
timestamp is the data time (ms), and every data message lies inside its run's window.

A file writer cuts each stream at the run's start and stop times and trusts that a
source's times only grow; a generator or replayer that breaks either loses data in a
real file without any error, so both are checks of every run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from harness.checks.digest import RecordLike, data_time
from harness.checks.findings import FindingLog
from harness.checks.result import CheckResult, Finding
from harness.checks.times import NS_PER_MS, RUN_CONTROL_SCHEMAS, DataTime
from harness.records import TIMESTAMP_CREATE_TIME

__all__ = ["RunWindow", "DataTimeOrder", "RunWindowCheck", "data_time_findings", "run_windows", "check_run_window",
           "in_window"]


def _where(r: RecordLike) -> str:
    return f"topic {r.topic} partition {r.partition} offset {r.offset}"


def _finding(message: str, r: RecordLike) -> Finding:
    meta = r.donki
    return Finding(message, stream=meta.stream if meta else None, topic=r.topic, partition=r.partition,
                   offset=r.offset, trigger=meta.trigger if meta else None)


class DataTimeOrder:
    """Per (topic, partition, source): data times non-decreasing; Kafka create time == data time (ms).

    Fed in (topic, partition, offset) order; keeps the last time of each source.
    """

    def __init__(self) -> None:
        self._last: dict[tuple[str, int, str], tuple[int, int]] = {}  # -> highest time so far, its offset
        self.checked = 0  # messages with a data time

    def feed(self, r: RecordLike) -> list[Finding]:
        """The findings of one message (usually none)."""
        t = data_time(r)
        if t is None or t.schema in RUN_CONTROL_SCHEMAS and t.time_ns == 0:
            return []
        self.checked += 1
        found = []
        key = (r.topic, r.partition, t.source)
        last = self._last.get(key)
        if last is not None and t.time_ns < last[0]:
            found.append(_finding(
                f"{t.schema} source {t.source!r}: data time {t.time_ns} ns at {_where(r)} is "
                f"{(last[0] - t.time_ns) / NS_PER_MS:.3f} ms before {last[0]} ns at offset {last[1]} "
                "(data times of a source must never go backwards)", r))
        self._last[key] = (max(t.time_ns, last[0]), r.offset) if last is not None else (t.time_ns, r.offset)
        if r.timestamp_type == TIMESTAMP_CREATE_TIME and r.timestamp_ms != t.time_ns // NS_PER_MS:
            found.append(_finding(
                f"{t.schema} source {t.source!r}: Kafka timestamp {r.timestamp_ms} ms at {_where(r)} differs from "
                f"its data time {t.time_ns} ns ({t.time_ns // NS_PER_MS} ms) by "
                f"{r.timestamp_ms - t.time_ns // NS_PER_MS} ms", r))
        return found


def data_time_findings(ordered: Iterable[RecordLike]) -> tuple[list[Finding], int]:
    """:class:`DataTimeOrder` over ``ordered`` (in (topic, partition, offset) order): findings and timed count."""
    order = DataTimeOrder()
    findings = [f for r in ordered for f in order.feed(r)]
    return findings, order.checked


@dataclass(frozen=True)
class RunWindow:
    """One run from its run control: job id, start and stop (ns; stop ``None`` while open)."""

    job_id: str
    start_ns: int
    stop_ns: int | None

    def describe(self) -> str:
        stop = "open" if self.stop_ns is None else f"{self.stop_ns // NS_PER_MS} ms"
        return f"run {self.job_id!r} [{self.start_ns // NS_PER_MS} ms, {stop}]"


def in_window(time_ns: int, start_ns: int, stop_ns: int | None) -> bool:
    """Whether ``time_ns`` lies in [start, stop], compared in ms as the ESS file writer does.

    Run control carries ms, data ns: a message in the stop's millisecond is kept.
    """
    ms = time_ns // NS_PER_MS
    return ms >= start_ns // NS_PER_MS and (stop_ns is None or ms <= stop_ns // NS_PER_MS)


def run_windows(times: Iterable[DataTime]) -> list[RunWindow]:
    """The runs of the run-control messages among ``times`` (a 6s4t's stop replaces the pl72's)."""
    starts: dict[str, int] = {}
    stops: dict[str, int | None] = {}
    for t in times:
        if t.schema == "pl72":
            starts[t.source] = t.time_ns
            stops.setdefault(t.source, t.stop_ns)
        elif t.schema == "6s4t" and t.time_ns:
            stops[t.source] = t.time_ns
    return [RunWindow(job, start, stops.get(job)) for job, start in starts.items()]


class RunWindowCheck:
    """Every data message lies inside [start, stop] of a run of the recording's run control.

    ``windows`` come first (:func:`run_windows` over the run-control messages, which the
    recording's index finds without reading other payloads); then messages are fed one by
    one. Without a run start (pl72) there is no window, and nothing to check.
    """

    def __init__(self, windows: Iterable[RunWindow]) -> None:
        self._windows = list(windows)
        self._findings = FindingLog()
        self._outside: dict[str, int] = defaultdict(int)
        self._checked = 0

    def feed(self, r: RecordLike) -> None:
        if not self._windows:
            return
        t = data_time(r)
        if t is None or t.schema in RUN_CONTROL_SCHEMAS:
            return
        self._checked += 1
        if not any(in_window(t.time_ns, w.start_ns, w.stop_ns) for w in self._windows):
            finding = _finding(
                f"{t.schema} source {t.source!r}: data time {t.time_ns} ns ({t.time_ns // NS_PER_MS} ms) at "
                f"{_where(r)} lies outside {', '.join(w.describe() for w in self._windows)}", r)
            self._findings.add(finding)
            self._outside[finding.stream or "?"] += 1

    def result(self) -> CheckResult:
        metrics = {"runs": [w.describe() for w in self._windows], "outside": dict(self._outside)}
        return self._findings.result("run-window", metrics, checked=self._checked)


def check_run_window(records: Iterable[RecordLike]) -> CheckResult:
    """:class:`RunWindowCheck` over ``records`` (messages or digests, any order), windows found among them."""
    ordered = sorted(records, key=lambda r: (r.topic, r.partition, r.offset))
    check = RunWindowCheck(run_windows(t for r in ordered if (t := data_time(r)) is not None))
    for r in ordered:
        check.feed(r)
    return check.result()
