"""A player's configuration: JSON-serialisable, validated, the same for threads and processes."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from harness.errors import ConfigError
from harness.orchestra.ack import AckAfter
from harness.orchestra.liveness import DEFAULT_HEARTBEAT_S, DEFAULT_LIVENESS
from harness.orchestra.protocol import PROTOCOL_VERSION
from harness.orchestra.registry import NAME_PATTERN
from harness.orchestra.security import CurveClient

__all__ = ["PlayerConfig"]


@dataclass(frozen=True)
class PlayerConfig:
    """Everything a player needs to join a director and run its action.

    A config without a ``director`` describes a player to launch; the pool that starts it
    attaches its director (and CURVE keys) with :meth:`attached`.

    Parameters
    ----------
    name
        Unique among the director's players.
    kind, params
        Action kind (see :mod:`harness.orchestra.action_kinds`) and its JSON parameters.
    priority, divisor
        Level (< 0: disabled) and "due every ``divisor``-th trigger".
    streams
        Names of the streams it produces (journaled, so checks map players to streams);
        empty: taken from the action's ``streams`` attribute if it has one.
    ack_mode
        :class:`~harness.orchestra.ack.AckAfter` (its value is accepted too): ``SEND`` acks when the
        action returned, ``DELIVERY`` after ``wait_delivered``.
    bootstrap, topic, seed
        Passed to the action's context.
    hello_timeout_s
        How long to wait for the director's welcome.
    director
        The director's endpoint, ``tcp://HOST:PORT`` (``None`` until attached).
    curve
        :class:`~harness.orchestra.security.CurveClient` when the director requires CURVE.
    heartbeat_s, liveness
        The director's heartbeat policy as known before joining (a pool attaches its
        director's): it sizes the connection's ZMTP timeout, which must outlast the policy
        (:func:`~harness.orchestra.liveness.zmtp_timeout_ms`). Once joined, the welcome's
        values rule.
    """

    name: str
    kind: str = "noop"
    params: Mapping[str, Any] = field(default_factory=dict)
    priority: int = 0
    divisor: int = 1
    streams: tuple[str, ...] = ()
    ack_mode: AckAfter = AckAfter.SEND
    delivery_timeout_s: float = 30.0
    bootstrap: str | None = None
    topic: str | None = None
    seed: int | None = None
    hello_timeout_s: float = 10.0
    director: str | None = None
    curve: CurveClient | None = None
    heartbeat_s: float = DEFAULT_HEARTBEAT_S
    liveness: int = DEFAULT_LIVENESS
    protocol: int = PROTOCOL_VERSION  # only tests of version mismatch change it

    def __post_init__(self) -> None:
        object.__setattr__(self, "streams", tuple(self.streams))
        object.__setattr__(self, "params", dict(self.params))
        who = f"player {self.name!r}"
        _require(self.director is None or (isinstance(self.director, str)
                                           and self.director.startswith(("tcp://", "ipc://", "inproc://"))),
                 f"{who}: director endpoint {self.director!r} must look like tcp://HOST:PORT")
        _require(isinstance(self.name, str) and NAME_PATTERN.fullmatch(self.name) is not None,
                 f"player name {self.name!r}: use 1-128 letters, digits and _.:@+- starting with a letter or digit")
        _require(_is_int(self.priority), f"{who}: priority {self.priority!r} must be an integer (< 0 disables)")
        _require(_is_int(self.divisor) and self.divisor >= 1, f"{who}: divisor {self.divisor!r} must be >= 1")
        object.__setattr__(self, "ack_mode", AckAfter.parse(self.ack_mode, who))
        _require(all(isinstance(s, str) and s for s in self.streams), f"{who}: streams must be non-empty names")
        _require(_is_int(self.liveness) and self.liveness >= 1, f"{who}: liveness {self.liveness!r} must be >= 1")
        for name in ("delivery_timeout_s", "hello_timeout_s", "heartbeat_s"):
            value = getattr(self, name)
            _require(isinstance(value, (int, float)) and math.isfinite(value) and value > 0,
                     f"{who}: {name}={value!r} must be > 0")
        try:
            json.dumps(self.params)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{who}: params must be JSON-serialisable: {exc}") from None

    def attached(self, director: str, curve: CurveClient | None = None, *, heartbeat_s: float | None = None,
                 liveness: int | None = None) -> PlayerConfig:
        """This player joined to ``director`` (with ``curve`` keys when it requires CURVE, and its
        heartbeat policy when given)."""
        return replace(self, director=director, curve=curve if curve is not None else self.curve,
                       heartbeat_s=self.heartbeat_s if heartbeat_s is None else heartbeat_s,
                       liveness=self.liveness if liveness is None else liveness)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ack_mode"] = self.ack_mode.value
        data["streams"] = list(self.streams)
        data["curve"] = None if self.curve is None else self.curve.to_dict()
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "player config") -> PlayerConfig:
        if not isinstance(data, Mapping):
            raise ConfigError(f"{source}: expected a JSON object, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ConfigError(f"{source}: unknown key(s) {sorted(unknown)}; expected some of {sorted(known)}")
        values = dict(data)
        curve = values.get("curve")
        if curve is not None:
            try:
                values["curve"] = CurveClient(Path(curve["secret_file"]), Path(curve["server_public_file"]))
            except (TypeError, KeyError) as exc:
                raise ConfigError(f"{source}: curve needs secret_file and server_public_file ({exc})") from None
        try:
            return cls(**values)
        except TypeError as exc:
            raise ConfigError(f"{source}: {exc}") from None

    @classmethod
    def from_file(cls, path: Path) -> PlayerConfig:
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"player config {path}: cannot read JSON ({exc})") from None
        return cls.from_dict(data, f"player config {path}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)
