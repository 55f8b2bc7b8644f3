"""The run journal: every trigger, ack, timeout and player event, in order.

Checks and the recorder read it; it is stored beside the raw log in recordings. Events
are small immutable records, appended from the director's thread and serialisable to
JSON-compatible rows and back.
"""

from __future__ import annotations

import enum
import json
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["EventKind", "JournalEvent", "Journal"]


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
        row = asdict(self)
        row["kind"] = self.kind.value
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> JournalEvent:
        data = dict(row)
        data["kind"] = EventKind(data["kind"])
        data["counts"] = dict(data.get("counts") or {})
        return cls(**data)


class Journal:
    """Append-only, thread-safe list of :class:`JournalEvent`."""

    def __init__(self, events: Iterable[JournalEvent] = ()) -> None:
        self._events: list[JournalEvent] = list(events)
        self._lock = threading.Lock()

    def record(self, kind: EventKind, **fields: Any) -> JournalEvent:
        """Append an event stamped now; returns it."""
        with self._lock:
            kind = kind if type(kind) is EventKind else EventKind(kind)
            event = JournalEvent(len(self._events), kind, time.time(), time.monotonic(), **fields)
            self._events.append(event)
            return event

    @property
    def events(self) -> list[JournalEvent]:
        with self._lock:
            return list(self._events)

    def of_kind(self, *kinds: EventKind) -> list[JournalEvent]:
        return [e for e in self.events if e.kind in kinds]

    def __iter__(self) -> Iterator[JournalEvent]:
        return iter(self.events)

    def __len__(self) -> int:
        with self._lock:
            return len(self._events)

    def to_rows(self) -> list[dict[str, Any]]:
        return [e.to_row() for e in self.events]

    @classmethod
    def from_rows(cls, rows: Iterable[dict[str, Any]]) -> Journal:
        return cls(JournalEvent.from_row(r) for r in rows)

    def to_json(self) -> str:
        return json.dumps(self.to_rows())

    @classmethod
    def from_json(cls, text: str) -> Journal:
        return cls.from_rows(json.loads(text))
