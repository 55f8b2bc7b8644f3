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
_DEFAULTS = {f.name: f.default for f in fields(JournalEvent)[4:] if f.name != "counts"}
_values = operator.attrgetter(*_FIELD_NAMES)


def _spill_row(event: JournalEvent) -> tuple[Any, ...]:
    """The event's field values in declaration order, with the kind as plain text (marshal's types)."""
    values = _values(event)
    return (values[0], event.kind.value, *values[2:])


def _stamped(seq: int, kind: EventKind, extra: dict[str, Any]) -> JournalEvent:
    """A new event stamped now, built without the frozen dataclass's ``__init__``.

    That ``__init__`` sets each of the eleven fields through ``object.__setattr__``; the
    director journals two to three events per trigger and player, so it fills the
    instance's ``__dict__`` in one step instead. Unknown fields are refused as ``__init__`` would.
    """
    if not _OPTIONAL_FIELDS.issuperset(extra):
        raise TypeError(f"JournalEvent has no field(s) {sorted(set(extra) - _OPTIONAL_FIELDS)}")
    data = {"seq": seq, "kind": kind, "time": time.time(), "mono": time.monotonic(), **_DEFAULTS, **extra}
    if "counts" not in extra:
        data["counts"] = {}
    event = object.__new__(JournalEvent)
    event.__dict__.update(data)
    return event


def _from_values(values: list[Any]) -> JournalEvent:
    seq, kind, wall, mono, trigger, level, player, attempt, latency_s, counts, detail = values
    return JournalEvent(seq, EventKind(kind), wall, mono, trigger, level, player, attempt, latency_s,
                        dict(counts), detail)


class Journal:
    """Append-only, thread-safe sequence of :class:`JournalEvent` whose memory stays bounded.

    At all-streams rates a run journals thousands of events per second (~0.33 MB/s as
    objects). Only the newest ``window`` events stay in memory; older ones are written,
    in batches (compact rows, see :meth:`_spill_oldest`) to a spill file (an unnamed temporary file unless
    ``spill_dir`` is given; deleted with the journal) and read back, in order, by
    iteration. Iterate (``for event in journal``) to stream over a long run;
    :attr:`events` and :meth:`to_rows` build the whole list. :meth:`kind_counts` keeps
    per-kind totals without reading anything back.
    """

    def __init__(self, events: Iterable[JournalEvent] = (), *, window: int = MEMORY_WINDOW,
                 spill_dir: str | None = None) -> None:
        if window < 1:
            raise ValueError(f"window={window!r}: expected 1 or more events kept in memory")
        self._reset(events, window, spill_dir)

    def _reset(self, events: Iterable[JournalEvent], window: int, spill_dir: str | None) -> None:
        self._window = window
        self._spill_dir = spill_dir
        self._recent: list[JournalEvent] = []
        self._spill: IO[bytes] | None = None
        self._spilled = 0
        self._kinds: Counter[EventKind] = Counter()
        self._lock = threading.Lock()
        self._listeners: list[Callable[[JournalEvent], None]] = []
        for event in events:
            self._append(event)

    def record(self, kind: EventKind, **fields: Any) -> JournalEvent:
        """Append an event stamped now; returns it."""
        with self._lock:
            kind = kind if type(kind) is EventKind else EventKind(kind)
            event = _stamped(self._spilled + len(self._recent), kind, fields)
            self._append(event)
            for listener in self._listeners:
                listener(event)
            return event

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

    def _append(self, event: JournalEvent) -> None:
        self._recent.append(event)
        self._kinds[event.kind] += 1
        if len(self._recent) >= 2 * self._window:
            self._spill_oldest(len(self._recent) - self._window)

    def _spill_oldest(self, count: int) -> None:
        if self._spill is None:
            self._spill = tempfile.NamedTemporaryFile(  # noqa: SIM115 - lives as long as the journal; close() deletes it
                "w+b", prefix="donki-journal-", suffix=".spill", dir=self._spill_dir)
        old, self._recent = self._recent[:count], self._recent[count:]
        # one marshal record per batch, an event a tuple of plain values: JSON spent most of its time
        # in float repr (a fifth of the director's loop). marshal is safe here: this process alone
        # writes and reads the file, and only ever plain values (never code), whatever a peer sent
        rows = list(map(_spill_row, old))
        try:
            data = marshal.dumps(rows)
        except ValueError:  # a field of a subclass type (an int enum, say): stored as its plain JSON value
            data = marshal.dumps([tuple(json.loads(json.dumps(value)) for value in row) for row in rows])
        self._spill.write(data)
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
            return dict(self._kinds)

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
                    yield from map(_from_values, batch)
        yield from recent

    def __len__(self) -> int:
        with self._lock:
            return self._spilled + len(self._recent)

    def close(self) -> None:
        """Delete the spill file now (garbage collection does it too); the journal is then empty."""
        with self._lock:
            if self._spill is not None:
                self._spill.close()
            self._spill, self._spilled, self._recent = None, 0, []
            self._kinds.clear()

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
