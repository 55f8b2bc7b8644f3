"""What is in a recording, at a glance: per topic counts, bytes, rates, schemas, span."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from harness.recording.meta import iso_time

__all__ = ["TopicSummary", "Summary", "summarize"]


@dataclass(frozen=True)
class TopicSummary:
    """One topic of a recording; times are Kafka timestamps (s since the epoch)."""

    topic: str
    partitions: list[int]
    messages: int
    bytes: int
    schemas: dict[str, int]
    streams: list[str]
    first_time: float
    last_time: float

    @property
    def span_s(self) -> float:
        return self.last_time - self.first_time

    @property
    def rate_hz(self) -> float:
        return (self.messages - 1) / self.span_s if self.messages > 1 and self.span_s > 0 else 0.0

    @property
    def mb_per_s(self) -> float:
        return self.bytes / 1e6 / self.span_s if self.span_s > 0 else 0.0


@dataclass(frozen=True)
class Summary:
    """A recording's summary, as ``donki inspect`` shows it."""

    path: str
    version: int
    complete: bool
    writer_open: bool
    messages: int
    bytes: int
    topics: list[TopicSummary]
    started: str
    stopped: str
    stop_reason: str
    journal_events: int | None
    scenario: str | None
    views: dict[str, str] = field(default_factory=dict)

    @property
    def state(self) -> str:
        if self.complete:
            return f"complete ({self.stop_reason})" if self.stop_reason else "complete"
        if self.writer_open:
            return "being written, or its recorder was killed: read up to the last flush"
        return "incomplete (closed without finishing)"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["state"] = self.state
        for topic, summary in zip(data["topics"], self.topics, strict=True):
            topic.update(rate_hz=summary.rate_hz, mb_per_s=summary.mb_per_s, span_s=summary.span_s)
        return data

    def table(self) -> str:
        """A plain-text table for a terminal."""
        lines = [f"{self.path}: pytest-donki recording, format v{self.version}, {self.state}",
                 f"recorded {self.started or '?'} .. {self.stopped or '?'}; {self.messages} messages, "
                 f"{_size(self.bytes)}"]
        header = ("topic", "partitions", "messages", "bytes", "rate", "MB/s", "span", "schemas")
        rows = [header] + [(t.topic, _ranges(t.partitions), str(t.messages), _size(t.bytes), f"{t.rate_hz:.1f} Hz",
                            f"{t.mb_per_s:.2f}", f"{t.span_s:.2f} s",
                            ", ".join(f"{s or '?'}:{n}" for s, n in sorted(t.schemas.items())))
                           for t in self.topics]
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
                  for row in rows]
        journal = "none" if self.journal_events is None else f"{self.journal_events} events"
        lines.append(f"journal: {journal}; scenario: {self.scenario or 'none'}")
        lines += [f"view {name}: {kind}" for name, kind in sorted(self.views.items())]
        return "\n".join(lines)


def _size(count: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} B"


def _ranges(values: list[int]) -> str:
    return str(values[0]) if len(values) == 1 else f"{values[0]}-{values[-1]}" if values == list(
        range(values[0], values[-1] + 1)) else ",".join(map(str, values))


def _topic_summary(recording: Any, tid: int, names: np.ndarray) -> TopicSummary:
    rows = np.flatnonzero(recording.index["topic"] == tid)
    entries = recording.index[rows]
    schemas = Counter(s.decode(errors="replace") for s in entries["schema"].tolist())
    times = entries["timestamp"].astype(np.float64) / 1000.0
    streams = sorted({n for n in names[rows] if n is not None})
    return TopicSummary(recording.topics[tid], sorted({int(p) for p in entries["partition"]}), len(rows),
                        int(entries["payload_length"].sum()), dict(schemas), streams,
                        float(times.min()), float(times.max()))


def _views(recording: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    entry = recording.h5.get("entry")
    if entry is None:
        return found

    def visit(name: str, obj: Any) -> None:
        kind = obj.attrs.get("NX_class", "")
        kind = kind.decode() if isinstance(kind, bytes) else str(kind)
        if kind in ("NXevent_data", "NXlog"):
            found[f"/entry/{name}"] = f"{kind}, {int(obj.attrs.get('messages', 0))} messages"

    entry.visititems(visit)
    return found


def summarize(recording: Any) -> Summary:
    """The :class:`Summary` of an open :class:`~harness.recording.reader.reader.Recording`."""
    meta = recording.metadata
    names = recording.stream_names()
    topics = [_topic_summary(recording, tid, names) for tid in sorted(set(recording.index["topic"].tolist()))]
    journal = recording.journal
    scenario = recording.scenario
    stopped = meta.get("stopped")
    return Summary(
        path=str(recording.path), version=recording.version, complete=recording.complete,
        writer_open=recording.writer_open, messages=len(recording),
        bytes=int(recording.index["payload_length"].sum()), topics=topics,
        started=iso_time(float(meta["started"])) if "started" in meta else "",
        stopped=iso_time(float(stopped)) if stopped is not None else "",
        stop_reason=str(meta.get("stop_reason", "")), journal_events=None if journal is None else len(journal),
        scenario=None if scenario is None else f"{scenario.name or '(unnamed)'} ({scenario.format})",
        views=_views(recording))
