"""The run journal: every trigger, ack, timeout and player event, in order.

Checks and the recorder read it; it is stored beside the raw log in recordings. Events
are small immutable records, appended from the director's thread and serialisable to
JSON-compatible rows and back. A long run's journal spills its older events to a file,
so the director's memory stays flat however long the run.
"""

from __future__ import annotations

import enum
import json
import marshal
import operator
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields
from typing import IO, Any

__all__ = ["EventKind", "JournalEvent", "Journal", "MEMORY_WINDOW"]

#: events a journal keeps in memory; older ones go to its spill file
MEMORY_WINDOW = 4096
#: events written to the spill file at a time: small batches keep each write's pause short (it
#: happens in the director's loop, between two messages); 4096 at once stalled the loop for ms
SPILL_BATCH = 512


class EventKind(str, enum.Enum):
    """What happened. Values are stable: they are stored in recordings."""

    PLAYER_JOINED = "player_joined"
    PLAYER_REJECTED = "player_rejected"  # duplicate name, bad protocol version, CURVE key unknown
    PLAYER_LEFT = "player_left"  # said bye
    PLAYER_LOST = "player_lost"  # heartbeats stopped
    PRIORITY_CHANGED = "priority_changed"
    RUN_STARTED = "run_started"
    RUN_PAUSED = "run_paused"
    RUN_RESUMED = "run_resumed"
    RUN_STOPPED = "run_stopped"  # normal end (count reached, stop())
    RUN_ABORTED = "run_aborted"  # abort() or fail policy
    TRIGGER_SENT = "trigger_sent"  # one per (trigger, player), attempt 1
    RESENT = "resent"  # re-send policy: attempt 2..k+1
    ACK = "ack"
    NACK = "nack"  # player's action raised; detail = traceback text
    TIMEOUT = "timeout"  # ack deadline passed for one (trigger, player, attempt)
    MISSED = "missed"  # policy gave up on (trigger, player): skipped and recorded
    LATE_ACK = "late_ack"  # ack for a trigger already timed out / missed
    DUPLICATE_ACK = "duplicate_ack"
    WRONG_ACK = "wrong_ack"  # ack for a trigger that was never sent to that player
    GARBAGE = "garbage"  # undecodable frame; detail = reason
    LEVEL_DONE = "level_done"  # all due players of (trigger, level) acked or given up
    BROKER_FAULT = "broker_fault"  # a scenario's broker fault was carried out; detail = JSON action, node, ok, error


@dataclass(frozen=True)
class JournalEvent:
    """One journal line.

    ``time`` is wall-clock seconds (for reports and recordings), ``mono`` the director's
    ``time.monotonic()`` (for latencies and ordering). ``latency_s`` is set on acks and
    nacks (ack received minus first send). ``counts`` holds what a player reported for
    the trigger: ``messages``, ``bytes``, ``delivered``, ``failed``.
    """

    seq: int
    kind: EventKind
    time: float
    mono: float
    trigger: int | None = None
    level: int | None = None
    player: str | None = None
    attempt: int | None = None
    latency_s: float | None = None
    counts: dict[str, int] = field(default_factory=dict)
    detail: str = ""

    def detail_json(self) -> dict[str, Any]:
        """``detail`` read as a JSON object (PLAYER_JOINED: priority, streams, divisor...); ``{}``
        when it is not one."""
        try:
            data = json.loads(self.detail or "{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def to_row(self) -> dict[str, Any]:
        row = dict(zip(_FIELD_NAMES, _values(self), strict=True))
        row["kind"] = self.kind.value
        row["counts"] = dict(self.counts)
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> JournalEvent:
        data = dict(row)
        data["kind"] = EventKind(data["kind"])
        data["counts"] = dict(data.get("counts") or {})
        return cls(**data)


_FIELD_NAMES = tuple(f.name for f in fields(JournalEvent))
_OPTIONAL_FIELDS = frozenset(_FIELD_NAMES[4:])
_KINDS = {kind.value: kind for kind in EventKind}
_values = operator.attrgetter(*_FIELD_NAMES)
_KIND_TEXT = operator.itemgetter(1)

#: How the journal holds an event until it is read: a tuple of the fields in declaration order,
#: with the kind's text. Building no object per event is most of a record's cost saved, and
#: the tuple is what the spill file stores (marshal: this process alone writes and reads it).
Row = tuple[int, str, float, float, Any, Any, Any, Any, Any, dict[str, int], str]


def _row_of(event: JournalEvent) -> Row:
    values = _values(event)
    return (values[0], event.kind.value, *values[2:])


def _event_of(row: Row | list[Any]) -> JournalEvent:
    """The event of a row, built without the frozen dataclass's ``__init__`` (which sets each of
    the eleven fields through ``object.__setattr__``)."""
    event = object.__new__(JournalEvent)
    data = event.__dict__
    data.update(zip(_FIELD_NAMES, row, strict=True))
    data["kind"] = _KINDS[row[1]]
    return event


def _plain(rows: list[Row]) -> bytes:
    try:
        return marshal.dumps(rows)
    except ValueError:  # a field of a subclass type (an int enum, say): stored as its plain JSON value
        return marshal.dumps([tuple(json.loads(json.dumps(value)) for value in row) for row in rows])


class Journal:
    """Append-only, thread-safe sequence of :class:`JournalEvent` whose memory stays bounded.

    At all-streams rates a run journals thousands of events per second. Only the newest
    ``window`` events stay in memory, as compact rows; older ones are written, in batches,
    to a spill file (an unnamed temporary file unless ``spill_dir`` is given; deleted with
    the journal) and read back, in order, by iteration. Iterate (``for event in journal``)
    to stream over a long run; :attr:`events` and :meth:`to_rows` build the whole list.
    :meth:`kind_counts` keeps per-kind totals without reading anything back.
    """

    def __init__(self, events: Iterable[JournalEvent] = (), *, window: int = MEMORY_WINDOW,
                 spill_dir: str | None = None) -> None:
        if window < 1:
            raise ValueError(f"window={window!r}: expected 1 or more events kept in memory")
        self._reset(events, window, spill_dir)

    def _reset(self, events: Iterable[JournalEvent], window: int, spill_dir: str | None) -> None:
        self._window = window
        self._spill_dir = spill_dir
        self._recent: list[Row] = []
        self._spill: IO[bytes] | None = None
        self._spilled = 0
        self._spill_at = window + min(window, SPILL_BATCH)
        self._spilled_kinds: Counter[str] = Counter()  # kinds of the spilled events, by text
        self._lock = threading.Lock()
        self._listeners: list[Callable[[JournalEvent], None]] = []
        for event in events:
            self._append(_row_of(event))

    def record(self, kind: EventKind, **fields: Any) -> JournalEvent:
        """Append an event stamped now; returns it."""
        if not _OPTIONAL_FIELDS.issuperset(fields):
            raise TypeError(f"JournalEvent has no field(s) {sorted(set(fields) - _OPTIONAL_FIELDS)}")
        get = fields.get
        row = self.append(kind if type(kind) is EventKind else EventKind(kind), get("trigger"), get("level"),
                          get("player"), get("attempt"), get("latency_s"), get("counts"), get("detail", ""))
        return _event_of(row)

    def append(self, kind: EventKind, trigger: int | None = None, level: int | None = None,
               player: str | None = None, attempt: int | None = None, latency_s: float | None = None,
               counts: dict[str, int] | None = None, detail: str = "") -> Row:
        """:meth:`record` for the director's per-trigger path: positional, and returns the row
        (no :class:`JournalEvent` is built until the event is read or a listener wants it)."""
        with self._lock:
            recent = self._recent
            row: Row = (self._spilled + len(recent), kind._value_, time.time(), time.monotonic(), trigger,
                        level, player, attempt, latency_s, {} if counts is None else counts, detail)
            recent.append(row)  # _append, inlined: this runs two to three times per trigger and player
            if len(recent) >= self._spill_at:
                self._spill_oldest(len(recent) - self._window)
            if self._listeners:
                event = _event_of(row)
                for listener in self._listeners:
                    listener(event)
            return row

    def subscribe(self, listener: Callable[[JournalEvent], None]) -> Callable[[], None]:
        """Call ``listener(event)`` for every event recorded from now on; returns the unsubscribe.

        It runs in the recording thread (the director's) under the journal's lock: it must
        be quick and must not record, only hand the event on (to a queue, say).
        """
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def _append(self, row: Row) -> None:
        self._recent.append(row)
        if len(self._recent) >= self._spill_at:
            self._spill_oldest(len(self._recent) - self._window)

    def _spill_oldest(self, count: int) -> None:
        if self._spill is None:
            self._spill = tempfile.NamedTemporaryFile(  # noqa: SIM115 - lives as long as the journal; close() deletes it
                "w+b", prefix="donki-journal-", suffix=".spill", dir=self._spill_dir)
        old, self._recent = self._recent[:count], self._recent[count:]
        self._spilled_kinds.update(map(_KIND_TEXT, old))  # counted per batch, not per event
        # one marshal record per batch of rows: JSON spent most of its time in float repr (a fifth
        # of the director's loop). marshal is safe here: this process alone writes and reads the
        # file, and only ever plain values (never code), whatever a peer sent
        self._spill.write(_plain(old))
        self._spilled += count

    @property
    def spilled(self) -> int:
        """How many of the oldest events live in the spill file rather than in memory."""
        return self._spilled

    @property
    def events(self) -> list[JournalEvent]:
        """Every event as one list (reads the spill file back: prefer iterating a long journal)."""
        return list(self)

    def kind_counts(self) -> dict[EventKind, int]:
        """Events per kind so far, without reading the spill file."""
        with self._lock:
            counts = self._spilled_kinds + Counter(map(_KIND_TEXT, self._recent))
        return {_KINDS[value]: count for value, count in counts.items()}

    def of_kind(self, *kinds: EventKind) -> list[JournalEvent]:
        return [e for e in self if e.kind in kinds]

    def __iter__(self) -> Iterator[JournalEvent]:
        with self._lock:
            recent, spilled = list(self._recent), self._spilled
            if self._spill is not None:
                self._spill.flush()
            name = None if self._spill is None else self._spill.name
        if name is not None:
            with open(name, "rb") as spill:  # a second handle: the writer's position stays put
                while spilled > 0:
                    batch = marshal.load(spill)[:spilled]
                    spilled -= len(batch)
                    yield from map(_event_of, batch)
        yield from map(_event_of, recent)

    def __len__(self) -> int:
        with self._lock:
            return self._spilled + len(self._recent)

    def close(self) -> None:
        """Delete the spill file now (garbage collection does it too); the journal is then empty."""
        with self._lock:
            if self._spill is not None:
                self._spill.close()
            self._spill, self._spilled, self._recent = None, 0, []
            self._spilled_kinds.clear()

    def __getstate__(self) -> dict[str, Any]:  # crosses processes (xdist, RunFailed) as rows
        return {"rows": self.to_rows(), "window": self._window}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._reset(map(JournalEvent.from_row, state["rows"]), state["window"], None)

    def to_rows(self) -> list[dict[str, Any]]:
        return [e.to_row() for e in self]

    @classmethod
    def from_rows(cls, rows: Iterable[dict[str, Any]]) -> Journal:
        return cls(JournalEvent.from_row(r) for r in rows)

    def to_json(self) -> str:
        return json.dumps(self.to_rows())

    @classmethod
    def from_json(cls, text: str) -> Journal:
        return cls.from_rows(json.loads(text))
