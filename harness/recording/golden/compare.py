"""Comparing a run's recording with its golden recording, stream by stream.

Same streams; per stream the same number of messages, in the same per-partition order,
with the same partition, sequence number, trigger, schema, key and headers and the
same payload where deterministic (see :mod:`harness.recording.golden.payloads`); and a
message rate within tolerance. The report names the first differing message.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np

from harness.errors import CheckFailed, RecordingError
from harness.headers import CRC32
from harness.recording.writer.copying import local_topic
from harness.recording.golden.payloads import PAYLOAD_MODES, payload_difference

__all__ = ["Tolerance", "Difference", "StreamStats", "Comparison", "compare_recordings"]


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

    def line(self) -> str:
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


@dataclass
class Comparison:
    """The result of :func:`compare_recordings`."""

    golden: str
    run: str
    streams: list[StreamStats]
    differences: list[Difference]

    @property
    def ok(self) -> bool:
        return not self.differences

    @property
    def first_difference(self) -> Difference | None:
        """The difference at the earliest golden message (stream-level ones last)."""
        return min(self.differences, key=lambda d: (d.order, d.stream)) if self.differences else None

    def report(self, limit: int = 20) -> str:
        if self.ok:
            return f"{self.run} matches golden recording {self.golden} ({len(self.streams)} streams)"
        lines = [f"{self.run} differs from golden recording {self.golden}:",
                 f"first difference: {self.first_difference.line()}"]
        ordered = sorted(self.differences, key=lambda d: (d.order, d.stream))
        if len(ordered) > 1:
            lines.append(f"all {len(ordered)} differences:")
            lines += [f"  {d.line()}" for d in ordered[:limit]]
        if len(ordered) > limit:
            lines.append(f"  ... and {len(ordered) - limit} more")
        return "\n".join(lines)

    def raise_if_different(self) -> None:
        """A :class:`CheckFailed` carrying the report when the run differs."""
        if not self.ok:
            raise CheckFailed(self.report())


def _streams(recording: Any, namespace: str | None) -> dict[str, np.ndarray]:
    """Stream -> rows in per-partition offset order."""
    index = recording.index
    names = recording.stream_names()
    keys = [name if name is not None else f"{local_topic(recording.topics[t], namespace)}[{p}]"
            for name, t, p in zip(names, index["topic"].tolist(), index["partition"].tolist())]
    groups: dict[str, list[int]] = {}
    for row, key in enumerate(keys):
        groups.setdefault(key, []).append(row)
    out = {}
    for key, rows in groups.items():
        rows_array = np.asarray(rows, dtype=np.int64)
        order = np.lexsort((index["offset"][rows_array], index["partition"][rows_array]))
        out[key] = rows_array[order]
    return out


def _rate(recording: Any, rows: np.ndarray, min_span_s: float) -> float | None:
    times = recording.index["receive_time"][rows]
    if len(times) < 2:
        return None
    span = float(times.max() - times.min())
    return (len(times) - 1) / span if span >= min_span_s else None


def _place(record: Any) -> str:
    return f"{record.topic}[{record.partition}]@{record.offset}"


def _pair_difference(golden: Any, run: Any, mode: str) -> tuple[str, str] | None:
    """(kind, detail) of the first way ``run`` differs from ``golden``, ``None`` if equal."""
    if golden.partition != run.partition:
        return "partition", f"{golden.partition} != {run.partition}"
    g, r = golden.donki, run.donki
    if (g is None) != (r is None):
        return "headers", "donki headers present in one only"
    if g is not None and g.seq != r.seq:
        return "seq", f"{g.seq} != {r.seq}"
    if g is not None and g.trigger != r.trigger:
        return "trigger", f"{g.trigger} != {r.trigger}"
    if golden.schema != run.schema:
        return "schema", f"{golden.schema or '(none)'} != {run.schema or '(none)'}"
    if golden.key != run.key:
        return "key", f"{golden.key!r} != {run.key!r}"
    found = payload_difference(golden.schema, golden.value, run.value, mode)
    if found:
        return "payload", found
    skip = {CRC32} if mode != "exact" else set()  # the checksum follows the payload's times
    g_headers = [h for h in golden.headers if h[0] not in skip]
    r_headers = [h for h in run.headers if h[0] not in skip]
    if g_headers != r_headers:
        return "headers", f"{g_headers} != {r_headers}"
    return None


def _compare_stream(name: str, golden: Any, g_rows: np.ndarray, run: Any, r_rows: np.ndarray,
                    tolerance: Tolerance) -> Iterator[Difference]:
    mode = tolerance.payload_mode(name)
    common = min(len(g_rows), len(r_rows))
    for i, (g, r) in enumerate(zip(golden.records(g_rows[:common]), run.records(r_rows[:common]))):
        found = _pair_difference(g, r, mode)
        if found:
            yield Difference(name, found[0], found[1], i, _place(g), _place(r), float(g_rows[i]))
            break
    if len(g_rows) != len(r_rows):
        order = float(g_rows[common]) if common < len(g_rows) else float(g_rows[-1]) + 0.5 if len(g_rows) else math.inf
        yield Difference(name, "count", f"golden has {len(g_rows)} messages, run has {len(r_rows)}", common,
                         order=order)
    g_rate = _rate(golden, g_rows, tolerance.min_span_s)
    r_rate = _rate(run, r_rows, tolerance.min_span_s)
    if g_rate and r_rate and abs(r_rate - g_rate) > tolerance.rate * g_rate:
        yield Difference(name, "rate", f"{r_rate:.2f} Hz vs golden {g_rate:.2f} Hz (tolerance "
                                       f"{tolerance.rate:.0%})")


def compare_recordings(golden: Any, run: Any, *, tolerance: Tolerance | None = None,
                       namespace: str | None = None) -> Comparison:
    """Compare recording ``run`` with ``golden`` (paths or open recordings).

    ``namespace`` is the run's topic prefix (default: its ``namespace`` metadata), removed
    from topic names of foreign streams so they match the golden recording's local names.
    """
    from harness.recording.reader.reader import Recording

    tolerance = tolerance or Tolerance()
    opened = [r if isinstance(r, Recording) else Recording(r) for r in (golden, run)]
    try:
        g, r = opened
        g_streams = _streams(g, g.metadata.get("namespace"))
        r_streams = _streams(r, namespace if namespace is not None else r.metadata.get("namespace"))
        differences: list[Difference] = []
        stats = []
        for name in sorted(set(g_streams) | set(r_streams)):
            g_rows, r_rows = g_streams.get(name), r_streams.get(name)
            if r_rows is None:
                differences.append(Difference(name, "missing stream", f"{len(g_rows)} golden messages, none in the run",
                                              0, order=float(g_rows[0])))
                continue
            if g_rows is None:
                differences.append(Difference(name, "extra stream", f"{len(r_rows)} messages not in the golden "
                                                                    f"recording"))
                continue
            differences.extend(_compare_stream(name, g, g_rows, r, r_rows, tolerance))
            stats.append(StreamStats(name, len(g_rows), len(r_rows), _rate(g, g_rows, tolerance.min_span_s),
                                     _rate(r, r_rows, tolerance.min_span_s)))
        return Comparison(str(Path(g.path)), str(Path(r.path)), stats, differences)
    finally:
        for given, recording in zip((golden, run), opened):
            if recording is not given:
                recording.close()
