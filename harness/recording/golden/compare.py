"""Comparing a run's recording with its golden recording, stream by stream.

Same streams; per stream the same number of messages, in the same per-partition order,
with the same partition, sequence number, trigger, schema, key and headers and the
same payload where deterministic (see :mod:`harness.recording.golden.payloads`); and a
message rate within tolerance. The report names the first differing message and how to
accept the run as the new golden recording.

Recordings of different lengths (their ``triggers`` metadata, the run length asked for,
not the messages that arrived) are compared over the triggers both hold: messages whose
``donki.trigger`` is at most the shorter one's count, messages without harness headers,
and the run stop (``6s4t``), which every run sends on its last trigger whatever its
length (its trigger number is then not compared). The report says which triggers it
compared (:class:`TriggerWindow`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness import validate
from harness.errors import CheckFailed, ConfigError, RecordingError
from harness.headers import CRC32, TRIGGER
from harness.recording.format import NO_TRIGGER
from harness.recording.golden.payloads import PAYLOAD_MODES, payload_difference
from harness.recording.golden.store import RECORD_MODE_FLAG
from harness.recording.names import local_topic

__all__ = ["Tolerance", "Difference", "StreamStats", "TriggerWindow", "Comparison", "compare_recordings",
           "RUN_END_SCHEMAS", "ACCEPT_HINT"]

#: schemas a run sends on its last trigger, whatever its length: kept by a trigger window
RUN_END_SCHEMAS = frozenset({b"6s4t"})


MAX_RATE_TOLERANCE = 100.0  # relative: 100 = a hundredfold rate still passes; more means "ignore rates"


@dataclass(frozen=True)
class Tolerance:
    """How close a run must be to its golden recording.

    ``rate``: allowed relative difference of each stream's message rate (receive times),
    checked for streams spanning at least ``min_span_s`` in both. ``payloads``: one of
    ``normalized`` (default), ``exact``, ``schema``, ``ignore``; ``per_stream`` overrides it.
    """

    rate: float = 0.2
    min_span_s: float = 0.5
    payloads: str = "normalized"
    per_stream: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for what, value, high in (("rate tolerance", self.rate, MAX_RATE_TOLERANCE),
                                  ("min_span_s", self.min_span_s, validate.MAX_DURATION_S)):
            try:
                validate.number(what, value, low=0.0, high=high)
            except ConfigError as exc:
                raise RecordingError(str(exc)) from None
        for mode in (self.payloads, *self.per_stream.values()):
            if mode not in PAYLOAD_MODES:
                raise RecordingError(f"payload comparison {mode!r} is not valid; expected one of "
                                     f"{', '.join(PAYLOAD_MODES)}")

    def payload_mode(self, stream: str) -> str:
        return self.per_stream.get(stream, self.payloads)


@dataclass(frozen=True)
class Difference:
    """One way the run differs from the golden recording."""

    stream: str
    kind: str  # missing stream, extra stream, count, partition, seq, trigger, schema, key, headers, payload, rate
    detail: str
    index: int | None = None  # message number within the stream
    golden: str = ""  # topic[partition]@offset of the golden message
    run: str = ""
    order: float = math.inf  # the golden message's position in its recording, for "first"
    seq: int | None = None  # the golden message's donki.seq and donki.trigger
    trigger: int | None = None

    def line(self) -> str:
        """One line: stream, message (seq, number, trigger), what differs (golden value first), where."""
        if self.seq is not None:
            where = f" seq {self.seq} (message #{self.index}, trigger {self.trigger})"
        else:
            where = f" message #{self.index}" if self.index is not None else ""
        places = f" (golden {self.golden or '-'}, run {self.run or '-'})" if self.golden or self.run else ""
        return f"stream {self.stream!r}{where}: {self.kind}: {self.detail}{places}"


@dataclass(frozen=True)
class StreamStats:
    stream: str
    golden_messages: int
    run_messages: int
    golden_rate_hz: float | None
    run_rate_hz: float | None


@dataclass(frozen=True)
class TriggerWindow:
    """The triggers a comparison of recordings of different lengths covered: 1..:attr:`compared`."""

    golden: int  # triggers the golden recording holds
    run: int  # triggers the run holds

    @property
    def compared(self) -> int:
        return min(self.golden, self.run)

    def note(self) -> str:
        """What was compared, in one line."""
        if self.golden < self.run:
            return (f"the golden recording holds {self.golden} triggers: compared triggers 1-{self.golden} "
                    f"of {self.run}")
        return f"compared the run's {self.run} triggers with triggers 1-{self.run} of the golden recording's " \
               f"{self.golden}"


#: how a test accepts a run as its new golden recording (the pytest plugin's flag)
ACCEPT_HINT = f"rerun the test with {RECORD_MODE_FLAG}=rewrite"


@dataclass
class Comparison:
    """The result of :func:`compare_recordings`; ``window`` is set when the lengths differed."""

    golden: str
    run: str
    streams: list[StreamStats]
    differences: list[Difference]
    window: TriggerWindow | None = None

    @property
    def ok(self) -> bool:
        return not self.differences

    @property
    def first_difference(self) -> Difference | None:
        """The difference at the earliest golden message (stream-level ones last)."""
        return min(self.differences, key=lambda d: (d.order, d.stream)) if self.differences else None

    def ordered(self) -> list[Difference]:
        """Every difference, first difference first."""
        return sorted(self.differences, key=lambda d: (d.order, d.stream))

    def accept_hint(self, accept: str = ACCEPT_HINT) -> str:
        """How to accept the run as the golden recording, and to see every difference."""
        return (f"to accept the run as the new golden recording: {accept}; every difference: "
                f"donki golden diff {self.golden} {self.run}")

    def report(self, limit: int = 20, *, accept: str | None = ACCEPT_HINT) -> str:
        """The verdict; when different, the first difference, up to ``limit`` more, and how to accept
        the run (``accept``: the way, ``None`` to leave it out)."""
        window = [self.window.note()] if self.window is not None else []
        if self.ok:
            return "; ".join([f"{self.run} matches golden recording {self.golden} ({len(self.streams)} streams)",
                              *window])
        first = self.first_difference
        assert first is not None
        lines = [f"{self.run} differs from golden recording {self.golden}:", *window,
                 f"first difference: {first.line()}"]
        ordered = self.ordered()
        if len(ordered) > 1:
            lines.append(f"all {len(ordered)} differences:")
            lines += [f"  {d.line()}" for d in ordered[:limit]]
        if len(ordered) > limit:
            lines.append(f"  ... and {len(ordered) - limit} more")
        if accept is not None:
            lines.append(self.accept_hint(accept))
        return "\n".join(lines)

    def raise_if_different(self) -> None:
        """A :class:`CheckFailed` carrying the report when the run differs."""
        if not self.ok:
            raise CheckFailed(self.report())


def _streams(recording: Any, namespace: str | None, upto: int | None = None) -> dict[str, np.ndarray]:
    """Stream -> rows in per-partition offset order (with ``upto``: only the window's rows)."""
    index = recording.index
    names = recording.stream_names()
    keys = [name if name is not None else f"{local_topic(recording.topics[t], namespace)}[{p}]"
            for name, t, p in zip(names, index["topic"].tolist(), index["partition"].tolist(), strict=True)]
    groups: dict[str, list[int]] = {}
    kept = _in_window(index, upto)
    for row, key in enumerate(keys):
        if kept[row]:
            groups.setdefault(key, []).append(row)
    out = {}
    for key, rows in groups.items():
        rows_array = np.asarray(rows, dtype=np.int64)
        order = np.lexsort((index["offset"][rows_array], index["partition"][rows_array]))
        out[key] = rows_array[order]
    return out


def _in_window(index: np.ndarray, upto: int | None) -> np.ndarray:
    """Rows of triggers 1..``upto``, rows without a trigger and run stops (all rows without ``upto``)."""
    if upto is None:
        return np.ones(len(index), dtype=bool)
    trigger = index["trigger"]
    kept: np.ndarray = (trigger == NO_TRIGGER) | (trigger <= upto) | np.isin(index["schema"], list(RUN_END_SCHEMAS))
    return kept


def _trigger_count(recording: Any) -> int | None:
    """The triggers a recording's run was asked for: its ``triggers`` metadata, else its scenario's."""
    value = recording.metadata.get("triggers")
    if value is None and recording.scenario is not None:
        value = recording.scenario.data().get("scenario", {}).get("triggers")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _window(golden: Any, run: Any, triggers: int | None) -> TriggerWindow | None:
    g, r = _trigger_count(golden), triggers if triggers is not None else _trigger_count(run)
    return TriggerWindow(g, r) if g is not None and r is not None and g != r else None


def _rate(recording: Any, rows: np.ndarray, min_span_s: float) -> float | None:
    times = recording.index["receive_time"][rows]
    if len(times) < 2:
        return None
    span = float(times.max() - times.min())
    return (len(times) - 1) / span if span >= min_span_s else None


def _without_run_end(recording: Any, rows: np.ndarray) -> np.ndarray:
    kept: np.ndarray = rows[~np.isin(recording.index["schema"][rows], list(RUN_END_SCHEMAS))]
    return kept


def _place(record: Any) -> str:
    return f"{record.topic}[{record.partition}]@{record.offset}"


def _pair_difference(golden: Any, run: Any, mode: str, *, run_end: bool = False) -> tuple[str, str] | None:
    """(kind, detail) of the first way ``run`` differs from ``golden``, ``None`` if equal.

    ``run_end``: a run stop in a trigger window, sent on each recording's own last
    trigger, so its trigger number is not compared.
    """
    if golden.partition != run.partition:
        return "partition", f"golden {golden.partition}, run {run.partition}"
    g, r = golden.donki, run.donki
    if (g is None) != (r is None):
        return "headers", "donki headers present in one only"
    if g is not None and g.seq != r.seq:
        return "seq", f"golden {g.seq}, run {r.seq}"
    if g is not None and g.trigger != r.trigger and not run_end:
        return "trigger", f"golden {g.trigger}, run {r.trigger}"
    if golden.schema != run.schema:
        return "schema", f"golden {golden.schema or '(none)'}, run {run.schema or '(none)'}"
    if golden.key != run.key:
        return "key", f"golden {golden.key!r}, run {run.key!r}"
    found = payload_difference(golden.schema, golden.value, run.value, mode)
    if found:
        return "payload", found
    skip = {CRC32} if mode != "exact" else set()  # the checksum follows the payload's times
    if run_end:
        skip.add(TRIGGER)
    g_headers = [h for h in golden.headers if h[0] not in skip]
    r_headers = [h for h in run.headers if h[0] not in skip]
    if g_headers != r_headers:
        return "headers", f"golden {g_headers}, run {r_headers}"
    return None


def _compare_stream(name: str, golden: Any, g_rows: np.ndarray, run: Any, r_rows: np.ndarray,
                    tolerance: Tolerance, windowed: bool) -> Iterator[Difference]:
    mode = tolerance.payload_mode(name)
    common = min(len(g_rows), len(r_rows))
    pairs = zip(golden.records(g_rows[:common]), run.records(r_rows[:common]), strict=True)
    for i, (g, r) in enumerate(pairs):
        run_end = windowed and g.schema.encode() in RUN_END_SCHEMAS and g.schema == r.schema
        found = _pair_difference(g, r, mode, run_end=run_end)
        if found:
            donki = g.donki
            yield Difference(name, found[0], found[1], i, _place(g), _place(r), float(g_rows[i]),
                             donki.seq if donki else None, donki.trigger if donki else None)
            break
    if len(g_rows) != len(r_rows):
        order = float(g_rows[common]) if common < len(g_rows) else float(g_rows[-1]) + 0.5 if len(g_rows) else math.inf
        yield Difference(name, "count", f"golden has {len(g_rows)} messages, run has {len(r_rows)}", common,
                         order=order)
    if windowed:  # a run stop sits at each recording's own end: no part of a rate over the window
        g_rows, r_rows = _without_run_end(golden, g_rows), _without_run_end(run, r_rows)
    g_rate = _rate(golden, g_rows, tolerance.min_span_s)
    r_rate = _rate(run, r_rows, tolerance.min_span_s)
    if g_rate and r_rate and abs(r_rate - g_rate) > tolerance.rate * g_rate:
        yield Difference(name, "rate", f"{r_rate:.2f} Hz vs golden {g_rate:.2f} Hz (tolerance "
                                       f"{tolerance.rate:.0%})")


def compare_recordings(golden: Any, run: Any, *, tolerance: Tolerance | None = None,
                       namespace: str | None = None, triggers: int | None = None) -> Comparison:
    """Compare recording ``run`` with ``golden`` (paths or open recordings).

    Parameters
    ----------
    golden, run
        Paths or open :class:`~harness.recording.Recording` objects.
    tolerance
        How close the run must be (default :class:`Tolerance`).
    namespace
        The run's topic prefix (default: its ``namespace`` metadata), removed from topic
        names of foreign streams so they match the golden recording's local names.
    triggers
        The triggers the run was asked for (default: its ``triggers`` metadata). When it
        and the golden recording's differ, only the triggers both hold are compared and
        :attr:`Comparison.window` says so.
    """
    from harness.recording.reader.reader import Recording

    tolerance = tolerance or Tolerance()
    opened = [r if isinstance(r, Recording) else Recording(r) for r in (golden, run)]
    try:
        g, r = opened
        window = _window(g, r, triggers)
        upto = window.compared if window is not None else None
        g_streams = _streams(g, g.metadata.get("namespace"), upto)
        r_streams = _streams(r, namespace if namespace is not None else r.metadata.get("namespace"), upto)
        differences, stats = _compare_streams(g, g_streams, r, r_streams, tolerance, window is not None)
        return Comparison(str(Path(g.path)), str(Path(r.path)), stats, differences, window)
    finally:
        for given, recording in zip((golden, run), opened, strict=True):
            if recording is not given:
                recording.close()


def _compare_streams(g: Any, g_streams: dict[str, np.ndarray], r: Any, r_streams: dict[str, np.ndarray],
                     tolerance: Tolerance, windowed: bool) -> tuple[list[Difference], list[StreamStats]]:
    differences: list[Difference] = []
    stats = []
    for name in sorted(set(g_streams) | set(r_streams)):
        g_rows, r_rows = g_streams.get(name), r_streams.get(name)
        if r_rows is None:
            assert g_rows is not None
            differences.append(Difference(name, "missing stream", f"{len(g_rows)} golden messages, none in the run",
                                          0, order=float(g_rows[0])))
            continue
        if g_rows is None:
            differences.append(Difference(name, "extra stream", f"{len(r_rows)} messages not in the golden "
                                                                f"recording"))
            continue
        differences.extend(_compare_stream(name, g, g_rows, r, r_rows, tolerance, windowed))
        rated = [_without_run_end(rec, rows) if windowed else rows for rec, rows in ((g, g_rows), (r, r_rows))]
        stats.append(StreamStats(name, len(g_rows), len(r_rows), _rate(g, rated[0], tolerance.min_span_s),
                                 _rate(r, rated[1], tolerance.min_span_s)))
    return differences, stats
