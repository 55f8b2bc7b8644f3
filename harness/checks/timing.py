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
from harness.checks.result import CheckResult, Finding
from harness.checks.times import NS_PER_MS, RUN_CONTROL_SCHEMAS, DataTime
from harness.records import TIMESTAMP_CREATE_TIME

__all__ = ["RunWindow", "data_time_findings", "run_windows", "check_run_window", "in_window"]


def _where(r: RecordLike) -> str:
    return f"topic {r.topic} partition {r.partition} offset {r.offset}"


def _finding(message: str, r: RecordLike) -> Finding:
    meta = r.donki
    return Finding(message, stream=meta.stream if meta else None, topic=r.topic, partition=r.partition,
                   offset=r.offset, trigger=meta.trigger if meta else None)


def data_time_findings(ordered: Iterable[RecordLike]) -> tuple[list[Finding], int]:
    """Per (topic, partition, source): data times non-decreasing; Kafka create time == data time (ms).

    ``ordered`` is in (topic, partition, offset) order. Returns the findings and the
    number of messages with a data time.
    """
    findings: list[Finding] = []
    last: dict[tuple[str, int, str], tuple[int, RecordLike]] = {}
    checked = 0
    for r in ordered:
        t = data_time(r)
        if t is None or t.schema in RUN_CONTROL_SCHEMAS and t.time_ns == 0:
            continue
        checked += 1
        key = (r.topic, r.partition, t.source)
        if key in last and t.time_ns < last[key][0]:
            before, previous = last[key]
            findings.append(_finding(
                f"{t.schema} source {t.source!r}: data time {t.time_ns} ns at {_where(r)} is "
                f"{(before - t.time_ns) / NS_PER_MS:.3f} ms before {before} ns at offset {previous.offset} "
                "(data times of a source must never go backwards)", r))
        last[key] = (max(t.time_ns, last[key][0]) if key in last else t.time_ns, r)
        if r.timestamp_type == TIMESTAMP_CREATE_TIME and r.timestamp_ms != t.time_ns // NS_PER_MS:
            findings.append(_finding(
                f"{t.schema} source {t.source!r}: Kafka timestamp {r.timestamp_ms} ms at {_where(r)} differs from "
                f"its data time {t.time_ns} ns ({t.time_ns // NS_PER_MS} ms) by "
                f"{r.timestamp_ms - t.time_ns // NS_PER_MS} ms", r))
    return findings, checked


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


def check_run_window(records: Iterable[RecordLike]) -> CheckResult:
    """Every data message lies inside [start, stop] of a run of the recording's run control.

    A recording without a run start (pl72) has no window, and the check has nothing to check.
    """
    ordered = sorted(records, key=lambda r: (r.topic, r.partition, r.offset))
    timed = [(r, t) for r in ordered if (t := data_time(r)) is not None]
    windows = run_windows(t for _, t in timed)
    findings: list[Finding] = []
    checked = 0
    if windows:
        for r, t in timed:
            if t.schema in RUN_CONTROL_SCHEMAS:
                continue
            checked += 1
            if not any(in_window(t.time_ns, w.start_ns, w.stop_ns) for w in windows):
                findings.append(_finding(
                    f"{t.schema} source {t.source!r}: data time {t.time_ns} ns ({t.time_ns // NS_PER_MS} ms) at "
                    f"{_where(r)} lies outside {', '.join(w.describe() for w in windows)}", r))
    per_source: dict[str, int] = defaultdict(int)
    for f in findings:
        per_source[f.stream or "?"] += 1
    metrics = {"runs": [w.describe() for w in windows], "outside": dict(per_source)}
    return CheckResult("run-window", tuple(findings), metrics, checked=checked)
