"""The scenario model: which players produce what, how often, at which priority, for how long.

Scenarios are immutable. :meth:`Scenario.from_dict` validates a plain mapping (a parsed
TOML file, a stored recording's copy, a hypothesis example) and names the source, the
key and the allowed values in every error; :meth:`Scenario.to_dict` gives the mapping
back, so a scenario survives a round trip through TOML or JSON unchanged.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

from harness.errors import ScenarioError
from harness.scenarios.kinds import get_stream_kind
from harness.scenarios.params import Param

__all__ = [
    "ACK_POLICIES",
    "ACK_AFTER",
    "CLOCKS",
    "Expectations",
    "PlayerSpec",
    "Scenario",
    "AckSettings",
    "BrokerFault",
    "BROKER_FAULT_ACTIONS",
    "derive_seed",
    "divisor_for",
    "EXPECT_PARAMS",
    "ACK_PARAMS",
]

ACK_POLICIES = ("fail", "skip", "resend")
ACK_AFTER = ("delivery", "send")
BROKER_FAULT_ACTIONS = ("kill", "restart")
CLOCKS = ("wall", "nominal")
MAX_RATE_HZ = 100_000.0
_DIVISOR_TOLERANCE = 1e-6


def derive_seed(scenario_seed: int, player: str) -> int:
    """A player's default seed: stable, and different for each player name."""
    return (scenario_seed * 1_000_003 + zlib.crc32(player.encode())) % (1 << 63)


@dataclass(frozen=True)
class Expectations:
    """What a run of this player must achieve: achieved rate within ``rate_tolerance``
    (relative) of the nominal one, at most ``max_missed`` triggers missed."""

    rate_tolerance: float = 0.2
    max_missed: int = 0


EXPECT_PARAMS = (
    Param("rate_tolerance", float, 0.2, "allowed relative deviation of the achieved rate", minimum=0.0, maximum=1.0),
    Param("max_missed", int, 0, "triggers this player may miss (policy skip)", minimum=0),
)


@dataclass(frozen=True)
class AckSettings:
    """The run's acknowledgement rules (see the Director's ack-timeout policy)."""

    policy: str = "fail"
    timeout_s: float = 10.0
    resend: int = 2
    after: str = "delivery"


ACK_PARAMS = (
    Param("policy", str, "fail", "on a missing ack: fail the run, skip and record, or re-send", choices=ACK_POLICIES),
    Param("timeout", float, 10.0, "seconds a level may take to ack one trigger", positive=True, maximum=3600.0),
    Param("resend", int, 2, "re-sends before giving up, with policy 'resend'", minimum=0, maximum=100),
    Param("after", str, "delivery", "players ack after Kafka confirmed delivery, or after sending", choices=ACK_AFTER),
)


@dataclass(frozen=True)
class PlayerSpec:
    """One player: a stream of a registered kind, its topic, rate and priority.

    ``params`` are the kind's parameters with defaults filled in (validated by the kind).
    """

    name: str
    stream: str
    topic: str
    partitions: int = 1
    priority: int = 1
    divisor: int = 1
    seed: int = 0
    ack: str = "delivery"
    clock: str = "wall"
    params: Mapping[str, Any] = field(default_factory=dict)
    expect: Expectations = field(default_factory=Expectations)
    producer: Mapping[str, Any] = field(default_factory=dict)
    faults: Mapping[str, Any] = field(default_factory=dict)  # see harness.streams.faults

    def rate_hz(self, base_rate_hz: float) -> float:
        """Nominal trigger rate of this player."""
        return base_rate_hz / self.divisor

    @property
    def enabled(self) -> bool:
        return self.priority >= 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "stream": self.stream, "topic": self.topic, "partitions": self.partitions,
            "priority": self.priority, "divisor": self.divisor, "seed": self.seed, "ack": self.ack,
            "clock": self.clock, "params": _plain(self.params),
            "expect": {"rate_tolerance": self.expect.rate_tolerance, "max_missed": self.expect.max_missed},
            "producer": dict(self.producer),
            **({"faults": _plain(self.faults)} if self.faults else {}),
        }


@dataclass(frozen=True)
class BrokerFault:
    """Kill (SIGKILL) or restart Kafka node ``node`` when the run reaches trigger ``trigger``."""

    trigger: int
    action: str
    node: int

    def to_dict(self) -> dict[str, Any]:
        return {"trigger": self.trigger, "action": self.action, "node": self.node}


@dataclass(frozen=True)
class Scenario:
    """A whole scenario. ``triggers`` is the run length (``None``: until stopped).

    ``ci_triggers`` and ``ci_params`` describe the CI-sized variant (:meth:`ci`).
    """

    name: str
    rate_hz: float
    players: tuple[PlayerSpec, ...]
    triggers: int | None
    description: str = ""
    seed: int = 0
    ack: AckSettings = field(default_factory=AckSettings)
    ci_triggers: int | None = None
    ci_params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    source: str = "<scenario>"
    broker_faults: tuple[BrokerFault, ...] = ()

    @property
    def duration_s(self) -> float | None:
        return None if self.triggers is None else self.triggers / self.rate_hz

    def player(self, name: str) -> PlayerSpec:
        for player in self.players:
            if player.name == name:
                return player
        raise ScenarioError(f"{self.source}: no player {name!r}; players: {', '.join(p.name for p in self.players)}")

    def topics(self) -> dict[str, int]:
        """Local topic name -> partitions, in order of first use."""
        return {p.topic: p.partitions for p in self.players}

    def with_length(self, *, triggers: int | None = None, duration_s: float | None = None) -> "Scenario":
        """The same scenario run for ``triggers`` triggers or ``duration_s`` seconds."""
        if triggers is not None and duration_s is not None:
            raise ScenarioError("give a trigger count or a duration, not both")
        if duration_s is not None:
            if not duration_s > 0:
                raise ScenarioError(f"duration {duration_s!r} s: expected a positive number of seconds")
            triggers = max(1, round(duration_s * self.rate_hz))
        if triggers is None:
            return self
        if triggers < 1:
            raise ScenarioError(f"triggers={triggers}: expected 1 or more")
        return replace(self, triggers=int(triggers))

    def ci(self) -> "Scenario":
        """The CI-sized variant: the ``[scenario.ci]`` length and parameter overrides."""
        players = []
        for player in self.players:
            override = self.ci_params.get(player.name)
            if override:
                merged = {**player.params, **override}
                kind = get_stream_kind(player.stream)
                params = kind.resolve(merged, f"{self.source}: scenario.ci.params.{player.name}")
                player = replace(player, params=params)
            players.append(player)
        triggers = self.ci_triggers if self.ci_triggers is not None else self.triggers
        return replace(self, players=tuple(players), triggers=triggers, ci_params={})

    def to_dict(self) -> dict[str, Any]:
        """The scenario as plain data (TOML/JSON-able), accepted by :meth:`from_dict`."""
        head: dict[str, Any] = {"name": self.name, "description": self.description, "rate": self.rate_hz,
                                "seed": self.seed}
        if self.triggers is not None:
            head["triggers"] = self.triggers
        head["ack"] = {"policy": self.ack.policy, "timeout": self.ack.timeout_s, "resend": self.ack.resend,
                       "after": self.ack.after}
        ci: dict[str, Any] = {}
        if self.ci_triggers is not None:
            ci["triggers"] = self.ci_triggers
        if self.ci_params:
            ci["params"] = _plain(self.ci_params)
        if ci:
            head["ci"] = ci
        if self.broker_faults:
            head["broker_faults"] = [fault.to_dict() for fault in self.broker_faults]
        return {"scenario": head, "players": [p.to_dict() for p in self.players]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "<scenario>") -> "Scenario":
        """Validate ``data`` (the layout of a scenario file) into a :class:`Scenario`."""
        from harness.scenarios.validate import scenario_from_dict

        return scenario_from_dict(data, source)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def divisor_for(rate_hz: float, base_rate_hz: float, where: str) -> int:
    """The integer ``m`` with ``rate = base / m``, or an error listing the rates allowed."""
    if not (isinstance(rate_hz, (int, float)) and not isinstance(rate_hz, bool)) or not rate_hz > 0:
        raise ScenarioError(f"{where}: {rate_hz!r} is not a rate; expected a positive number of Hz")
    ratio = base_rate_hz / rate_hz
    divisor = round(ratio)
    if divisor < 1 or not math.isclose(ratio, divisor, rel_tol=_DIVISOR_TOLERANCE):
        allowed = ", ".join(f"{base_rate_hz / m:g}" for m in range(1, 6))
        raise ScenarioError(f"{where}: {rate_hz:g} Hz is not the scenario rate {base_rate_hz:g} Hz divided by a whole "
                            f"number; allowed rates: {allowed}, ... (or set divisor = m)")
    return divisor

