"""The director's information server: who is connected, at which priority, producing what.

Owned and changed by the director's I/O thread; any thread may take a snapshot.
"""

from __future__ import annotations

import enum
import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from harness.orchestra.ack import AckAfter
from harness.orchestra.plan import Seat

__all__ = ["PlayerState", "PlayerInfo", "Registry", "NAME_PATTERN"]

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:@+-]{0,127}")
MAX_DIVISOR = 1_000_000
MAX_PRIORITY = 1_000
MAX_STREAMS = 256
MAX_TEXT = 256


class PlayerState(str, enum.Enum):
    JOINED = "joined"  # said hello, was welcomed
    STARTED = "started"  # acknowledged the start command (action set up)
    LEFT = "left"  # said bye
    LOST = "lost"  # heartbeats stopped

    @property
    def connected(self) -> bool:
        return self in (PlayerState.JOINED, PlayerState.STARTED)


@dataclass(frozen=True)
class PlayerInfo:
    """One registered player as the director knows it."""

    name: str
    priority: int
    divisor: int
    streams: tuple[str, ...]
    protocol: int
    host: str
    pid: int
    kind: str
    ack_mode: str
    state: PlayerState
    joined_at: float  # wall clock
    identity: bytes

    @property
    def connected(self) -> bool:
        return self.state.connected

    @property
    def enabled(self) -> bool:
        return self.priority >= 0

    def seat(self) -> Seat:
        return Seat(self.name, self.priority, self.divisor)

    def join_detail(self) -> str:
        """The PLAYER_JOINED journal detail: what checks need to map players to streams."""
        return json.dumps({"priority": self.priority, "streams": list(self.streams), "divisor": self.divisor,
                           "protocol": self.protocol, "host": self.host, "pid": self.pid, "kind": self.kind,
                           "ack_mode": self.ack_mode})


class Registry:
    """Players by name and by ZeroMQ routing id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._by_name: dict[str, PlayerInfo] = {}
        self._names: dict[bytes, str] = {}  # routing id -> name, connected players only
        self._identities: dict[str, bytes] = {}  # name -> routing id, connected players only
        self._former: dict[bytes, str] = {}  # routing id -> name, players that left or were lost
        self._last_seen: dict[bytes, float] = {}
        self._seats: tuple[Seat, ...] = ()

    def refusal(self, hello: Mapping[str, Any]) -> str | None:
        """Why a hello cannot be accepted, or ``None``."""
        name = hello["name"]
        if not NAME_PATTERN.fullmatch(name):
            return (f"player name {name!r} is not allowed: use 1-128 letters, digits and _.:@+- "
                    "starting with a letter or digit")
        if not 1 <= hello["divisor"] <= MAX_DIVISOR:
            return f"player {name!r}: divisor {hello['divisor']} must be 1..{MAX_DIVISOR}"
        if not -MAX_PRIORITY <= hello["priority"] <= MAX_PRIORITY:
            return f"player {name!r}: priority {hello['priority']} must be within +-{MAX_PRIORITY}"
        if len(hello["streams"]) > MAX_STREAMS or any(len(s) > MAX_TEXT for s in hello["streams"]):
            return f"player {name!r}: at most {MAX_STREAMS} stream names of at most {MAX_TEXT} characters"
        if len(hello["host"]) > MAX_TEXT or len(hello["kind"]) > MAX_TEXT:
            return f"player {name!r}: host and kind must be at most {MAX_TEXT} characters"
        if hello["ack_mode"] not in AckAfter.choices():
            return f"player {name!r}: ack mode {hello['ack_mode']!r} must be one of {', '.join(AckAfter.choices())}"
        current = self._by_name.get(name)
        if current is not None and current.connected:
            return (f"a player named {name!r} is already connected (pid {current.pid} on {current.host}); "
                    "give each player a unique --name")
        return None

    def join(self, identity: bytes, hello: Mapping[str, Any], now: float) -> PlayerInfo:
        info = PlayerInfo(hello["name"], hello["priority"], hello["divisor"], tuple(hello["streams"]),
                          hello["protocol"], hello["host"], hello["pid"], hello["kind"], hello["ack_mode"],
                          PlayerState.JOINED, time.time(), identity)
        with self._lock:
            self._by_name[info.name] = info
            self._names[identity] = info.name
            self._identities[info.name] = identity
            self._former.pop(identity, None)
            self._last_seen[identity] = now
            self._rebuild()
        return info

    def update(self, name: str, **changes: Any) -> PlayerInfo:
        with self._lock:
            info = replace(self._by_name[name], **changes)
            self._by_name[name] = info
            if not info.connected:
                self._names.pop(info.identity, None)
                self._identities.pop(name, None)
                self._former[info.identity] = name
                self._last_seen.pop(info.identity, None)
            self._rebuild()
        return info

    def _rebuild(self) -> None:
        self._changed.notify_all()
        self._seats = tuple(p.seat() for p in self._by_name.values() if p.connected and p.enabled)

    # -- I/O thread fast paths ----------------------------------------------------------

    def name_of(self, identity: bytes) -> str | None:
        return self._names.get(identity)

    def identity_of(self, name: str) -> bytes | None:
        return self._identities.get(name)

    def former_name(self, identity: bytes) -> str | None:
        """The name a routing id had before its player left or was lost."""
        return self._former.get(identity)

    def touch(self, identity: bytes, now: float) -> None:
        if identity in self._last_seen:
            self._last_seen[identity] = now

    def silent_since(self, now: float, limit_s: float) -> list[tuple[str, float]]:
        """Connected players not heard from for more than ``limit_s``: (name, silence)."""
        return [(self._names[i], now - seen) for i, seen in list(self._last_seen.items()) if now - seen > limit_s]

    def seats(self) -> tuple[Seat, ...]:
        """Connected, enabled players, for the scheduler."""
        return self._seats

    def identities(self) -> list[bytes]:
        return list(self._names)

    def connected_count(self) -> int:
        return len(self._names)

    # -- any thread ---------------------------------------------------------------------

    def get(self, name: str) -> PlayerInfo | None:
        with self._lock:
            return self._by_name.get(name)

    def snapshot(self) -> tuple[PlayerInfo, ...]:
        with self._lock:
            return tuple(self._by_name.values())

    def wait_for(self, predicate: Callable[[tuple[PlayerInfo, ...]], bool], timeout_s: float) -> bool:
        """Wait until ``predicate(snapshot)`` holds or ``timeout_s`` passed; returns its last value."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while not predicate(tuple(self._by_name.values())):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return True
